"""The domain operations on requests: drafting step by step, sending (the advance copy over encrypted messaging),
status changes and status questions as signed events, references, reminder periods. Plain values in, domain errors
out; no Flask request objects. Every check-then-act on a request holds its row first (db.hold)."""
from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import or_, select

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db, hold
from network.core.errors import DomainError
from network.core.mail import queue_mail
from network.directory.models import Authority
from network.members.models import Member
from network.messaging import lifecycle, mailboxes
from network.messaging import services as messaging
from network.messaging.formats import MessagingCryptoError, SessionKeysUnavailable, utc_timestamp
from network.messaging.keys import MemberPrivateKeys
from network.requests import crypto, definitions
from network.requests.models import CooperationRequest, RequestEvent, RequestSettings

DOCUMENT_LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
CHANNELS = ("direct", "diplomatic", "interpol", "network")
MAX_REFERENCE = 100
MAX_NOTE = 10000
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

STATUS_LABELS = {
    "draft": _l("Draft"), "sent": _l("Sent"), "received": _l("Received (acknowledged)"),
    "under_execution": _l("Under execution"), "info_requested": _l("Additional information requested"),
    "info_supplied": _l("Additional information supplied"), "partly_executed": _l("Partly executed"),
    "executed": _l("Executed"), "postponed": _l("Postponed (art. 18 (25))"),
    "consultation": _l("Consultation before refusal (art. 18 (26))"),
    "refused": _l("Refused, with reasons (art. 18 (23))"), "withdrawn": _lp("request status", "Withdrawn"), "closed": _l("Closed"),
}
OPEN = ("sent", "received", "under_execution", "info_requested", "info_supplied", "partly_executed", "postponed",
        "consultation")
FINISHED = ("executed", "refused", "withdrawn", "closed")

_WORKING = ("under_execution", "info_requested", "postponed", "consultation", "partly_executed", "executed", "refused")
# (side, from) -> the statuses that side may move the request to. The requested authority executes; the requesting
# authority supplies what is asked, withdraws, and either side closes a finished request.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("requested", "sent"): ("received",),
    ("requested", "received"): _WORKING,
    ("requested", "under_execution"): tuple(s for s in _WORKING if s != "under_execution"),
    ("requested", "info_supplied"): _WORKING,
    ("requested", "postponed"): ("under_execution", "consultation", "partly_executed", "executed", "refused"),
    ("requested", "consultation"): ("under_execution", "postponed", "partly_executed", "executed", "refused"),
    ("requested", "partly_executed"): ("under_execution", "executed", "closed"),
    ("requested", "executed"): ("closed",),
    ("requested", "refused"): ("closed",),
    ("requested", "withdrawn"): ("closed",),
    **{("requesting", s): ("withdrawn",) for s in OPEN if s != "info_requested"},
    ("requesting", "info_requested"): ("info_supplied", "withdrawn"),
    ("requesting", "executed"): ("closed",),
    ("requesting", "partly_executed"): ("withdrawn", "closed"),
    ("requesting", "refused"): ("closed",),
    ("requesting", "withdrawn"): ("closed",),
}
REFUSAL_GROUNDS = {
    "not_in_accordance": _l("The request is not made in conformity with article 18 (art. 18 (21) (a))"),
    "essential_interests": _l("Execution is likely to prejudice sovereignty, security, ordre public or other "
                              "essential interests (art. 18 (21) (b))"),
    "domestic_prohibition": _l("Domestic law would prohibit the action for a similar offence at home "
                               "(art. 18 (21) (c))"),
    "contrary_to_legal_system": _l("Granting it would be contrary to the legal system of the requested State "
                                   "(art. 18 (21) (d))"),
    "other": _l("Another ground (treaty, dual criminality, the person's rights...)"),
}
NOTE_REQUIRED = {
    "refused": _l("Give the reasons for refusal (article 18 (23))."),
    "info_requested": _l("Say which additional information is needed."),
    "info_supplied": _l("Give the additional information, or say how it was sent."),
    "postponed": _l("Give the reasons for postponement (article 18 (25))."),
    "consultation": _l("Say what conditions or difficulties are to be discussed (article 18 (26))."),
}


class RequestError(DomainError):
    pass


# ---------------------------------------------------------------- who sees a request

