"""When PostgreSQL cannot be reached (restarting, failing over), pages answer a clear 503 with Retry-After that leaks
nothing and changes nothing, the API answers JSON, and the application recovers by itself when the database is
back, without a restart (issue 16: failures).

The database really goes away: the application talks to PostgreSQL through a TCP relay of this test's own, which
the test cuts (every connection reset, new ones refused) and restores."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import _base_config
from tests.relay import Relay


@pytest.fixture
def relayed_app(postgres_url, postgres_migrated, tmp_path, smtp_server):
    from app import create_app
    from network.core.db import db

    parts = urlsplit(postgres_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{netloc[0]}@127.0.0.1:{relay.port}" if len(netloc) == 2 else f"127.0.0.1:{relay.port}"
    url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    # As in production: an error outside a view (opening the session) goes to the error handlers, not to the test.
    application = create_app({**_base_config(tmp_path, url, smtp_server.port), "PROPAGATE_EXCEPTIONS": False})
    with application.app_context():
        yield application, relay
        db.session.remove()
        db.engine.dispose()
    relay.close()


def test_an_unreachable_database_gives_a_clear_503_and_recovery_needs_no_restart(relayed_app):
    app, relay = relayed_app
    client = app.test_client()
    assert client.get("/cases").status_code == 200  # a pooled connection exists and works

    relay.cut()
    page = client.get("/cases")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "10"
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    assert "Briefly unavailable" in body and "cannot reach its database" in body
    for leak in ("psycopg", "OperationalError", "Traceback", str(relay.port), "SELECT"):
        assert leak not in body
    api = client.get("/api/v1/cases")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    assert client.post("/sign-in", data={"email": "x@example.org", "password": "y"}).status_code in (400, 503)

    relay.restore()
    assert client.get("/cases").status_code == 200  # the broken connections were dropped; a new one is made


def test_a_signed_in_member_gets_the_503_too_when_even_the_session_cannot_be_read(relayed_app):
    """The server-side session is read before the view runs: its failure must give the same clear 503, not a 500."""
    app, relay = relayed_app
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "a-session-token-the-server-must-look-up")
    assert client.get("/cases").status_code == 200  # looked up (unknown: a fresh session)

    relay.cut()
    for path in ("/forum/", "/cases", "/messages/", "/apply"):
        page = client.get(path)
        assert page.status_code == 503, (path, page.status_code)
        assert "Briefly unavailable" in page.get_data(as_text=True)
    relay.restore()
    assert client.get("/cases").status_code == 200


def test_a_statement_the_database_refuses_is_still_a_500_not_a_503(app):
    from sqlalchemy import text

    from network.core.db import db
    from network.core.errors import database_unreachable

    with pytest.raises(Exception) as refused:
        db.session.execute(text("SELECT no_such_column FROM members"))
    db.session.rollback()
    assert database_unreachable(refused.value) is False


def test_the_worker_outlives_a_database_outage_and_resumes(relayed_app):
    """The worker's loop waits while PostgreSQL is away and runs its jobs again when it is back (it used to die on
    the first OperationalError, leaving mail and indexing stopped)."""
    import time

    from network.core.worker import Job, run_worker

    app, relay = relayed_app
    runs = []
    job = Job(name=f"probe-{time.monotonic_ns()}", run=lambda: runs.append(1) or "1 probe", every=0, command="")
    stop = threading.Event()
    failures = []

    def loop() -> None:
        with app.app_context():
            try:
                run_worker(app, poll=0.05, stop=stop, jobs=[job])
            except BaseException as error:  # noqa: BLE001 - the test reports it
                failures.append(error)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runs, "the worker ran its job"
    relay.cut()
    time.sleep(1.0)  # several rounds against a database that is away
    assert thread.is_alive() and not failures
    before = len(runs)
    relay.restore()
    deadline = time.monotonic() + 15
    while len(runs) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not failures, failures
    assert len(runs) > before, "the worker ran its job again once the database was back"
