"""Response hardening: CSP without inline code, framing refused, no sniffing, strict referrers, HSTS, and caching
only where it is safe (network/core/caching.py)."""
from __future__ import annotations

import logging
import threading

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, _FlaskFormCSRF, generate_csrf
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


HARDENING = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # same-origin, not no-referrer: over HTTPS Flask-WTF refuses a form POST without a same-site Referer.
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


def _harden(response: Response) -> Response:
    headers = response.headers
    # Most responses hold none of these headers yet: added (one append each) rather than set (a scan of the list and
    # a removal each, some 40 µs on every response); one the view set already is replaced, as before (issue 14).
    present = {name.lower() for name in headers.keys()}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", CSP)
    for name, value in HARDENING:
        if name.lower() in present:
            headers[name] = value
        else:
            headers.add(name, value)
    config = current_app._get_current_object().config
    if request._get_current_object().is_secure or config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = f"max-age={config['HSTS_SECONDS']}; includeSubDomains"
    return cache_headers(response)  # no-store, except static files and public pages (network/core/caching.py)


# ---------------------------------------------------------------- the forms' CSRF token, signed once per secret

SIGNED_KEPT = 10_000  # signed tokens a process remembers (the sessions active on one worker; ~150 bytes each)
_signed: dict[tuple, str] = {}
_signing = threading.Lock()


def csrf_token(secret_key: str | bytes | None = None, token_key: str | None = None) -> str:
    """Flask-WTF's `generate_csrf` (the same token, valid as long), its signature kept per process and session secret
    (issue 14: signing costs some 60 µs, and every signed-in page's navigation holds a form). Flask-WTF's token is
    the session's CSRF secret signed with a timestamp; with WTF_CSRF_TIME_LIMIT None (config/defaults.py) the
    timestamp is never checked, so the token signed at the first page is worth exactly what a new one would be, and
    it is valid only with the secret it signs (a new session, a new secret: a new key). With a time limit set,
    nothing is kept. The templates' `csrf_token()` and every form (`FormCSRF`) go through here."""
    app = current_app._get_current_object()  # the proxies resolved once (each attribute through one costs ~2 µs)
    config = app.config
    field_name = token_key or config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    found = vars(g._get_current_object()).get(field_name)
    if found is not None:  # this request's, as Flask-WTF keeps it
        return found
    key_secret = secret_key or config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    keep = config.get("WTF_CSRF_TIME_LIMIT") is None and not app.debug
    opened = session._get_current_object()
    secret = opened.get(field_name)
    if keep and isinstance(secret, str):
        found = _signed.get((key_secret, field_name, secret))
        if found is not None:
            setattr(g, field_name, found)
            return found
    found = generate_csrf(secret_key, token_key)
    secret = opened.get(field_name)
    if keep and isinstance(secret, str):
        with _signing:  # threads of one process evict one at a time
            while len(_signed) >= SIGNED_KEPT:
                del _signed[next(iter(_signed))]
            _signed[(key_secret, field_name, secret)] = found
    return found


class FormCSRF(_FlaskFormCSRF):
    """Flask-WTF's CSRF of forms (checked as before), the token through `csrf_token`: the base form's (forms.Form)."""

    def generate_csrf_token(self, csrf_token_field) -> str:  # noqa: ARG002 (WTForms' signature)
        return csrf_token(self.meta.csrf_secret, self.meta.csrf_field_name)


def _refuse_nul():
    """No address of the platform holds a NUL (U+0000), and PostgreSQL cannot store one in text: a path with one is
    not found (as on SQLite) before any view runs. Form fields refuse it at the field (network/core/forms.Form),
    interchange documents (imports, the API) name the field (jsonlines.with_nul_problems), query strings are
    cleaned where they are read."""
    if "\x00" in request._get_current_object().path:
        return render_error(404)
    return None


def configure_security(app: Flask) -> None:
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = csrf_token  # Flask-WTF's, signed once per session secret
    hops = int(app.config["TRUST_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(_refuse_nul)
    app.after_request(_harden)
    configure_caching(app)
