"""Moving the directory in and out: reading a JSON Lines file of authorities (all or nothing), importing it by key,
and writing the directory as JSON Lines or CSV (shared/schemas/authority.schema.json).

The command (`flask --app app directory import|export`) and the demonstration data both go through here, so the
demo exercises the same validation and versioning as a real import. Nothing here commits: the caller does, once."""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

import click
from sqlalchemy import select

from network.core import audit
from network.core.db import db
from network.core.jsonlines import read_json_lines
from network.directory import services
from network.directory.models import INTERCHANGE_FIELDS, Authority

PROGRESS_FROM = 100  # entries: below this an import is quick enough to need no progress bar
CSV_LIST_SEPARATOR = "; "


@dataclass
class ImportResult:
    """What an import did, by key."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated), "unchanged": len(self.unchanged)}

    def summary(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.counts().items())


# ---------------------------------------------------------------- reading

def read_authorities(lines: Iterable[bytes]) -> tuple[list[tuple[int, dict]], list[str]]:
    """Parse and validate every line: (entries with their line numbers, problems "line N: field: ...").
    Blank lines are skipped; a key given twice in the file is a problem on its second line."""
    return read_json_lines(lines, services.validation_errors, "key", "key:")


def read_file(raw: bytes) -> tuple[list[tuple[int, dict]], list[str]]:
    """A whole JSON Lines file, as bytes (so a stray byte is reported with its line, not as a crash)."""
    return read_authorities(raw.split(b"\n"))


# ---------------------------------------------------------------- importing

def find_authority(key: str) -> Authority | None:
    return db.session.scalar(select(Authority).where(Authority.key == key))


def import_entry(data: dict, *, source: str = "import", actor=None, note: str = "") -> tuple[Authority, str]:
    """Create or update one valid entry by key: (the authority, "created" | "updated" | "unchanged").
    An update keeps a new version only when a field changed; an unchanged entry is left untouched."""
    authority = find_authority(data["key"])
    if authority is None:
        return services.create_authority(data, source=source, actor=actor), "created"
    updated_at = authority.updated_at
    changed = services.apply_entry(authority, data)
    if not changed:
        authority.updated_at = updated_at
        return authority, "unchanged"
    services.record_version(authority, source, approved_by=actor, note=note)
    audit.record("directory.updated", authority, actor=actor, key=authority.key, source=source, fields=changed)
    return authority, "updated"


def import_authorities(entries: list[tuple[int, dict]], *, source: str = "import", actor=None, note: str = "",
                       progress: bool | None = None, label: str = "Importing authorities") -> ImportResult:
    """Import validated entries (read_authorities) in the current transaction; the caller commits or rolls back.
    A progress bar (on standard error) is shown for big files unless `progress` says otherwise."""
    result = ImportResult()
    show = len(entries) >= PROGRESS_FROM if progress is None else progress
    with click.progressbar(entries, label=label, file=sys.stderr if show else _Silent()) as bar:
        for _number, data in bar:
            _authority, outcome = import_entry(data, source=source, actor=actor, note=note)
            getattr(result, outcome).append(data["key"])
    return result


class _Silent:
    """A stream that swallows a progress bar not worth showing."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


# ---------------------------------------------------------------- writing

def exported_authorities() -> list[Authority]:
    """Every entry, by key (sorted here, so every database gives the same order)."""
    return sorted(db.session.scalars(select(Authority)), key=lambda authority: authority.key)


def write_jsonl(authorities: Iterable[Authority], out: TextIO) -> int:
    """One entry per line, in the interchange format: what `directory import` reads back unchanged."""
    count = 0
    for authority in authorities:
        out.write(json.dumps(authority.to_interchange(), ensure_ascii=False) + "\n")
        count += 1
    return count


def csv_cell(field_name: str, value: object) -> str:
    """Lists joined by "; ", national laws as "title <url>", booleans as true/false; a cell a spreadsheet would
    run as a formula is kept as text."""
    if value is None:
        return ""
    if field_name == "national_laws":
        value = [f"{law['title']} <{law['url']}>" if law.get("url") else law["title"] for law in value]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = CSV_LIST_SEPARATOR.join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(authorities: Iterable[Authority], out: TextIO) -> int:
    """A spreadsheet of the directory: one row per entry, one column per interchange field."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INTERCHANGE_FIELDS)
    count = 0
    for authority in authorities:
        data = authority.to_interchange()
        writer.writerow([csv_cell(name, data.get(name)) for name in INTERCHANGE_FIELDS])
        count += 1
    return count
