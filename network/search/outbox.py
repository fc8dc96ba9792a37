"""The one outbox: every change to an indexed object writes a row (kind, object id) in the same transaction, so
no index can miss one, and a rollback discards the rows with the change they describe.

Session events do it (after_flush, for every session and every service: no service can forget): each registered
kind says which of its objects the flush changed, and `search_outbox` writes them. A writer that changes what a
document shows without the ORM seeing it (a bulk UPDATE) calls `search_outbox` itself, in its transaction. After
a commit that wrote rows, the embedded default drains the outbox at once (SEARCH_INDEX_ON_COMMIT); deployments that
run `flask --app app search worker` turn that off."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app, has_app_context
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from network.core.clock import utcnow
from network.search.kinds import change_detectors
from network.search.models import IndexOutbox

log = logging.getLogger("network.search")
FLAG = "search_outbox_written"


def search_outbox(kind: str, object_ids: int | Iterable[int], session: Session | None = None) -> int:
    """Queue objects of a kind for (re)indexing in the session's transaction; returns the rows written."""
    from network.core.db import db

    ids = sorted({int(object_ids)} if isinstance(object_ids, int) else {int(i) for i in object_ids})
    if not ids:
        return 0
    session = session if session is not None else db.session
    now = utcnow()
    session.connection().execute(insert(IndexOutbox), [{"kind": kind, "object_id": i, "created_at": now}
                                                       for i in ids])
    session.info[FLAG] = True
    return len(ids)


def _after_flush(session: Session, flush_context) -> None:  # noqa: ARG001 (SQLAlchemy's signature)
    for kind, changed in change_detectors().items():
        ids = changed(session)
        if ids:
            search_outbox(kind, ids, session)


def _after_commit(session: Session) -> None:
    if not session.info.pop(FLAG, False) or not has_app_context():
        return
    if not current_app.config.get("SEARCH_INDEX_ON_COMMIT", True):
        return
    from network.search.indexer import drain_soon

    try:
        drain_soon()
    except Exception:  # the change is committed and its outbox row stays: the next drain replays it
        log.exception("search: indexing after commit failed; the outbox keeps the changes")


def _after_rollback(session: Session) -> None:
    session.info.pop(FLAG, None)


def install() -> None:
    """Listen on every SQLAlchemy session (idempotent)."""
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
