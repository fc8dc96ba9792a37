"""The one indexer: drains the outbox into each kind's index, rebuilds an index from the database, checks it.

For each kind, a batch is read only while holding that index's write lock, the objects are loaded as they are now
(not as they were when queued), and outbox rows are deleted only after the index write succeeded: a crash anywhere
in between leaves the rows, and the next drain replays them. Replaying is harmless: documents are replaced by id.
`drain_all` is what a background worker calls."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from network.core.clock import utcnow
from network.core.db import db
from network.search.kinds import IndexKind, kind_named, registered
from network.search.models import IndexOutbox

log = logging.getLogger("network.search")
BATCH = 200


def _index(kind: IndexKind):
    from network.search.services import index_of

    return index_of(kind.name)


def _kinds(name: str | None) -> list[IndexKind]:
    return registered() if name is None else [kind_named(name)]


def _delete_rows(session, row_ids: list[int]) -> None:
    session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_(row_ids)))


def _drain_kind(kind: IndexKind, batch_size: int, max_batches: int | None) -> int:
    done = batches = 0
    queued = select(IndexOutbox.id).where(IndexOutbox.kind == kind.name)
    while max_batches is None or batches < max_batches:
        with Session(db.engine) as session:
            if session.scalar(queued.limit(1)) is None:
                return done  # (a cheap look before taking the lock)
            engine = _index(kind).with_session(session)
            with engine.writer() as writer:  # the lock first: what is committed after this read is queued again
                rows = session.execute(select(IndexOutbox.id, IndexOutbox.object_id)
                                       .where(IndexOutbox.kind == kind.name)
                                       .order_by(IndexOutbox.id).limit(batch_size)).all()
                wanted = {object_id for _id, object_id in rows}
                docs = list(kind.documents(session, wanted)) if wanted else []
                writer.index(docs)
                writer.delete(wanted - {doc.id for doc in docs})
            if not rows:  # another indexer took them meanwhile
                return done
            _delete_rows(session, [row_id for row_id, _object in rows])
            session.commit()
        done += len(rows)
        batches += 1
    return done


def drain(kind: str | None = None, batch_size: int = BATCH, max_batches: int | None = None) -> int:
    """Index what the outbox holds for one kind (None: every kind), batch by batch, until it is empty; returns the
    rows processed. Raises what an engine raises (e.g. Whoosh's LockError after the writer timeout): the rows
    stay, and the kinds after it wait for the next drain."""
    return sum(_drain_kind(k, batch_size, max_batches) for k in _kinds(kind))


def drain_all() -> int:
    """Every kind's queued changes, once: what `search worker` runs in its loop (and any background worker may)."""
    return drain()


class DrainSoon:
    """Drain now in this process unless another thread is at it (it will see the request and go round again)."""

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


def rebuild(kind: str, progress: Callable[[int], None] | None = None, exclusive: bool = False,
            processes: int = 1) -> int:
    """Rebuild one kind's index from the database; its outbox rows queued before the rebuild started are done.
    `exclusive`: an engine that can rebuild faster by taking its table (PostgreSQL's RUM index, built once after
    the rows) may do so; searches then wait until the rebuild is done. `processes`: an engine that can index in
    several processes (Whoosh) uses that many for this rebuild only (never from a web worker: the command line's);
    should a process's share be lost, the index is rebuilt again in one process rather than left short."""
    from network.search.whoosh_backend import IncompleteRebuild

    index_kind = kind_named(kind)
    with Session(db.engine) as session:
        last = session.scalar(select(func.max(IndexOutbox.id)).where(IndexOutbox.kind == kind)) or 0
        engine = _index(index_kind).with_session(session)
        if exclusive and hasattr(engine, "exclusive_rebuild"):
            engine.exclusive_rebuild = True
        several = processes > 1 and hasattr(engine, "rebuild_processes")
        if several:  # (Whoosh's engine is the app's own: set for this rebuild, then as it was)
            engine.rebuild_processes, before = processes, engine.rebuild_processes
        try:
            n = engine.rebuild(index_kind.all_documents(session), progress=progress)
        except IncompleteRebuild:
            engine.rebuild_processes = 1  # (the progress shown starts again with it)
            n = engine.rebuild(index_kind.all_documents(session), progress=progress)
        finally:
            if several:
                engine.rebuild_processes = before
        session.execute(delete(IndexOutbox).where(IndexOutbox.kind == kind, IndexOutbox.id <= last))
        session.commit()
    return n


@dataclass
class Status:
    kind: str
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


def status(kind: str) -> Status:
    index_kind = kind_named(kind)
    with Session(db.engine) as session:
        engine = _index(index_kind).with_session(session)
        queued, oldest = session.execute(select(func.count(), func.min(IndexOutbox.created_at))
                                         .where(IndexOutbox.kind == kind)).one()
        return Status(kind, engine.name, engine.count(), index_kind.expected(session), queued or 0, oldest)


def ensure_consistent(kind: str) -> Status:
    """Drain the kind's outbox, then compare its index's count with the database's and rebuild on a mismatch (the
    embedded default's repair: an index is a cache of the database)."""
    try:
        drain(kind)
    except Exception:
        log.exception("search: draining the %s outbox failed", kind)
    current = status(kind)
    if not current.in_step:
        log.warning("search: the %s index holds %s documents, the database %s: rebuilding",
                    kind, current.indexed, current.expected)
        rebuild(kind)
        current = status(kind)
    return current
