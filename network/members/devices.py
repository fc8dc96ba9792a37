"""A session's browser string told as a person says it ("Firefox on Windows") on the member's security page."""
from __future__ import annotations

import re

from flask_babel import gettext as _

# Order matters: many browsers name others in their strings (Edge and Opera say "Chrome" and "Safari", Chrome says
# "Safari", every mobile browser says "Mozilla"), so the most specific token is looked for first.
BROWSERS = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(?:OPR|Opera|OPiOS)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\bYaBrowser/"), "Yandex Browser"),
    (re.compile(r"\bVivaldi/"), "Vivaldi"),
    (re.compile(r"\b(?:Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(?:Chrome|CriOS|Chromium)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
    (re.compile(r"\b(?:Trident/|MSIE )"), "Internet Explorer"),
    (re.compile(r"^curl/"), "curl"),
    (re.compile(r"^python-requests/|^python-httpx/|^Python-urllib/"), "Python"),
)
SYSTEMS = (
    (re.compile(r"\bWindows (?:NT|Phone)"), "Windows"),
    (re.compile(r"\b(?:iPhone|iPad|iPod)\b"), "iOS"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\b(?:Macintosh|Mac OS X)\b"), "macOS"),
    (re.compile(r"\bLinux\b|\bX11\b"), "Linux"),
)


def _first(patterns: tuple[tuple[re.Pattern, str], ...], text: str) -> str | None:
    return next((name for pattern, name in patterns if pattern.search(text)), None)


def device_summary(user_agent: str | None) -> str:
    """"Firefox on Windows", "Safari on iOS", "Chrome", "A browser on Linux"; "Unknown device" when the string
    names neither a browser nor a system this function knows (the page shows the full string beside it)."""
    text = (user_agent or "").strip()
    browser, system = _first(BROWSERS, text), _first(SYSTEMS, text)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("A browser on %(system)s", system=system)
    return _("Unknown device")
