"""Keeping directory entries current: proposals by focal points, review by moderators, re-confirmation, reminders.

A proposal holds the whole entry in the interchange format (the same dict as an import or a version) and the
number of the version the focal point edited. Nothing reaches the entry until a moderator approves it; every
approval and re-confirmation becomes a new AuthorityVersion. Services never commit: the request (or the
command) does, once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import func, select

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db, hold
from network.core.labels import label as vocabulary_label
from network.core.mail import queue_mail
from network.core.reference import vocabulary_labels
from network.core.textdiff import text_runs
from network.directory.models import INTERCHANGE_FIELDS, Authority, AuthorityChange, AuthorityVersion
from network.directory.services import (
    DirectoryError,
    apply_entry,
    designation_basis,
    get_version,
    normalised,
    record_version,
    stale_condition,
    validation_errors,
    version_count,
)
from network.members.access import can_propose_directory_change, can_review_directory
from network.members.models import Member
from network.members.services import focal_points_of, moderators

REMIND_EVERY = timedelta(days=30)  # a stale entry's focal points hear about it at most once in this time
FIXED_FIELDS = ("key", "state")  # what a proposal cannot change
EDITABLE_FIELDS = tuple(f for f in INTERCHANGE_FIELDS if f not in (*FIXED_FIELDS, "last_verified"))

FIELD_LABELS = {
    "key": _l("Key"), "state": _l("State"), "name": _lp("authority name", "Name"), "parent_body": _l("Part of (ministry or office)"),
    "designations": _l("Designations"), "address": _l("Address"), "phone": _l("Telephone"), "email": _l("E-mail"),
    "email_domains": _l("Official e-mail domains"), "website": _l("Website"),
    "languages": _l("Languages accepted for requests"), "channels": _l("Channels"),
    "accepts_untoc_as_legal_basis": _l("Takes the Convention as legal basis"),
    "urgent_requests": _l("Urgent requests"), "available_24_7": _l("Available 24/7"), "time_zone": _l("Time zone"),
    "office_hours": _l("Office hours"), "legal_requirements": _l("Legal and procedural requirements"),
    "national_laws": _l("National laws"), "treaties": _l("Treaties and arrangements"),
    "last_verified": _l("Last verified"),
}
LONG_TEXT_FIELDS = ("address", "urgent_requests", "legal_requirements")
SOURCE_LABELS = {
    "import": _l("Import"), "proposal": _l("Proposed change"), "reconfirmation": _l("Re-confirmed unchanged"),
    "demo": _l("Demonstration data"), "admin": _l("Administrator"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


# ---------------------------------------------------------------- looking up

def get_change(change_id: int) -> AuthorityChange | None:
    return db.session.get(AuthorityChange, change_id)


def open_change(authority: Authority) -> AuthorityChange | None:
    """The proposal waiting for a moderator, if any (one per authority at a time)."""
    return db.session.scalar(select(AuthorityChange).where(
        AuthorityChange.authority_id == authority.id, AuthorityChange.status == "proposed")
        .order_by(AuthorityChange.id).limit(1))


def review_queue() -> list[AuthorityChange]:
    """Proposals waiting for a moderator, oldest first."""
    return list(db.session.scalars(select(AuthorityChange).where(AuthorityChange.status == "proposed")
                                   .order_by(AuthorityChange.proposed_at, AuthorityChange.id)))


def changes_of(authority: Authority, limit: int = 20) -> list[AuthorityChange]:
    """The authority's proposals, newest first."""
    return list(db.session.scalars(select(AuthorityChange).where(AuthorityChange.authority_id == authority.id)
                                   .order_by(AuthorityChange.id.desc()).limit(limit)))


def returned_changes(authority: Authority, limit: int = 3) -> list[AuthorityChange]:
    """Proposals returned since the entry's latest version: what the focal points still have to act on."""
    latest = db.session.scalar(select(func.max(AuthorityVersion.approved_at))
                               .where(AuthorityVersion.authority_id == authority.id))
    query = select(AuthorityChange).where(AuthorityChange.authority_id == authority.id,
                                          AuthorityChange.status == "returned")
    if latest is not None:
        query = query.where(AuthorityChange.reviewed_at >= latest)
    return list(db.session.scalars(query.order_by(AuthorityChange.id.desc()).limit(limit)))


def authorities_of_focal_point(member: Member) -> list[Authority]:
    ids = member.focal_point_authority_ids()
    if not ids:
        return []
    return list(db.session.scalars(select(Authority).where(Authority.id.in_(ids))
                                   .order_by(Authority.state, Authority.name)))


