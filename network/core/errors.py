"""Domain errors and the error pages: clear words, nothing leaked (no trace, no SQL)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("network.errors")


class DomainError(Exception):
    """A rule of the domain refused the operation; the message is safe to show to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
}


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
        log.exception("unhandled error on %s %r", request.method, request.path)
        from network.core.db import db

        db.session.rollback()
        return render_error(InternalServerError.code)
