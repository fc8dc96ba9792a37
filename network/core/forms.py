"""Showing a refused operation on its form: nothing of the request is kept, the message goes to its field."""
from __future__ import annotations

from flask import flash

from network.core.db import mark_failed
from network.core.errors import DomainError


def show_domain_error(form, error: DomainError) -> None:
    """Roll the request back and put the error at its field (or at the top of the page when it names none)."""
    mark_failed()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "danger")