def side_of(member: Member, request: CooperationRequest) -> str | None:
    """'requesting' or 'requested' for a present mailbox holder of either authority (the requested one only once the
    request is sent); None otherwise. Holding the mailbox is what counts, never a role."""
    if request.imported_authority_id is not None:  # one authority's own history: the other side is not here
        if not mailboxes.is_holder(member, request.imported_authority_id):
            return None
        return "requesting" if request.imported_authority_id == request.requesting_authority_id else "requested"
    if mailboxes.is_holder(member, request.requesting_authority_id):
        return "requesting"
    if request.status != "draft" and mailboxes.is_holder(member, request.requested_authority_id):
        return "requested"
    return None


def can_read_request(member: Member, request: CooperationRequest) -> bool:
    """The drafter and the two authorities' mailbox holders; no one else (not moderators, not administrators)."""
    return member.is_vetted and (request.drafted_by_id == member.id or side_of(member, request) is not None)


def can_edit_draft(member: Member, request: CooperationRequest) -> bool:
    return request.status == "draft" and request.drafted_by_id == member.id and member.is_vetted


def visible_requests(member: Member):
    """The one visibility filter every list, count and export of requests goes through."""
    held = mailboxes.held_authority_ids(member) or {0}
    shared = CooperationRequest.imported_authority_id.is_(None)
    return select(CooperationRequest).where(or_(
        CooperationRequest.drafted_by_id == member.id,
        shared & CooperationRequest.requesting_authority_id.in_(held),
        shared & (CooperationRequest.requested_authority_id.in_(held)) & (CooperationRequest.status != "draft"),
        CooperationRequest.imported_authority_id.in_(held),
    ))


# ---------------------------------------------------------------- keys

def _private(member: Member, private: MemberPrivateKeys | None) -> MemberPrivateKeys:
    if private is not None:
        return private
    try:
        return lifecycle.current_private(member)[1]
    except SessionKeysUnavailable as error:
        raise RequestError(_("Your keys are not unlocked in this session: sign out and sign in again.")) from error


def read_content(member: Member, request: CooperationRequest, privates: Mapping | None = None) -> dict:
    """The decrypted content: {"fields": {key: text}}. RequestError when this session cannot open it."""
    try:
        payload = crypto.open_sealed(request.content, request, member, privates)
    except (MessagingCryptoError, SessionKeysUnavailable, ValueError) as error:
        raise RequestError(_("This request cannot be opened in this session: its key is not one you hold now "
                             "(sign in again, or ask a holder of the mailbox to grant it).")) from error
    payload.setdefault("fields", {})
    return payload


def _reseal(member: Member, request: CooperationRequest, payload: Mapping, private: MemberPrivateKeys) -> None:
    request.content = crypto.seal(request, payload, member, private, include_requested=request.status != "draft")
    request.updated_at = utcnow()


# ---------------------------------------------------------------- drafting

@dataclass
class NewDraft:
    form: str
    measures: tuple[str, ...]
    requested_state: str
    requested_authority_key: str = ""
    language: str = "en"
    reference: str = ""
    urgent: bool = False
    confidential: bool = False
    limited_use: bool = False


def flags_of(request: CooperationRequest) -> definitions.DraftFlags:
    return definitions.DraftFlags(form=request.form, measures=tuple(request.measures or ()), urgent=request.urgent,
                                  confidential=request.confidential, limited_use=request.limited_use)


def competent_authority(state: str, form: str) -> Authority | None:
    """The finder's answer for this State and form (its first competent authority, or its first suggestion)."""
    from network.directory.finder import FinderError, find_competent

    try:
        answer = find_competent(state, form)
    except FinderError:
        return None
    shown = answer.competent or answer.suggestions
    return shown[0] if shown else None


def _authority_contact(authority: Authority) -> str:
    return "\n".join(part for part in (authority.name, authority.address, authority.phone, authority.email) if part)


