"""Domain errors and the error pages: clear words, nothing leaked (no trace, no SQL).

A view that catches a DomainError says which of two refusals it is:
- refused, nothing changed: `network.core.forms.show_domain_error` rolls the request back (the default);
- refused, and this failure is recorded: `refused_and_recorded` keeps the request's transaction, so the audit
  entries the service wrote before refusing are committed (wrong passwords and codes; the throttling counters
  live outside the database and count either way).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, flash, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("network.errors")


class DomainError(Exception):
    """A rule of the domain refused the operation; the message is safe to show to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def refused_and_recorded(form, error: DomainError, field: str | None = None) -> None:
    """Refused, and this failure is recorded: show the error at its field (or at `field` when the error names
    none, else at the top of the page) and let the request commit as usual.

    Use it only where the service records the refusal itself before raising (an audit entry such as
    `sign_in.failed`, or a key it issued for the page that shows the error) and changes nothing else: sign-in, the second factor, enrolment, re-authentication, the password change, the messaging
    recovery-key confirmation. Everywhere else use `show_domain_error` (network/core/forms.py), which rolls the
    request back so that a refused operation leaves nothing behind."""
    name = error.field or field
    target = getattr(form, name, None) if name else None
    if target is not None:
        target.errors = list(target.errors) + [error.message]
    else:
        flash(error.message, "danger")


MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, check the form and try again.")),
    401: (_l("Sign-in required"), _l("Sign in to the network to do this.")),
    403: (_l("Not allowed"), _l("Your account does not give access to this page.")),
    404: (_l("Not found"), _l("There is nothing at this address, or it is not visible to you.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is larger than the platform accepts.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("The platform could not complete the request. Nothing was changed. "
                                         "If it happens again, tell the administrators.")),
    503: (_l("Briefly unavailable"), _l("The platform cannot reach its database for a moment. Nothing was changed. "
                                        "Try again in a few seconds.")),
}
RETRY_AFTER_SECONDS = 10
UNAVAILABLE_FALLBACK = ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Briefly unavailable</title>"
                        "<h1>Briefly unavailable</h1><p>The platform cannot reach its database for a moment. Nothing "
                        "was changed. Try again in a few seconds.</p></html>")


def database_unreachable(error: BaseException) -> bool:
    """True when the database could not be reached (down, restarting, failing over, pool exhausted), as opposed to
    a statement the database refused: the first is a 503 the client may retry, the second a bug (500)."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        if orig is None or type(orig).__name__ not in {"OperationalError", "InterfaceError"}:
            return False
        if type(orig).__module__.startswith("sqlite3"):  # SQLite's OperationalError also means "no such column"
            return any(words in str(orig) for words in ("database is locked", "unable to open", "disk I/O"))
        return True  # psycopg: connection refused or lost, server shutting down, statement timeout
    return False


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/csp-report")


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if _wants_json():
        return jsonify(error={"code": str(title).lower().replace(" ", "_"), "message": str(detail or message)}), code
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def configure_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        logging.getLogger("network.security").warning("csrf rejected path=%r ip=%s", request.path, request.remote_addr)
        return render_error(400, str(_l("The form had expired or did not come from this site. Reload the page and try again.")))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        original = getattr(error, "original_exception", None)  # an error raised before the view (opening the session)
        if original is not None and database_unreachable(original):
            return unavailable(original)
        code = error.code or 500
        if code in (401, 403):
            logging.getLogger("network.security").warning(
                "access denied status=%s path=%s ip=%s", code, request.path, request.remote_addr
            )
        return render_error(code if code in MESSAGES else (500 if code >= 500 else 400))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        if database_unreachable(error):
            return unavailable(error)
        log.exception("unhandled error on %s %r", request.method, request.path)
        from network.core.db import db

        db.session.rollback()
        return render_error(InternalServerError.code)


def unavailable(error: BaseException):
    """503 with Retry-After, rendered without touching the database (no member, no layout queries): the page a
    reader sees while PostgreSQL restarts or fails over. SQLAlchemy has already dropped the broken connections, so
    the next request after the database is back succeeds without restarting the application."""
    from network.core.db import db

    log.warning("database unreachable on %s %r: %s", request.method, request.path, type(error).__name__)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown anyway
        db.session.invalidate()
    title, message = MESSAGES[503]
    try:
        if _wants_json():
            response = jsonify(error={"code": "unavailable", "message": str(message)})
        else:
            # The template alone, without the context processors: they read the signed-in member and the session,
            # which may be what could not be loaded.
            body = current_app.jinja_env.get_template("errors/unavailable.html").render(title=title, message=message,
                                                                                        locale="en")
            response = make_response(body)
    except Exception:  # noqa: BLE001 - even the language could not be chosen (it may read the member's profile)
        log.warning("the 503 page fell back to plain English", exc_info=True)
        if _wants_json():
            response = jsonify(error={"code": "unavailable", "message": "The platform cannot reach its database for "
                                      "a moment. Nothing was changed. Try again in a few seconds."})
        else:
            response = make_response(UNAVAILABLE_FALLBACK)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
