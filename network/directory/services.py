"""Directory entries: validating the interchange format, applying an entry, keeping approved versions, staleness.

Services never commit; they raise DirectoryError before changing anything. Every approved state of an entry is
kept as an AuthorityVersion (the interchange dict), so what the directory said on any day can be shown again."""
from __future__ import annotations

import re
import zoneinfo
from datetime import date, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.jsonlines import line_problems, schema_validator
from network.core.reference import vocabulary_labels
from network.directory.models import INTERCHANGE_FIELDS, LIST_FIELDS, TEXT_FIELDS, Authority, AuthorityVersion
from network.directory.states import get_state

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "reference" / "authority.schema.json"
STALE_AFTER = timedelta(days=365)  # entries not verified for twelve months are marked stale
VERSION_SOURCES = ("import", "proposal", "reconfirmation", "demo", "admin")
# Names, titles and other one-line values (network.core.text): no line break, NUL, line separator or bidi override.
# (key, state and languages have patterns; website and national_laws.*.url the URL rule, through the "uri" format.)
SINGLE_LINE_FIELDS = ("name", "parent_body", "phone", "email", "email_domains.*", "time_zone", "office_hours",
                      "national_laws.*.title", "treaties.*")


class DirectoryError(DomainError):
    """A directory rule refused the operation."""


# ---------------------------------------------------------------- the interchange format

_validator = schema_validator(SCHEMA_PATH)


def validation_errors(data: object) -> list[str]:
    """Everything wrong with one entry in the interchange format, each message naming its field."""
    if not isinstance(data, dict):
        return [_("an authority must be a JSON object")]
    problems = []
    for error in sorted(_validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(part) for part in error.absolute_path) or _("authority")
        problems.append(f"{where}: {error.message}")
    problems += line_problems(data, SINGLE_LINE_FIELDS)
    state, key = data.get("state"), data.get("key")
    if isinstance(state, str) and re.fullmatch(r"[A-Z]{3}", state):
        if get_state(state) is None:
            problems.append(f"state: {state!r} " + _("is not an ISO 3166-1 alpha-3 code"))
        if isinstance(key, str) and not key.startswith(state + "-"):
            problems.append(f"key: {key!r} " + _("must begin with the State's code (%(state)s-)", state=state))
    zone = data.get("time_zone")
    if isinstance(zone, str) and zone and not _is_time_zone(zone):
        problems.append(f"time_zone: {zone!r} " + _("is not an IANA time zone (e.g. Europe/Vienna)"))
    verified = data.get("last_verified")
    if isinstance(verified, str):
        try:
            if date.fromisoformat(verified) > utcnow().date():
                problems.append(f"last_verified: {verified!r} " + _("is in the future"))
        except ValueError:
            problems.append(f"last_verified: {verified!r} " + _("is not a date (YYYY-MM-DD)"))
    return problems


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalised(data: dict) -> dict:
    """A valid entry with its optional fields filled in (empty), in the schema's field order, lists de-duplicated."""
    entry: dict = {}
    for field in INTERCHANGE_FIELDS:
        value = data.get(field)
        if field in TEXT_FIELDS:
            value = (value or "").strip()
        elif field in LIST_FIELDS:
            value = list(value or [])
            if field != "national_laws":
                value = list(dict.fromkeys(v.strip() for v in value if v and v.strip()))
        elif field == "available_24_7":
            value = bool(value)
        entry[field] = value
    entry["name"] = (entry["name"] or "").strip()
    return entry


def apply_entry(authority: Authority, data: dict) -> list[str]:
    """Write a valid entry onto an authority (key and State included); the fields that changed, in schema order."""
    entry = normalised(data)
    before = authority.to_interchange() if authority.id else {}
    for field in INTERCHANGE_FIELDS:
        if field == "designations":
            authority.set_designations(entry["designations"])
        elif field == "last_verified":
            authority.last_verified = date.fromisoformat(entry[field]) if entry[field] else None
        else:
            setattr(authority, field, entry[field])
    authority.updated_at = utcnow()
    after = authority.to_interchange()
    return [field for field in INTERCHANGE_FIELDS if before.get(field) != after.get(field)]


