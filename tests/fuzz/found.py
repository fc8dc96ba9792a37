"""5xx the fuzzing suite found and that are not fixed yet: each has an xfail(strict=True) test in test_found.py
(it flips to XPASS, failing the run, once the fix lands: then delete the entry here and the xfail marker there).
Until then the fuzz tests record these in the figures (5xx found) without failing on them."""
from __future__ import annotations

import re

# (a regular expression the place must match: "POST <URL template of the access table>" for forms,
#  "GET <rule or document path>" for paths and the API; the field; a test of its value; the finding of issue 12)
KNOWN_5XX: list[tuple[str, str, object, str]] = [
    # Empty: every 5xx found so far is fixed (the last ones: a 20-digit topic number to merge into, a NUL reaching
    # PostgreSQL in a path or a note, other_states that is not a list). Their tests stay in test_found.py.
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
