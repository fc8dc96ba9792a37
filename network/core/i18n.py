"""The interface language: which of the six UN languages a page is served in, and the text direction that goes with it.

One rule decides a request's language (`select_locale`, given to Flask-Babel, whose catalogue lookup feeds
`network.core.translations`), in this order:

1. `?lang=xx` on the URL (this request only: a link can show a page in a given language, nothing is stored);
2. the signed-in member's profile (`Member.language`, chosen in the language menu: it follows them to every device
   and every new session, and their e-mails go out in it);
3. the visitor's language cookie (set by the language menu; a year, HttpOnly, SameSite=Lax, Secure over HTTPS);
4. the browser's Accept-Language, among the languages served;
5. English.

Only a language that has a compiled catalogue is ever chosen (`served_languages`): `<html lang>` must name the
language of the text, and a French browser must not get `lang="fr"` on English text (screen readers would read
it with French rules). A language whose catalogue lacks a string shows that string in English; that is the
translators' backlog, not a wrong claim. The catalogues are compiled by `make catalogues` (a prerequisite of `make
run` and `make test`); `compile_catalogues` does the same from Python for whoever starts the application otherwise.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, Response, current_app, g, has_request_context, request, url_for
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
    refresh,
)
from markupsafe import Markup

from network.core.clock import utcnow
from network.core.translations import forget_request_translations

LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")  # the six official languages of the United Nations
RIGHT_TO_LEFT = frozenset({"ar"})
# Each language named in itself: a reader who cannot read the current language still finds their own.
AUTONYMS = {"en": "English", "fr": "Français", "es": "Español", "ru": "Русский", "ar": "العربية", "zh": "中文"}
COOKIE_DAYS = 365
_EXTENSION = "network_i18n"


# ---------------------------------------------------------------- catalogues

def translation_directories(app: Flask) -> list[Path]:
    """Flask-Babel's catalogue folders (BABEL_TRANSLATION_DIRECTORIES, `;`-separated, relative to the app)."""
    value = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
    return [Path(app.root_path, folder) for folder in str(value).split(";") if folder]


