"""Case operations: the interchange format, validation, visibility, the review workflow and the privacy check.

Workflow: draft -> submitted -> in_review -> (changes_requested -> submitted ...) -> published -> withdrawn.
Members submit; moderators review; a case is published only by a moderator who did not submit it (two people).
Services never commit; they raise CaseError before changing anything."""
from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

import pycountry
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from catalogue.cases.models import DATE_FIELDS, INTERCHANGE_FIELDS, LIST_FIELDS, Case, CaseFacet, CaseRevision
from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.jsonlines import schema_validator
from network.core.mail import queue_mail
from network.core.reference import region_of
from network.members.access import is_moderator
from network.members.models import Member
from network.members.services import moderators
from network.search.backend import Viewer

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "case.schema.json"
REQUIRED = ("reference", "title", "summary", "language", "requesting_state", "requested_state",
            "cooperation_forms", "legal_bases", "crime_types", "outcome")
EDITABLE = ("draft", "changes_requested")
REVIEWABLE = ("submitted", "in_review")


class CaseError(DomainError):
    """A catalogue rule refused the operation."""


# ---------------------------------------------------------------- the interchange format

_validator = schema_validator(SCHEMA_PATH)
_STATES = frozenset(country.alpha_3 for country in pycountry.countries)


def validation_errors(data: object) -> list[str]:
    """Everything wrong with one case in the interchange format, each message naming its field."""
    if not isinstance(data, dict):
        return [_("a case must be a JSON object")]
    problems = []
    for error in sorted(_validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(part) for part in error.absolute_path) or _("case")
        problems.append(f"{where}: {error.message}")
    for field in ("requesting_state", "requested_state"):
        value = data.get(field)
        if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) and value not in _STATES:
            problems.append(f"{field}: {value!r} " + _("is not an ISO 3166-1 alpha-3 code"))
    others = data.get("other_states")
    for value in others if isinstance(others, list) else []:  # not a list: the schema's problem, said above
        if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) and value not in _STATES:
            problems.append(f"other_states: {value!r} " + _("is not an ISO 3166-1 alpha-3 code"))
    return problems


def case_to_dict(case: Case) -> dict:
    """The case in the interchange format, fields in schema order, empty optional fields left out."""
    data: dict = {}
    for field in INTERCHANGE_FIELDS:
        value = getattr(case, field)
        if field in DATE_FIELDS:
            value = value.isoformat() if value else None
        if field in REQUIRED or field == "visibility":
            data[field] = value if value is not None else ""
        elif value not in (None, "", [], {}):
            data[field] = value
    return data


def apply_data(case: Case, data: dict, *, fields: tuple[str, ...] = INTERCHANGE_FIELDS) -> None:
    """Set the case's fields from interchange values (absent optional fields become empty)."""
    for field in fields:
        if field == "reference":
            continue
        value = data.get(field)
        if field in DATE_FIELDS:
            value = date.fromisoformat(value) if value else None
        elif field in LIST_FIELDS:
            value = list(value or [])
        elif field == "translations":
            value = dict(value or {})
        elif field == "visibility":
            value = value or "members"
        else:
            value = value if value is not None else ""
        setattr(case, field, value)
    case.updated_at = utcnow()
    refresh_facets(case)


def provision_and_parents(provision: str) -> list[str]:
    """A provision and the article and paragraph it belongs to: "14(3)(b)" -> ["14", "14(3)", "14(3)(b)"]. A filter
    on an article or a paragraph finds the cases relying on any of its parts (the audit of 2026-12-06 found "14(3)"
    missing "14(3)(b)": only the article was derived)."""
    parts = provision.replace(" ", "").split("(")
    return ["(".join(parts[:n]) for n in range(1, len(parts) + 1) if parts[0]]


