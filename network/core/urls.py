"""One rule for the links the platform stores and shows (an authority's website, the address of a national law):
checked when a link comes in (forms, imports, the API, through the interchange schemas' "uri" format) and again
when a page shows it, so a link stored before the rule, or written straight into the database, is shown as text.

A link is http or https with a host, or mailto with one e-mail address. It holds no white space, control or
invisible character, no quote, angle bracket, backtick or backslash (what could end an attribute or make two
browsers read the address differently), no user name before the host (https://trusted.example@evil.example
leads to evil.example), and at most MAX_LENGTH characters (the size of the column that stores it)."""
from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from flask_babel import gettext as _

from network.core.text import code_point

SCHEMES = ("https", "http", "mailto")
MAX_LENGTH = 500
REFUSED_CHARACTERS = frozenset("\"'<>`\\")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_MAILBOX = re.compile(r"[A-Za-z0-9.!#$&*+/=^_{|}~-]{1,64}@(?P<domain>[^@]+)\Z")


def _invisible(ch: str) -> bool:
    """White space (any script), control, format, private-use, surrogate and unassigned characters."""
    return ch.isspace() or unicodedata.category(ch)[0] in "CZ"


def _host_problem(host: str) -> str | None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1] if host.endswith("]") else "")
        except ValueError:
            return _("has a host that is not a valid IPv6 address")
        return None
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.match(label) for label in ascii_host.split(".")):
        return _("has a host name that is not valid (%(host)s)", host=host[:80])
    return None


def url_problem(url: str) -> str | None:
    """Why `url` may not be stored or shown as a link (None when it may): one sentence naming what is wrong."""
    if not isinstance(url, str) or not url:
        return _("is empty")
    if len(url) > MAX_LENGTH:
        return _("is longer than %(n)d characters", n=MAX_LENGTH)
    for ch in url:
        if _invisible(ch):
            return _("contains a space, a line break or an invisible character (%(code)s)", code=code_point(ch))
        if ch in REFUSED_CHARACTERS:
            return _("contains %(char)s: quotes, angle brackets, backticks and backslashes are not accepted in an "
                     "address", char=ch)
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in SCHEMES:
        named = f" ({scheme.group(1)}:)" if scheme else ""
        return _("must begin with https://, http:// or mailto:%(named)s", named=named)
    if scheme.group(1).lower() == "mailto":
        address = url[len("mailto:"):]
        mailbox = _MAILBOX.match(address)
        if mailbox is None or _host_problem(mailbox.group("domain")) or "." not in mailbox.group("domain"):
            return _("must be mailto: followed by one e-mail address (name@domain), and nothing else")
        return None
    parts = urlsplit(url)
    if not url[len(scheme.group(0)):].startswith("//") or not parts.netloc:
        return _("names no host: write it as https://host/path")
    if "@" in parts.netloc:
        return _("has a user name before the host (user@host), which hides where it leads")
    host, port = parts.netloc, None
    if ":" in host and not host.endswith("]"):
        host, port = host.rsplit(":", 1)
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return _("has a port that is not a number from 1 to 65535")
    return _host_problem(host)


@functools.lru_cache(maxsize=4096)
def _linkable(url: str) -> bool:
    """url_problem depends on the text alone: each address is checked once per process (25-35 µs each, and an
    authority's page shows several on every request)."""
    return url_problem(url) is None


def link_url(url: object) -> str | None:
    """The address if a page may show it as a link, else None (the page shows it as text): the `link_url` filter."""
    return url if isinstance(url, str) and len(url) <= MAX_LENGTH and _linkable(url) else None