def compile_catalogues(folders: list[Path], *, force: bool = False) -> list[Path]:
    """Compile every `<lang>/LC_MESSAGES/messages.po` under `folders` whose `.mo` is missing or older (what `make
    catalogues` does with pybabel). Each `.mo` is written beside and renamed, so a process reading it meanwhile sees
    the old or the new file, never half of one. Returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for folder in folders:
        for source in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
            target = source.with_suffix(".mo")
            if not force and target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
                continue
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=source.parent.parent.name)
            partial = target.with_name(f"messages.mo.{os.getpid()}.tmp")
            with partial.open("wb") as handle:
                write_mo(handle, catalogue)  # like pybabel compile: fuzzy entries are left out
            partial.replace(target)
            written.append(target)
    return written


def catalogued_languages(app: Flask) -> tuple[str, ...]:
    """English (the source) and each configured language that has a compiled catalogue, in LANGUAGES order."""
    configured = [code for code in app.config.get("LANGUAGES", LANGUAGES) if code in LANGUAGES]
    found = {code for folder in translation_directories(app) for code in configured
             if (folder / code / "LC_MESSAGES" / "messages.mo").is_file()}
    return tuple(code for code in LANGUAGES if code == "en" or code in found)


def served_languages(app: Flask | None = None) -> tuple[str, ...]:
    """The languages this application serves: found once, when the application was built (a release compiles
    its catalogues before it starts)."""
    return (app or current_app).extensions[_EXTENSION]["served"]


# ---------------------------------------------------------------- choosing the language of a request

def language_cookie_name(app: Flask | None = None) -> str:
    """`__Host-language` over HTTPS (bound to this host, Secure, path /), `language` in plain-HTTP development."""
    return "__Host-language" if (app or current_app).config["SESSION_COOKIE_SECURE"] else "language"


def _member_language() -> str:
    """The signed-in member's chosen language ("" if none, or if the member cannot be read: a page rendered while
    the database is unreachable still gets its language from the cookie or the browser)."""
    from network.core.access import current_member

    try:
        member = current_member()
    except Exception:  # noqa: BLE001 (database unreachable: the error page must still render)
        return ""
    return getattr(member, "language", "") or ""


def select_locale() -> str:
    """The language of this request (module docstring: URL, profile, cookie, browser, English)."""
    app = current_app._get_current_object()  # the proxies resolved once: each attribute through one costs ~2 µs
    default = app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if not has_request_context():
        return default
    served = served_languages(app)
    asked = request._get_current_object()
    for wanted in (asked.args.get("lang", ""), _member_language(), asked.cookies.get(language_cookie_name(app), "")):
        if wanted in served:
            return wanted
    g.language_negotiated = True  # the answer depends on Accept-Language: caches must know (Vary)
    return _browser_language(served) or (default if default in served else "en")


NEGOTIATED_KEPT = 1_000  # Accept-Language headers a process remembers the answer to (browsers send a few distinct)
_negotiated: dict[tuple[str, tuple[str, ...]], str | None] = {}
_negotiating = threading.Lock()


def _browser_language(served: tuple[str, ...]) -> str | None:
    """The served language the browser prefers (Accept-Language), kept per header: parsing and matching the header
    cost 50-250 µs on every page of a visitor, and of a member who never chose a language (issue 14). Only the header
    decides the answer; a long header (not a browser's) is matched each time, never kept."""
    asked = request._get_current_object()  # the proxy resolved once
    header = asked.headers.get("Accept-Language", "")
    key = (header, served)
    if key in _negotiated:
        return _negotiated[key]
    found = asked.accept_languages.best_match(served)
    if len(header) <= 200:
        with _negotiating:  # threads of one process evict one at a time
            while len(_negotiated) >= NEGOTIATED_KEPT:
                del _negotiated[next(iter(_negotiated))]
            _negotiated[key] = found
    return found


_LOCALES: dict[str, Locale] = {}


def babel_locale() -> Locale:
    """`select_locale`'s answer as Babel's Locale, given to Flask-Babel: one object per language and process
    (Flask-Babel parses the code anew on every request, and a new Locale loads its CLDR data again at the first date
    or number it formats; issue 14)."""
    code = select_locale()
    found = _LOCALES.get(code)
    if found is None:
        found = _LOCALES[code] = Locale.parse(code)
    return found


def platform_name() -> str:
    """The platform's name: PLATFORM_NAME as the operator set it (a proper name, shown as written), or, left at its
    default, the default name in the reader's language."""
    from config.defaults import PLATFORM_NAME as DEFAULT_NAME
    from network.core.translations import gettext  # Flask-Babel's, through the request's catalogue (issue 14)

    name = current_app._get_current_object().config.get("PLATFORM_NAME", DEFAULT_NAME)
    return gettext("Practitioners' Network") if name == DEFAULT_NAME else name


def current_language() -> str:
    """The language being served ("en", "fr"...), always one with a catalogue (or English)."""
    language = str(get_locale() or "en")
    return language.split("_")[0]


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RIGHT_TO_LEFT else "ltr"


LIST_SEPARATORS = {"ar": "، ", "zh": "、"}  # the Arabic comma; the Chinese enumeration comma


def list_separator() -> str:
    """`{{ list_separator() }}` between the items of a list in running text: ", ", or "، " in Arabic, "、" in Chinese."""
    return LIST_SEPARATORS.get(current_language(), ", ")


def remember_language(response: Response, language: str) -> Response:
    """Set the language cookie: a year, the whole site, not readable by scripts, not sent on cross-site
    sub-requests, Secure (and `__Host-`) over HTTPS."""
    response.set_cookie(language_cookie_name(), language, max_age=COOKIE_DAYS * 24 * 3600, path="/",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
    return response


def here_without_language() -> str:
    """This page's path and query, without `lang=`: where the language menu brings the reader back to."""
    here = request._get_current_object()
    query = [(key, value) for key, value in here.args.items(multi=True) if key != "lang"]
    if not query:
        return here.path
    from urllib.parse import urlencode

    return f"{here.path}?{urlencode(query)}"


def language_choices(back: str | None = None) -> list[dict[str, str]]:
    """The language menu: each served language named in itself, with the link a visitor follows (a member's menu
    posts a form instead, so that the choice is stored in their profile under CSRF protection). `back`: where the
    links bring the reader back to (default: this page)."""
    if not has_request_context():
        return []
    back = back or here_without_language()
    current = current_language()
    return [{"code": code, "name": AUTONYMS[code], "current": code == current,
             "dir": text_direction(code), "href": url_for("language.switch", code=code, next=back)}
            for code in served_languages()]


# ---------------------------------------------------------------- another language inside a request (e-mails)

@contextlib.contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """Render in `language` (an e-mail to a member who reads another language than the person whose request sends
    it), then back. The request's catalogue kept by `network.core.translations` is dropped on the way in and out."""
    if language is not None and language not in served_languages():
        language = "en"  # chosen while its catalogue existed: English, not a wrong claim
    if language is None or (has_request_context() and language == current_language()):
        yield
        return
    forget_request_translations()
    try:
        with force_locale(language):
            yield
    finally:
        forget_request_translations()


def recipient_language(address: str, context: dict[str, Any]) -> str | None:
    """The language of an e-mail to `address`: the recipient member's chosen language; else, when the mail goes to
    the person making the request, or comes from a visitor's request (an application, a forgotten password: the
    address was typed by someone reading the platform now), the language of this request; else (a member who never
    chose one, written to because of someone else) English. None stands for the language of this request."""
    from sqlalchemy import select

    from network.core.access import current_member
    from network.core.db import db
    from network.members.models import Member

    member = next((value for value in context.values()
                   if isinstance(value, Member) and value.email == address), None)
    if member is None:
        member = db.session.scalar(select(Member).where(Member.email == address))
    if member is not None and member.language:
        return member.language
    if not has_request_context():
        return "en"
    me = current_member()
    if member is None or me is None or me.id == member.id:
        return None  # they are reading this platform now, in this language
    return "en"


# ---------------------------------------------------------------- dates, numbers, relative times

def _as_utc_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) - value.utcoffset() if value.tzinfo else value  # type: ignore[operator]


def date_filter(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002 (Babel's word)
    """`{{ when|date }}`: "2 mars 2026", "2 марта 2026 г.", "2026年3月2日" (format: short, medium, long, full)."""
    if value is None:
        return "—"
    return format_date(value, format)


def datetime_filter(value: datetime | None, format: str = "short") -> str:  # noqa: A002 (Babel's word)
    """`{{ when|datetime }}`: date and time for the locale, in UTC (the platform's time zone: BABEL_DEFAULT_TIMEZONE)."""
    if value is None:
        return "—"
    return format_datetime(value, format)


def timeago_filter(value: datetime | None) -> str:
    """`{{ when|timeago }}`: "il y a 3 jours", "3 дня назад", "قبل 3 أيام"."""
    if value is None:
        return "—"
    delta: timedelta = _as_utc_naive(value) - utcnow()
    return format_timedelta(delta, add_direction=True)


def isolate_filter(value: object) -> Markup:
    """`{{ _("Write to %(name)s", name=authority.name|isolate) }}`: a name or a member's text inside a sentence of the
    interface, isolated (<bdi>) so that an English name in an Arabic sentence, or the reverse, keeps its own
    direction and does not reorder the words around it (issue 13, item 3)."""
    return Markup("<bdi>%s</bdi>") % value


def isolate_text_filter(value: object) -> str:
    """`{% block title %}{{ _("Write to %(name)s", name=authority.name|isolate_text) }}{% endblock %}`: the same
    isolation where markup cannot go (a page's <title>, an attribute): between FIRST STRONG ISOLATE (U+2068) and POP
    DIRECTIONAL ISOLATE (U+2069), Unicode's plain-text equivalent of <bdi> (issue 13, item 3)."""
    return f"\u2068{value}\u2069"


def number_filter(value: float | int | None) -> str:
    """`{{ count|number }}`: grouping and decimal marks of the locale ("12 345", "12,345", "12.345")."""
    if value is None:
        return "—"
    return format_decimal(value)


def percent_filter(value: float | int | None) -> str:
    """`{{ share|percent }}` for a share given in percent (81.8): "81.8%", "81,8 %" (French, Russian, Spanish)."""
    if value is None:
        return "—"
    from decimal import Decimal

    from babel.numbers import format_percent

    share = Decimal(str(value)) / 100  # exact: 71.4 / 100 in floats is 0.7140000000000001
    return format_percent(share, locale=str(get_locale() or "en"), decimal_quantization=False)


# ---------------------------------------------------------------- wiring

def _vary_on_language(response: Response) -> Response:
    """A page whose language came from Accept-Language differs by that header: say so to caches."""
    if vars(g._get_current_object()).get("language_negotiated"):
        if "Vary" in response.headers:
            response.vary.add("Accept-Language")
        else:  # the same header, without parsing and writing back a header set (some 30 µs; issue 14)
            response.headers.add("Vary", "Accept-Language")
    return response


def _choose_afresh() -> None:
    """Each request chooses its own language. Flask-Babel keeps the chosen locale and catalogue in `g`, which
    belongs to the application context; a request pushed inside an application context that is already open (the
    tests' `app` fixture, a script) shares it, and would inherit the previous request's language. A new application
    context (every request of a server) holds nothing of Flask-Babel's yet: nothing to forget (issue 14)."""
    state = vars(g._get_current_object())
    if "_flask_babel" in state:  # Flask-Babel's state, of an earlier request in this context
        refresh()
    state.pop("language_negotiated", None)


def configure_language_selection(app: Flask) -> None:
    """Called by `configure_i18n` (app.py) before `Babel(app, locale_selector=babel_locale)`."""
    app.extensions[_EXTENSION] = {"served": catalogued_languages(app)}
    app.before_request_funcs.setdefault(None, []).insert(0, _choose_afresh)  # before anything that translates
    app.after_request(_vary_on_language)
    app.jinja_env.filters.update(date=date_filter, datetime=datetime_filter, timeago=timeago_filter, isolate=isolate_filter, isolate_text=isolate_text_filter,
                                 number=number_filter, percent=percent_filter)
    app.jinja_env.globals.update(language_choices=language_choices, text_direction=text_direction, platform_name=platform_name,
                                 here_without_language=here_without_language, autonyms=AUTONYMS,
                                 list_separator=list_separator)
