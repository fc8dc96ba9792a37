"""Reading an interchange file in JSON Lines: every line parsed and validated before anything is imported, every
problem reported with its line number (the catalogue's cases and the directory's authorities share it)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable


def read_json_lines(lines: Iterable[bytes], validate: Callable[[object], list[str]], identity: str,
                    identity_label: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """(valid objects with their line numbers, problems "line N: ..."). Blank lines are skipped; an object whose
    `identity` field repeats one seen earlier in the file is a problem on its later line."""
    found: list[tuple[int, dict]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a byte-order mark some editors write
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: not UTF-8 text")
            continue
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except ValueError as error:
            problems.append(f"line {number}: not valid JSON ({getattr(error, 'msg', str(error))})")
            continue
        line_problems = validate(data)
        problems += [f"line {number}: {problem}" for problem in line_problems]
        if line_problems:
            continue
        value = data[identity]
        if value in seen:
            problems.append(f"line {number}: {identity_label} {value!r} already appears on line {seen[value]}")
            continue
        seen[value] = number
        found.append((number, data))
    return found, problems
