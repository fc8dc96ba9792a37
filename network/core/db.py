"""The database: one SQLAlchemy instance, SQLite pragmas for durability, one commit per request (on PostgreSQL, a
transaction only once the request writes), pooled PostgreSQL connections the server closed replaced before use."""
from __future__ import annotations

import select as selectors
import weakref
from collections.abc import Sequence
from datetime import datetime

from flask import Flask, Response, g
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from network.core.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
# Indexes a migration creates only where the server offers them (the rum extension, migration 5e4c0b0a1d12; an
# index in NULLS LAST order, 5e4c0b0a1d15, which SQLite refuses): not in the models, so comparing the models with a
# database (autogenerate, tests/test_hardening.py) leaves them out.
OPTIONAL_INDEXES = frozenset({"ix_case_search_rank_rum", "ix_case_search_filed_on",
                              # PostgreSQL's ranking tiers (migration 5e4c0b0a1d1a, postgres_backend._tier_top)
                              "ix_case_search_rank_title", "ix_case_search_rank_tier",
                              # "did you mean"'s words by letter (migration b7d4e1f9a2c3, postgres_backend._candidates)
                              "ix_search_words_first_letter", "ix_search_words_second_letter"})
# Tables of PostgreSQL's search alone, written by its triggers and read by raw SQL (no model on SQLite)
OPTIONAL_TABLES = frozenset({"search_lexeme_bounds",
                             "search_impacts", "search_impact_cuts"})  # (_impact_top: migration d8e2f5a1c6b9)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001 (Alembic's hook signature)
    """Alembic's filter: every object but an optional index or table found in the database."""
    if not (reflected and compare_to is None):
        return True
    return not ((type_ == "index" and name in OPTIONAL_INDEXES) or (type_ == "table" and name in OPTIONAL_TABLES))


migrate = Migrate(compare_type=True, render_as_batch=True, include_object=include_object)