def create_draft(member: Member, draft: NewDraft, *, private: MemberPrivateKeys | None = None) -> CooperationRequest:
    """A new draft of the member's authority to the requested authority (the one chosen, else the finder's answer),
    sealed to the drafter and the member's own authority mailbox."""
    if member.authority_id is None:
        raise RequestError(_("Only an officer of an authority in the directory can draft a request."))
    if draft.form not in definitions.FORMS:
        raise RequestError(_("Choose a form of request."), field="form")
    try:
        measures = definitions.valid_measures(draft.form, draft.measures)
    except ValueError as error:
        raise RequestError(_("Choose measures of this form of request only."), field="measures") from error
    if draft.form == "mla" and not measures:
        raise RequestError(_("Choose at least one measure of assistance."), field="measures")
    if draft.language not in DOCUMENT_LANGUAGES:
        raise RequestError(_("Choose one of the six languages of the document."), field="language")
    if draft.requested_authority_key:
        requested = db.session.scalar(select(Authority).where(Authority.key == draft.requested_authority_key))
        if requested is None or requested.state != draft.requested_state:
            raise RequestError(_("Choose an authority of the requested State."), field="requested_authority")
    else:
        requested = competent_authority(draft.requested_state, draft.form)
        if requested is None:
            raise RequestError(_("The directory has no authority of this State for this form of request."),
                               field="requested_state")
    own = db.session.get(Authority, member.authority_id)
    if requested.id == own.id:
        raise RequestError(_("A request goes to another authority than your own."), field="requested_authority")
    now = utcnow()
    request = CooperationRequest(
        public_id=f"r-{uuid.uuid4().hex}", form=draft.form, measures=list(measures), language=draft.language,
        requesting_state=own.state, requested_state=requested.state, requesting_authority_id=own.id,
        requested_authority_id=requested.id, drafted_by_id=member.id, status="draft",
        requesting_reference=_reference(draft.reference), urgent=draft.urgent, confidential=draft.confidential,
        limited_use=draft.limited_use, created_at=now, updated_at=now, content=b"")
    request.drafted_by = member
    request.requesting_authority, request.requested_authority = own, requested
    payload = {"fields": {"requesting_authority": _authority_contact(own), "signatory": member.name}}
    _reseal(member, request, payload, _private(member, private))
    db.session.add(request)
    db.session.flush()
    audit.record("requests.drafted", request, actor=member, form=request.form, requested=requested.key)
    return request


def _reference(text: str) -> str:
    """One line of printable text (it is stored in the clear and printed on the document)."""
    from network.core.text import first_control

    text = " ".join((text or "").split())
    if len(text) > MAX_REFERENCE:
        raise RequestError(_("A reference has at most %(n)d characters.", n=MAX_REFERENCE), field="reference")
    if first_control(text) is not None or "\x00" in text:
        raise RequestError(_("A reference is one line of text without control characters."), field="reference")
    return text


@dataclass
class StepResult:
    saved: bool
    missing: list[str]  # the essential field keys still empty on this step


def save_step(member: Member, request: CooperationRequest, step_key: str, values: Mapping[str, str], *,
              private: MemberPrivateKeys | None = None) -> StepResult:
    """Save the fields of one step (the draft is saved at every step, complete or not) and name the essentials still
    missing there: the view moves on only when none is."""
    hold(request)
    if not can_edit_draft(member, request):
        raise RequestError(_("Only the drafter changes a draft, and only until it is sent."))
    flags = flags_of(request)
    step = definitions.step_for(flags, step_key)
    if step is None:
        raise RequestError(_("This draft has no such step."))
    for key, _rule in step.fields:
        if len(values.get(key) or "") > definitions.MAX_FIELD:
            raise RequestError(_("At most %(n)d characters in one field.", n=definitions.MAX_FIELD), field=key)
    privates = {private.key_version: private} if private is not None else None
    payload = read_content(member, request, privates)
    for key, _rule in step.fields:
        if key in values:
            payload["fields"][key] = (values[key] or "").replace("\r\n", "\n").strip()
    _reseal(member, request, payload, _private(member, private))
    db.session.flush()
    return StepResult(saved=True, missing=definitions.missing_essentials(step, flags, payload["fields"]))


# ---------------------------------------------------------------- the document (H5's functions, when present)

def document_of(member: Member, request: CooperationRequest, content: Mapping | None = None):
    """The RequestDocument H5's module renders (print, PDF, DOCX), or None when that module is not installed."""
    try:
        from network.requests import document
    except ImportError:
        return None
    content = content if content is not None else read_content(member, request)
    fields = content.get("fields", {})
    flags = flags_of(request)
    sections = tuple(document.DocumentSection(key=key, label=definitions.label(key), text=fields[key])
                     for key in definitions.field_keys(flags) if key != "signatory" and (fields.get(key) or "").strip())

    def contact(authority: Authority) -> dict[str, str]:
        return {"name": authority.name, "address": authority.address, "email": authority.email,
                "phone": authority.phone}

    return document.RequestDocument(
        form=request.form, measures=tuple(request.measures or ()), language=request.language,
        reference=request.requesting_reference or request.public_id,
        date=(request.sent_at or request.updated_at or utcnow()).date(), requesting_state=request.requesting_state,
        requested_state=request.requested_state, requesting_authority=contact(request.requesting_authority),
        requested_authority=contact(request.requested_authority), sections=sections, urgent=request.urgent,
        confidential=request.confidential, limitation_on_use=request.limited_use,
        signatory=fields.get("signatory", ""))


