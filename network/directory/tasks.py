"""The directory's tasks on the home page (network/core/counters.py): a focal point's entries to re-confirm (not
verified for twelve months), and the proposed changes waiting for a moderator. Statements kept per process, the
member's values bound."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import Date, Integer, bindparam, func, select

from network.core.clock import utcnow
from network.core.counters import Task, register_counter, register_task
from network.directory.models import Authority, AuthorityChange
from network.directory.services import STALE_AFTER, stale_condition
from network.members.access import can_review_directory, is_focal_point
from network.members.models import Member, RoleGrant, focal_point_authorities_of

FOCAL_POINT = bindparam("directory_to_reconfirm_member", type_=Integer)
CUTOFF = bindparam("directory_to_reconfirm_cutoff", type_=Date)


def _to_reconfirm_shape(member: Member):
    if not is_focal_point(member):
        return None
    return True, {FOCAL_POINT.key: member.id, CUTOFF.key: utcnow().date() - STALE_AFTER}


def _to_reconfirm(_key):
    return select(func.count(Authority.id)).where(Authority.id.in_(focal_point_authorities_of(FOCAL_POINT)),
                                                  stale_condition(cutoff=CUTOFF))


def _to_review_shape(member: Member):
    return (True, {}) if can_review_directory(member) else None


def _to_review(_key):
    return select(func.count(AuthorityChange.id)).where(AuthorityChange.status == "proposed")


def register(app: Flask) -> None:
    register_counter(app, "directory_to_reconfirm", shape=_to_reconfirm_shape, template=_to_reconfirm,
                     models=(Authority, RoleGrant))
    register_counter(app, "directory_to_review", shape=_to_review_shape, template=_to_review, navigation=True,
                     models=(AuthorityChange,))
    register_task(app, Task("directory_to_review", lambda n: ngettext("%(num)d directory change to review",
                                                                      "%(num)d directory changes to review", n),
                            "directory_changes.queue", position=30))
    register_task(app, Task("directory_to_reconfirm", lambda n: ngettext(
        "%(num)d directory entry of your authority to re-confirm",
        "%(num)d directory entries of your authorities to re-confirm", n), "directory_changes.mine", position=60))
