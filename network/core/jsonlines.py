"""Reading an interchange file in JSON Lines: every line parsed and validated before anything is imported, every
problem reported with its line number (the catalogue's cases and the directory's authorities share it)."""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import FormatError

from network.core.text import line_problem
from network.core.urls import url_problem

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
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # some editors write one; JSON Lines has none
            problems.append(f"line {number}: starts with a byte order mark (BOM); save the file as UTF-8 without BOM")
            continue
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
        line_problems = with_nul_problems(validate(data), data)
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


def _format(validator, format, instance, schema):  # noqa: A002, ARG001 (jsonschema's keyword signature)
    """jsonschema's format keyword, with the reason a checker gave (why a link is refused, which day is wrong)."""
    if validator.format_checker is None:
        return
    try:
        validator.format_checker.check(instance, format)
    except FormatError as error:
        reason = f": {error.cause}" if isinstance(error.cause, ValueError) and str(error.cause) else ""
        yield ValidationError(f"{instance!r} is not a valid {format}{reason}", cause=error.cause)


def _link(instance: object) -> bool:
    """The interchange formats' "uri" is a link the platform shows: the URL rule of network.core.urls (stricter
    than RFC 3986: http, https or mailto only), raising its reason."""
    problem = url_problem(instance) if isinstance(instance, str) else None
    if problem:
        raise ValueError(problem)
    return True


def format_checker() -> FormatChecker:
    """"date" and "email" as jsonschema checks them (a real calendar day; an address with an @), "uri" as a link."""
    checker = FormatChecker()
    checker.checks("uri", raises=ValueError)(_link)
    return checker


# The interchange schemas' validator: Draft 2020-12 with formats checked and patterns anchored at the real end.
StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern, "format": _format})


def schema_validator(path: Path) -> Draft202012Validator:
    """The validator of an interchange schema file (shared/schemas, copied beside each feature)."""
    return StrictValidator(json.loads(path.read_text(encoding="utf-8")), format_checker=format_checker())


def _at(data: object, parts: list[str], where: list[str]) -> Iterable[tuple[str, object]]:
    if not parts:
        yield ".".join(where), data
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
        for key, value in items:
            yield from _at(value, rest, [*where, str(key)])
    elif isinstance(data, dict) and head in data:
        yield from _at(data[head], rest, [*where, head])


def with_nul_problems(problems: list[str], data: object) -> list[str]:
    """The validator's problems, and a NUL in any field it did not already name."""
    named = {problem.split(":", 1)[0] for problem in problems}
    return problems + [p for p in nul_problems(data) if p.split(":", 1)[0] not in named]


def nul_problems(data: object, where: str = "") -> list[str]:
    """"field: ..." for each string anywhere in an interchange object that holds a NUL (U+0000): no field accepts
    one, and PostgreSQL cannot store one."""
    if isinstance(data, str):
        return [f"{where or 'value'}: holds a NUL character (\\u0000), which no field accepts"] if "\x00" in data else []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return []
    return [p for key, value in items for p in nul_problems(value, f"{where}.{key}" if where else str(key))]


def line_problems(data: object, fields: Iterable[str]) -> list[str]:
    """"field: ..." for each name or title of an interchange object that is not one line of text (network.core.text).
    A field is a path: "title", "keywords.*" (each item of a list), "translations.*.title" (in each value)."""
    problems = []
    for path in fields:
        for where, value in _at(data, path.split("."), []):
            problem = line_problem(value) if isinstance(value, str) else None
            if problem:
                problems.append(f"{where}: {problem}")
    return problems
