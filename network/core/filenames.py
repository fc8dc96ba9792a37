"""One rule for a file name shown to people or sent in a Content-Disposition header (RFC 6266): a display name
without directories or control characters; an ASCII `filename` for old clients and, when the name is not ASCII,
`filename*` in UTF-8, percent-encoded, as Werkzeug's send_file does. A header value is then always Latin-1
encodable, which gunicorn requires (a name in Arabic, Chinese or Russian answered 500 there)."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from network.core.text import is_control

FALLBACK = "attachment"
MAX_NAME = 120


def clean_filename(raw: str | None) -> str:
    """A display name only: no directories, no control or bidirectional characters, NFC, at most 120 characters.
    It is never used as a path (files are stored under random ids)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if not is_control(ch))
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else name[:MAX_NAME]
    return name


def disposition(name: str) -> dict[str, str]:
    """The parameters of `Content-Disposition: attachment` for a file name (Headers.set(..., **disposition(n)))."""
    name = clean_filename(name) or FALLBACK
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    if ascii_name == name:
        return {"filename": name}
    if not ascii_name or ascii_name.startswith("."):  # nothing but the extension is left in ASCII
        ascii_name = FALLBACK + ascii_name
    return {"filename": ascii_name, "filename*": f"UTF-8''{quote(name, safe='')}"}