def readable_languages(case: Case) -> set[str]:
    """The languages a case can be read in: its own and each of its translations' (what the language filter and its
    counts mean; the case's own language is still shown as its language)."""
    languages = {case.language} if case.language else set()
    return languages | {lang for lang, version in (case.translations or {}).items()
                        if lang and len(lang) <= 40 and isinstance(version, dict)}  # 40: case_facets.code


def refresh_facets(case: Case) -> None:
    """Derive the (kind, code) rows that filters and facet counts use in SQL (and the engines' facet tokens)."""
    values: set[tuple[str, str]] = set()
    values |= {("cooperation_form", c) for c in case.cooperation_forms or []}
    values |= {("crime_type", c) for c in case.crime_types or []}
    values |= {("legal_basis", c) for c in case.legal_bases or []}
    values |= {("channel", c) for c in case.channels or []}
    values |= {("provision", p) for provision in case.untoc_provisions or [] for p in provision_and_parents(provision)}
    values |= {("language", lang) for lang in readable_languages(case)}
    for kind in ("requesting_state", "requested_state"):
        state = getattr(case, kind)
        if state:
            values.add((kind, state))
            region = region_of(state)
            if region:
                values.add((kind.replace("state", "region"), region))
                values.add(("region", region))
    if case.year:
        values.add(("year", str(case.year)))
    existing = {(f.kind, f.code): f for f in case.facets}
    for key, facet in existing.items():
        if key not in values:
            case.facets.remove(facet)
    for kind, code in sorted(values - set(existing)):
        case.facets.append(CaseFacet(kind=kind, code=code))


# ---------------------------------------------------------------- visibility: one rule, one place

def _vetted(member: Member | None) -> bool:
    return bool(member and member.is_vetted)


def visible_cases(member: Member | None) -> Select:
    """The published cases a reader may see: public ones for anyone, all of them for vetted members.
    Every list, search, export, statistic and API answer starts from this query."""
    return visible_to(_vetted(member))


def visible_to(vetted: bool) -> Select:
    """visible_cases of a reader who is (or is not) a vetted member: the rule depends on nothing else."""
    query = select(Case).where(Case.status == "published")
    if not vetted:
        query = query.where(Case.visibility == "public")
    return query


def search_viewer(member: Member | None) -> Viewer:
    """The reader as the search engines see them: their queries apply the rule of visible_cases inside the engine
    (published; public ones for anyone, members-only ones too for vetted members)."""
    return Viewer(member_id=member.id if member else None, vetted=_vetted(member))


def can_read_case(member: Member | None, case: Case) -> bool:
    if case.status == "published":
        return case.visibility == "public" or _vetted(member)
    if not _vetted(member):
        return False
    return case.submitter_id == member.id or (is_moderator(member) and case.status != "draft")


def can_edit_case(member: Member | None, case: Case) -> bool:
    return _vetted(member) and case.submitter_id == member.id and case.status in EDITABLE


def can_review_case(member: Member | None, case: Case) -> bool:
    return _vetted(member) and is_moderator(member) and case.submitter_id != member.id and case.status in REVIEWABLE


def can_withdraw_case(member: Member | None, case: Case) -> bool:
    return _vetted(member) and case.status == "published" and (is_moderator(member) or case.submitter_id == member.id)


def my_cases(member: Member) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.submitter_id == member.id).order_by(Case.updated_at.desc())))


def review_queue(member: Member) -> list[Case]:
    """Cases waiting for a reviewer, oldest first; a moderator's own submissions are not in it."""
    return list(db.session.scalars(
        select(Case).where(Case.status.in_(REVIEWABLE), or_(Case.submitter_id.is_(None), Case.submitter_id != member.id))
        .order_by(Case.submitted_at, Case.id)
    ))


def find_case(reference: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.reference == reference))


# ---------------------------------------------------------------- the workflow

def new_reference() -> str:
    while True:
        reference = f"CASE-{utcnow().year}-{secrets.token_hex(3).upper()}"
        if find_case(reference) is None:
            return reference