def document_text(request: CooperationRequest, content: Mapping) -> str:
    """A plain-text rendering of the request: the attachment when the document module is absent."""
    fields = content.get("fields", {})
    lines = [f"{definitions.FORMS[request.form].label} — {request.requesting_reference or request.public_id}", ""]
    for key in definitions.field_keys(flags_of(request)):
        if (fields.get(key) or "").strip():
            lines += [definitions.label(key), fields[key], ""]
    return "\n".join(lines)


def _attachment(member: Member, request: CooperationRequest, content: Mapping) -> messaging.Upload:
    doc = document_of(member, request, content)
    name = f"request-{request.requesting_reference or request.public_id}"
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:80]
    kind = current_app.config.get("REQUESTS_ADVANCE_COPY_FORMAT", "pdf")  # pdf (default) or docx
    if doc is not None:
        from network.requests import document

        if kind == "docx":
            return messaging.Upload(f"{name}.docx", io.BytesIO(document.document_docx(doc)), DOCX_TYPE)
        return messaging.Upload(f"{name}.pdf", io.BytesIO(document.document_pdf(doc)), "application/pdf")
    return messaging.Upload(f"{name}.txt", io.BytesIO(document_text(request, content).encode("utf-8")), "text/plain")


# ---------------------------------------------------------------- sending

def can_send(member: Member, request: CooperationRequest) -> bool:
    return request.status == "draft" and member.is_vetted and request.imported_authority_id is None and (
        request.drafted_by_id == member.id or mailboxes.is_holder(member, request.requesting_authority_id))


def send(member: Member, request: CooperationRequest, *, channel: str, original_sent_on: date | None,
         private: MemberPrivateKeys | None = None, advance_copy: bool = True) -> None:
    """Send the advance copy to the requested authority's mailbox (document attached, handling instructions signed
    into the envelope), seal the content for that authority, record the channel of the formal original, and sign the
    first event. Nothing is sent while an essential is missing. advance_copy=False (the demo) skips the message."""
    hold(request)
    if not can_send(member, request):
        raise RequestError(_("This request has already been sent, or you cannot send it."))
    if channel not in CHANNELS:
        raise RequestError(_("Choose the channel by which the formal original travels."), field="channel")
    if original_sent_on is not None and original_sent_on > utcnow().date():
        raise RequestError(_("The formal original cannot have been sent in the future."), field="original_sent_on")
    private = _private(member, private)
    content = read_content(member, request, {private.key_version: private})
    missing = definitions.all_missing(flags_of(request), content["fields"])
    if missing:
        names = ", ".join(definitions.label(key) for keys in missing.values() for key in keys)
        raise RequestError(_("Essential information is missing: %(names)s.", names=names))
    requested = request.requested_authority
    if not mailboxes.has_mailbox(requested):
        raise RequestError(_("%(authority)s does not read a mailbox on the network at present: send the request by "
                             "the channel the directory gives.", authority=requested.name))
    now = utcnow()
    request.status = "sent"
    request.sent_at = now
    request.original_channel = channel
    request.original_sent_on = original_sent_on
    _reseal(member, request, content, private)
    label = str(definitions.FORMS[request.form].label)
    lines = [_("Advance copy of a request: %(form)s.", form=label),
             _("Reference of the requesting authority: %(ref)s", ref=request.requesting_reference or "—"),
             _("The formal original travels by: %(channel)s.", channel=channel_label(channel))]
    if request.confidential:
        lines.append(_("Confidential: keep the request and its content confidential (article 18 (20))."))
    if request.limited_use:
        lines.append(_("Limitation on use: use only for the proceedings stated (article 18 (19))."))
    if request.urgent:
        lines.append(_("Urgent. 24/7 contact of the requested authority: %(contact)s",
                       contact=urgent_contact(requested) or _("none in the directory")))
    lines.append(_("The register of both authorities: %(link)s",
                   link=url_for("requests.record", request_id=request.id, _external=True)))
    if advance_copy:
        conversation = messaging.write_to_authority(
            member, requested, _("Request %(ref)s", ref=request.requesting_reference or label), "\n".join(lines),
            messaging.Handling(confidential=request.confidential, limited_use=request.limited_use),
            urgent=request.urgent, uploads=[_attachment(member, request, content)], private=private)
        request.advance_conversation_id = conversation.id
    _append_event(request, "status", "sent", "requesting", member, private, note=None, content=request.content)
    if advance_copy and request.urgent and requested.email and requested.available_24_7:
        # The 24/7 contact learns that an urgent request waits in the mailbox: never what it says.
        queue_mail(requested.email, _l("Urgent request from %(authority)s", authority=request.requesting_authority.name),
                   "requests/urgent", request=request, link=url_for("requests.record", request_id=request.id,
                                                                     _external=True))
    if advance_copy:
        _tell_other_side(request, "requesting", _l("New request from %(authority)s",
                                                   authority=request.requesting_authority.name))
    audit.record("requests.sent", request, actor=member, requested=requested.key, channel=channel,
                 urgent=request.urgent)


