"""Response hardening: CSP without inline code, framing refused, no sniffing, strict referrers, HSTS, and caching
only where it is safe (network/core/caching.py)."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from network.core.caching import cache_headers, configure_caching
from network.core.errors import render_error

csrf = CSRFProtect()
security_log = logging.getLogger("network.security")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap's CSS draws select carets, checks and icons as data: SVG
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "report-uri /csp-report",
    ]
)


def _harden(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: over HTTPS Flask-WTF refuses a form POST without a same-site Referer.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains"
    return cache_headers(response)  # no-store, except static files and public pages (network/core/caching.py)


def _refuse_nul():
    """No address of the platform holds a NUL (U+0000), and PostgreSQL cannot store one in text: a path with one is
    not found (as on SQLite) before any view runs. Form fields refuse it at the field (network/core/forms.Form),
    interchange documents (imports, the API) name the field (jsonlines.with_nul_problems), query strings are
    cleaned where they are read."""
    if "\x00" in request.path:
        return render_error(404)
    return None


def configure_security(app: Flask) -> None:
    csrf.init_app(app)
    hops = int(app.config["TRUST_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(_refuse_nul)
    app.after_request(_harden)
    configure_caching(app)
