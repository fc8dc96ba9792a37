"""Stateless application servers (issue 16, item 1): blob storage in the database, attachments carried over from
the instance folder, `secrets init` before any key exists, and no per-process throttle in a multi-worker start."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import io
import logging
import os
import re

import pytest
from sqlalchemy import func, select

from network.core.db import db
from tests.test_messaging_flow import _html, ready  # noqa: F401 -- `ready` is a fixture

# ---------------------------------------------------------------- the storage


@pytest.mark.persistence
def test_a_blob_is_stored_in_pieces_and_read_back_whole(app):
    from network.core.storage import BlobMissing, DatabaseStorage, StoredChunk

    store = DatabaseStorage(piece_size=1000)
    data = os.urandom(2500)
    with store.writer("f-test") as stream:
        for start in range(0, len(data), 300):  # writes of any size; pieces of exactly 1000 bytes
            stream.write(data[start:start + 300])
    with store.writer("f-empty"):
        pass
    db.session.commit()
    sizes = db.session.execute(select(StoredChunk.seq, func.length(StoredChunk.data))
                               .where(StoredChunk.blob_id == "f-test").order_by(StoredChunk.seq)).all()
    assert [tuple(row) for row in sizes] == [(0, 1000), (1, 1000), (2, 500)]
    with store.open("f-test") as stream:
        assert stream.read(10) == data[:10] and stream.read() == data[10:]
    assert store.open("f-empty").read() == b"" and store.exists("f-empty") and store.size("f-test") == 2500
    with pytest.raises(BlobMissing):
        store.open("f-nothing")
    with pytest.raises(ValueError, match="not a blob id"):
        store.open("../etc/passwd")
    store.delete("f-test")
    db.session.commit()
    assert not store.exists("f-test") and store.count("f-") == 1


def test_a_blob_written_in_a_transaction_that_rolls_back_leaves_nothing(app):
    from network.core.storage import DatabaseStorage

    store = DatabaseStorage()
    with store.writer("f-rolled-back") as stream:
        stream.write(b"x" * 10)
    db.session.rollback()
    assert not store.exists("f-rolled-back")


# ---------------------------------------------------------------- attachments from the instance folder


def _send_with_file(client, recipient, data: bytes) -> tuple[str, str]:
    from tests.conftest import submit

    response = submit(client, "/messages/new", {"recipients": [str(recipient.id)], "subject": "With a file",
                                                "text": "Attached.", "attachments": (io.BytesIO(data), "a.bin")},
                      page="/messages/new", content_type="multipart/form-data")
    assert response.status_code == 302, _html(response)[:2000]
    conversation = response.headers["Location"].rsplit("/", 1)[1]
    page = _html(client.get(f"/messages/{conversation}"))
    link = re.search(r'href="(/messages/\d+/files/\d+/(f-[0-9a-f]{32}))"', page)
    return link.group(1), link.group(2)


def _as_before_issue_16(file_id: str):
    """Move a stored attachment back to the instance folder, where releases before the database storage kept it."""
    from network.messaging.services import attachment_storage, legacy_attachment_files

    store, files = attachment_storage(), legacy_attachment_files()
    with store.open(file_id) as stream, files.writer(file_id) as target:
        target.write(stream.read())
    store.delete(file_id)
    db.session.commit()
    return files.path(file_id)


@pytest.mark.persistence
def test_attachments_in_the_instance_folder_are_served_until_migrated_then_from_the_database(app, ready,
                                                                                              member_factory):
    from network.messaging.services import attachment_storage

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    content = os.urandom(300 * 1024)
    link, file_id = _send_with_file(a, bob, content)
    path = _as_before_issue_16(file_id)
    assert b.get(link).data == content  # read from disk: not migrated yet
    runner = app.test_cli_runner()
    result = runner.invoke(args=["messaging", "attachments", "migrate"])
    assert result.exit_code == 0, result.output
    assert "1 copied, 0 already in the database, 0 failed; the files copied are removed" in result.output
    assert not path.exists() and attachment_storage().exists(file_id)
    assert b.get(link).data == content  # from the database
    again = runner.invoke(args=["messaging", "attachments", "migrate"])
    assert again.exit_code == 0 and "0 copied, 0 already in the database, 0 failed" in again.output


def test_the_migration_resumes_after_an_interruption_and_never_overwrites(app, ready, member_factory):
    from network.messaging.services import attachment_storage, legacy_attachment_files

    alice, bob = member_factory(), member_factory()
    a, _b = ready(alice), ready(bob)
    _link, copied_before = _send_with_file(a, bob, b"first file " * 1000)
    _link, differs = _send_with_file(a, bob, b"second file " * 1000)
    files = legacy_attachment_files()
    for file_id in (copied_before, differs):  # a run stopped after its commit, before removing the file
        with attachment_storage().open(file_id) as stream, files.writer(file_id) as target:
            target.write(stream.read())
    files.path(differs).write_bytes(b"not what the database holds")
    result = app.test_cli_runner().invoke(args=["messaging", "attachments", "migrate"])
    assert result.exit_code == 1
    assert "0 copied, 1 already in the database, 1 failed" in result.output
    assert f"{differs}: the database holds different bytes" in result.output
    assert not files.path(copied_before).exists() and files.path(differs).exists()


# ---------------------------------------------------------------- secrets init


def _flask_command(instance, *args: str):
    """Run a `flask --app app` command in this process, on an app that has no keys and is not in test mode."""
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    from app import create_app

    def production_app():
        return create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/n.db",
                           "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/13"})

    group = FlaskGroup(create_app=production_app, load_dotenv=False, set_debug_flag=False)
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def test_secrets_init_works_before_any_key_exists_and_nothing_else_does(tmp_path):
    from app import create_app

    instance = tmp_path / "instance"
    refused = _flask_command(instance, "audit", "verify")
    assert refused.exit_code == 1 and "No real secret key" in refused.output
    assert not (instance / "secret_key").exists()
    created = _flask_command(instance, "secrets", "init")
    assert created.exit_code == 0, created.output
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (instance / "master_key").stat().st_mode & 0o777 == 0o600
    assert "exists; left as it is" in _flask_command(instance, "secrets", "init").output
    with pytest.raises(RuntimeError, match="No real secret key"):  # a server (no flask command) is refused at once
        create_app({"INSTANCE_PATH": str(tmp_path / "other"), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/n.db",
                      "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/13"})
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()


# ---------------------------------------------------------------- throttles


GUNICORN = "/srv/network/.venv/bin/gunicorn"


@pytest.mark.parametrize(("argv", "environ", "workers"), [
    ([GUNICORN, "--workers", "4", "app:create_app()"], {}, 4),
    ([GUNICORN, "-w", "2", "--bind", "127.0.0.1:8000", "app:create_app()"], {}, 2),
    ([GUNICORN, "app:create_app()"], {"GUNICORN_CMD_ARGS": "--workers=3"}, 3),
    ([GUNICORN, "app:create_app()"], {"WEB_CONCURRENCY": "5"}, 5),
    ([GUNICORN, "app:create_app()"], {}, 1),
    ([GUNICORN, "-c", "deploy/gunicorn.conf.py", "app:create_app()"], {}, None),
    (["/usr/lib/python3/dist-packages/gunicorn/__main__.py", "-w", "4", "app:create_app()"], {}, 4),
    (["/srv/network/.venv/bin/flask", "--app", "app", "run"], {"WEB_CONCURRENCY": "5"}, None),
])
def test_the_server_worker_count_is_read_as_gunicorn_reads_it(argv, environ, workers):
    from config import server_workers

    assert server_workers(argv, environ) == workers


def test_a_production_start_of_several_workers_with_memory_throttles_is_refused(tmp_path, smtp_server,
                                                                              monkeypatch, caplog):
    from app import create_app
    from tests.conftest import _base_config

    config = _base_config(tmp_path, f"sqlite:///{tmp_path / 'n.db'}", smtp_server.port)
    config["TESTING"] = False
    monkeypatch.setattr("sys.argv", [GUNICORN, "--workers", "4", "app:create_app()"])
    with pytest.raises(RuntimeError, match="memory:// with 4 server workers"):
        create_app(config)
    create_app({**config, "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/13"})  # shared counters: starts
    monkeypatch.setattr("sys.argv", [GUNICORN, "--workers", "1", "app:create_app()"])
    with caplog.at_level(logging.ERROR, logger="network.security"):
        create_app(config)  # one worker: correct, and said loudly
    assert any("count in this process only" in r.getMessage() for r in caplog.records)
    create_app({**config, "TESTING": True, "INSTANCE_PATH": str(tmp_path / "t")})  # tests keep memory://