def channel_label(code: str) -> str:
    from network.core.labels import label

    return label("channels", code)


def urgent_contact(authority: Authority) -> str:
    """The directory's way to reach the authority round the clock: its urgent procedure, telephone and e-mail."""
    if not authority.available_24_7 and not authority.urgent_requests:
        return ""
    return " · ".join(part for part in (authority.urgent_requests, authority.phone, authority.email) if part)


# ---------------------------------------------------------------- events

def _append_event(request: CooperationRequest, kind: str, status: str, side: str, actor: Member,
                  private: MemberPrivateKeys, *, note: bytes | None, content: bytes | None = None) -> RequestEvent:
    now = utcnow()
    seq = request.event_count + 1
    record = crypto.event_record(request.public_id, seq, kind, status, side, actor, private, utc_timestamp(now),
                                 request.head_digest, note, content)
    event = RequestEvent(request_id=request.id, seq=seq, kind=kind, status=status, side=side, actor_id=actor.id, at=now,
                         record=json.dumps(record, sort_keys=True), digest=crypto.record_digest(record), note=note)
    request.events.append(event)
    request.event_count = seq
    request.head_digest = event.digest
    request.last_event_at = now
    db.session.flush()
    return event


def allowed_statuses(member: Member, request: CooperationRequest) -> tuple[str, ...]:
    side = side_of(member, request)
    return TRANSITIONS.get((side, request.status), ()) if side else ()


def change_status(member: Member, request: CooperationRequest, status: str, note: str = "", *,
                  private: MemberPrivateKeys | None = None, notify: bool = True, ground: str = "") -> RequestEvent:
    """Move the request as the member's side may, signed and chained; the note (reasons, information) is sealed.
    Two officers acting at once: the second sees the first's status and is refused if the move no longer holds."""
    hold(request)
    side = side_of(member, request)
    if side is None:
        raise RequestError(_("Only the two authorities' mailbox holders change a request's status."))
    if status not in TRANSITIONS.get((side, request.status), ()):
        raise RequestError(_("A request that is %(now)s cannot become %(new)s from your side.",
                             now=STATUS_LABELS[request.status], new=STATUS_LABELS.get(status, status)),
                           field="status")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise RequestError(_("At most %(n)d characters in a note.", n=MAX_NOTE), field="note")
    if status in NOTE_REQUIRED and not note:
        raise RequestError(str(NOTE_REQUIRED[status]), field="note")
    if status == "refused" and ground not in REFUSAL_GROUNDS:
        raise RequestError(_("Choose the ground for refusal (article 18 (21)); give the reasons in the note."),
                           field="ground")
    private = _private(member, private)
    sealed = crypto.seal(request, {"note": note}, member, private, include_requested=True, purpose="note") \
        if note else None
    event = _append_event(request, "status", status, side, member, private, note=sealed)
    now = utcnow()
    request.status = status
    if status == "refused":
        request.refusal_ground = ground  # in the clear, for the statistics; the reasons stay in the sealed note
    if status == "received" and request.acknowledged_at is None:
        request.acknowledged_at = now
    if status in FINISHED and request.completed_at is None:
        request.completed_at = now
    request.reminded_at = None
    if notify:
        _tell_other_side(request, side, _l("Request %(ref)s: %(status)s", ref=_ref(request),
                                           status=STATUS_LABELS[status]))
    audit.record("requests.status", request, actor=member, status=status, side=side, seq=event.seq,
                 **({"ground": ground} if status == "refused" else {}))
    return event


