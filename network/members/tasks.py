"""Membership's tasks on the home page (network/core/counters.py): applications to vet (moderators), colleagues to
vouch for and members to re-confirm (focal points), applicants who named this member as referee."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import ngettext
from sqlalchemy import func, select

from network.core.clock import utcnow
from network.core.counters import Task, register_counter, register_task
from network.members.access import can_reconfirm_members, can_vet_members, is_focal_point, is_member
from network.members.models import Application, Member

WAITING = ("submitted", "info_requested")  # what the vetting queue, vouching and referee pages list


def to_vet(member: Member):
    if not can_vet_members(member):
        return None
    return select(func.count(Application.id)).where(Application.status.in_(WAITING))


def to_vouch(member: Member):
    if not is_focal_point(member):
        return None
    return (select(func.count(Application.id)).join(Member, Member.id == Application.member_id)
            .where(Application.status.in_(WAITING), Member.authority_id.in_(member.focal_point_authority_ids())))


def as_referee(member: Member):
    if not is_member(member):
        return None
    return select(func.count(Application.id)).where(Application.referee_id == member.id,
                                                    Application.status.in_(WAITING),
                                                    Application.referee_decision == "")


def due_for_reconfirmation(member: Member):
    """The members `member` is to re-confirm, as the re-confirmations page lists them and the home page counts
    them: lapsed, or whose year ends within the notice period; a focal point's own authorities only."""
    horizon = utcnow() + timedelta(days=current_app.config["REVALIDATION_NOTICE_DAYS"])
    query = select(Member).where(
        Member.status.in_(("active", "lapsed")), Member.id != member.id,
        (Member.status == "lapsed") | (Member.confirmed_until.isnot(None) & (Member.confirmed_until <= horizon)))
    if not member.has_role("moderator"):
        query = query.where(Member.authority_id.in_(member.focal_point_authority_ids()))
    return query


def to_reconfirm(member: Member):
    """The count of the re-confirmations page's list."""
    if not can_reconfirm_members(member):
        return None
    return select(func.count()).select_from(due_for_reconfirmation(member).subquery())


def register(app: Flask) -> None:
    register_counter(app, "members_to_vet", to_vet, models=(Application,))
    register_counter(app, "members_to_vouch", to_vouch, models=(Application,))
    register_counter(app, "members_as_referee", as_referee, models=(Application,))
    register_counter(app, "members_to_reconfirm", to_reconfirm, models=(Member,))
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