def create_draft(member: Member, language: str = "en") -> Case:
    if not _vetted(member):
        raise CaseError(_("Only members can submit cases."))
    case = Case(reference=new_reference(), status="draft", submitter_id=member.id, language=language,
                visibility="members")
    db.session.add(case)
    db.session.flush()
    audit.record("case.draft_created", case, actor=member, reference=case.reference)
    return case


def save_draft(case: Case, member: Member, values: dict, step: int) -> None:
    """Save one wizard step: only the fields that step holds change."""
    if not can_edit_case(member, case):
        raise CaseError(_("Only the submitter can change this case, and only before it is published."))
    apply_data(case, {**case_to_dict(case), **values}, fields=tuple(f for f in INTERCHANGE_FIELDS if f in values))
    case.wizard_step = max(case.wizard_step, step)


def submit(case: Case, member: Member, anonymised: bool) -> None:
    if not can_edit_case(member, case):
        raise CaseError(_("Only the submitter can submit this case."))
    problems = validation_errors(case_to_dict(case))
    if problems:
        raise CaseError(_("The case is not complete: %(problems)s", problems="; ".join(problems)))
    if not anonymised:
        raise CaseError(_("Confirm that the case contains no personal data."), field="anonymised")
    now = utcnow()
    case.status, case.submitted_at, case.anonymised_confirmed_at, case.updated_at = "submitted", now, now, now
    audit.record("case.submitted", case, actor=member, reference=case.reference)
    for moderator in moderators():
        if moderator.id != member.id:
            queue_mail(moderator.email, _l("A case was submitted for review"), "catalogue/submitted",
                       recipient=moderator, case=case,
                       link=url_for("case_workflow.review", reference=case.reference, _external=True))


def _notify_submitter(case: Case, subject: object, template: str, **context: object) -> None:
    if case.submitter is not None:
        queue_mail(case.submitter.email, subject, f"catalogue/{template}", submitter=case.submitter, case=case,
                   link=url_for("catalogue.case_page", reference=case.reference, _external=True), **context)


def start_review(case: Case, moderator: Member) -> None:
    if not can_review_case(moderator, case) or case.status != "submitted":
        raise CaseError(_("This case is not waiting for a reviewer, or you submitted it yourself."))
    case.status, case.reviewer_id, case.updated_at = "in_review", moderator.id, utcnow()
    audit.record("case.review_started", case, actor=moderator, reference=case.reference)
    _notify_submitter(case, _l("Your case is being reviewed"), "review_started", reviewer=moderator)


def request_changes(case: Case, moderator: Member, note: str) -> None:
    if not can_review_case(moderator, case):
        raise CaseError(_("This case is not under review, or you submitted it yourself."))
    if not note.strip():
        raise CaseError(_("Tell the submitter what to change."), field="note")
    case.status, case.review_note, case.reviewer_id, case.updated_at = "changes_requested", note.strip(), moderator.id, utcnow()
    audit.record("case.changes_requested", case, actor=moderator, reference=case.reference, note=note.strip())
    _notify_submitter(case, _l("Changes requested to your case"), "changes_requested", note=note.strip())


def publish(case: Case, moderator: Member, note: str = "") -> CaseRevision:
    """A second person, a moderator who did not submit the case, publishes it; the revision is kept whole."""
    if not can_review_case(moderator, case):
        raise CaseError(_("Only a moderator who did not submit this case can publish it."))
    problems = validation_errors(case_to_dict(case))
    if problems:
        raise CaseError(_("The case is not complete: %(problems)s", problems="; ".join(problems)))
    return _publish(case, moderator, note)


def _publish(case: Case, by: Member | None, note: str) -> CaseRevision:
    now = utcnow()
    case.status, case.published_at, case.updated_at, case.review_note = "published", now, now, ""
    if by is not None:
        case.reviewer_id = by.id
    revision = CaseRevision(number=len(case.revisions) + 1, data=case_to_dict(case), published_at=now,
                            published_by_id=by.id if by else None, note=note.strip())
    case.revisions.append(revision)
    db.session.flush()
    audit.record("case.published", case, actor=by, reference=case.reference, revision=revision.number)
    _notify_submitter(case, _l("Your case was published"), "published")
    return revision


