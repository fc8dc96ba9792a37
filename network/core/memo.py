"""Answers kept for the length of one request: what a page asks many times (the member's groups, a mailbox's key,
a space's permission) is read from the database once. Kept on the request object, not in flask.g: an application
context can outlive a request (a CLI command, a test), and a memo must never carry an answer into the next request.

A memo declared with the models its answers rest on (`watch`) is forgotten as soon as an object of those models is
added, changed or removed in the session, whether flushed yet or not: a change made earlier in the same request is
always seen."""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

_WATCHED: dict[str, tuple[type, ...]] = {}


def watch(name: str, *models: type) -> str:
    """Declare that the memo `name` rests on these models; returns the name."""
    _WATCHED[name] = models
    return name


def _memos() -> dict[str, dict]:
    return vars(request._get_current_object()).setdefault("network_memos", {})


def _touched(session: Session, models: tuple[type, ...]) -> bool:
    # Most questions come from a request that has changed nothing: the session's own records of added, deleted and
    # modified objects are empty, and building its `dirty` set (a check of every modified object) is skipped.
    if not (session._new or session._deleted or session.identity_map._modified):  # noqa: SLF001
        return False
    return any(isinstance(o, models) for o in (*session.new, *session.dirty, *session.deleted))


def request_memo(name: str) -> dict:
    """The named memo of the current request; outside a request, a fresh dict each time (nothing is kept)."""
    if not has_request_context():
        return {}
    memo = _memos().setdefault(name, {})
    models = _WATCHED.get(name)
    if memo and models:
        from network.core.db import db

        if _touched(db.session(), models):  # changed and not flushed yet: the next question reads it
            memo.clear()
    return memo


def forget(name: str) -> None:
    """Drop a memo after a change it depends on, so the next question reads the database again."""
    if has_request_context():
        _memos().pop(name, None)


@event.listens_for(Session, "after_flush")
def _forget_what_a_flush_changed(session: Session, _context) -> None:
    if not has_request_context() or not _WATCHED:
        return
    for name, models in _WATCHED.items():
        if _touched(session, models):
            forget(name)
