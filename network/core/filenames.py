"""One rule for a file name sent in a Content-Disposition header (RFC 6266): an ASCII `filename` for old clients
and, when the name is not ASCII, `filename*` in UTF-8, percent-encoded, as Werkzeug's send_file does; control
characters never reach the header (a CR LF would end it), and a header value is always Latin-1 encodable, which
gunicorn requires (a name in Arabic, Chinese or Russian answered 500 there)."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

FALLBACK = "attachment"


def safe_name(name: str) -> str:
    """The name without control, format or separator characters other than the plain space, at most 200 long."""
    kept = "".join(ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else "_" for ch in name or "")
    kept = kept.strip().replace("/", "_").replace("\\", "_")
    return kept[:200] or FALLBACK


def disposition(name: str) -> dict[str, str]:
    """The parameters of `Content-Disposition: attachment` for a file name (Headers.set(..., **disposition(n)))."""
    name = safe_name(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    if ascii_name == name:
        return {"filename": name}
    if not ascii_name or ascii_name.startswith("."):  # nothing but the extension is left in ASCII
        ascii_name = FALLBACK + ascii_name
    return {"filename": ascii_name, "filename*": f"UTF-8''{quote(name, safe='')}"}
