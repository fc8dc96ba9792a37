"""5xx the fuzzing suite found and that are not fixed yet: each has an xfail(strict=True) test in test_found.py
(it flips to XPASS, failing the run, once the fix lands: then delete the entry here and the xfail marker there).
Until then the fuzz tests record these in the figures (5xx found) without failing on them."""
from __future__ import annotations

import re


def _huge_integer(value) -> bool:
    """A whole number (any Unicode digits) too large for a database integer (PostgreSQL's are 32-bit)."""
    text = value.strip() if isinstance(value, str) else ""
    return bool(re.fullmatch(r"[+-]?\d+", text)) and abs(int(text)) >= 2 ** 31


def _has_nul(value) -> bool:
    return isinstance(value, str) and ("\x00" in value or "%00" in value)


def _not_a_list(value) -> bool:
    return value is not None and value is not False and not isinstance(value, list | tuple | str | dict) \
        and value != 0


# (a regular expression the place must match: "POST <URL template of the access table>" for forms,
#  "GET <rule or document path>" for paths and the API; the field; a test of its value; the finding of issue 12)
KNOWN_5XX: list[tuple[str, str, object, str]] = [
    (r"POST /forum/topics/\{\w+\}/merge", "target", _huge_integer,
     "finding 8: MergeForm.target (IntegerField) has no upper bound; a 20-digit topic number reaches "
     "db.session.get (OverflowError on SQLite from 2**63, integer out of range on PostgreSQL from 2**31)"),
    (r"POST ", "*", _has_nul,
     "finding 8 (NUL): a NUL in free text (a vouch's note, a moderator's note on a member, ...) reaches PostgreSQL, "
     "which refuses NUL in text (psycopg ValueError): 500 on PostgreSQL; SQLite stores it"),
    (r"(POST /api/v1/cases|IMPORT catalogue)$", "other_states", _not_a_list,
     "finding 9 (inputs that crash an import): other_states that is not a list (a number, true) raises TypeError in "
     "catalogue/cases/services.py validation_errors (`for value in data.get(\"other_states\") or []`): "
     "POST /api/v1/cases answers 500 and `catalogue import` ends with a traceback"),
    (r"GET .*[<{]\w+[>}]", "*", _has_nul,
     "finding 8 (NUL): a NUL in a path part (/cases/%00, /api/v1/cases/%00, /api/v1/authorities/%00, ...) reaches "
     "PostgreSQL, which refuses NUL in text (psycopg ValueError): 500 on PostgreSQL, 404 on SQLite"),
]


def known_server_error(where: str, values: dict) -> str | None:
    """The finding a 5xx at `where` for these field values is already recorded as, or None."""
    for pattern, field, matches, finding in KNOWN_5XX:
        if not re.match(pattern, where):
            continue
        candidates = values.values() if field == "*" else [values.get(field)]
        if any(matches(value) for value in candidates):
            return finding
    return None
