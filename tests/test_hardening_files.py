"""What the platform keeps (issue 12): no session row for a visitor who stored nothing worth keeping, while
anonymous forms keep their CSRF protection (finding 19); the instance folder and every file the application
writes in it are private to its user (finding 20)."""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, submit
from tests.test_membership_flow import application_data

CSRF_REJECTED = "The form had expired or did not come from this site"


def session_rows() -> int:
    from network.core.db import db
    from network.core.sessions import WebSession

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WebSession))


# ---------------------------------------------------------------- finding 19: session rows

def test_a_hundred_cookieless_gets_of_forms_and_the_catalogue_write_no_session_row(app):
    client = app.test_client(use_cookies=False)
    pages = ["/sign-in", "/apply", "/cases", "/password/forgot"]
    for number in range(100):
        response = client.get(pages[number % len(pages)])
        assert response.status_code == 200
    assert session_rows() == 0


def test_a_form_page_gives_its_csrf_secret_in_a_signed_cookie_not_a_session(app, client):
    response = client.get("/sign-in")
    assert client.get_cookie("csrf") is not None
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is None
    assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]


@pytest.mark.persistence
def test_anonymous_forms_still_pass_csrf(app, authority, member, mailbox):
    client = app.test_client()
    applied = submit(client, "/apply", application_data(authority))
    assert applied.status_code == 302 and applied.headers["Location"].endswith("/apply/sent")

    client = app.test_client()
    refused = submit(client, "/sign-in", {"email": member.email, "password": "not the password at all"})
    assert refused.status_code == 401  # checked as a sign-in, so past CSRF
    forgot = submit(client, "/password/forgot", {"email": member.email})
    assert forgot.status_code == 200 and CSRF_REJECTED not in forgot.get_data(as_text=True)

    client = app.test_client()
    signed_in = submit(client, "/sign-in", {"email": member.email, "password": member.password})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/sign-in/verify")
    assert session_rows() >= 1  # something worth keeping: the sign-in in progress
    assert client.get_cookie("csrf") is None  # the record holds the CSRF secret from now on


@pytest.mark.parametrize("path", ["/sign-in", "/apply", "/password/forgot"])
def test_anonymous_forms_refuse_a_missing_or_forged_token(app, authority, member, path):
    data = {"email": member.email, "password": member.password, **application_data(authority)}
    client = app.test_client()
    token = csrf_token(client.get(path).get_data(as_text=True))
    missing = client.post(path, data=data)
    other = app.test_client()
    foreign = csrf_token(other.get(path).get_data(as_text=True))  # a valid token, of another visitor's cookie
    forged = client.post(path, data={**data, "csrf_token": foreign})
    cookieless = app.test_client(use_cookies=False).post(path, data={**data, "csrf_token": token})
    client.set_cookie("csrf", other.get_cookie("csrf").value[:-3] + "AAA")  # a secret with a bad signature
    bad_cookie = client.post(path, data={**data, "csrf_token": token})
    for response in (missing, forged, cookieless, bad_cookie):
        assert response.status_code == 400
        assert CSRF_REJECTED in response.get_data(as_text=True)
    assert session_rows() == 0


