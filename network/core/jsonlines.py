"""Reading an interchange file in JSON Lines: every line parsed and validated before anything is imported, every
problem reported with its line number (the catalogue's cases and the directory's authorities share it)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

MAX_DEPTH = 64  # no interchange object nests deeper than a few levels; Python's parser recurses per level


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), read without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> object:
    """json.loads, refusing (ValueError) a text nested deeper than `max_depth` before the parser recurses into it
    (100,000 levels raised RecursionError: a traceback naming no line, or a 500)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if nesting_depth(text) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    return json.loads(text)


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
            data = loads(text)
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