def ask_status(member: Member, request: CooperationRequest, *, private: MemberPrivateKeys | None = None) -> None:
    """The requesting side's question on the status and progress of the request (art. 18 (24)): one click, a signed
    event in the chain, a mail to the requested authority's holders (without content)."""
    hold(request)
    if side_of(member, request) != "requesting" or request.status not in OPEN or request.imported_authority_id:
        raise RequestError(_("Only the requesting authority asks about an open request."))
    private = _private(member, private)
    _append_event(request, "status_query", request.status, "requesting", member, private, note=None)
    _tell_other_side(request, "requesting", _l("Question on the status of request %(ref)s", ref=_ref(request)))
    audit.record("requests.status_query", request, actor=member)


def set_reference(member: Member, request: CooperationRequest, reference: str) -> None:
    """Each side keeps its own reference on the shared record."""
    hold(request)
    side = side_of(member, request) or ("requesting" if can_edit_draft(member, request) else None)
    if side is None:
        raise RequestError(_("Only the two authorities' mailbox holders set a reference."))
    setattr(request, f"{side}_reference", _reference(reference))
    audit.record("requests.reference", request, actor=member, side=side)


def _ref(request: CooperationRequest) -> str:
    return request.requesting_reference or request.public_id[:10]


def _tell_other_side(request: CooperationRequest, acting_side: str, subject: object) -> None:
    """A mail to the other authority's present holders: who and what changed, never the content."""
    if request.imported_authority_id is not None:
        return  # one authority's own history: the other side is not on this record
    authority = request.requested_authority if acting_side == "requesting" else request.requesting_authority
    link = url_for("requests.record", request_id=request.id, _external=True)
    for holder in mailboxes.present_holders(authority.id):
        queue_mail(holder.email, subject, "requests/status", recipient=holder, request=request, link=link,
                   status=STATUS_LABELS[request.status])


@dataclass
class ShownEvent:
    event: RequestEvent
    note: str = ""
    note_problem: bool = False


def shown_events(member: Member, request: CooperationRequest) -> list[ShownEvent]:
    shown = []
    privates = None
    for event in request.events:
        item = ShownEvent(event=event)
        if event.note:
            try:
                if privates is None:
                    privates = lifecycle.session_private_keys(member)
                item.note = str(crypto.open_sealed(event.note, request, member, privates).get("note", ""))
            except (MessagingCryptoError, SessionKeysUnavailable, ValueError):
                item.note_problem = True
        shown.append(item)
    return shown


# ---------------------------------------------------------------- reminder periods

def settings_for(authority_id: int) -> RequestSettings:
    found = db.session.get(RequestSettings, authority_id)
    return found if found is not None else RequestSettings(authority_id=authority_id, acknowledge_days=10,
                                                           status_days=30)


def update_settings(member: Member, authority: Authority, acknowledge_days: int, status_days: int) -> None:
    hold(authority)  # two holders saving at once: one row, the second's values win, no duplicate key
    if not mailboxes.is_holder(member, authority.id):
        raise RequestError(_("Only the holders of the authority's mailbox set its reminder periods."))
    for value, name in ((acknowledge_days, "acknowledge_days"), (status_days, "status_days")):
        if not 1 <= value <= 365:
            raise RequestError(_("A period is between 1 and 365 days."), field=name)
    row = db.session.get(RequestSettings, authority.id)
    if row is None:
        row = RequestSettings(authority_id=authority.id)
        db.session.add(row)
    row.acknowledge_days, row.status_days = acknowledge_days, status_days
    row.updated_by_id, row.updated_at = member.id, utcnow()
    db.session.flush()
    audit.record("requests.settings", authority, actor=member, acknowledge_days=acknowledge_days,
                 status_days=status_days)


def overdue(request: CooperationRequest, settings: RequestSettings | None = None,
            now: datetime | None = None) -> str:
    """'acknowledgement' (sent, not acknowledged within the requesting authority's period), 'status' (no event within
    its status period), or '' (nothing overdue)."""
    if request.status not in OPEN or request.imported_authority_id is not None:
        return ""
    settings = settings or settings_for(request.requesting_authority_id)
    now = now or utcnow()
    if request.status == "sent" and request.sent_at and (now - request.sent_at).days >= settings.acknowledge_days:
        return "acknowledgement"
    last = request.last_event_at or request.sent_at
    if request.status != "sent" and last and (now - last).days >= settings.status_days:
        return "status"
    return ""


# ---------------------------------------------------------------- export

