"""The navigation bar, rendered once and kept per process (issue 14): a signed-in member's, and a visitor's.

The bar costs about a millisecond to render (some 90 template calls: menus, rules, translated labels, URLs), on every
page a member opens, and it is the same from page to page until something it shows changes. It is kept under a key
that holds everything it shows: the member (their id and name), the page's language and the prefix the application
is mounted under, the answer of every rule the bar asks (`NAV_RULES`; tests/test_navigation.py checks that the
template asks no other) and every badge count (the navigation's counts, read in one statement on every page anyway).
A change to any of them gives a new key, never an old bar: a role granted or withdrawn, a message read, a name
corrected. Per member, so one member's bar is never shown to another.

Two things on the bar change with every page and are not in it: the forms' CSRF token and the page the language
menu brings the member back to. The bar is rendered with marks in their place, and the marks are replaced on the
way out (escaped as the template would). A visitor's bar is the same for every visitor in a language, but for the
page its language links come back to: a mark too."""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from urllib.parse import quote

from flask import Flask, current_app, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from network.core import counters
from network.core.access import current_member
from network.core.i18n import here_without_language
from network.core.security import csrf_token
from network.core.translations import request_locale, request_translations

KEPT = 2_000  # bars per process (about 6 KB each): the members active on one worker, in a few languages
_bars: dict[tuple, str] = {}
_keeping = threading.Lock()
_MARK = secrets.token_hex(8)  # unguessable, so that no text a member writes can hold it
CSRF_MARK = f"csrf{_MARK}"
BACK_MARK = f"back{_MARK}"
TEMPLATE = "navigation.html"  # its macro `navigation(csrf, back)` renders the bar (with the page's context)


def _nav_rules() -> tuple[tuple[str, Callable], ...]:
    """The rules the bar asks, with no object: the members' (`rules.…`) and the forum's (`forum_rules.…`)."""
    from network.forum import access as forum
    from network.members import access as members

    return (("is_member", members.is_member), ("is_moderator", members.is_moderator),
            ("is_focal_point", members.is_focal_point), ("can_vet_members", members.can_vet_members),
            ("can_reconfirm_members", members.can_reconfirm_members),
            ("can_read_directory", members.can_read_directory),
            ("can_review_directory", members.can_review_directory),
            ("can_manage_members", members.can_manage_members), ("can_browse_audit", members.can_browse_audit),
            ("forum.can_see_flag_queue", forum.can_see_flag_queue))


def navigation_key(member) -> tuple:
    registry = counters.navigation_names()
    return ("navigation", str(request_locale()), request_translations(), request._get_current_object().script_root,
            member.id, member.name,
            tuple(bool(rule(member)) for _name, rule in _nav_rules()),
            tuple(counters.counts(member, registry).items()))


def _macro(context: Context) -> Callable[..., str]:
    """The bar's macro (navigation.html's `navigation`), imported with the page's context, as `{% from
    "navigation.html" import navigation with context %}` would: only when a bar is rendered (importing it on every
    page cost some 40 µs, for a bar almost always kept)."""
    template = context.environment.get_template(TEMPLATE, context.name)
    return template.make_module(context.get_all(), True).navigation


@pass_context
def member_navigation(context: Context) -> Markup:
    """The signed-in member's bar: the template's macro `navigation(csrf, back)` once per key, then the marks
    replaced by this page's CSRF token and address."""
    member = current_member()
    if current_app._get_current_object().debug:  # templates are being edited: nothing kept
        return Markup(_macro(context)("", ""))  # noqa: S704 (a macro's output, autoescaped)
    key = navigation_key(member)
    bar = _bars.get(key)
    if bar is None:
        bar = str(_macro(context)(CSRF_MARK, BACK_MARK))
        _keep(key, bar)
    return Markup(bar.replace(CSRF_MARK, str(escape(csrf_token())))  # noqa: S704 (marks replaced by escaped text)
                  .replace(BACK_MARK, str(escape(here_without_language()))))


@pass_context
def visitor_navigation(context: Context) -> Markup:
    """A visitor's bar: the same for every visitor in a language, but for the page its language links bring them
    back to (the mark, replaced by this page's address, percent-encoded as a query value)."""
    if current_app.debug:
        return Markup(_macro(context)("", ""))  # noqa: S704 (a macro's output, autoescaped)
    key = ("visitor-navigation", str(request_locale()), request_translations(), request.script_root)
    bar = _bars.get(key)
    if bar is None:
        bar = str(_macro(context)("", BACK_MARK))
        _keep(key, bar)
    back = quote(here_without_language(), safe="/")
    return Markup(bar.replace(BACK_MARK, str(escape(back))))  # noqa: S704 (the mark replaced by escaped text)


def _keep(key: tuple, bar: str) -> None:
    with _keeping:  # threads of one process (the development server, a threaded worker) evict one at a time
        while len(_bars) >= KEPT:
            del _bars[next(iter(_bars))]
        _bars[key] = bar


def configure_navigation(app: Flask) -> None:
    app.jinja_env.globals.update(member_navigation=member_navigation, visitor_navigation=visitor_navigation)
