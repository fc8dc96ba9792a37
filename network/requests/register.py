"""The register: each authority's incoming and outgoing requests with filters, ages and overdue marks, and the
reminders `requests remind` sends when no acknowledgement or status arrives within the authority's periods."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from network.core.clock import utcnow
from network.core.db import db
from network.core.mail import queue_mail
from network.members.models import Member
from network.messaging import mailboxes
from network.requests import services
from network.requests.models import CooperationRequest, RequestSettings

DIRECTIONS = ("outgoing", "incoming", "drafts")


@dataclass
class RegisterRow:
    request: CooperationRequest
    direction: str  # outgoing, incoming, or draft
    age_days: int  # since sending (since creation for a draft)
    overdue: str  # '', 'acknowledgement' or 'status'
    own_reference: str
    other_reference: str


@dataclass
class Filters:
    direction: str = ""
    status: str = ""
    form: str = ""
    state: str = ""  # the other State
    overdue_only: bool = False


def _settings(authority_ids: set[int]) -> dict[int, RequestSettings]:
    found = {row.authority_id: row for row in db.session.scalars(
        select(RequestSettings).where(RequestSettings.authority_id.in_(authority_ids or {0})))}
    return {a: found.get(a) or services.settings_for(a) for a in authority_ids}


def rows(member: Member, filters: Filters | None = None, now: datetime | None = None) -> list[RegisterRow]:
    """The member's register, newest first, through the one visibility filter (services.visible_requests)."""
    filters = filters or Filters()
    now = now or utcnow()
    query = services.visible_requests(member)
    if filters.status:
        query = query.where(CooperationRequest.status == filters.status)
    if filters.form:
        query = query.where(CooperationRequest.form == filters.form)
    found = list(db.session.scalars(
        query.options(selectinload(CooperationRequest.requesting_authority),
                      selectinload(CooperationRequest.requested_authority))
        .order_by(CooperationRequest.updated_at.desc(), CooperationRequest.id.desc()).limit(1000)))
    held = mailboxes.held_authority_ids(member)
    settings = _settings({r.requesting_authority_id for r in found})
    result = []
    for request in found:
        if request.status == "draft":
            direction = "draft"
        elif request.requested_authority_id in held:
            direction = "incoming"
        else:
            direction = "outgoing"
        if filters.direction and {"drafts": "draft"}.get(filters.direction, filters.direction) != direction:
            continue
        other_state = request.requesting_state if direction == "incoming" else request.requested_state
        if filters.state and other_state != filters.state:
            continue
        late = services.overdue(request, settings[request.requesting_authority_id], now)
        if filters.overdue_only and not late:
            continue
        since = request.sent_at or request.created_at
        own, other = ((request.requested_reference, request.requesting_reference) if direction == "incoming"
                      else (request.requesting_reference, request.requested_reference))
        result.append(RegisterRow(request=request, direction=direction, age_days=max(0, (now - since).days),
                                  overdue=late, own_reference=own, other_reference=other))
    return result


def remind(now: datetime | None = None) -> int:
    """Queue reminders for every open request overdue by its requesting authority's periods: to the requesting
    authority's holders (and the drafter) that nothing came, to the requested authority's holders that an answer is
    awaited. Once per period: a request reminded about is not reminded again until the period passes again or a new
    event arrives (which clears the mark). Returns the number of requests reminded about. Mail carries no content."""
    now = now or utcnow()
    candidates = list(db.session.scalars(select(CooperationRequest).where(
        CooperationRequest.status.in_(services.OPEN)).order_by(CooperationRequest.id)))
    settings = _settings({r.requesting_authority_id for r in candidates})
    reminded = 0
    for request in candidates:
        if request.imported_authority_id is not None:
            continue  # one authority's own history: no one on the other side to wait for
        rules = settings[request.requesting_authority_id]
        late = services.overdue(request, rules, now)
        if not late:
            continue
        period = rules.acknowledge_days if late == "acknowledgement" else rules.status_days
        if request.reminded_at is not None and (now - request.reminded_at).days < period:
            continue
        since = request.sent_at if late == "acknowledgement" else (request.last_event_at or request.sent_at)
        days = (now - since).days
        link = url_for("requests.record", request_id=request.id, _external=True)
        waiting = {m.id: m for m in mailboxes.present_holders(request.requesting_authority_id)}
        if request.drafted_by is not None and request.drafted_by.status == "active":
            waiting.setdefault(request.drafted_by.id, request.drafted_by)
        for person in waiting.values():
            queue_mail(person.email, _reminder_subject_requesting(late, services._ref(request), days),
                       "requests/reminder", recipient=person, request=request, late=late, days=days, link=link,
                       side="requesting")
        for person in mailboxes.present_holders(request.requested_authority_id):
            queue_mail(person.email, _reminder_subject_requested(late, services._ref(request),
                                                                 request.requesting_authority.name),
                       "requests/reminder", recipient=person, request=request, late=late, days=days, link=link,
                       side="requested")
        request.reminded_at = now
        reminded += 1
    db.session.flush()
    return reminded


def _reminder_subject_requesting(late: str, ref: str, days: int) -> object:
    """Whole sentences (a translator never sees "has no %(what)s"), lazy: translated in each recipient's language."""
    if late == "acknowledgement":
        return _ln("Reminder: request %(ref)s has no acknowledgement after %(num)d day",
                   "Reminder: request %(ref)s has no acknowledgement after %(num)d days", days, ref=ref)
    return _ln("Reminder: request %(ref)s has no status after %(num)d day",
               "Reminder: request %(ref)s has no status after %(num)d days", days, ref=ref)


def _reminder_subject_requested(late: str, ref: str, authority: str) -> object:
    if late == "acknowledgement":
        return _l("Reminder: request %(ref)s from %(authority)s awaits your acknowledgement", ref=ref,
                  authority=authority)
    return _l("Reminder: request %(ref)s from %(authority)s awaits your status", ref=ref, authority=authority)
