"""Core services: settings, throttling counters (memory and Redis), mail outbox, health, demo data, commands."""
from __future__ import annotations

import json
import os
import stat
import uuid

import pytest
from sqlalchemy import func, select

from app import create_app
from network.core.db import db
from network.core.mail import OutboxMail, pending_mail, queue_mail
from network.core.ratelimit import MemoryCounter, RedisCounter, ResilientCounter, make_counter

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception:
        return False
    return True


@pytest.fixture(params=["memory", "redis"])
def rate_counter(request):
    if request.param == "memory":
        return MemoryCounter()
    if not _redis_available():
        if os.environ.get("CI"):
            pytest.fail("Redis is required in CI at " + REDIS_URL)
        pytest.skip("Redis not reachable at " + REDIS_URL)
    return RedisCounter(REDIS_URL)


def test_counter_counts_within_its_window_and_resets(rate_counter):
    key = f"test:{uuid.uuid4()}"
    assert [rate_counter.add(key, 60) for _ in range(3)] == [1, 2, 3]
    assert rate_counter.count(key, 60) == 3
    rate_counter.reset(key)
    assert rate_counter.count(key, 60) == 0


def test_unknown_rate_limit_storage_is_refused():
    with pytest.raises(ValueError, match="memory:// or redis://"):
        make_counter("memcached://somewhere")
    assert isinstance(make_counter("redis://127.0.0.1:6379/0"), ResilientCounter)


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("NETWORK_SECRET_KEY", raising=False)
    monkeypatch.delenv("NETWORK_DEMO_MODE", raising=False)
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(RuntimeError, match="secret key"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "short"})


def test_demo_mode_generates_private_secrets_in_the_instance_folder(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEMO_MODE": True})
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert app.config["MAIL_BACKEND"] == "console"
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    again = create_app({"INSTANCE_PATH": str(tmp_path), "DEMO_MODE": True})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_environment_variables_override_defaults_with_their_type(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWORK_SESSION_IDLE_TIMEOUT", "900")
    monkeypatch.setenv("NETWORK_DEMO_MODE", "1")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_IDLE_TIMEOUT"] == 900
    assert app.config["DEMO_MODE"] is True


def test_sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys(app):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_queued_mail_is_sent_only_after_commit(app, mailbox):
    with app.test_request_context("/"):
        queue_mail("someone@example.org", "Hello", "members/lapsed", member={"name": "Someone"})
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert mailbox.to("someone@example.org") == []


def test_undeliverable_mail_stays_in_the_outbox_until_flushed(app, mailbox):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    with app.test_request_context("/"):
        queue_mail("later@example.org", "Hello", "members/lapsed", member={"name": "Later"})
        db.session.commit()
        from network.core.mail import deliver_queued

        deliver_queued()
    assert len(pending_mail()) == 1
    app.config["MAIL_PORT"] = port
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 still waiting" in result.output
    assert mailbox.last("later@example.org")["Subject"] == "Hello"
    assert pending_mail() == []


def test_healthz_reports_database_and_mail(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["mail"]["ok"]


def test_healthz_says_degraded_when_mail_is_down(app, client):
    app.config["MAIL_PORT"] = 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["mail"]["ok"] is False


def test_csp_reports_are_accepted_without_csrf_and_throttled(client):
    assert client.post("/csp-report", data=b"{}", content_type="application/csp-report").status_code == 204
    statuses = [client.post("/csp-report", data=b"{}").status_code for _ in range(40)]
    assert 429 in statuses


def test_demo_commands_refuse_outside_demo_mode(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "demo mode" in result.output


@pytest.mark.persistence
def test_demo_load_leaves_postgresql_with_statistics_of_what_it_loaded(app):
    """After the bulk load the planner and the search (its words' shares) have statistics at once, as after a
    restore: PostgreSQL's autovacuum would analyse the tables only later, if it runs at all."""
    from sqlalchemy import text

    app.config["DEMO_MODE"] = True
    if db.engine.dialect.name != "postgresql":
        return  # SQLite plans without statistics
    started = db.session.scalar(text("SELECT now()"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    analysed = db.session.execute(text("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname IN "
                                       "('members', 'case_search')")).all()
    assert len(analysed) == 2 and all(last is not None and last >= started for _name, last in analysed), analysed


def test_demo_load_is_idempotent_and_writes_private_accounts_file(app):
    from network.members.models import Application, Member

    app.config["DEMO_MODE"] = True
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = (db.session.scalar(select(func.count()).select_from(Member)),
              db.session.scalar(select(func.count()).select_from(Application)))
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert (db.session.scalar(select(func.count()).select_from(Member)),
            db.session.scalar(select(func.count()).select_from(Application))) == counts
    path = os.path.join(app.instance_path, "demo-accounts.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        accounts = json.load(handle)
    assert {"admin", "moderator", "moderator2", "focal_aut", "member_new"} <= set(accounts)
    shown = runner.invoke(args=["demo", "accounts"])
    assert accounts["admin"]["password"] in shown.output
    codes = runner.invoke(args=["demo", "codes"])
    assert "admin@network.example.org" in codes.output


def test_users_create_makes_an_active_member_with_roles(app, authority):
    from network.members.services import find_member

    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "first.admin@justiz.example.at", "--name", "First Admin", "--state", "aut",
        "--authority", authority.key, "--role", "admin"], input="a long enough passphrase\na long enough passphrase\n")
    assert result.exit_code == 0, result.output
    member = find_member("first.admin@justiz.example.at")
    assert member.status == "active" and member.has_role("admin") and member.state == "AUT"


def test_users_create_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "x@example.org", "--name", "X", "--state", "FRA"],
        input="password1234\npassword1234\n")
    assert result.exit_code != 0
    assert "common" in result.output
