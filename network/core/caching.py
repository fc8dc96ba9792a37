"""HTTP caching where it is safe, and only there.

- Static files (the platform's and Bootstrap's) get URLs carrying a fingerprint of their content (`?v=<hash>`), and
  a URL with the current fingerprint is cached for a year (`immutable`): a browser fetches Bootstrap once, not on
  every page, and a new release changes the URL. A URL without it, or with an old one, is revalidated.
- Public catalogue pages seen by someone not signed in carry an `ETag`; the browser revalidates (`no-cache`) and
  gets 304 without the body when nothing changed. `Vary: Cookie`: a member's page is never served for them.
- Everything else, above all every page of a signed-in member: `no-store`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request
from flask_login import current_user

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
    endpoint = request.endpoint or ""
    if endpoint in STATIC_ENDPOINTS:
        filename = (request.view_args or {}).get("filename", "")
        version = request.args.get("v")
        if response.status_code == 200 and version and version == fingerprint(endpoint, filename):
            headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response  # otherwise send_file's own: no-cache, revalidated by ETag and Last-Modified
    if (endpoint in PUBLIC_PAGES and request.method in ("GET", "HEAD") and response.status_code == 200
            and not current_user.is_authenticated and not response.direct_passthrough):
        response.add_etag()
        response.make_conditional(request)
        headers["Cache-Control"] = "no-cache"
        headers.add("Vary", "Cookie")
        return response
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    return response


def configure_caching(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
