"""The outbox: every change to a case writes a row in the same transaction, so the index can never miss one.

Session events do it (after_flush, for every session and every service): no service can forget. After a commit
that wrote rows, the embedded default drains the outbox at once (SEARCH_INDEX_ON_COMMIT); deployments that run
`flask --app app search worker` turn that off. A rollback discards the rows with the change they describe."""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from catalogue.cases.models import Case, CaseFacet, CaseRevision
from catalogue.search.models import SearchOutbox
from network.core.clock import utcnow

log = logging.getLogger("catalogue.search")
FLAG = "search_outbox_written"


def _changed_case_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, (CaseFacet, CaseRevision)) and obj.case_id is not None:
            ids.add(obj.case_id)
    return ids


def _after_flush(session: Session, flush_context) -> None:  # noqa: ARG001 (SQLAlchemy's signature)
    ids = _changed_case_ids(session)
    if not ids:
        return
    now = utcnow()
    session.connection().execute(insert(SearchOutbox), [{"case_id": i, "created_at": now} for i in sorted(ids)])
    session.info[FLAG] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop(FLAG, False) or not has_app_context():
        return
    if not current_app.config.get("SEARCH_INDEX_ON_COMMIT", True):
        return
    from catalogue.search.indexer import drain_soon

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
