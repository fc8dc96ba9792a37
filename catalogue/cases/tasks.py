"""The catalogue's tasks on the home page (network/core/counters.py): cases waiting for a reviewer (moderators, who
review submitted cases), and the member's own cases returned to them for changes. Statements kept per process, the
member's values bound."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, func, or_, select

from catalogue.cases.models import Case
from catalogue.cases.services import REVIEWABLE
from network.core.counters import Task, register_counter, register_task
from network.members.access import is_member, is_moderator
from network.members.models import Member

REVIEWER = bindparam("cases_to_review_member", type_=Integer)
SUBMITTER = bindparam("cases_returned_member", type_=Integer)


def _to_review_shape(member: Member):
    return (True, {REVIEWER.key: member.id}) if is_moderator(member) else None


def _to_review(_key):
    """What the review queue lists (services.review_queue): a moderator's own submissions are not in it."""
    return select(func.count(Case.id)).where(Case.status.in_(REVIEWABLE),
                                             or_(Case.submitter_id.is_(None), Case.submitter_id != REVIEWER))


def _returned_shape(member: Member):
    return (True, {SUBMITTER.key: member.id}) if is_member(member) else None


def _returned(_key):
    return select(func.count(Case.id)).where(Case.submitter_id == SUBMITTER, Case.status == "changes_requested")


def register(app: Flask) -> None:
    register_counter(app, "cases_to_review", shape=_to_review_shape, template=_to_review, models=(Case,))
    register_counter(app, "cases_returned", shape=_returned_shape, template=_returned, models=(Case,))
    register_task(app, Task("cases_to_review", lambda n: ngettext("%(num)d submitted case to review",
                                                                  "%(num)d submitted cases to review", n),
                            "case_workflow.review_queue", position=20))
    register_task(app, Task("cases_returned", lambda n: ngettext("%(num)d of your cases returned for changes",
                                                                 "%(num)d of your cases returned for changes", n),
                            "case_workflow.mine", position=70, always=False))
