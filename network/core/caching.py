"""HTTP caching where it is safe, and only there.

- Static files (the platform's and Bootstrap's) get URLs carrying a fingerprint of their content (`?v=<hash>`), and
  a URL with the current fingerprint is cached for a year (`immutable`): a browser fetches Bootstrap once, not on
  every page, and a new release changes the URL. A URL without it, or with an old one, is revalidated.
- Public catalogue pages seen by someone not signed in carry an `ETag`; the browser revalidates (`no-cache`) and
  gets 304 without the body when nothing changed. `Vary: Cookie`: a member's page is never served for them.
- Everything else, above all every page of a signed-in member: `no-store`.

And in the server, per process: `cached_fragment`, rendered pieces of a page (a directory entry's or a case's list
item) keyed by everything the piece shows, so that a changed row gives a new key and never an old piece; and
`template_url_for`, each URL a template asks for built once.

Answers rather than HTML are kept by the catalogue's listing and search (catalogue/cases/queries.py: facet counts and
totals, the search engine's page, facets and correction), per process under the request (the reader's scope, the
filters, the words, the page) and the data generations they were computed at (network/core/generations.py: a random
number per group of tables that triggers replace in every writing transaction). A page reads its rows and the current
generations in one statement and uses a kept answer only when they are the ones it was computed at.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for
from flask.globals import _cv_app, _cv_request
from flask_login import current_user
from markupsafe import Markup

from network.core.translations import request_translations

STATIC_ENDPOINTS = {"static": None, "bootstrap.static": "bootstrap"}  # endpoint -> blueprint (None: the app)
PUBLIC_PAGES = {"home.index", "catalogue.listing", "catalogue.case_page", "catalogue.statistics",
                "catalogue.history", "catalogue.print_case"}
YEAR = 365 * 24 * 3600

_fingerprints: dict[tuple[str, str], str | None] = {}  # (endpoint, file name) -> fingerprint, once per process


def _static_file(endpoint: str, filename: str) -> Path | None:
    blueprint = STATIC_ENDPOINTS[endpoint]
    owner = current_app.blueprints.get(blueprint) if blueprint else current_app
    folder = getattr(owner, "static_folder", None)
    if not folder:
        return None
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def fingerprint(endpoint: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256. Static files change with a release, which restarts the
    process: each is read once per process (every time in debug mode, where they are being edited)."""
    key = (endpoint, filename)
    if key not in _fingerprints or current_app.debug:
        path = _static_file(endpoint, filename)
        _fingerprints[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path is not None else None
    return _fingerprints[key]


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
        found = fingerprint(endpoint, values["filename"])
        if found:
            values["v"] = found


def cache_headers(response: Response) -> Response:
    """Set Cache-Control (and ETag for public pages) on a response; called by the security headers' hook."""
    headers = response.headers
    asked = request._get_current_object()  # the proxy resolved once
    endpoint = asked.endpoint or ""
    if endpoint in STATIC_ENDPOINTS:
        filename = (asked.view_args or {}).get("filename", "")
        version = asked.args.get("v")
        if response.status_code == 200 and version and version == fingerprint(endpoint, filename):
            headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response  # otherwise send_file's own: no-cache, revalidated by ETag and Last-Modified
    if (endpoint in PUBLIC_PAGES and asked.method in ("GET", "HEAD") and response.status_code == 200
            and not current_user._get_current_object().is_authenticated and not response.direct_passthrough):
        response.add_etag()
        response.make_conditional(asked)
        headers["Cache-Control"] = "no-cache"
        response.vary.add("Cookie")  # one Vary header, merged with Accept-Language (network/core/i18n.py)
        return response
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    return response


# ---------------------------------------------------------------- rendered fragments

FRAGMENTS_KEPT = 4_000  # per process; pieces weigh 1-10 KB (a case's list item, a directory's filter choices)
FRAGMENT_BYTES = 16 * 1024 * 1024  # and no more characters than this in all: keys hold typed values (filters)
_fragments: dict[tuple, Markup] = {}
_fragment_size = [0]  # the characters kept
_keeping = threading.Lock()


def cached_fragment(key: tuple[Hashable, ...], render: Callable[..., str], *args: object) -> Markup:
    """`render(*args)` (a template macro), kept per process under `key` and the request's catalogue.

    Only for pieces that are the same for every reader the page shows them to: `key` must hold every value the piece
    shows (the row's fields, not only its id; a time-dependent mark such as "not verified for 12 months" too), and
    nothing in the piece may depend on who reads it. The key is the content, not a version number, so no change can
    be missed (by another worker, another process or a direct database write); an old piece is merely never asked
    for again, and the oldest go first when the cache is full. In debug mode, where templates are being edited,
    nothing is kept."""
    if current_app.debug:
        return Markup(render(*args))  # noqa: S704 (a macro's output, autoescaped)
    full = (request_translations(), *key)  # a piece holds translated text
    found = _fragments.get(full)
    if found is None:
        found = Markup(render(*args))  # noqa: S704 (a macro's output, autoescaped)
        with _keeping:  # threads of one process evict one at a time
            if not _fragments:  # emptied (a test clears it)
                _fragment_size[0] = 0
            if len(found) <= FRAGMENT_BYTES and full not in _fragments:  # a larger piece is never kept
                while _fragments and (len(_fragments) >= FRAGMENTS_KEPT
                                      or _fragment_size[0] + len(found) > FRAGMENT_BYTES):
                    _fragment_size[0] -= len(_fragments.pop(next(iter(_fragments))))
                _fragments[full] = found
                _fragment_size[0] += len(found)
    return found


# ---------------------------------------------------------------- built URLs

URLS_KEPT = 20_000
_PLAIN = frozenset({str, int, type(None)})  # not bool or float: True == 1 == 1.0 in a key, not in a URL
_urls: dict[tuple, str] = {}


def template_url_for(endpoint: str, **values: object) -> str:
    """`url_for` in templates, each URL built once per process: building one costs about 10 µs, and a list page
    builds 50–100 (a link per row, the menus). A URL inside the application depends only on the endpoint, the values
    and the prefix the application is mounted under, all in the key. Not kept: relative endpoints (".index", which
    depend on the request's blueprint), `_external`, `_anchor` and the like, values other than strings, whole
    numbers and None, and anything in debug mode (where static files' fingerprints change).
    The application and the request are read from Flask's context variables, as `current_app` and `request` resolve
    them (without the proxies: a page calls this 20-100 times; issue 14)."""
    app_context, request_context = _cv_app.get(None), _cv_request.get(None)
    if endpoint[:1] == "." or app_context is None or app_context.app.debug or request_context is None:
        return url_for(endpoint, **values)
    if values and not all(type(value) in _PLAIN for value in values.values()):  # an object's URL could change with it
        return url_for(endpoint, **values)
    key = (request_context.request.script_root, endpoint, *sorted(values.items()))
    found = _urls.get(key)
    if found is None:
        found = url_for(endpoint, **values)
        if not any(name[:1] == "_" for name in values):
            if len(_urls) >= URLS_KEPT:
                del _urls[next(iter(_urls))]
            _urls[key] = found
    return found


def configure_caching(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
    app.jinja_env.globals["cached_fragment"] = cached_fragment
    app.jinja_env.globals["url_for"] = template_url_for
