"""Every import, fuzzed: `catalogue import` and `directory import` get a valid line with one field made hostile
(corpus or generated text, huge numbers, nesting), or a hostile line outright (deep JSON, BOM, invalid UTF-8).

The property: the command either refuses with a clear, line-numbered error and changes nothing, or stores the
input so that it round-trips (export, import the export again, export: the same file, nothing changed); never a
traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.catalogue_support import interchange_case
from tests.fuzz.found import known_server_error
from tests.fuzz.support import FIGURES, corpus, hostile_text, invalid_bytes
from tests.test_directory_interchange import entry as directory_entry

pytestmark = pytest.mark.persistence

ROOT = Path(__file__).resolve().parents[2]


def schema_fields(path: str, base: dict) -> list[str]:
    """Every property the interchange schema names (optional ones too), plus the base entry's fields."""
    schema = json.loads((ROOT / path).read_text(encoding="utf-8"))
    return sorted(set(schema.get("properties", {})) | set(base))


CASE_FIELDS = schema_fields("catalogue/schemas/case.schema.json", interchange_case("X"))
AUTHORITY_FIELDS = schema_fields("network/reference/authority.schema.json", directory_entry())


def _json_value():
    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text(),
                       st.sampled_from([10 ** 20, -(10 ** 20), 1e308, -0.0]))
    return st.one_of(scalar, st.lists(scalar, max_size=3), st.lists(hostile_text(), max_size=3),
                     st.dictionaries(hostile_text(max_size=20), scalar, max_size=2))


def _raw_line():
    """A whole line that is not a plain JSON object."""
    deep = st.integers(min_value=1000, max_value=100_000).map(lambda n: "[" * n + "]" * n)
    deep_object = st.integers(min_value=1000, max_value=50_000).map(lambda n: '{"a":' * n + "1" + "}" * n)
    return st.one_of(deep, deep_object, st.sampled_from(corpus("nesting", "numbers", "long")),
                     st.sampled_from(invalid_bytes()), st.just("\ufeff" + json.dumps(interchange_case("BOM-1"))))


def lines_strategy(base, fields):
    """(the line's bytes, what was changed) for a valid base entry with one field replaced, or a raw line."""
    changed = st.tuples(st.sampled_from(fields), _json_value()).map(
        lambda pair: (json.dumps({**base, pair[0]: pair[1]}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                      pair))
    raw = _raw_line().map(lambda line: (line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass"),
                                        "raw line"))
    return st.one_of(changed, changed, raw)


def export(app, group: str) -> str:
    result = app.test_cli_runner().invoke(args=[group, "export"])
    assert result.exit_code == 0, result.output
    return result.stdout


def check_import(app, tmp_path, group: str, line: bytes, what, problems: list[str]) -> None:
    name = f"{group} import"
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(line + b"\n")
    before = export(app, group)
    result = app.test_cli_runner().invoke(args=[group, "import", str(path)])
    FIGURES.tried("import", name)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        FIGURES.server_error(name, what, 1, repr(result.exception))
        if isinstance(what, tuple) and known_server_error(f"IMPORT {group}", {what[0]: what[1]}):
            return  # test_found.py has it, xfail(strict) until the fix
        problems.append(f"{name}: {type(result.exception).__name__}: {result.exception!s:.200} for {what!r:.200}")
        return
    if "Traceback" in result.output:
        problems.append(f"{name}: a traceback for {what!r:.200}")
        return
    if result.exit_code != 0:
        if "line 1" not in result.output:
            problems.append(f"{name}: refused without naming the line for {what!r:.200}: {result.output[-300:]}")
        if export(app, group) != before:
            problems.append(f"{name}: refused but changed the export for {what!r:.200}")
        return
    first = export(app, group)
    path.write_text(first, encoding="utf-8")
    again = app.test_cli_runner().invoke(args=[group, "import", str(path)])
    if again.exit_code != 0 or export(app, group) != first:
        problems.append(f"{name}: stored {what!r:.200} but the export does not read back unchanged: "
                        f"{again.output[-300:]}")


@pytest.mark.parametrize("group, base, fields", [
    ("catalogue", interchange_case("FUZZ-2020-001"), CASE_FIELDS),
    ("directory", directory_entry("KEN-FUZZ"), AUTHORITY_FIELDS),
], ids=["catalogue", "directory"])
def test_every_import_refuses_clearly_or_stores_what_round_trips(app, tmp_path, group, base, fields):
    problems: list[str] = []

    @given(sent=lines_strategy(base, fields))
    def one(sent):
        line, what = sent
        check_import(app, tmp_path, group, line, what, problems)

    one()
    assert not problems, "\n".join(problems[:20])
