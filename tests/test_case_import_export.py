"""`flask catalogue import|export`: all-or-nothing imports with line-numbered problems, updates by reference,
byte-identical round trips, CSV columns; and the demonstration cases (valid, complete coverage, idempotent)."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.catalogue_support import interchange_case

pytestmark = pytest.mark.persistence


def case_data(reference: str = "IMP-2020-001", **changes) -> dict:
    return interchange_case(reference, **{
        "title": "Bank records for a laundering case",
        "untoc_provisions": ["18", "18(13)"],
        "keywords": ["bank records", "écritures"],
        "source": "Ministry of Justice annual report",
        **changes,
    })


def write_lines(path, lines: list) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
                            for line in lines), encoding="utf-8")
    return str(path)


def run(app, *args: str):
    """Run `flask catalogue ...`; the result's output holds stdout and stderr, its stdout stdout alone."""
    return app.test_cli_runner().invoke(args=["catalogue", *args])


def case_count() -> int:
    from catalogue.cases.models import Case
    from network.core.db import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


# ---------------------------------------------------------------- import

def test_a_file_with_one_bad_line_changes_nothing_and_names_the_line(app, tmp_path):
    bad = case_data("IMP-2020-002", requested_state="XYZ", outcome="won")
    del bad["title"]
    path = write_lines(tmp_path / "cases.jsonl", [case_data("IMP-2020-001"), bad, case_data("IMP-2020-003")])
    result = run(app, "import", path)
    assert result.exit_code == 1
    output = result.output
    assert "line 2: title" not in output  # the schema names the missing field at case level
    assert "line 2:" in output and "'title' is a required property" in output
    assert "line 2: outcome" in output and "line 2: requested_state: 'XYZ'" in output
    assert "line 1:" not in output and "line 3:" not in output
    assert "nothing was imported" in output
    assert case_count() == 0


def test_bad_json_and_a_duplicate_reference_are_each_reported_with_their_line(app, tmp_path):
    path = write_lines(tmp_path / "cases.jsonl", [case_data("IMP-2020-001"), "{not json", "",
                                                  case_data("IMP-2020-001"), "[1, 2]"])
    result = run(app, "import", path)
    output = result.output
    assert result.exit_code == 1
    assert "line 2: not valid JSON" in output
    assert "line 4: reference 'IMP-2020-001' already appears on line 1" in output
    assert "line 5: a case must be a JSON object" in output
    assert "line 3" not in output  # a blank line is not a problem
    assert case_count() == 0


def test_import_publishes_with_the_source_and_reimport_updates_by_reference(app, tmp_path):
    from catalogue.cases.services import find_case
    from network.core.db import db

    path = write_lines(tmp_path / "cases.jsonl", [case_data(), case_data("IMP-2020-002", source="")])
    result = run(app, "import", path, "--source", "Imported from the 2020 questionnaire")
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated" in result.output
    case = find_case("IMP-2020-001")
    assert case.status == "published" and len(case.revisions) == 1
    assert case.source == "Ministry of Justice annual report"
    assert find_case("IMP-2020-002").source == "Imported from the 2020 questionnaire"

    path = write_lines(tmp_path / "cases.jsonl", [case_data(title="Bank records for a laundering case, revised")])
    result = run(app, "import", path)
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated" in result.output
    db.session.expire_all()
    case = find_case("IMP-2020-001")
    assert case.title == "Bank records for a laundering case, revised"
    assert [r.number for r in case.revisions] == [1, 2]
    assert case_count() == 2

    result = run(app, "import", path)  # the same again: nothing changed, no new revision
    assert "0 created, 1 updated" in result.output
    db.session.expire_all()
    assert len(find_case("IMP-2020-001").revisions) == 2


# ---------------------------------------------------------------- export