def withdraw(case: Case, by: Member, reason: str) -> None:
    if not can_withdraw_case(by, case):
        raise CaseError(_("Only the submitter or a moderator can withdraw a published case."))
    if not reason.strip():
        raise CaseError(_("Give a reason."), field="reason")
    case.status, case.withdrawn_at, case.updated_at = "withdrawn", utcnow(), utcnow()
    audit.record("case.withdrawn", case, actor=by, reference=case.reference, reason=reason.strip())
    if case.submitter_id != by.id:
        _notify_submitter(case, _l("Your case was withdrawn"), "withdrawn", reason=reason.strip())


def reopen(case: Case, member: Member) -> None:
    """The submitter revises a published or withdrawn case: it goes back to draft, the published revisions stay."""
    if not _vetted(member) or case.submitter_id != member.id or case.status not in ("published", "withdrawn"):
        raise CaseError(_("Only the submitter can revise this case."))
    case.status, case.updated_at = "draft", utcnow()
    audit.record("case.reopened", case, actor=member, reference=case.reference)


# ---------------------------------------------------------------- privacy check

_PRIVACY_PATTERNS = (
    ("email", re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b")),
    ("phone", re.compile(r"(?<![\w/])\+?\d(?:[\s().-]?\d){7,14}(?![\w/])")),
    ("document_number", re.compile(r"\b[A-Z]{1,3}\d{6,9}\b")),
    ("file_number", re.compile(r"\b\d{1,6}/\d{2,4}(?:/\d{1,6})?\b|\b(?:No\.?|n°|Nr\.?)\s?\d{3,}[-/]\d{2,}\b")),
    ("personal_name", re.compile(
        r"\b(?:defendant|accused|victim|suspect|witness|convict|fugitive|detainee|Mr|Mrs|Ms|Dr)\.?\s+"
        r"(?:[A-Z][a-z\u00e0-\u00ff'-]{1,30})(?:\s+[A-Z][a-z\u00e0-\u00ff'-]{1,30}){0,2}")),
)
PRIVACY_LABELS = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "document_number": "a passport-like or ID number",
    "file_number": "a case-file number",
    "personal_name": "a personal name next to a word such as defendant or victim",
}
PRIVACY_FIELDS = ("title", "summary", "refusal_grounds", "obstacles", "solutions", "lessons_learned")


def privacy_warnings(case: Case) -> list[dict]:
    """Likely personal data in the case's free text: field, kind, the excerpt found."""
    warnings = []
    texts = [(field, getattr(case, field) or "") for field in PRIVACY_FIELDS]
    for lang, version in (case.translations or {}).items():
        texts += [(f"translations.{lang}.{field}", version.get(field, "")) for field in ("title", "summary")]
    for field, text in texts:
        for kind, pattern in _PRIVACY_PATTERNS:
            for match in pattern.finditer(text[:50000]):
                warnings.append({"field": field, "kind": kind, "label": PRIVACY_LABELS[kind], "excerpt": match.group(0)})
    return warnings


# ---------------------------------------------------------------- import

def import_case(data: dict, source_default: str = "") -> tuple[Case, bool]:
    """Create or update (by reference) a published case from an already validated interchange dict.
    Returns (case, created)."""
    case = find_case(data["reference"])
    created = case is None
    if created:
        case = Case(reference=data["reference"], status="draft")
        db.session.add(case)
    apply_data(case, data)
    if not case.source and source_default:
        case.source = source_default
    db.session.flush()
    if case.status != "published" or (case.revisions and case.revisions[-1].data != case_to_dict(case)) \
            or not case.revisions:
        _publish(case, None, "imported")
    return case, created
