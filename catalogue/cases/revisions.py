"""Field-by-field comparison of two published revisions of a case (interchange dicts), for the diff page; and who
may read a revision: each one by its own visibility, not the case's current one."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from catalogue.cases.models import INTERCHANGE_FIELDS, LIST_FIELDS, Case, CaseRevision
from catalogue.cases.services import can_read_case
from network.core.textdiff import text_runs
from network.members.models import Member

FIELD_LABELS = {
    "reference": _l("Reference"), "title": _l("Title"), "summary": _l("Summary"), "language": _l("Language"),
    "translations": _l("Translations"), "requesting_state": _l("Requesting State"),
    "requested_state": _l("Requested State"), "other_states": _l("Other States"),
    "cooperation_forms": _l("Forms of cooperation"), "legal_bases": _l("Legal bases"),
    "untoc_provisions": _l("UNTOC provisions"), "other_instruments": _l("Other instruments"),
    "crime_types": _l("Crime types"), "channels": _l("Channels"), "request_date": _l("Request date"),
    "decision_date": _l("Decision date"), "completion_date": _l("Completion date"), "outcome": _l("Outcome"),
    "refusal_grounds": _l("Grounds for refusal"), "obstacles": _l("Obstacles encountered"),
    "solutions": _l("Solutions found"), "lessons_learned": _l("Lessons learned"), "keywords": _l("Keywords"),
    "visibility": _l("Visibility"), "source": _l("Source"),
}


def can_read_revision(member: Member | None, case: Case, revision: CaseRevision) -> bool:
    """A revision is read as it was published: a members-only revision stays for vetted members even once the
    case is public (a revision without a visibility is members-only)."""
    if not can_read_case(member, case):
        return False
    return (revision.data or {}).get("visibility") == "public" or bool(member and member.is_vetted)


def readable_revisions(member: Member | None, case: Case) -> list[CaseRevision]:
    """The case's revisions this reader may read, oldest first."""
    return [revision for revision in case.revisions if can_read_revision(member, case, revision)]


@dataclass
class FieldDiff:
    """One field's change. Text: `left`/`right` are (op, text) runs, op in equal/del/ins.
    Lists: `removed`, `added`, `kept` (sets compared, shown in the order of the revision they come from)."""

    field: str
    label: str
    kind: str  # "text" or "list"
    changed: bool
    left: list[tuple[str, str]] = field(default_factory=list)
    right: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _text(name: str, label: str, old: object, new: object) -> FieldDiff:
    old_text, new_text = ("" if old is None else str(old)), ("" if new is None else str(new))
    left, right = text_runs(old_text, new_text)
    return FieldDiff(name, label, "text", old_text != new_text, left=left, right=right)


def _list(name: str, label: str, old: list | None, new: list | None) -> FieldDiff:
    old, new = list(old or []), list(new or [])
    removed = [v for v in old if v not in set(new)]
    added = [v for v in new if v not in set(old)]
    kept = [v for v in new if v in set(old)]
    return FieldDiff(name, label, "list", bool(removed or added), removed=removed, added=added, kept=kept)


def compare(old: dict, new: dict) -> list[FieldDiff]:
    """Every interchange field of two revisions, in schema order; translations compared per language and field."""
    diffs: list[FieldDiff] = []
    for name in INTERCHANGE_FIELDS:
        label = str(FIELD_LABELS.get(name, name))
        if name in LIST_FIELDS:
            diffs.append(_list(name, label, old.get(name), new.get(name)))
        elif name == "translations":
            old_tr, new_tr = old.get(name) or {}, new.get(name) or {}
            for lang in sorted(set(old_tr) | set(new_tr)):
                for part in ("title", "summary"):
                    diffs.append(_text(f"translations.{lang}.{part}", f"{label} ({lang}): {FIELD_LABELS[part]}",
                                       (old_tr.get(lang) or {}).get(part), (new_tr.get(lang) or {}).get(part)))
        else:
            diffs.append(_text(name, label, old.get(name), new.get(name)))
    return diffs
