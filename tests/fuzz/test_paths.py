"""Every GET rule with a text part in its path (<reference>, <key>, <slug>, <token>...) gets hostile values there
(NUL and other control characters, SQL and LIKE signs, traversal, huge numbers, long text, invalid UTF-8), as a
vetted member and as a moderator. The property: no 5xx, no traceback."""
from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest

from tests.fuzz.found import known_server_error
from tests.fuzz.support import FIGURES, LONG, corpus

pytestmark = pytest.mark.persistence

CLASSES = ("control", "sql", "filenames", "numbers", "surrogates", "templates", "long")


def values() -> list[bytes]:
    """Every value of CLASSES for `make fuzz`; one of each class (the first) for `make test`."""
    chosen = corpus(*CLASSES) if LONG else [corpus(name)[0] for name in CLASSES if name != "long"] + ["x" * 2000]
    return [value.encode("utf-8", "surrogatepass") for value in chosen] + [b"\xff\xfe"]


def text_rules(app) -> list[tuple[str, list[str]]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        converters = {name: type(converter).__name__ for name, converter in rule._converters.items()}
        text = [name for name, kind in converters.items() if kind in ("UnicodeConverter", "PathConverter")]
        if text:
            rules.append((rule.rule, text))
    return sorted(rules)


SAMPLE = {"int": "1"}


def test_every_text_path_part_takes_hostile_values_without_a_5xx(app, auth, member, moderator, authority):
    problems = []
    clients = {"member": auth.client_for(member)}
    if LONG:
        clients["moderator"] = auth.client_for(moderator)
    for template, names in text_rules(app):
        for name in names:
            for raw in values():
                path = template
                for part in template.split("<")[1:]:
                    spec = part.split(">")[0]
                    converter, _, variable = spec.rpartition(":")
                    filler = quote_from_bytes(raw, safe="") if variable == name else SAMPLE.get(converter, "AUT")
                    path = path.replace(f"<{spec}>", filler)
                for role, client in clients.items():
                    response = client.get(path)
                    where = f"GET {template} [{name}] ({role})"
                    FIGURES.tried("path", f"GET {template} [{name}]")
                    text = response.get_data(as_text=True)
                    if response.status_code >= 500 or "Traceback (most recent call last)" in text:
                        FIGURES.server_error(where, raw, response.status_code, text[-500:])
                        value = raw.decode("utf-8", "replace")
                        if not known_server_error(f"GET {template}", {name: value}):
                            problems.append(f"{where}: {response.status_code} for {raw!r:.100}")
    assert not problems, "\n".join(problems[:30])
