"""One rule for text that must stay on one line: what reaches a mail header, a redirect target, a file name or a
search box never carries control, format (bidi, zero-width), private-use or line-separator characters; a name, a
title or a subject that carries one is refused where it comes in (forms, imports, the API)."""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

# Control, format, surrogate and private-use characters, and the line and paragraph separators.
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# The zero-width non-joiner and joiner are format characters written inside words (Persian names, Indic scripts,
# emoji sequences): they neither break a line nor reorder text, so they are kept.
JOINERS = frozenset("\u200c\u200d")


def is_control(ch: str) -> bool:
    return ch not in JOINERS and unicodedata.category(ch) in CONTROL_CATEGORIES


def has_control(text: str) -> bool:
    return any(is_control(ch) for ch in text)


def first_control(text: str) -> str | None:
    """The first character that keeps `text` from being one line (CR, LF, NUL, U+2028, a bidi override...)."""
    return next((ch for ch in text if is_control(ch)), None)


def code_point(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def line_problem(text: str) -> str | None:
    """Why `text` cannot be a name, a title or a subject (None when it can), for import and API problems."""
    found = first_control(text)
    if found is None:
        return None
    return _("contains a line break or an invisible control character (%(code)s); a name or title is one line "
             "of text without them", code=code_point(found))


def single_line(text: str | None, limit: int | None = None) -> str:
    """The text on one line: each control character a space, runs of white space one space, trimmed."""
    line = " ".join("".join(" " if is_control(ch) else ch for ch in str(text or "")).split())
    return line[:limit] if limit is not None else line