# ---------------------------------------------------------------- versions

def version_count(authority: Authority) -> int:
    if authority.id is None:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(AuthorityVersion).where(AuthorityVersion.authority_id == authority.id)) or 0


def record_version(authority: Authority, source: str, *, approved_by=None, proposed_by=None,
                   note: str = "") -> AuthorityVersion:
    """Keep the entry as it now stands as its next approved version."""
    db.session.flush()
    version = AuthorityVersion(authority_id=authority.id, number=version_count(authority) + 1,
                               data=authority.to_interchange(), source=source, approved_at=utcnow(),
                               approved_by_id=getattr(approved_by, "id", None),
                               proposed_by_id=getattr(proposed_by, "id", None), note=note[:1000])
    db.session.add(version)
    db.session.flush()
    return version


def get_version(authority: Authority, number: int) -> AuthorityVersion | None:
    return db.session.scalar(select(AuthorityVersion).where(AuthorityVersion.authority_id == authority.id,
                                                            AuthorityVersion.number == number))


def create_authority(data: dict, *, source: str, actor=None) -> Authority:
    """A new entry from a valid interchange dict, with its first version."""
    problems = validation_errors(data)
    if problems:
        raise DirectoryError("; ".join(problems))
    if db.session.scalar(select(Authority.id).where(Authority.key == data["key"])):
        raise DirectoryError(_("An authority with the key %(key)s exists already.", key=data["key"]), field="key")
    authority = Authority(key=data["key"], state=data["state"], name=data["name"])
    apply_entry(authority, data)
    db.session.add(authority)
    record_version(authority, source, approved_by=actor)
    audit.record("directory.created", authority, actor=actor, key=authority.key, source=source)
    return authority


# ---------------------------------------------------------------- staleness

def is_stale(authority: Authority, today: date | None = None) -> bool:
    """Not verified for twelve months (or never)."""
    today = today or utcnow().date()
    return authority.last_verified is None or today - authority.last_verified > STALE_AFTER


def stale_since(authority: Authority) -> date | None:
    """The day the entry became stale (None if never verified)."""
    return authority.last_verified + STALE_AFTER if authority.last_verified else None


def stale_condition(today: date | None = None, cutoff=None):
    """SQL condition for stale entries, for lists and for `directory remind`. `cutoff`: the first day that is not
    stale (default: STALE_AFTER before today), a value or a bound parameter (the home page's count, a statement
    kept per process)."""
    if cutoff is None:
        cutoff = (today or utcnow().date()) - STALE_AFTER
    return (Authority.last_verified.is_(None)) | (Authority.last_verified < cutoff)


# ---------------------------------------------------------------- labels

def designation_labels() -> dict[str, str]:
    return vocabulary_labels("designations")


def designation_bases() -> dict[str, str]:
    """Code -> legal basis, e.g. untoc_mla_central -> "UNTOC art. 18 (13)"."""
    from network.core.reference import vocabulary

    return {entry["code"]: entry["basis"] for entry in vocabulary()["designations"]}


def designation_basis(code: str) -> str:
    """A designation's legal basis cited in the reader's language: "UNTOC art. 18 (13)", and the instruments known by
    a name rather than a code named through the catalogue ("Protocole relatif aux armes à feu art. 13 (2)")."""
    basis = designation_bases().get(code, "")
    instrument, cited, article = basis.partition(" art. ")
    if not cited:
        return basis
    # The request's catalogue, looked up once per page (a page cites dozens of bases).
    from network.core.translations import gettext

    names = {"Firearms Protocol": gettext("Firearms Protocol"), "1988 Convention": gettext("1988 Drugs Convention")}
    return gettext("%(instrument)s art. %(article)s", instrument=names.get(instrument, instrument), article=article)


def instrument_of(designation: str) -> str:
    """The instrument a designation rests on: UNTOC, SOM, FIREARMS or DRUGS1988."""
    basis = designation_bases().get(designation, "")
    if basis.startswith("UNTOC"):
        return "UNTOC"
    if basis.startswith("SOM"):
        return "SOM"
    if basis.startswith("Firearms"):
        return "FIREARMS"
    if basis.startswith("1988"):
        return "DRUGS1988"
    return ""
