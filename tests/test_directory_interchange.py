"""`flask directory import|export`: the whole file validated first (line-numbered problems, nothing changed on any
problem), updates by key with a version only when something changed, audit, JSON Lines round trips, CSV columns."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.persistence


def entry(key: str = "KEN-TEST", **changes) -> dict:
    """A complete, valid entry (last_verified before the tests' frozen clock, 2026-03-02)."""
    state = key.split("-", 1)[0]
    data = {
        "key": key, "state": state, "name": f"Central Authority {key}",
        "parent_body": "Ministry of Justice (fictional)",
        "designations": ["untoc_mla_central", "untoc_extradition"],
        "address": "1 Example Road, Capital City", "phone": "+254 20 555 0100", "email": "mla@justice.ke.example",
        "email_domains": ["justice.ke.example"], "website": "https://www.justice.ke.example/mla",
        "languages": ["en", "sw"], "channels": ["direct", "diplomatic"], "accepts_untoc_as_legal_basis": True,
        "urgent_requests": "By e-mail in advance of the original.", "available_24_7": False,
        "time_zone": "Africa/Nairobi", "office_hours": "Mon-Fri 08:00-17:00",
        "legal_requirements": "## Requests\n\n- in English\n- with the text of the offence",
        "national_laws": [{"title": "Mutual Legal Assistance Act", "url": "https://laws.ke.example/mla"},
                          {"title": "Extradition Act"}],
        "treaties": ["Harare Scheme", "Bilateral treaty with Ruritania"],
        "last_verified": "2025-11-20",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def write_lines(path, lines: list) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
                            for line in lines), encoding="utf-8")
    return str(path)


def run(app, *args: str):
    """Run `flask directory ...`; the result's output holds stdout and stderr, its stdout stdout alone."""
    return app.test_cli_runner().invoke(args=["directory", *args])


def authority_count() -> int:
    from network.core.db import db
    from network.directory.models import Authority

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Authority))


def versions_of(key: str) -> list:
    from network.core.db import db
    from network.directory.models import Authority, AuthorityVersion

    db.session.expire_all()
    return list(db.session.scalars(select(AuthorityVersion).join(Authority).where(Authority.key == key)
                                   .order_by(AuthorityVersion.number)))


def audit_actions() -> list[str]:
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ---------------------------------------------------------------- import: all or nothing

def test_a_file_with_one_bad_line_changes_nothing_and_names_the_line(app, tmp_path):
    lines = [entry(f"KEN-OK{n}") for n in range(1, 7)]
    lines.append(entry("NGA-BAD", designations=["untoc_mla_central", "secret_police"], channels="direct"))
    lines.append(entry("ZAF-OK8"))
    path = write_lines(tmp_path / "authorities.jsonl", lines)
    result = run(app, "import", path)
    assert result.exit_code != 0
    assert "line 7: designations.1: 'secret_police' is not one of" in result.output
    assert "line 7: channels: 'direct' is not of type 'array'" in result.output
    assert "line 7: key" not in result.output  # the key does begin with the State's code
    for good in (1, 2, 3, 4, 5, 6, 8):
        assert f"line {good}:" not in result.output
    assert "nothing was imported" in result.output
    assert authority_count() == 0
    assert "directory.imported" not in audit_actions()


def test_bad_json_a_duplicate_key_and_cross_field_problems_are_each_reported_with_their_line(app, tmp_path):
    path = write_lines(tmp_path / "authorities.jsonl", [
        entry("KEN-ONE"), "{not json", "", entry("KEN-ONE", name="Again"), "[1, 2]",
        entry("KEN-TWO", state="NGA", time_zone="Mars/Olympus", last_verified="2031-01-01"),
        entry("XYZ-NOWHERE"),
    ])
    result = run(app, "import", path)
    output = result.output
    assert result.exit_code != 0
    assert "line 2: not valid JSON" in output
    assert "line 3" not in output  # a blank line is not a problem
    assert "line 4: key: 'KEN-ONE' already appears on line 1" in output
    assert "line 5: an authority must be a JSON object" in output
    assert "line 6: key: 'KEN-TWO' must begin with the State's code (NGA-)" in output
    assert "line 6: time_zone: 'Mars/Olympus' is not an IANA time zone" in output
    assert "line 6: last_verified: '2031-01-01' is in the future" in output
    assert "line 7: state: 'XYZ' is not an ISO 3166-1 alpha-3 code" in output
    assert authority_count() == 0


