"""What the PostgreSQL search engine's own tests share: an engine on the migrated test database, the statements it
runs during a test, and a backend with documents indexed in a transaction rolled back when the module is done."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from network.search import postgres_backend as pb
from network.search.documents import SearchDocument


@pytest.fixture(scope="module")
def engine(postgres_migrated):
    engine = sa.create_engine(postgres_migrated)
    yield engine
    engine.dispose()


@pytest.fixture
def statements(engine):
    """The SQL statements the engine runs during the test, as texts."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@contextmanager
def indexed(engine, documents: Iterable[SearchDocument]) -> Iterator[pb.PostgresBackend]:
    """A backend on a session of its own with these documents indexed and analysed, rolled back at the end."""
    with Session(engine) as session:
        backend = pb.PostgresBackend(lambda: session)
        backend.rebuild(documents)
        session.execute(sa.text("ANALYZE case_search"))
        yield backend
        session.rollback()
