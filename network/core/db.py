"""The database: one SQLAlchemy instance, SQLite pragmas for durability, one commit per request."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, g
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, select, update
from sqlalchemy.engine import Engine
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
OPTIONAL_INDEXES = frozenset({"ix_case_search_rank_rum", "ix_case_search_filed_on"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001 (Alembic's hook signature)
    """Alembic's filter: every object but an optional index found in the database."""
    return not (type_ == "index" and reflected and compare_to is None and name in OPTIONAL_INDEXES)


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
    for key in ("request_failed", "queued_mail_ids", "_login_user", "csrf_token"):
        g.pop(key, None)


def _commit_request(response: Response) -> Response:
    """The request commits once, at the end, unless it failed; then mail queued by it is handed over."""
    if response.status_code >= 500 or g.pop("request_failed", False):
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    from network.core.mail import deliver_queued

    deliver_queued()
    return response


def configure_database(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    app.before_request(_fresh_request_state)
    app.after_request(_commit_request)