def versions_of(authority: Authority) -> list[AuthorityVersion]:
    """Every approved version, newest first."""
    return list(db.session.scalars(select(AuthorityVersion).where(AuthorityVersion.authority_id == authority.id)
                                   .order_by(AuthorityVersion.number.desc())))


def changed_since_base(change: AuthorityChange) -> list[AuthorityVersion]:
    """Versions approved after the one the focal point edited (an import, a re-confirmation, another proposal)."""
    return list(db.session.scalars(select(AuthorityVersion).where(
        AuthorityVersion.authority_id == change.authority_id, AuthorityVersion.number > change.base_version)
        .order_by(AuthorityVersion.number)))


def overwritten_fields(change: AuthorityChange) -> list[str]:
    """Fields changed since the proposal's base version that the proposal would set back to their old value."""
    base = get_version(change.authority, change.base_version) if change.base_version else None
    if base is None:
        return []
    current, old, proposed = (normalised(change.authority.to_interchange()), normalised(base.data),
                              normalised(change.data))
    return [f for f in EDITABLE_FIELDS if current[f] != old[f] and proposed[f] == old[f]]


# ---------------------------------------------------------------- proposing

def problems_by_field(data: dict) -> dict[str, list[str]]:
    """validation_errors grouped by top-level field ("" for the entry as a whole), the field name stripped."""
    found: dict[str, list[str]] = {}
    for problem in validation_errors(data):
        where, sep, message = problem.partition(": ")
        name = re.split(r"[.\[]", where, maxsplit=1)[0] if sep else ""
        if name not in INTERCHANGE_FIELDS:
            name, message = "", problem
        found.setdefault(name, []).append(message)
    return found


def proposal_data(authority: Authority, data: dict) -> dict:
    """The entry as proposed: key and State are the authority's own, last_verified is set only on approval."""
    entry = {f: data[f] for f in EDITABLE_FIELDS if f in data and data[f] not in (None, "", [])}
    if data.get("accepts_untoc_as_legal_basis") is not None:
        entry["accepts_untoc_as_legal_basis"] = bool(data["accepts_untoc_as_legal_basis"])
    if data.get("available_24_7"):
        entry["available_24_7"] = True
    entry.update(key=authority.key, state=authority.state)
    return {f: entry[f] for f in INTERCHANGE_FIELDS if f in entry}


def propose(authority: Authority, member: Member, data: dict, note: str,
            base_version: int | None = None) -> AuthorityChange:
    """Record a focal point's proposed entry (or update the proposal they already have open) and tell moderators."""
    if not can_propose_directory_change(member, authority):
        raise DirectoryError(_("Only the focal points of this authority propose changes to its entry."))
    entry = proposal_data(authority, data)
    problems = validation_errors(entry)
    if problems:
        raise DirectoryError("; ".join(problems))
    note = (note or "").strip()
    if not note:
        raise DirectoryError(_("Explain the change for the moderator."), field="note")
    hold(authority)  # one open proposal per authority, even when two focal points send theirs at once
    current = version_count(authority)
    if base_version is None or not 0 <= base_version <= current:
        base_version = current
    existing = open_change(authority)
    if existing is not None:
        if existing.proposed_by_id != member.id:
            raise DirectoryError(_("Another focal point's proposed change to this entry is waiting for a moderator. "
                                   "Only one proposal at a time: wait for the decision, or ask them to withdraw it."))
        existing.data, existing.note, existing.proposed_at = entry, note[:2000], utcnow()
        db.session.flush()
        audit.record("directory.change_updated", existing, actor=member, authority=authority.key)
        return existing
    if normalised(entry) == normalised({**authority.to_interchange(), "last_verified": None}):
        raise DirectoryError(_("The proposal is the same as the current entry. If the entry is still correct, "
                               "choose “Re-confirm unchanged” instead."))
    change = AuthorityChange(authority_id=authority.id, authority=authority, base_version=base_version, data=entry,
                             status="proposed", note=note[:2000], proposed_by_id=member.id, proposed_at=utcnow())
    db.session.add(change)
    db.session.flush()
    audit.record("directory.change_proposed", change, actor=member, authority=authority.key,
                 base_version=base_version, fields=changed_fields(authority.to_interchange(), entry))
    link = url_for("directory_changes.review", change_id=change.id, _external=True)
    for moderator in moderators():
        if moderator.id != member.id:
            queue_mail(moderator.email, _l("Directory change proposed: %(name)s", name=authority.name),
                       "directory/proposed", recipient=moderator, change=change, authority=authority,
                       proposer=member, link=link)
    return change


