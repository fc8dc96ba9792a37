"""Commands render mail with links: give them a request context on the platform's public address."""
from __future__ import annotations

import functools

from flask import current_app


def with_public_url(command):
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_URL"]):
            return command(*args, **kwargs)

    return wrapped
