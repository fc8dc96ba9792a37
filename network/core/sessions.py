"""Server-side sessions: the cookie holds a random token; its record, encrypted under a key derived
from that token, lives in the database. Sign-out, revocation and expiry delete the record, so a
captured cookie is worthless afterwards (Flask's default signed cookie outlives sign-out).

A visitor who has stored nothing worth keeping gets no record: a form's CSRF secret alone travels in a
signed cookie of its own (double submit: the form's token must match it), so a crawler's cookieless GETs
of forms write nothing to the database."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from sqlalchemy import ForeignKey, LargeBinary, Row, String, bindparam, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import CallbackDict

from network.core.clock import utcnow
from network.core.crypto import SealError, derive_key, new_token, open_with_key, seal_with_key, token_digest
from network.core.db import db, kept_options


class WebSession(db.Model):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie token
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    authenticated_at: Mapped[datetime | None] = mapped_column()
    address: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    def __repr__(self) -> str:
        return f"<WebSession member={self.member_id} since={self.created_at:%Y-%m-%d %H:%M}>"


# Read on every request: one statement object for the process, whose cache key SQLAlchemy computes once.
_RECORD = select(WebSession.__table__).where(WebSession.__table__.c.id == bindparam("session_id"))
_RECORD_COLUMNS = tuple(column.key for column in WebSession.__table__.c)
_COMPANION = "network_session_companion"


def read_with_record(app: Flask, prepare: Callable[[str], tuple], take: Callable[[list[Row], object], object]) -> None:
    """Read what every signed-in request needs with the session's record, in the same statement and in the request's
    transaction (issue 14: the signed-in member, its roles and its navigation's questions, app.py):
    `prepare(session_id)` answers (statement, parameters, context), a Core statement selecting the record's columns
    (`record_columns()`, by their names) and more, its rows found by the bound parameter "session_id"; `take(rows,
    context)` answers what the session keeps of the rest (`ServerSession.companion`, for this request only)."""
    app.extensions[_COMPANION] = (prepare, take)


def record_columns():
    """The record's columns, for a statement given to `read_with_record`."""
    return WebSession.__table__.c


class ServerSession(CallbackDict, SessionMixin):
    """A dict whose record lives server-side. `regenerate()` issues a new token (at sign-in)."""

    def __init__(self, initial=None, token: str | None = None, record: dict | None = None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.record = record or {}
        self.modified = False
        self.rotate = False
        self.expired = False
        self.companion = None  # read with the record (read_with_record): this request's, never stored

    def regenerate(self) -> None:
        """A new token at once (so keys sealed for this session can be derived from it in this request);
        save_session stores the record under it and deletes the old one."""
        self.token = new_token(32)
        self.rotate = True
        self.modified = True

    @property
    def session_id(self) -> str | None:
        return token_digest(self.token) if self.token else None


# What a record is not created for: the CSRF secret of an anonymous visitor's forms (Flask-WTF's key).
CSRF_KEY = "csrf_token"


def _csrf_cookie_name(app: Flask) -> str:
    return "__Host-csrf" if app.config["SESSION_COOKIE_SECURE"] else "csrf"


def _csrf_signer(app: Flask) -> Signer:
    return Signer(app.secret_key, salt="network/csrf-cookie")


def _csrf_from_cookie(app: Flask, request: Request) -> str | None:
    """The CSRF secret of a visitor without a record, if their cookie carries one signed by us."""
    value = request.cookies.get(_csrf_cookie_name(app))
    if not value or len(value) > 200:
        return None
    try:
        secret = _csrf_signer(app).unsign(value).decode()
    except BadSignature:
        return None
    return secret if secret.isalnum() else None


def _data_key(token: str) -> bytes:
    return derive_key(token.encode(), "network/session-data")


def delete_member_sessions(member_id: int, *, except_id: str | None = None) -> int:
    """End every session of a member (all devices), optionally keeping the current one."""
    statement = delete(WebSession).where(WebSession.member_id == member_id)
    if except_id:
        statement = statement.where(WebSession.id != except_id)
    return db.session.execute(statement).rowcount or 0


def purge_expired(app: Flask) -> int:
    now = utcnow()
    idle = now - timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"])
    absolute = now - timedelta(seconds=app.config["SESSION_ABSOLUTE_TIMEOUT"])
    result = db.session.execute(
        delete(WebSession).where((WebSession.last_seen_at < idle) | (WebSession.created_at < absolute))
    )
    return result.rowcount or 0


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session = self._open_record(app, request)
        if not session and not session.record:
            secret = _csrf_from_cookie(app, request)
            if secret:
                expired = session.expired
                session = ServerSession({CSRF_KEY: secret})  # not modified: nothing to store yet
                session.expired = expired
        return session

    def _open_record(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        session_id = token_digest(token)
        companion, reading = None, app.extensions.get(_COMPANION)
        if reading is None:
            with db.engine.connect() as connection:
                row = connection.execute(_RECORD, {"session_id": session_id}).mappings().first()
        else:  # with the signed-in member, in the request's own transaction: one statement, no second connection
            prepare, take = reading
            statement, parameters, context = prepare(session_id)
            session = db.session()
            if session.autoflush:  # as Session.execute would (changes made before the request, in a test)
                session.flush()  # nothing to flush (a request's own session): returns at once
            found = session.connection().execute(statement, {**parameters, "session_id": session_id},
                                                 execution_options=kept_options(statement)).all()
            mapping = found[0]._mapping if found else None  # one RowMapping, not one per column
            row = None if mapping is None else {name: mapping[name] for name in _RECORD_COLUMNS}
            companion = None if not found else take(found, context)
        if row is None:
            return ServerSession()
        now = utcnow()
        idle = now - row["last_seen_at"] > timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"])
        too_old = now - row["created_at"] > timedelta(seconds=app.config["SESSION_ABSOLUTE_TIMEOUT"])
        if idle or too_old:
            with db.engine.begin() as connection:
                connection.execute(delete(WebSession).where(WebSession.id == session_id))
            fresh = ServerSession()
            fresh.expired = row["member_id"] is not None
            return fresh
        try:
            data = json.loads(open_with_key(_data_key(token), row["data"], session_id))
        except (SealError, ValueError):
            return ServerSession()
        opened = ServerSession(data, token=token, record=dict(row))
        opened.companion = companion
        return opened

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        cookie = {
            "domain": None,
            "path": "/",
            "secure": self.get_cookie_secure(app),
            "httponly": True,
            "samesite": self.get_cookie_samesite(app),
        }
        now = utcnow()
        old_id = session.record.get("id")  # the stored record this request opened (regenerate() changes the token)
        csrf_name = _csrf_cookie_name(app)
        if not session:
            if old_id:
                with db.engine.begin() as connection:
                    connection.execute(delete(WebSession).where(WebSession.id == old_id))
                response.delete_cookie(name, **cookie)
            elif session.expired:
                response.delete_cookie(name, **cookie)
            if csrf_name in request.cookies:
                response.delete_cookie(csrf_name, **cookie)
            return
        if not old_id and set(session) <= {CSRF_KEY}:
            # Nothing worth a record: the CSRF secret goes in its own signed cookie, the database is left alone.
            if session.expired:
                response.delete_cookie(name, **cookie)
            if _csrf_from_cookie(app, request) != session[CSRF_KEY]:
                signed = _csrf_signer(app).sign(session[CSRF_KEY]).decode()
                response.set_cookie(csrf_name, signed, max_age=None, **cookie)
            response.vary.add("Cookie")
            return
        if not session.modified and old_id:
            # Touch at most once a minute: the idle timeout needs no finer grain.
            if now - session.record.get("last_seen_at", now) > timedelta(seconds=60):
                with db.engine.begin() as connection:
                    connection.execute(update(WebSession).where(WebSession.id == old_id).values(last_seen_at=now))
            return
        token = session.token
        created_at = session.record.get("created_at", now)
        if not token:
            token = new_token(32)
        if session.rotate or not old_id:
            created_at = now
        session_id = token_digest(token)
        member_id = session.get("_user_id")
        values = {
            "id": session_id,
            "member_id": int(member_id) if member_id else None,
            "data": seal_with_key(_data_key(token), json.dumps(dict(session)).encode(), session_id),
            "created_at": created_at,
            "last_seen_at": now,
            "authenticated_at": _parse_time(session.get("authenticated_at")),
            "address": (request.remote_addr or "")[:64],
            "user_agent": (request.user_agent.string or "")[:300],
        }
        with db.engine.begin() as connection:
            if old_id and old_id != session_id:
                connection.execute(delete(WebSession).where(WebSession.id == old_id))
            if old_id == session_id:
                connection.execute(update(WebSession).where(WebSession.id == session_id).values(**values))
            else:
                connection.execute(WebSession.__table__.insert().values(**values))
        session.token, session.rotate = token, False
        response.set_cookie(name, token, max_age=None, **cookie)
        if csrf_name in request.cookies:  # the record holds the CSRF secret from now on
            response.delete_cookie(csrf_name, **cookie)
        response.vary.add("Cookie")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def configure_sessions(app: Flask) -> None:
    app.session_interface = ServerSessionInterface()