def withdraw(change: AuthorityChange, member: Member) -> None:
    hold(change)  # decided once, even by two requests at once
    if change.status != "proposed":
        raise DirectoryError(_("This proposal is no longer waiting for a moderator."))
    if change.proposed_by_id != member.id:
        raise DirectoryError(_("Only the focal point who proposed a change withdraws it."))
    change.status = "withdrawn"
    change.reviewed_at = utcnow()
    db.session.flush()
    audit.record("directory.change_withdrawn", change, actor=member, authority=change.authority.key)


# ---------------------------------------------------------------- reviewing

def is_own_proposal(change: AuthorityChange, member: Member) -> bool:
    return change.proposed_by_id is not None and change.proposed_by_id == member.id


def approve(change: AuthorityChange, moderator: Member, note: str = "") -> AuthorityVersion:
    """Apply the proposed entry, mark it verified today, keep it as the next version, tell the proposer."""
    if not can_review_directory(moderator):
        raise DirectoryError(_("Only moderators approve changes to the directory."))
    hold(change)  # decided once, even by two requests at once
    if change.status != "proposed":
        raise DirectoryError(_("This proposal is no longer waiting for a decision."))
    if is_own_proposal(change, moderator):
        raise DirectoryError(_("You proposed this change yourself: another moderator approves it, "
                               "so that two people check every change to the directory."))
    authority = change.authority
    today = utcnow().date()
    entry = {**change.data, "key": authority.key, "state": authority.state, "last_verified": today.isoformat()}
    problems = validation_errors(entry)
    if problems:
        raise DirectoryError(_("The proposal is no longer valid: %(problems)s. Return it to the focal point.",
                               problems="; ".join(problems)))
    changed = apply_entry(authority, entry)
    authority.last_verified = today
    version = record_version(authority, "proposal", approved_by=moderator, proposed_by=change.proposed_by,
                             note=change.note)
    change.status, change.reviewed_by_id, change.reviewed_at = "approved", moderator.id, utcnow()
    change.review_note = (note or "").strip()[:2000]
    db.session.flush()
    audit.record("directory.change_approved", change, actor=moderator, authority=authority.key,
                 version=version.number, fields=changed)
    proposer = change.proposed_by
    if proposer is not None:
        queue_mail(proposer.email, _l("Your change to %(name)s is approved", name=authority.name),
                   "directory/approved", recipient=proposer, change=change, authority=authority, version=version,
                   link=url_for("directory.authority", key=authority.key, _external=True))
    return version


