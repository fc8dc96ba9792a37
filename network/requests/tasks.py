"""The register's tasks on the home page (network/core/counters.py): incoming requests not yet acknowledged, and
outgoing ones overdue by the requesting authority's reminder periods (services.overdue, here in SQL). Statements kept
per process, the member's values bound."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, func, literal, or_, select

from network.core.clock import utcnow
from network.core.counters import Task, register_counter, register_task
from network.core.db import db
from network.members.access import is_member
from network.members.models import Member
from network.messaging import mailboxes
from network.messaging.models import AuthorityKeyGrant
from network.requests import services
from network.requests.models import CooperationRequest, RequestEvent, RequestSettings

# The periods of an authority that never set its own (services.settings_for).
ACKNOWLEDGE_DAYS = RequestSettings.acknowledge_days.default.arg
STATUS_DAYS = RequestSettings.status_days.default.arg


MEMBER = bindparam("requests_member", type_=Integer)
AUTHORITY = bindparam("requests_authority", type_=Integer)
NOW = bindparam("requests_now", type_=CooperationRequest.__table__.c.sent_at.type)


def _shape(member: Member):
    """The key: whether the member may hold their authority's mailbox (an active member)."""
    if not is_member(member) or member.authority_id is None:
        return None
    return member.status == "active", {MEMBER.key: member.id, AUTHORITY.key: member.authority_id, NOW.key: utcnow()}


def _held(active: bool):
    if not active:
        return select(literal(0)).where(literal(False))
    return mailboxes.held_authority_query_of(MEMBER, AUTHORITY)


def _at_least_days_ago(moment, days):
    """`moment` is `days` days (a column) or more before now: (now - moment).days >= days, as services.overdue."""
    if db.engine.dialect.name == "postgresql":
        return moment <= NOW - func.make_interval(0, 0, 0, days)
    return func.julianday(NOW) - func.julianday(moment) >= days


def _incoming(active: bool):
    Request = CooperationRequest
    return select(func.count(Request.id)).where(Request.imported_authority_id.is_(None), Request.status == "sent",
                                                Request.requested_authority_id.in_(_held(active)))


def _overdue(active: bool):
    Request = CooperationRequest
    held = _held(active)
    acknowledge = func.coalesce(RequestSettings.acknowledge_days, ACKNOWLEDGE_DAYS)
    status = func.coalesce(RequestSettings.status_days, STATUS_DAYS)
    last = func.coalesce(Request.last_event_at, Request.sent_at)
    return (select(func.count(Request.id))
            .outerjoin(RequestSettings, RequestSettings.authority_id == Request.requesting_authority_id)
            .where(Request.imported_authority_id.is_(None), Request.status.in_(services.OPEN),
                   or_(Request.drafted_by_id == MEMBER, Request.requesting_authority_id.in_(held)),
                   Request.requested_authority_id.notin_(held),
                   or_((Request.status == "sent") & Request.sent_at.isnot(None)
                       & _at_least_days_ago(Request.sent_at, acknowledge),
                       (Request.status != "sent") & last.isnot(None) & _at_least_days_ago(last, status))))


def register(app: Flask) -> None:
    register_counter(app, "requests_incoming", shape=_shape, template=_incoming,
                     models=(CooperationRequest, RequestEvent, AuthorityKeyGrant))
    register_counter(app, "requests_overdue", shape=_shape, template=_overdue,
                     models=(CooperationRequest, RequestEvent, RequestSettings, AuthorityKeyGrant))
    register_task(app, Task("requests_incoming", lambda n: ngettext("%(num)d incoming request to acknowledge",
                                                                    "%(num)d incoming requests to acknowledge", n),
                            "requests.index", position=75, arguments=(("direction", "incoming"), ("status", "sent"))))
    register_task(app, Task("requests_overdue", lambda n: ngettext("%(num)d outgoing request overdue",
                                                                   "%(num)d outgoing requests overdue", n),
                            "requests.index", position=76, arguments=(("direction", "outgoing"), ("overdue", "1"))))
