"""Answers kept for the length of one request: what a page asks many times (the member's groups, a mailbox grant,
a space's permission) is read from the database once. Kept on the request object, not in flask.g: an application
context can outlive a request (a CLI command, a test), and a memo must never carry an answer into the next request."""
from __future__ import annotations

from flask import has_request_context, request


def request_memo(name: str) -> dict:
    """The named memo of the current request; outside a request, a fresh dict each time (nothing is kept)."""
    if not has_request_context():
        return {}
    memos = vars(request._get_current_object()).setdefault("network_memos", {})
    return memos.setdefault(name, {})


def forget(name: str) -> None:
    """Drop a memo after a change it depends on, so the next question reads the database again."""
    if has_request_context():
        vars(request._get_current_object()).get("network_memos", {}).pop(name, None)