def test_signing_out_ends_the_record_and_the_next_form_works_without_one(app, auth, member):
    from network.core.db import db
    from network.core.sessions import WebSession

    client = auth.client_for(member)
    token = csrf_token(client.get("/account/security").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert not db.session.scalars(select(WebSession).where(WebSession.member_id == member.id)).all()
    refused = submit(client, "/sign-in", {"email": member.email, "password": "not the password at all"})
    assert refused.status_code == 401


# ---------------------------------------------------------------- finding 20: files at rest

@pytest.fixture
def umask_022():
    """The usual umask of a shell or a service manager: new files 0644, new folders 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.stat().st_mode)
    return found


def loose(folder: Path) -> dict[str, str]:
    return {name: f"{mode:04o}" for name, mode in modes(folder).items() if mode & 0o077}


def _config(instance: Path, smtp_server, **changes) -> dict:
    from tests.conftest import _base_config

    config = _base_config(instance, f"sqlite:///{instance / 'network.db'}", smtp_server.port)
    config.update(changes)
    return config


def test_a_new_instance_is_private_from_the_first_write(tmp_path, smtp_server, umask_022):
    from sqlalchemy import text

    from app import create_app
    from network.core.db import db

    instance = tmp_path / "instance"
    app = create_app(_config(instance, smtp_server, SECRET_KEY=None, MASTER_KEY=None))  # generated: testing
    with app.app_context():
        with db.engine.begin() as connection:  # WAL mode: the -wal and -shm files appear now
            connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        found = modes(instance)
        db.engine.dispose()
    assert {"network.db", "network.db-wal", "secret_key", "master_key"} <= set(found)
    assert found["."] == 0o700
    assert loose(instance) == {}


def test_start_up_tightens_what_an_older_release_or_a_copy_left_readable(tmp_path, smtp_server, sqlite_template,
                                                                        umask_022, caplog):
    from app import create_app

    instance = tmp_path / "instance"
    (instance / "messaging-files").mkdir(parents=True)
    (instance / "search-index").mkdir()
    for name in ("network.db", "network.db-wal", "network.db-shm", "secret_key", "audit-checkpoints.jsonl",
                 "messaging-files/f-" + "0" * 32, "search-index/MAIN_1.toc"):
        (instance / name).write_bytes(b"")
    (instance / "network.db").write_bytes(sqlite_template.read_bytes())  # a real database, copied with cp
    assert loose(instance)  # the umask left them readable by everyone
    with caplog.at_level(logging.WARNING, logger="network.security"):
        create_app(_config(instance, smtp_server))
    assert loose(instance) == {}
    assert modes(instance)["network.db"] == 0o600 and modes(instance)["messaging-files"] == 0o700
    assert any("files at rest" in record.getMessage() and "network.db" in record.getMessage()
               for record in caplog.records)


def test_folders_set_outside_the_instance_are_tightened_too(tmp_path, smtp_server, umask_022):
    from app import create_app

    files = tmp_path / "elsewhere" / "files"
    files.mkdir(parents=True)
    (files / "f-attachment").write_bytes(b"sealed")
    create_app(_config(tmp_path / "instance", smtp_server, MESSAGING_FILES_FOLDER=str(files)))
    assert loose(files) == {}


def test_production_refuses_to_start_when_a_file_cannot_be_made_private(tmp_path, smtp_server, umask_022,
                                                                        monkeypatch):
    from app import create_app
    from network.core import files_at_rest

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    (instance / "network.db").write_bytes(b"")  # 0644

    def refuse(path, mode):
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(files_at_rest.os, "chmod", refuse)
    with pytest.raises(RuntimeError, match="cannot make these private"):
        create_app(_config(instance, smtp_server, TESTING=False))


def test_message_attachments_are_written_private(app, member_factory, other_authority, umask_022):
    import io

    from network.core.db import db
    from network.messaging import lifecycle
    from network.messaging import services as messaging

    sender, recipient = member_factory(), member_factory(authority=other_authority)
    _keys, private, _recovery = lifecycle.create_key_set(sender, sender.password)
    lifecycle.create_key_set(recipient, recipient.password)
    folder = messaging.legacy_attachment_files().folder
    folder.mkdir()
    os.chmod(folder, 0o755)  # noqa: S103 -- as an older release left it
    messaging.start_conversation(sender, [recipient], "Bank records", "Attached.", messaging.Handling(),
                                 private=private, uploads=[messaging.Upload("request.txt", io.BytesIO(b"Request\n"))])
    db.session.commit()
    assert list(folder.iterdir()) == []  # attachments go to the database now (network/core/storage.py)
    assert messaging.attachment_storage().count("f-") == 1

