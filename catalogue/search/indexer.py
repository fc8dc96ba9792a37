"""The one indexer: drains the outbox into the backend, rebuilds the index from the database, checks its health.

A batch is read only while holding the backend's write lock, the cases are loaded as they are now (not as they
were when queued), and outbox rows are deleted only after the index write succeeded: a crash anywhere in between
leaves the rows, and the next drain replays them. Replaying is harmless: documents are replaced by case id."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from catalogue.cases.models import Case
from catalogue.search.documents import case_document
from catalogue.search.models import SearchOutbox
from network.core.clock import utcnow
from network.core.db import db

log = logging.getLogger("catalogue.search")
BATCH = 200



def _backend():
    from catalogue.search.services import backend

    return backend()


def indexable_cases(session) -> int:
    """How many cases the index should hold: every case (the reader's scope is applied at query time)."""
    return session.scalar(select(func.count()).select_from(Case)) or 0


def _load(session, ids: set[int]) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).options(selectinload(Case.facets))))


def _delete_rows(session, row_ids: list[int]) -> None:
    session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(row_ids)))


def drain(batch_size: int = BATCH, max_batches: int | None = None) -> int:
    """Index what the outbox holds, batch by batch, until it is empty; returns the rows processed.
    Raises what the backend raises (e.g. Whoosh's LockError after the writer timeout): the rows stay."""
    done = batches = 0
    while max_batches is None or batches < max_batches:
        with Session(db.engine) as session:
            if session.scalar(select(SearchOutbox.id).limit(1)) is None:
                return done  # (a cheap look before taking the lock)
            backend = _backend().with_session(session)
            with backend.writer() as writer:  # the lock first: what is committed after this read is queued again
                rows = session.execute(select(SearchOutbox.id, SearchOutbox.case_id)
                                       .order_by(SearchOutbox.id).limit(batch_size)).all()
                wanted = {case_id for _id, case_id in rows}
                cases = _load(session, wanted)
                writer.index(case_document(case) for case in cases)
                writer.delete(wanted - {case.id for case in cases})
            if not rows:  # another indexer took them meanwhile
                return done
            _delete_rows(session, [row_id for row_id, _case in rows])
            session.commit()
        done += len(rows)
        batches += 1
    return done


class DrainSoon:
    """Drain now in this process unless another thread is at it (it will see the request and go round again).
    One per outbox: the case indexer's here, the forum's in forum_indexer.py."""

    def __init__(self, drain: Callable[[], int]) -> None:
        self._drain, self._lock, self._requested = drain, threading.Lock(), threading.Event()

    def __call__(self) -> None:
        self._requested.set()
        while self._requested.is_set():
            if not self._lock.acquire(blocking=False):
                return
            try:
                self._requested.clear()
                self._drain()
            finally:
                self._lock.release()


drain_soon = DrainSoon(lambda: drain())  # late-bound: the module's drain as it is when called


def all_documents(session, yield_per: int = BATCH) -> Iterator:
    statement = select(Case).order_by(Case.id).options(selectinload(Case.facets)).execution_options(
        yield_per=yield_per)
    for case in session.scalars(statement):
        yield case_document(case)


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; outbox rows queued before the rebuild started are done."""
    with Session(db.engine) as session:
        last = session.scalar(select(func.max(SearchOutbox.id))) or 0
        backend = _backend().with_session(session)
        n = backend.rebuild(all_documents(session), progress=progress)
        _delete_rows_up_to(session, last)
        session.commit()
    return n


def _delete_rows_up_to(session, last: int) -> None:
    session.execute(delete(SearchOutbox).where(SearchOutbox.id <= last))


@dataclass
class Status:
    backend: str
    indexed: int
    expected: int
    queued: int
    oldest: datetime | None

    @property
    def lag_seconds(self) -> float:
        return max(0.0, (utcnow() - self.oldest).total_seconds()) if self.oldest else 0.0

    @property
    def in_step(self) -> bool:
        return self.indexed == self.expected


def status() -> Status:
    with Session(db.engine) as session:
        backend = _backend().with_session(session)
        queued, oldest = session.execute(select(func.count(), func.min(SearchOutbox.created_at))).one()
        return Status(backend.name, backend.count(), indexable_cases(session), queued or 0, oldest)


def ensure_consistent() -> Status:
    """Drain, then compare the index's count with the database's and rebuild on a mismatch (the embedded
    default's repair: the index is a cache of the database)."""
    try:
        drain()
    except Exception:
        log.exception("search: draining the outbox failed")
    current = status()
    if not current.in_step:
        log.warning("search: index holds %s documents, the database %s cases: rebuilding",
                    current.indexed, current.expected)
        rebuild()
        current = status()
    return current
