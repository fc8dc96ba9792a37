"""Reading an interchange file in JSON Lines: every line parsed and validated before anything is imported, every
problem reported with its line number (the catalogue's cases and the directory's authorities share it)."""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

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


@functools.lru_cache(maxsize=256)
def _anchored(pattern: str) -> re.Pattern:
    """A schema pattern with its end anchor meaning the end of the text: in Python's re, `$` also matches before a
    final newline, so "CASE-001\n" passed "^[A-Z0-9-]+$" and was stored with its newline."""
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _pattern(validator, pattern, instance, schema):  # noqa: ARG001 (jsonschema's keyword signature)
    if validator.is_type(instance, "string") and not _anchored(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The interchange schemas' validator: Draft 2020-12 with formats checked and patterns anchored at the real end.
StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def schema_validator(path: Path) -> Draft202012Validator:
    """The validator of an interchange schema file (shared/schemas, copied beside each feature)."""
    return StrictValidator(json.loads(path.read_text(encoding="utf-8")), format_checker=FormatChecker())
