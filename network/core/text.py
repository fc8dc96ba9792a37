"""One rule for text that must stay on one line: what reaches a mail header, a redirect target, a file name or a
search box never carries control, format (bidi, zero-width), private-use or line-separator characters."""
from __future__ import annotations

import unicodedata

# Control, format, surrogate and private-use characters, and the line and paragraph separators.
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) in CONTROL_CATEGORIES


def has_control(text: str) -> bool:
    return any(is_control(ch) for ch in text)


def single_line(text: str | None, limit: int | None = None) -> str:
    """The text on one line: each control character a space, runs of white space one space, trimmed."""
    line = " ".join("".join(" " if is_control(ch) else ch for ch in str(text or "")).split())
    return line[:limit] if limit is not None else line
