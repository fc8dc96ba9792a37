"""Access requirements: named functions of (member[, object]) shared by views, templates and queries."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta

from flask import abort, current_app, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user

from network.core.clock import utcnow

security_log = logging.getLogger("network.security")

Requirement = Callable[..., bool]


def current_member():
    """The signed-in member, or None."""
    # Flask-Login keeps the request's user in `g` once loaded: read there, not through the proxies of `current_user`
    # and `g` (some ten questions a page, each a failed attribute look-up on a proxy first; issue 14)
    user = vars(g._get_current_object()).get("_login_user") if has_request_context() else None
    if user is None:
        user = current_user._get_current_object()  # the first question: Flask-Login loads the member
    return user if user.is_authenticated else None


def requires(*requirements: Requirement, fresh: bool = False):
    """Guard a view: a signed-in, vetted member (second factor passed) who meets every requirement.

    Anonymous visitors are sent to sign in; applicants and others who fall short get 403.
    With fresh=True, the member must have re-entered password and code in the last few minutes.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            member = current_member()
            if member is None:
                if request.method == "GET":
                    return redirect(url_for("members.sign_in", next=request.full_path.rstrip("?")))
                abort(401)
            for requirement in requirements:
                if not requirement(member):
                    security_log.warning(
                        "requirement %s refused member=%s path=%r", requirement.__name__, member.id, request.path
                    )
                    abort(403)
            if fresh and not is_fresh():
                return redirect(url_for("members.reauthenticate", next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        wrapped.requirements = requirements  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to anyone: the route table test checks every route is marked one way or the other."""
    view.public = True
    return view


def is_fresh() -> bool:
    stamp = session.get("authenticated_at")
    if not stamp:
        return False
    from datetime import datetime

    window = timedelta(seconds=current_app.config["REAUTH_WINDOW"])
    return utcnow() - datetime.fromisoformat(stamp) <= window


def ensure(allowed: bool) -> None:
    """Object-level check inside a view: 404 hides what the member may not see."""
    if not allowed:
        security_log.warning("object access refused path=%r", request.path)  # %r: a CR LF cannot forge a line
        abort(404)