def created_column() -> Mapped[datetime]:
    return mapped_column(DateTime, default=utcnow, nullable=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """WAL for concurrent readers, FULL sync so an acknowledged commit survives power loss, FKs enforced."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# PostgreSQL: a transaction only from the first statement that may change something. A request that only reads
# (most GETs) then costs its statements and nothing else, where psycopg would send BEGIN before the first and the
# commit a COMMIT after the last (two of a page's four to eight round trips). Reads are the same either way: at
# READ COMMITTED, the level the app runs at, every statement of a transaction sees its own snapshot, so reads
# outside one see exactly what they would see inside; and everything from the first write to the commit or the
# rollback (the write, what is read after it, every later write) is one transaction as before. "May change
# something" is decided on the SQL text (never holding user input: values are bound): anything but a SELECT, and a
# SELECT that locks (FOR UPDATE / SHARE, advisory locks) or sets a setting for the transaction (set_config), since a
# lock or a setting outside a transaction would end with the statement.
_MAY_WRITE = ("for update", "for share", "for no key update", "for key share", "advisory", "set_config")
_READS_ONLY: dict[str, bool] = {}


def reads_only(statement: str) -> bool:
    known = _READS_ONLY.get(statement)
    if known is None:
        lowered = statement.lstrip().lower()
        known = lowered.startswith("select") and not any(word in lowered for word in _MAY_WRITE)
        if len(_READS_ONLY) < 10_000:  # the app's statements are a few hundred; literal SQL must not grow it forever
            _READS_ONLY[statement] = known
    return known


def _transaction_when_needed(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ARG001
    """before_cursor_execute of a PostgreSQL engine: psycopg's autocommit on for a read (not a streamed one) while no
    transaction is open, off (psycopg then sends BEGIN with the statement) for anything else. A connection given an isolation level
    of its own (AUTOCOMMIT for VACUUM, SERIALIZABLE) is left as it was set."""
    dbapi_connection = conn.connection.dbapi_connection
    if "isolation_level" in conn._execution_options:  # noqa: SLF001 (SQLAlchemy keeps them there)
        return
    # A streamed read (yield_per, stream_results) runs on a server-side cursor, which lives in a transaction.
    if reads_only(statement) and not (context is not None and context._is_server_side):  # noqa: SLF001
        if not dbapi_connection.autocommit and dbapi_connection.info.transaction_status == _IDLE:
            dbapi_connection.autocommit = True
    elif dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _dropped_by_server(dbapi_connection, connection_record, connection_proxy) -> None:  # noqa: ARG001
    """Pool checkout of a PostgreSQL engine: a pooled connection the server closed while it sat idle (a restart, a
    failover, idle_session_timeout, a terminated backend) has the server's farewell or the end of the stream waiting
    to be read, where a live idle connection has nothing. Such a connection is replaced before use (the pool tries a
    new one on DisconnectionError), without the round trip pool_pre_ping would add to every request; a connection
    that dies while in use fails as before (the 503 of network/core/errors, and the pool drops it)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    if not hasattr(selectors, "poll"):  # Windows
        readable = selectors.select([dbapi_connection.fileno()], [], [], 0)[0]
    else:
        poller = selectors.poll()
        poller.register(dbapi_connection.fileno(), selectors.POLLIN)
        readable = poller.poll(0)
    if readable:
        raise DisconnectionError("the server closed the connection")


class _Description(Sequence):
    """cursor.description, its columns built when first read. SQLAlchemy reads the description of every result but
    looks into it only the first time a compiled statement runs (then it keeps its own metadata): psycopg's list,
    one Column object per column (its name decoded, its type looked up), cost a few microseconds a column, every
    statement, for nothing. Holds the result it describes, so it describes that one even after the cursor moves on."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor, result) -> None:
        self._cursor, self._result, self._columns = cursor, result, None

    def _built(self) -> list:
        if self._columns is None:
            from psycopg import Column

            source = _ColumnSource(self._result, self._cursor._encoding, self._cursor.adapters)  # noqa: SLF001
            self._columns = [Column(source, i) for i in range(self._result.nfields)]  # type: ignore[arg-type]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        return list(self._built()) == other if isinstance(other, (list, tuple, _Description)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._built())


class _ColumnSource:
    """What psycopg's Column reads of a cursor: its result, encoding and adapters."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult, encoding: str, adapters) -> None:
        self.pgresult, self._encoding, self.adapters = pgresult, encoding, adapters


def _lazy_description_cursor():
    import psycopg
    from psycopg.pq import ExecStatus

    rows = frozenset({ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, getattr(ExecStatus, "TUPLES_CHUNK", None)})

    class LazyDescriptionCursor(psycopg.Cursor):
        __slots__ = ()

        @property
        def description(self):  # as psycopg's, with the columns built on first use
            result = self.pgresult
            if result and (result.nfields or result.status in rows):
                return _Description(self, result)
            return None

    return LazyDescriptionCursor


def _configure_postgres(app: Flask) -> None:
    global _IDLE, _PLAIN_CURSOR, _LAZY_CURSOR  # psycopg is imported only where PostgreSQL is used
    import psycopg
    from psycopg import _queries
    from psycopg.pq import TransactionStatus

    _IDLE = TransactionStatus.IDLE
    _PLAIN_CURSOR, _LAZY_CURSOR = psycopg.Cursor, _lazy_description_cursor()
    # psycopg rewrites a statement's %(name)s placeholders into $n once per statement text and remembers it, but
    # only for texts up to 4 KiB; the signed-in request's first statement (session, member, roles, counts: about
    # 5.6 KiB) was rewritten on every request (about 40 us). The app's statements are a few dozen fixed texts.
    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", 0) < 32768:
        _queries.MAX_CACHED_STATEMENT_LENGTH = 32768
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "postgresql" and not event.contains(engine, "before_cursor_execute",
                                                                         _transaction_when_needed):
                event.listen(engine, "before_cursor_execute", _transaction_when_needed)
                event.listen(engine.pool, "checkout", _dropped_by_server)
                event.listen(engine.pool, "connect", _new_connection)
                engine.dispose()  # a connection made before (the dialect's first) would miss the hook's settings


GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"


def _new_connection(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    """Pool connect of a PostgreSQL engine: cursors with the lazy description (unless connect_args chose a class),
    and prepared statements planned once (GENERIC_PLANS). psycopg prepares a statement on the server from its fifth
    run on a connection; PostgreSQL then plans it again for every run's values unless the generic plan looks no
    dearer, and for the app's page statements (the signed-in request's, a topic's, an inbox's: many joined
    subqueries, a few key values) it kept planning them: 0.7–2.3 ms of the server's CPU per page, more than running
    them (issue 14). Their plans do not depend on the values (keys and bounded pages), so each is planned once per
    connection. The search statements, whose plans do depend on the words, get per-run plans back within their own
    transaction (postgres_backend.SEQSCAN_OFF). A plan never changes what a statement returns, only its cost."""
    if dbapi_connection.cursor_factory is _PLAIN_CURSOR:
        dbapi_connection.cursor_factory = _LAZY_CURSOR
    if dbapi_connection.info.server_version >= 120000:  # plan_cache_mode is PostgreSQL 12's
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a session setting, outside any transaction
        try:
            dbapi_connection.execute(GENERIC_PLANS)
        finally:
            dbapi_connection.autocommit = autocommit


_IDLE = _PLAIN_CURSOR = _LAZY_CURSOR = None


class _KeptCompiled:
    """The compiled cache of one statement object kept for the process (`kept_options`). SQLAlchemy finds a
    statement's compiled form in the engine's cache under its cache key, a nested tuple it hashes on every execution:
    for the signed-in request's statement (record, member, roles, badges: some 4,000 elements) about 30 µs of every
    signed-in page (issue 14). The cache key is computed once per statement object and kept on it (the same tuple
    every time), so here it is recognised by identity, with the dialect and the rest of SQLAlchemy's key compared as
    SQLAlchemy would; anything else is a miss, compiled and kept (a few entries: one per engine)."""

    __slots__ = ("_entries",)
    KEPT = 8

    def __init__(self) -> None:
        self._entries: tuple = ()

    def get(self, key: tuple, default=None):
        dialect, cache_key, *rest = key
        for kept_dialect, kept_key, kept_rest, compiled in self._entries:
            if kept_dialect is dialect and kept_key is cache_key and kept_rest == rest:
                return compiled
        return default

    def __setitem__(self, key: tuple, compiled) -> None:
        dialect, cache_key, *rest = key
        self._entries = (*self._entries[-(self.KEPT - 1):], (dialect, cache_key, rest, compiled))  # one assignment


_kept_options: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def kept_options(statement) -> dict:
    """Execution options for a statement built once and run many times by the process (the signed-in request's, the
    navigation's counts): a compiled cache of its own, which finds its compiled form without hashing its cache key
    (SQLAlchemy takes a compiled cache only at execution, not on the statement)."""
    options = _kept_options.get(statement)
    if options is None:
        options = _kept_options[statement] = {"compiled_cache": _KeptCompiled()}
    return options


def hold(obj: object) -> None:
    """Serialise a check-then-act on one row (one open proposal, a status that moves once, one vouch per focal
    point): lock the row until the commit, then read it again, so what is checked next is the committed truth and a
    second request doing the same waits here. PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a no-op
    update takes its single write lock (a request's first write, so the busy timeout waits for it)."""
    model = type(obj)
    key = model.id == obj.id  # type: ignore[attr-defined]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(model.id).where(key).with_for_update())  # type: ignore[attr-defined]
    else:
        db.session.execute(update(model).where(key).values(id=model.id)  # type: ignore[attr-defined]
                           .execution_options(synchronize_session=False))
    db.session.refresh(obj)


def mark_failed() -> None:
    """A view that caught a domain error calls this: nothing of the request is committed."""
    db.session.rollback()
    g.request_failed = True


def _fresh_request_state() -> None:
    """Per-request state lives on `g`; when an app context outlives one request (a test, a CLI command
    that renders pages), start each request clean, signed-in member included."""
    state = vars(g._get_current_object())  # g.pop, without a look-up through the proxy for each key
    for key in ("request_failed", "queued_mail_ids", "_login_user", "csrf_token"):
        state.pop(key, None)


def _wrote_nothing(session) -> bool:
    """Whether a commit of the session would change nothing in the database: no object added, changed or deleted and
    not flushed yet, nothing an after_commit listener waits for (session.info: the search outbox, the audit
    checkpoint), no savepoint, and no transaction open on its connection (reads run outside one on PostgreSQL; on
    SQLite the driver opens one at the first write). A lock taken by a read (SELECT ... FOR UPDATE) opens one too."""
    transaction = session.get_transaction()
    if transaction is None:
        return not (session.new or session.deleted or session.dirty or session.info)
    if session.new or session.deleted or session.info or session.in_nested_transaction() or session.dirty:
        return False
    connections = transaction._connections  # noqa: SLF001 (the connections the transaction holds, one per engine)
    for connection, *_rest in connections.values():
        try:
            dbapi_connection = connection.connection.dbapi_connection
        except Exception:  # noqa: BLE001 (invalidated or closed: let the commit decide)
            return False
        status = getattr(getattr(dbapi_connection, "info", None), "transaction_status", None)
        if status is not None:  # psycopg
            if status != _IDLE:
                return False
        elif getattr(dbapi_connection, "in_transaction", True):  # sqlite3 (anything else: assume a transaction)
            return False
    return True


def _request_owns_app_context() -> bool:
    """Whether the application context ends with the current request (Flask pushes one for a request when none is
    active for the app, and pops it with the request; its teardown removes the session)."""
    from flask.globals import _cv_request

    context = _cv_request.get(None)
    tokens = getattr(context, "_cv_tokens", None)
    return bool(tokens) and tokens[-1][1] is not None


def _commit_request(response: Response) -> Response:
    """The request commits once, at the end, unless it failed; then mail queued by it is handed over."""
    if response.status_code >= 500 or vars(g._get_current_object()).pop("request_failed", False):  # g.pop
        db.session.rollback()
        return response
    session = db.session()
    if _wrote_nothing(session):
        # Nothing for a commit to write or end (most GETs): its flush, events and expiry are skipped (issue 14).
        # The app context the request pushed ends with it, and its teardown closes the session; one that outlives
        # the request (a test, a CLI command) gets the rollback, which expires the objects read as a commit would.
        if not _request_owns_app_context():
            session.rollback()
    else:
        try:
            session.commit()
        except Exception:
            session.rollback()
            raise
    from network.core.mail import deliver_queued

    deliver_queued()
    return response


def configure_database(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        _configure_postgres(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    app.before_request(_fresh_request_state)
    app.after_request(_commit_request)
