"""The directory's tasks on the home page (network/core/counters.py): a focal point's entries to re-confirm (not
verified for twelve months), and the proposed changes waiting for a moderator."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import func, select

from network.core.counters import Task, register_counter, register_task
from network.directory.models import Authority, AuthorityChange
from network.directory.services import stale_condition
from network.members.access import can_review_directory, is_focal_point
from network.members.models import Member


def to_reconfirm(member: Member):
    if not is_focal_point(member):
        return None
    return select(func.count(Authority.id)).where(Authority.id.in_(member.focal_point_authority_ids()),
                                                  stale_condition())


def to_review(member: Member):
    if not can_review_directory(member):
        return None
    return select(func.count(AuthorityChange.id)).where(AuthorityChange.status == "proposed")


def register(app: Flask) -> None:
    register_counter(app, "directory_to_reconfirm", to_reconfirm, models=(Authority,))
    register_counter(app, "directory_to_review", to_review, models=(AuthorityChange,))
    register_task(app, Task("directory_to_review", lambda n: ngettext("%(num)d directory change to review",
                                                                      "%(num)d directory changes to review", n),
                            "directory_changes.queue", position=30))
    register_task(app, Task("directory_to_reconfirm", lambda n: ngettext(
        "%(num)d directory entry of your authority to re-confirm",
        "%(num)d directory entries of your authorities to re-confirm", n), "directory_changes.mine", position=60))