def export(member: Member, request: CooperationRequest) -> bytes:
    """A bundle anyone can check with `flask --app app requests verify`: the exporter discloses the content keys of
    what their session opens (the content and the notes)."""
    from sqlalchemy import select as select_

    from network.messaging.models import MemberKeys
    from network.requests import bundle

    if not can_read_request(member, request):
        raise RequestError(_("Only the request's readers export it."))
    try:
        privates = lifecycle.session_private_keys(member)
        _current, exporter_private = lifecycle.current_private(member)
    except SessionKeysUnavailable as error:
        raise RequestError(_("Your keys are not unlocked in this session: sign out and sign in again.")) from error
    signers: set[tuple[int, int]] = {(member.id, exporter_private.key_version)}
    for data in [request.content, *(e.note for e in request.events if e.note)]:
        header = json.loads(data)["header"]
        signers.add((int(header["sender"].split(":", 1)[1]), header["sender_key_version"]))
    for event in request.events:
        record = json.loads(event.record)
        signers.add((int(record["actor"].split(":", 1)[1]), record["key_version"]))
    public = {}
    for member_id, version in signers:
        row = db.session.scalar(select_(MemberKeys).where(MemberKeys.member_id == member_id,
                                                          MemberKeys.key_version == version))
        if row is not None:
            public[(member_id, version)] = lifecycle.public_keys(row)
    data = bundle.dump_bundle(bundle.export_request(request, member, privates, exporter_private, public))
    audit.record("requests.exported", request, actor=member, events=request.event_count)
    return data


# ---------------------------------------------------------------- "Propose as a catalogue case"

OUTCOMES = {"executed": "granted", "closed": "granted", "partly_executed": "partially_granted", "refused": "refused",
            "withdrawn": "withdrawn"}


def can_propose_case(member: Member, request: CooperationRequest) -> bool:
    return request.status in FINISHED + ("partly_executed",) and can_read_request(member, request)


def propose_case(member: Member, request: CooperationRequest) -> str:
    """A catalogue case draft pre-filled from the finished request (through the hook the catalogue registers); the
    URL where the member anonymises it. The draft holds the request's text in the clear, as its author's draft."""
    from network.requests import hooks

    handler = hooks.case_draft_handler()
    if handler is None:
        raise RequestError(_("The catalogue does not take proposals at present."))
    if not can_propose_case(member, request):
        raise RequestError(_("Only a finished request can be proposed as a catalogue case."))
    fields = read_content(member, request).get("fields", {})
    last = next((e.status for e in reversed(request.events) if e.kind == "status" and e.status != "closed"), "")
    finished = hooks.FinishedRequest(
        request_id=request.id, form=request.form, measures=tuple(request.measures or ()),
        requesting_state=request.requesting_state, requested_state=request.requested_state,
        request_date=request.sent_at.date() if request.sent_at else None,
        completion_date=request.completed_at.date() if request.completed_at else None,
        outcome=OUTCOMES.get(last, "pending"), channel=request.original_channel, urgent=request.urgent,
        fields=dict(fields), link=url_for("requests.record", request_id=request.id, _external=True))
    target = handler(member, finished)
    audit.record("requests.proposed_as_case", request, actor=member)
    return target


# ---------------------------------------------------------------- JSON Lines import of past requests

IMPORT_MAX_LINES = 1000
_IMPORT_KEYS = {"direction", "other_authority", "form", "measures", "status", "language", "requesting_reference",
                "requested_reference", "sent_on", "acknowledged_on", "completed_on", "urgent", "confidential",
                "limited_use", "channel", "refusal_ground", "fields"}


