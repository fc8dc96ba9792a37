"""Translations for templates, found once per request instead of once per string.

Flask-Babel's template `_()` resolves the application context, the locale and the catalogue again on every call
(two `context.call`s, three context-local look-ups, a `Markup` and a `%` each: 10–15 µs), and a list page calls it
100–300 times. Here the request's `Translations` object is found once and kept on the request (like the memos of
`network.core.memo`), and a literal string's translated, escaped form is kept per catalogue: the same string on the
next row or the next request costs one dictionary look-up.

The functions keep Jinja's "new style" gettext semantics exactly (`rv = Markup(rv)` under autoescape, then always
`rv % variables`, so `%%` means `%`); strings with variables are formatted on every call, never kept.
The locale is chosen once per request (`network.core.i18n.select_locale`: ?lang=, the member's profile, the
cookie, Accept-Language). Only an e-mail to someone who reads another language switches it inside a request, through
`network.core.i18n.in_language`, which calls `forget_request_translations()` on the way in and out; any other code
that ever uses `flask_babel.force_locale` must do the same.
"""
from __future__ import annotations

from typing import Any

from babel.support import Translations
from flask import Flask, has_request_context, request
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

_KEY = "network_translations"
_LOCALE_KEY = "network_locale"
_MAX_KEPT = 20_000  # literal strings kept per process, all catalogues together: a bound against dynamic strings

# (catalogue, autoescape, message) -> the translated string, escaped and %-formatted as Jinja would
_kept: dict[tuple[Any, bool, str], str] = {}


def request_translations() -> Any:
    """The current request's catalogue, looked up through Flask-Babel once per request (outside a request: each
    time, as Flask-Babel would)."""
    if not has_request_context():
        return get_translations()
    state = vars(request._get_current_object())
    found = state.get(_KEY)
    if found is None:
        found = state[_KEY] = get_translations()
    return found


def forget_request_translations() -> None:
    """After a change of locale inside a request (`force_locale`): the next string looks the catalogue up again."""
    if has_request_context():
        state = vars(request._get_current_object())
        state.pop(_KEY, None)
        state.pop(_LOCALE_KEY, None)


def request_locale() -> Any:
    """Flask-Babel's locale of the current request, looked up once per request (like the catalogue; forgotten
    with it when `in_language` switches); each time outside a request."""
    if not has_request_context():
        return get_locale()
    state = vars(request._get_current_object())
    if _LOCALE_KEY not in state:
        state[_LOCALE_KEY] = get_locale()
    return state[_LOCALE_KEY]


def gettext(message: str, **variables: Any) -> str:
    """Flask-Babel's `gettext` (same result, same `%` formatting), through the request's catalogue: for helpers a
    page calls once per row (vocabulary labels)."""
    text = request_translations().ugettext(message)
    return text % variables if variables else text


@pass_context
def template_gettext(context: Context, message: str, **variables: Any) -> str:
    """`_()` and `gettext()` in templates."""
    catalogue = request_translations()
    autoescape = context.eval_ctx.autoescape
    if not variables:
        key = (catalogue, autoescape, message)
        found = _kept.get(key)
        if found is None:
            text = catalogue.ugettext(message)
            found = (Markup(text) if autoescape else text) % variables  # noqa: S704 (Jinja's own: the catalogue's text)
            if len(_kept) < _MAX_KEPT and isinstance(catalogue, Translations):  # not a throwaway null catalogue
                _kept[key] = found
        return found
    text = catalogue.ugettext(message)
    return (Markup(text) if autoescape else text) % variables  # noqa: S704 (as Jinja's; the variables are escaped)


@pass_context
def template_ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    """`ngettext()` in templates: the count is always a variable, so nothing is kept."""
    variables.setdefault("num", num)
    text = request_translations().ungettext(singular, plural, num)
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704 (as Jinja's)


@pass_context
def template_pgettext(context: Context, message_context: str, message: str, **variables: Any) -> str:
    """`pgettext()` in templates: a short word whose meaning depends on where it stands ("To" a recipient, "To" the
    end of a date range) has one entry per context in the catalogue (msgctxt), so each gets its own translation."""
    variables.setdefault("context", message_context)  # as Jinja's own pgettext
    text = request_translations().upgettext(message_context, message)
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704 (as Jinja's)


def configure_template_translations(app: Flask) -> None:
    """Replace Flask-Babel's template callables (installed by `Babel(app)`) with the per-request ones."""
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext,
                                pgettext=template_pgettext)
