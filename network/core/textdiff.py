"""Word-level diff of two texts, for the pages that compare two versions of a record (catalogue revisions,
directory versions and proposed changes)."""
from __future__ import annotations

import difflib
import re

_TOKENS = re.compile(r"\n|[^\S\n]+|[^\s]+")  # line breaks are tokens: long texts diff line by line and word by word


def text_runs(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(old side, new side) as (op, text) runs, op in equal/del/ins: deletions marked on the old side,
    insertions on the new."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(("equal", "".join(a[i1:i2])))
            right.append(("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(b[j1:j2])))
    return left, right
