"""The catalogue's tasks on the home page (network/core/counters.py): cases waiting for a reviewer (moderators, who
review submitted cases), and the member's own cases returned to them for changes."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from catalogue.cases.models import Case
from catalogue.cases.services import REVIEWABLE
from network.core.counters import Task, register_counter, register_task
from network.members.access import is_member, is_moderator
from network.members.models import Member


def to_review(member: Member):
    """What the review queue lists (services.review_queue): a moderator's own submissions are not in it."""
    if not is_moderator(member):
        return None
    return select(func.count(Case.id)).where(Case.status.in_(REVIEWABLE),
                                             or_(Case.submitter_id.is_(None), Case.submitter_id != member.id))


def returned(member: Member):
    if not is_member(member):
        return None
    return select(func.count(Case.id)).where(Case.submitter_id == member.id, Case.status == "changes_requested")


def register(app: Flask) -> None:
    register_counter(app, "cases_to_review", to_review, models=(Case,))
    register_counter(app, "cases_returned", returned, models=(Case,))
    register_task(app, Task("cases_to_review", lambda n: ngettext("%(num)d submitted case to review",
                                                                  "%(num)d submitted cases to review", n),
                            "case_workflow.review_queue", position=20))
    register_task(app, Task("cases_returned", lambda n: ngettext("%(num)d of your cases returned for changes",
                                                                 "%(num)d of your cases returned for changes", n),
                            "case_workflow.mine", position=70, always=False))