def test_a_file_that_is_not_utf8_is_refused_by_line(app, tmp_path):
    path = tmp_path / "authorities.jsonl"
    path.write_bytes(json.dumps(entry()).encode() + b"\n" + b'{"key": "\xff"}\n')
    result = run(app, "import", str(path))
    assert result.exit_code != 0
    assert "line 2: not UTF-8 text" in result.output
    assert authority_count() == 0


def test_a_database_refusal_midway_rolls_everything_back(app, tmp_path, monkeypatch):
    from network.directory import interchange

    original = interchange.import_entry
    calls = {"n": 0}

    def failing(data, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(data, **kwargs)

    monkeypatch.setattr(interchange, "import_entry", failing)
    path = write_lines(tmp_path / "authorities.jsonl", [entry(f"KEN-N{n}") for n in range(1, 5)])
    result = run(app, "import", path)
    assert result.exit_code != 0
    assert "the import failed and nothing was imported: disk full" in result.output
    assert authority_count() == 0


# ---------------------------------------------------------------- import: creating and updating by key

def test_import_creates_entries_with_a_first_version_and_an_audit_entry(app, tmp_path):
    from network.directory.interchange import find_authority

    path = write_lines(tmp_path / "authorities.jsonl", [entry("KEN-ONE"), entry("NGA-TWO", designations=["som_sea"])])
    result = run(app, "import", path)
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged" in result.stdout
    authority = find_authority("KEN-ONE")
    assert authority.to_interchange() == entry("KEN-ONE", available_24_7=None)  # false is left out on export
    assert [(v.number, v.source) for v in versions_of("KEN-ONE")] == [(1, "import")]
    actions = audit_actions()
    assert actions.count("directory.created") == 2 and actions[-1] == "directory.imported"


def test_reimport_updates_by_key_with_a_version_only_when_something_changed(app, tmp_path):
    from network.core.audit import AuditEntry
    from network.core.db import db
    from network.directory.interchange import find_authority

    run(app, "import", write_lines(tmp_path / "first.jsonl", [entry("KEN-ONE"), entry("KEN-TWO")]))
    changed = entry("KEN-ONE", phone="+254 20 555 0199", channels=["direct", "network"], treaties=None,
                    available_24_7=None)
    result = run(app, "import", write_lines(tmp_path / "second.jsonl",
                                            [changed, entry("KEN-TWO"), entry("KEN-THREE")]))
    assert result.exit_code == 0, result.output
    assert "1 created, 1 updated, 1 unchanged" in result.stdout
    authority = find_authority("KEN-ONE")
    assert authority.phone == "+254 20 555 0199" and authority.channels == ["direct", "network"]
    assert authority.treaties == []  # an entry is replaced whole: a field left out is emptied
    assert [(v.number, v.source) for v in versions_of("KEN-ONE")] == [(1, "import"), (2, "import")]
    assert versions_of("KEN-ONE")[-1].data == changed
    assert len(versions_of("KEN-TWO")) == 1
    update = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "directory.updated"))
    assert json.loads(update.details)["fields"] == ["phone", "channels", "treaties"]
    imported = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "directory.imported")).all()
    assert json.loads(imported[-1].details) == {"file": "second.jsonl", "created": 1, "updated": 1, "unchanged": 1}

    again = run(app, "import", write_lines(tmp_path / "third.jsonl", [changed]))
    assert "0 created, 0 updated, 1 unchanged" in again.stdout
    assert len(versions_of("KEN-ONE")) == 2