def return_change(change: AuthorityChange, moderator: Member, reason: str) -> None:
    """Send the proposal back with the moderator's reason; the focal point can propose again."""
    if not can_review_directory(moderator):
        raise DirectoryError(_("Only moderators review changes to the directory."))
    hold(change)  # decided once, even by two requests at once
    if change.status != "proposed":
        raise DirectoryError(_("This proposal is no longer waiting for a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise DirectoryError(_("Tell the focal point why the change is returned."), field="reason")
    change.status, change.reviewed_by_id, change.reviewed_at = "returned", moderator.id, utcnow()
    change.review_note = reason[:2000]
    db.session.flush()
    authority = change.authority
    audit.record("directory.change_returned", change, actor=moderator, authority=authority.key, reason=reason)
    proposer = change.proposed_by
    if proposer is not None:
        queue_mail(proposer.email, _l("Your change to %(name)s was returned", name=authority.name),
                   "directory/returned", recipient=proposer, change=change, authority=authority, reason=reason,
                   link=url_for("directory_changes.propose", key=authority.key, _external=True),
                   mine=url_for("directory_changes.mine", _external=True))


def can_reconfirm(member: Member, authority: Authority) -> bool:
    return can_propose_directory_change(member, authority) or can_review_directory(member)


def reconfirm(authority: Authority, member: Member, note: str = "") -> AuthorityVersion:
    """The entry is still correct: verified today, kept as a version of its own."""
    if not can_reconfirm(member, authority):
        raise DirectoryError(_("Only the authority's focal points and moderators re-confirm its entry."))
    today = utcnow().date()
    if authority.last_verified == today:
        raise DirectoryError(_("The entry was already verified today."))
    authority.last_verified = today
    authority.updated_at = utcnow()
    version = record_version(authority, "reconfirmation", approved_by=member,
                             note=(note or "").strip() or _("Re-confirmed unchanged"))
    audit.record("directory.reconfirmed", authority, actor=member, key=authority.key, version=version.number)
    return version


# ---------------------------------------------------------------- stale entries

def remind_stale(now: datetime | None = None) -> dict[str, list[str]]:
    """Mail the focal points of each stale entry (once per REMIND_EVERY per authority); report the entries that
    have no focal point to the moderators in one summary. Returns the keys reminded and the keys reported."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Authority).where(
        stale_condition(now.date()),
        Authority.stale_notice_at.is_(None) | (Authority.stale_notice_at <= now - REMIND_EVERY))
        .order_by(Authority.state, Authority.key)))
    reminded: list[str] = []
    orphans: list[Authority] = []
    for authority in due:
        focal_points = focal_points_of(authority.id)
        if not focal_points:
            orphans.append(authority)
        for focal_point in focal_points:
            queue_mail(focal_point.email, _l("Please check the directory entry of %(name)s", name=authority.name),
                       "directory/stale", recipient=focal_point, authority=authority,
                       page=url_for("directory.authority", key=authority.key, _external=True),
                       propose=url_for("directory_changes.propose", key=authority.key, _external=True),
                       mine=url_for("directory_changes.mine", _external=True))
        if focal_points:
            reminded.append(authority.key)
        authority.stale_notice_at = now
    if orphans:
        for moderator in moderators():
            queue_mail(moderator.email, _l("%(n)d stale directory entries have no focal point", n=len(orphans)),
                       "directory/stale_orphans", recipient=moderator, authorities=orphans,
                       links={a.key: url_for("directory.authority", key=a.key, _external=True) for a in orphans})
    if due:
        audit.record("directory.stale_reminders", None, actor=None, reminded=reminded,
                     without_focal_point=[a.key for a in orphans])
    db.session.flush()
    return {"reminded": reminded, "orphans": [a.key for a in orphans]}


# ---------------------------------------------------------------- comparing two states of an entry


@dataclass
class FieldDiff:
    """One field of two states of an entry. Text: `left`/`right` are (op, text) runs, op in equal/del/ins.
    Lists: `removed`, `added`, `kept` as display strings."""

    name: str
    label: str
    kind: str  # "text", "long" (multi-line, shown pre-formatted) or "list"
    changed: bool
    left: list[tuple[str, str]] = field(default_factory=list)
    right: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _display_list(name: str, values: list) -> list[str]:
    if name == "designations":
        labels = vocabulary_labels("designations")
        return [f"{vocabulary_label('designations', code)} ({designation_basis(code)})" if code in labels else str(code)
                for code in values]
    if name == "channels":
        labels = vocabulary_labels("channels")
        return [vocabulary_label("channels", code) if code in labels else str(code) for code in values]
    if name == "national_laws":
        return [f"{law.get('title', '')} | {law['url']}" if law.get("url") else str(law.get("title", ""))
                for law in values if isinstance(law, dict)]
    return [str(v) for v in values]


def _display_value(name: str, value: object) -> str:
    if name in ("accepts_untoc_as_legal_basis", "available_24_7"):
        return _("Not stated") if value is None else (_("Yes") if value else _("No"))
    return "" if value is None else str(value)


def compare(old: dict, new: dict, fields: tuple[str, ...] = EDITABLE_FIELDS) -> list[FieldDiff]:
    """Field by field, in schema order: what changed between two interchange dicts."""
    before, after = normalised(old or {}), normalised(new or {})
    diffs = []
    for name in fields:
        label = field_label(name)
        if isinstance(after.get(name), list) or isinstance(before.get(name), list):
            old_items = _display_list(name, list(before.get(name) or []))
            new_items = _display_list(name, list(after.get(name) or []))
            removed = [v for v in old_items if v not in new_items]
            added = [v for v in new_items if v not in old_items]
            kept = [v for v in new_items if v in old_items]
            diffs.append(FieldDiff(name, label, "list", bool(removed or added) or old_items != new_items,
                                   removed=removed, added=added, kept=kept))
        else:
            old_text, new_text = _display_value(name, before.get(name)), _display_value(name, after.get(name))
            left, right = text_runs(old_text, new_text)
            diffs.append(FieldDiff(name, label, "long" if name in LONG_TEXT_FIELDS else "text",
                                   old_text != new_text, left=left, right=right))
    return diffs


def changed_fields(old: dict, new: dict) -> list[str]:
    return [d.name for d in compare(old, new) if d.changed]


def entry_rows(data: dict) -> list[tuple[str, str, object]]:
    """A whole entry for display: (field, label, value) with lists as display strings."""
    entry = normalised(data or {})
    rows = []
    for name in INTERCHANGE_FIELDS:
        value = entry.get(name)
        if isinstance(value, list):
            value = _display_list(name, value)
        elif name in ("accepts_untoc_as_legal_basis", "available_24_7"):
            value = _display_value(name, value)
        elif name == "last_verified" and value:
            value = date.fromisoformat(value)
        rows.append((name, field_label(name), value))
    return rows
