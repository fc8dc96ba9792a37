"""Membership's tasks on the home page (network/core/counters.py): applications to vet (moderators), colleagues to
vouch for and members to re-confirm (focal points), applicants who named this member as referee. Each count is a
statement kept per process (a template), the member's values bound: building and keying the statements on every
visit to the home page cost more than running them."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, func, select

from network.core.clock import utcnow
from network.core.counters import Task, register_counter, register_task
from network.members.access import can_reconfirm_members, can_vet_members, is_focal_point, is_member
from network.members.models import Application, Member, RoleGrant, focal_point_authorities_of

WAITING = ("submitted", "info_requested")  # what the vetting queue, vouching and referee pages list

VOUCHER = bindparam("members_to_vouch_member", type_=Integer)
REFEREE = bindparam("members_as_referee_member", type_=Integer)
RECONFIRMER = bindparam("members_to_reconfirm_member", type_=Integer)
HORIZON = bindparam("members_to_reconfirm_horizon", type_=Member.__table__.c.confirmed_until.type)


def _to_vet_shape(member: Member):
    return (True, {}) if can_vet_members(member) else None


def _to_vet(_key):
    return select(func.count(Application.id)).where(Application.status.in_(WAITING))


def _to_vouch_shape(member: Member):
    return (True, {VOUCHER.key: member.id}) if is_focal_point(member) else None


def _to_vouch(_key):
    return (select(func.count(Application.id)).join(Member, Member.id == Application.member_id)
            .where(Application.status.in_(WAITING), Member.authority_id.in_(focal_point_authorities_of(VOUCHER))))


def _as_referee_shape(member: Member):
    return (True, {REFEREE.key: member.id}) if is_member(member) else None


def _as_referee(_key):
    return select(func.count(Application.id)).where(Application.referee_id == REFEREE,
                                                    Application.status.in_(WAITING),
                                                    Application.referee_decision == "")


def _horizon():
    return utcnow() + timedelta(days=current_app.config["REVALIDATION_NOTICE_DAYS"])


def _due_for_reconfirmation_of(member_id, horizon, moderator: bool):
    query = select(Member).where(
        Member.status.in_(("active", "lapsed")), Member.id != member_id,
        (Member.status == "lapsed") | (Member.confirmed_until.isnot(None) & (Member.confirmed_until <= horizon)))
    if not moderator:
        query = query.where(Member.authority_id.in_(focal_point_authorities_of(member_id)))
    return query


def due_for_reconfirmation(member: Member):
    """The members `member` is to re-confirm, as the re-confirmations page lists them and the home page counts
    them: lapsed, or whose year ends within the notice period; a focal point's own authorities only."""
    return _due_for_reconfirmation_of(member.id, _horizon(), member.has_role("moderator"))


def _to_reconfirm_shape(member: Member):
    """The count of the re-confirmations page's list; the key: whether the member re-confirms every member."""
    if not can_reconfirm_members(member):
        return None
    return member.has_role("moderator"), {RECONFIRMER.key: member.id, HORIZON.key: _horizon()}


def _to_reconfirm(moderator: bool):
    return select(func.count()).select_from(_due_for_reconfirmation_of(RECONFIRMER, HORIZON, moderator).subquery())


def register(app: Flask) -> None:
    register_counter(app, "members_to_vet", shape=_to_vet_shape, template=_to_vet, models=(Application,))
    register_counter(app, "members_to_vouch", shape=_to_vouch_shape, template=_to_vouch,
                     models=(Application, RoleGrant))
    register_counter(app, "members_as_referee", shape=_as_referee_shape, template=_as_referee, models=(Application,))
    register_counter(app, "members_to_reconfirm", shape=_to_reconfirm_shape, template=_to_reconfirm,
                     models=(Member, RoleGrant))
    register_task(app, Task("members_to_vet", lambda n: ngettext("%(num)d application to vet",
                                                                 "%(num)d applications to vet", n),
                            "members.vetting_queue", position=10))
    register_task(app, Task("members_to_vouch", lambda n: ngettext("%(num)d colleague to vouch for",
                                                                   "%(num)d colleagues to vouch for", n),
                            "members.vouching", position=50))
    register_task(app, Task("members_to_reconfirm", lambda n: ngettext("%(num)d member to re-confirm",
                                                                       "%(num)d members to re-confirm", n),
                            "members.reconfirmations", position=55))
    register_task(app, Task("members_as_referee", lambda n: ngettext("%(num)d applicant named you as referee",
                                                                     "%(num)d applicants named you as referee", n),
                            "members.referee_requests", position=65, always=False))