def test_export_import_export_into_an_empty_database_gives_identical_files(app, tmp_path):
    from catalogue.cases.demo import load_demo_cases
    from catalogue.cases.models import Case
    from network.core.db import db

    load_demo_cases()
    db.session.commit()
    path = write_lines(tmp_path / "extra.jsonl", [case_data(other_states=["FRA", "MEX"], channels=["direct"],
                                                            decision_date="2020-05-04")])
    assert run(app, "import", path).exit_code == 0
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert run(app, "export", "--output", str(first)).exit_code == 0

    for case in db.session.scalars(select(Case)):
        db.session.delete(case)
    db.session.commit()
    assert case_count() == 0

    result = run(app, "import", str(first))
    assert result.exit_code == 0, result.output
    assert run(app, "export", "--output", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text(encoding="utf-8").splitlines()
    assert len(lines) == case_count() >= 61
    references = [json.loads(line)["reference"] for line in lines]
    assert references == sorted(references)
    assert "é" in first.read_text(encoding="utf-8")  # not escaped: ensure_ascii=False


def test_export_leaves_out_cases_that_are_not_published(app, tmp_path):
    from catalogue.cases.services import find_case
    from network.core.db import db

    path = write_lines(tmp_path / "cases.jsonl", [case_data(), case_data("IMP-2020-002")])
    run(app, "import", path)
    find_case("IMP-2020-002").status = "withdrawn"
    db.session.commit()
    result = run(app, "export")
    assert result.exit_code == 0
    assert [json.loads(line)["reference"] for line in result.stdout.splitlines()] == ["IMP-2020-001"]


def test_csv_export_has_one_column_per_interchange_field_and_a_row_per_case(app, tmp_path):
    from catalogue.cases.models import INTERCHANGE_FIELDS

    translations = {"fr": {"title": "Relevés bancaires", "summary": "Entraide pour des relevés bancaires de sociétés."}}
    path = write_lines(tmp_path / "cases.jsonl", [case_data(translations=translations,
                                                            cooperation_forms=["mla", "confiscation"])])
    run(app, "import", path)
    out = tmp_path / "cases.csv"
    result = run(app, "export", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == list(INTERCHANGE_FIELDS)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["reference"] == "IMP-2020-001"
    assert row["cooperation_forms"] == "mla; confiscation"
    assert row["untoc_provisions"] == "18; 18(13)"
    assert json.loads(row["translations"]) == translations
    assert row["other_states"] == "" and row["request_date"] == "2020-02-03" and row["visibility"] == "public"


# ---------------------------------------------------------------- demonstration cases

def test_every_demo_case_is_valid_fictional_and_has_sensible_dates(app):
    from datetime import date

    from catalogue.cases.demo import SOURCE, demo_cases
    from catalogue.cases.services import validation_errors

    cases = demo_cases()
    assert len(cases) >= 60
    assert len({c["reference"] for c in cases}) == len(cases)
    for case in cases:
        assert validation_errors(case) == [], case["reference"]
        assert case["source"] == SOURCE == "Fictional demonstration case"
        assert case["requesting_state"] != case["requested_state"]
        dates = [date.fromisoformat(case[k]) for k in ("request_date", "decision_date", "completion_date") if k in case]
        assert dates == sorted(dates) and dates[-1] <= date(2026, 1, 1), case["reference"]
        if case["outcome"] == "pending":
            assert "completion_date" not in case
        if case["outcome"] in ("granted", "partially_granted", "refused"):
            assert "completion_date" in case and "decision_date" in case
    assert demo_cases() == cases  # deterministic


def test_demo_cases_cover_every_vocabulary_code_and_region_on_both_sides(app):
    from catalogue.cases.demo import demo_cases
    from network.core.reference import REGION_CODES, region_of, vocabulary

    cases = demo_cases()
    vocab = vocabulary()
    used = {kind: {code for case in cases for code in case.get(field, [])}
            for kind, field in (("cooperation_forms", "cooperation_forms"), ("crime_types", "crime_types"),
                                ("legal_bases", "legal_bases"), ("channels", "channels"))}
    for kind, codes in used.items():
        assert codes == {entry["code"] for entry in vocab[kind]}, kind
    assert {case["outcome"] for case in cases} == {entry["code"] for entry in vocab["outcomes"]}
    assert {region_of(case["requesting_state"]) for case in cases} == set(REGION_CODES)
    assert {region_of(case["requested_state"]) for case in cases} == set(REGION_CODES)
    languages = Counter(case["language"] for case in cases)
    assert languages["fr"] >= 3 and languages["es"] >= 3
    translated = [case for case in cases if case.get("translations")]
    assert len(translated) >= 10
    assert any(case["language"] == "en" and "fr" in case["translations"] for case in translated)
    assert any(case["language"] == "es" and "en" in case["translations"] for case in translated)
    assert {case["visibility"] for case in cases} == {"public", "members"}


def test_demo_cases_cite_the_convention_article_of_each_form_they_rely_on(app):
    from catalogue.cases.demo import demo_cases
    from network.core.reference import vocabulary

    article_of = {entry["code"]: entry["untoc"] for entry in vocabulary()["cooperation_forms"]}
    for case in demo_cases():
        provisions = case.get("untoc_provisions", [])
        if {"untoc", "protocol"} & set(case["legal_bases"]):
            for form in case["cooperation_forms"]:
                assert article_of[form] in provisions, (case["reference"], form, provisions)
        else:
            assert provisions == [], case["reference"]


def test_demo_cases_raise_no_privacy_warning(app):
    from catalogue.cases.demo import load_demo_cases
    from catalogue.cases.models import Case
    from catalogue.cases.services import privacy_warnings

    load_demo_cases()
    warnings = {case.reference: privacy_warnings(case) for case in Case.query}
    assert {ref: w for ref, w in warnings.items() if w} == {}


@pytest.mark.config(DEMO_MODE=True)
def test_demo_load_creates_the_cases_once_and_is_idempotent(app):
    from catalogue.cases.demo import demo_cases
    from catalogue.cases.models import CaseRevision
    from network.core.db import db

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert f"{len(demo_cases())} cases created" in result.output
    revisions = db.session.scalar(select(func.count()).select_from(CaseRevision))
    assert case_count() == len(demo_cases()) == revisions

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "0 cases created" in again.output
    db.session.expire_all()
    assert case_count() == len(demo_cases())
    assert db.session.scalar(select(func.count()).select_from(CaseRevision)) == revisions
