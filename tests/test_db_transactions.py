"""How requests talk to PostgreSQL (issue 14: the transport's cost): a request that only reads opens no transaction
(no BEGIN, no COMMIT: two round trips of a page's few), a request that writes is still one transaction from its first
write to its commit or rollback, locks and transaction settings stay in a transaction, and a pooled connection the
server closed meanwhile (a restart) is replaced before use, without a round trip per request."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

pytestmark = pytest.mark.persistence


@contextmanager
def transaction_states(app):
    """After each statement in the block: (the statement, whether the connection is inside a transaction)."""
    from psycopg.pq import TransactionStatus

    from network.core.db import db

    seen: list[tuple[str, bool]] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        status = conn.connection.dbapi_connection.info.transaction_status
        seen.append((statement, status != TransactionStatus.IDLE))

    engine = db.engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_a_page_that_only_reads_opens_no_transaction(app, auth, member, db_backend):
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: how psycopg opens transactions")
    client = auth.client_for(member)
    for path in ("/", "/forum/", "/cases"):
        assert client.get(path).status_code == 200
        with transaction_states(app) as seen:
            assert client.get(path).status_code == 200
        assert seen, path
        assert not [statement for statement, open_ in seen if open_], path


def test_everything_from_the_first_write_is_one_transaction(app, member, db_backend):
    """Reads before it outside, the write and all after it inside, and a rollback takes the write back."""
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: how psycopg opens transactions")
    from network.core.db import db
    from network.members.models import Member

    db.session.commit()
    with transaction_states(app) as seen:
        before = db.session.scalar(select(func.count()).select_from(Member))
        db.session.execute(text("CREATE TEMPORARY TABLE scratch (n int)"))
        db.session.execute(text("INSERT INTO scratch VALUES (1)"))
        assert db.session.scalar(select(func.count()).select_from(Member)) == before
        db.session.rollback()
    assert [open_ for _statement, open_ in seen] == [False, True, True, True]
    with pytest.raises(Exception, match="scratch"):
        db.session.execute(text("SELECT n FROM scratch"))  # the temporary table went with the rollback
    db.session.rollback()
    assert db.session.get(Member, member.id) is not None


@pytest.mark.parametrize("locking", [
    lambda model, key: select(model.id).where(model.id == key).with_for_update(),
    lambda model, key: select(func.pg_advisory_xact_lock(key)),
    lambda model, key: text("SELECT set_config('work_mem', '8MB', true)"),
])
def test_locks_and_settings_open_the_transaction(app, member, db_backend, locking):
    """A lock or a transaction's setting outside a transaction would end with its statement."""
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: how psycopg opens transactions")
    from network.core.db import db
    from network.members.models import Member

    key = member.id
    db.session.commit()
    with transaction_states(app) as seen:
        db.session.execute(select(Member.id).where(Member.id == key))
        db.session.execute(locking(Member, key))
        db.session.execute(select(Member.id).where(Member.id == key))
    assert [open_ for _statement, open_ in seen] == [False, True, True]
    db.session.rollback()
    with db.engine.connect() as connection:  # a connection given its own isolation level is left as it was set
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM alembic_version"))  # refused inside a transaction block
        connection.execute(text("DELETE FROM alembic_version WHERE version_num = 'none'"))
        connection.execute(text("VACUUM alembic_version"))


def test_a_streamed_read_runs_in_a_transaction(app, member, db_backend):
    """A server-side cursor (yield_per, stream_results: the search layer's reindex reads cases so) lives in a
    transaction; outside one, PostgreSQL refuses its DECLARE CURSOR."""
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: how psycopg opens transactions")
    from network.core.db import db
    from network.members.models import Member

    db.session.commit()
    with transaction_states(app) as seen:
        ids = [row.id for row in db.session.execute(
            select(Member.id).execution_options(yield_per=2, stream_results=True))]
    assert member.id in ids
    assert seen and all(open_ for _statement, open_ in seen)
    db.session.rollback()


def test_a_pooled_connection_the_server_closed_is_replaced_before_use(app, auth, member, db_backend):
    """As after a restart: the server ends the pooled connections; the next request still answers, at once."""
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: a connection the server ends")
    import time

    import psycopg

    from network.core.db import db

    client = auth.client_for(member)
    assert client.get("/forum/").status_code == 200
    db.session.remove()
    ended = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() " \
            "AND pid <> pg_backend_pid()"
    left = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        assert all(row[0] for row in admin.execute(ended).fetchall())
        for _ in range(100):  # the backends are gone: their farewell has reached the sockets
            if not admin.execute(left).fetchone()[0]:
                break
            time.sleep(0.02)
    assert client.get("/forum/").status_code == 200


def test_pooled_connections_plan_prepared_statements_once_and_a_search_plans_per_run(app, db_backend):
    """A page's statements are planned once per connection (their plans do not depend on the keys they are run
    with); a search's statements get per-run plans back inside its own transaction, and only there."""
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: plan_cache_mode")
    from network.core.db import db
    from network.search.postgres_backend import READING_WORK_MEM, SEQSCAN_OFF, SEQSCAN_RESTORE

    db.session.commit()
    db.engine.dispose()  # new connections: the pool's connect hook sets it
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
    memory = db.session.scalar(text("SHOW work_mem"))
    previous, previous_memory = db.session.execute(SEQSCAN_OFF, {"small": 200, "work_mem": READING_WORK_MEM}).one()[:2]
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "auto"
    assert db.session.scalar(text("SHOW enable_seqscan")) == "off"
    assert db.session.scalar(text("SHOW work_mem")) == READING_WORK_MEM and previous_memory == memory
    db.session.execute(SEQSCAN_RESTORE, {"previous": previous, "memory": previous_memory})
    assert db.session.scalar(text("SHOW work_mem")) == memory
    db.session.commit()
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
    assert db.session.scalar(text("SHOW enable_seqscan")) == "on"