def test_reimport_completes_an_authority_created_without_versions(app, tmp_path, authority):
    """The authorities of the demo accounts and the test fixtures exist with a name only: import fills them in."""
    result = run(app, "import", write_lines(tmp_path / "a.jsonl", [entry("AUT-MOJ", email_domains=["justiz.example.at"],
                                                                          time_zone="Europe/Vienna")]))
    assert "0 created, 1 updated, 0 unchanged" in result.stdout
    assert [v.number for v in versions_of("AUT-MOJ")] == [1]
    assert authority_count() == 1


def test_big_files_show_progress_on_standard_error(app, tmp_path):
    from network.directory.interchange import PROGRESS_FROM

    lines = [entry(f"KEN-B{n}", name=f"Authority number {n}") for n in range(PROGRESS_FROM)]
    result = run(app, "import", write_lines(tmp_path / "big.jsonl", lines))
    assert result.exit_code == 0, result.output
    assert "Importing authorities" in result.stderr and "Importing authorities" not in result.stdout
    assert authority_count() == PROGRESS_FROM


# ---------------------------------------------------------------- export

def test_jsonl_export_reads_back_unchanged_and_an_empty_database_gets_identical_files(app, tmp_path):
    from network.core.db import db
    from network.directory.demo import load_demo_directory
    from network.directory.models import Authority

    load_demo_directory()
    db.session.commit()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert run(app, "export", "--output", str(first)).exit_code == 0
    again = run(app, "import", str(first))  # the same entries: nothing to change
    assert again.exit_code == 0, again.output
    assert f"0 created, 0 updated, {authority_count()} unchanged" in again.stdout

    for authority in db.session.scalars(select(Authority)):
        db.session.delete(authority)
    db.session.commit()
    assert authority_count() == 0
    result = run(app, "import", str(first))
    assert result.exit_code == 0, result.output
    assert run(app, "export", "--output", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    keys = [json.loads(line)["key"] for line in first.read_text(encoding="utf-8").splitlines()]
    assert keys == sorted(keys) and len(keys) == authority_count() >= 30
    assert "é" in first.read_text(encoding="utf-8")  # not escaped: ensure_ascii=False


def test_export_writes_to_standard_output_without_an_output_file(app, tmp_path):
    run(app, "import", write_lines(tmp_path / "a.jsonl", [entry("KEN-TWO"), entry("KEN-ONE")]))
    result = run(app, "export")
    assert result.exit_code == 0
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == ["KEN-ONE", "KEN-TWO"]


def test_csv_export_has_one_column_per_interchange_field_and_a_row_per_entry(app, tmp_path):
    from network.directory.models import INTERCHANGE_FIELDS

    run(app, "import", write_lines(tmp_path / "a.jsonl", [entry("KEN-ONE", available_24_7=True),
                                                          entry("NGA-TWO", designations=["firearms_contact"],
                                                                national_laws=None, treaties=None,
                                                                accepts_untoc_as_legal_basis=None)]))
    out = tmp_path / "directory.csv"
    result = run(app, "export", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "2 authorities written" in result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == list(INTERCHANGE_FIELDS)
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["key"] == "KEN-ONE"
    assert first["designations"] == "untoc_mla_central; untoc_extradition"
    assert first["languages"] == "en; sw" and first["channels"] == "direct; diplomatic"
    assert first["national_laws"] == "Mutual Legal Assistance Act <https://laws.ke.example/mla>; Extradition Act"
    assert first["treaties"] == "Harare Scheme; Bilateral treaty with Ruritania"
    assert first["phone"] == "'+254 20 555 0100"  # a leading + would make a spreadsheet compute the cell
    assert first["available_24_7"] == "true" and first["accepts_untoc_as_legal_basis"] == "true"
    assert first["legal_requirements"].startswith("## Requests\n\n- in English")
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["national_laws"] == "" and second["accepts_untoc_as_legal_basis"] == ""
    assert second["available_24_7"] == ""
    assert run(app, "export", "--format", "csv").stdout.startswith("key,state,name,")