def _import_line(number: int, line: str, own: Authority) -> dict:
    """One line checked and turned into the record's values; RequestError naming the line and the problem."""
    def bad(problem: str) -> RequestError:
        return RequestError(_("Line %(n)d: %(problem)s", n=number, problem=problem), field="file")

    try:
        data = json.loads(line)
    except ValueError as error:
        raise bad(_("not a JSON object.")) from error
    if not isinstance(data, dict):
        raise bad(_("not a JSON object."))
    unknown = set(data) - _IMPORT_KEYS
    if unknown:
        raise bad(_("unknown keys: %(keys)s.", keys=", ".join(sorted(unknown))))
    for name in ("direction", "other_authority", "form", "status", "language", "channel", "refusal_ground",
                 "requesting_reference", "requested_reference", "sent_on", "acknowledged_on", "completed_on"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise bad(_("%(name)s is a text.", name=name))
    if data.get("direction") not in ("outgoing", "incoming"):
        raise bad(_("direction is outgoing or incoming."))
    other = db.session.scalar(select(Authority).where(Authority.key == str(data.get("other_authority", ""))))
    if other is None or other.id == own.id:
        raise bad(_("other_authority is the key of another authority in the directory."))
    if data.get("form") not in definitions.FORMS:
        raise bad(_("unknown form."))
    try:
        measures = definitions.valid_measures(data["form"], data.get("measures") or [])
    except (ValueError, TypeError) as error:
        raise bad(_("unknown measures for this form.")) from error
    from network.requests.models import STATUSES

    status = data.get("status")
    if status not in STATUSES or status == "draft":
        raise bad(_("unknown status."))
    dates = {}
    for name in ("sent_on", "acknowledged_on", "completed_on"):
        value = data.get(name) or ""
        try:
            dates[name] = datetime.fromisoformat(value) if value else None
        except (TypeError, ValueError) as error:
            raise bad(_("%(name)s is a date (YYYY-MM-DD).", name=name)) from error
        if dates[name] is not None and (len(value) != 10 or dates[name] > utcnow()):
            raise bad(_("%(name)s is a past date (YYYY-MM-DD).", name=name))
    if dates["sent_on"] is None:
        raise bad(_("sent_on is required."))
    for name in ("urgent", "confidential", "limited_use"):
        if not isinstance(data.get(name, False), bool):
            raise bad(_("%(name)s is true or false.", name=name))
    channel = data.get("channel") or ""
    if channel and channel not in CHANNELS:
        raise bad(_("unknown channel."))
    ground = data.get("refusal_ground") or ""
    if (status == "refused") != bool(ground) or (ground and ground not in REFUSAL_GROUNDS):
        raise bad(_("a refused request has a refusal_ground from the list, and only a refused one."))
    fields = data.get("fields") or {}
    if not isinstance(fields, dict) or any(k not in definitions.FIELDS or not isinstance(v, str)
                                           or len(v) > definitions.MAX_FIELD for k, v in fields.items()):
        raise bad(_("fields maps field keys of the drafting steps to texts."))
    language = data.get("language") or "en"
    if language not in DOCUMENT_LANGUAGES:
        raise bad(_("unknown language."))
    requesting, requested = (own, other) if data["direction"] == "outgoing" else (other, own)
    return {"requesting": requesting, "requested": requested, "form": data["form"], "measures": list(measures),
            "status": status, "language": language, "channel": channel, "ground": ground, "fields": fields,
            "references": (_reference(str(data.get("requesting_reference") or "")),
                           _reference(str(data.get("requested_reference") or ""))),
            "flags": (data.get("urgent", False), data.get("confidential", False), data.get("limited_use", False)),
            **dates}


def import_jsonl(member: Member, authority: Authority, text: str, *,
                 private: MemberPrivateKeys | None = None) -> list[CooperationRequest]:
    """Past requests of one authority into its own register: every line checked first, then all imported or none.
    Each record is sealed for the importer and the authority's mailbox only, with one signed "import" event."""
    if not mailboxes.is_holder(member, authority.id):
        raise RequestError(_("Only the holders of the authority's mailbox import into its register."))
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise RequestError(_("The file holds no request."), field="file")
    if len(lines) > IMPORT_MAX_LINES:
        raise RequestError(_("At most %(n)d requests in one file.", n=IMPORT_MAX_LINES), field="file")
    rows = [_import_line(number, line, authority) for number, line in lines]
    private = _private(member, private)
    now = utcnow()
    imported = []
    for row in rows:
        urgent, confidential, limited = row["flags"]
        request = CooperationRequest(
            public_id=f"r-{uuid.uuid4().hex}", form=row["form"], measures=row["measures"], language=row["language"],
            requesting_state=row["requesting"].state, requested_state=row["requested"].state,
            requesting_authority_id=row["requesting"].id, requested_authority_id=row["requested"].id,
            drafted_by_id=member.id, status=row["status"], requesting_reference=row["references"][0],
            requested_reference=row["references"][1], urgent=urgent, confidential=confidential, limited_use=limited,
            original_channel=row["channel"], refusal_ground=row["ground"], created_at=now, updated_at=now,
            sent_at=row["sent_on"], acknowledged_at=row["acknowledged_on"], completed_at=row["completed_on"],
            imported_authority_id=authority.id, content=b"")
        request.drafted_by = member
        request.requesting_authority, request.requested_authority = row["requesting"], row["requested"]
        request.content = crypto.seal(request, {"fields": row["fields"]}, member, private, include_requested=False)
        db.session.add(request)
        db.session.flush()
        side = "requesting" if authority.id == row["requesting"].id else "requested"
        _append_event(request, "import", row["status"], side, member, private, note=None, content=request.content)
        imported.append(request)
    audit.record("requests.imported", authority, actor=member, count=len(imported))
    return imported
