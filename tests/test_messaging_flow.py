"""Encrypted messaging in the platform: keys through sign-in, password change and reset, the recovery key,
conversations with signed receipts, handling instructions, urgent notices without content, access, export."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import csrf_token, submit

CANARY = "CANARY-7f3a9c-bank-records-of-Alpha-Holdings"


def _html(response) -> str:
    return response.get_data(as_text=True)


def confirm_recovery_key(client) -> str:
    """Read the recovery key shown once, type its last group back; returns the key."""
    page = client.get("/messages/recovery-key")
    assert page.status_code == 200, page.status_code
    key = re.search(r'id="recovery-key">([A-Z2-7-]+)<', _html(page)).group(1)
    response = client.post("/messages/recovery-key", data={"csrf_token": csrf_token(_html(page)),
                                                           "group": key.split("-")[-1], "saved": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/messages/")
    return key


@pytest.fixture
def ready(auth):
    """A signed-in client whose messaging keys are unlocked and recovery key confirmed."""
    def make(member):
        client = auth.client_for(member)
        member.recovery_key = confirm_recovery_key(client)
        return client
    return make


def send(client, recipients, subject=CANARY + " subject", text=CANARY + " text", **flags):
    data = {"recipients": [str(r.id) for r in recipients], "subject": subject, "text": text}
    data.update({name: "y" for name, on in flags.items() if on})
    response = submit(client, "/messages/new", data)
    assert response.status_code == 302, _html(response)[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def keys_of(member):
    from network.messaging import lifecycle

    return lifecycle.key_sets(member)


# ---------------------------------------------------------------- keys and sessions

def test_regenerate_issues_the_new_token_at_once(app):
    from network.core.sessions import ServerSession

    session = ServerSession({"a": 1}, token="old-token", record={"id": "x"})
    session.regenerate()
    assert session.token and session.token != "old-token" and session.rotate


def test_first_sign_in_makes_keys_and_the_recovery_key_must_be_confirmed(app, auth, member):
    client = auth.client_for(member)
    (keys,) = keys_of(member)
    assert keys.key_version == 1 and keys.recovery_confirmed_at is None and keys.retired_at is None
    assert "password" in keys.password_wrapped and member.password not in keys.password_wrapped
    assert client.get("/messages/").headers["Location"].endswith("/messages/recovery-key")
    page = client.get("/messages/recovery-key")
    key = re.search(r'id="recovery-key">([A-Z2-7-]+)<', _html(page)).group(1)
    wrong = client.post("/messages/recovery-key", data={"csrf_token": csrf_token(_html(page)), "group": "AAAAAAA",
                                                        "saved": "y"})
    assert wrong.status_code == 400 and "not group 8" in _html(wrong)
    unticked = client.post("/messages/recovery-key", data={"csrf_token": csrf_token(_html(page)),
                                                           "group": key.split("-")[-1]})
    assert unticked.status_code == 400
    done = client.post("/messages/recovery-key", data={"csrf_token": csrf_token(_html(page)),
                                                       "group": key.split("-")[-1].lower(), "saved": "y"})
    assert done.status_code == 302
    assert keys_of(member)[0].recovery_confirmed_at is not None
    assert client.get("/messages/recovery-key").status_code == 302  # never shown again
    assert key not in _html(client.get("/messages/"))
    # The recovery key opens the stored keys.
    from network.messaging.keys import unwrap_with_recovery_key

    assert unwrap_with_recovery_key(json.loads(keys_of(member)[0].recovery_wrapped), key, member_id=member.id)


def test_keys_are_sealed_under_the_session_token_and_die_with_the_session(app, auth, member):
    from network.core.crypto import token_digest
    from network.core.db import db
    from network.core.sessions import WebSession

    client = auth.client_for(member)
    token = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert db.session.get(WebSession, token_digest(token)) is not None
    assert client.get("/messages/recovery-key").status_code == 200  # keys open with this cookie
    submit(client, "/sign-out", page="/account/security")
    db.session.expire_all()
    record = db.session.get(WebSession, token_digest(token))
    assert record is None or record.member_id is None  # signed out: the record keeps at most a flash message
    with client.session_transaction() as session:
        assert "messaging_keys" not in session and "messaging_pending" not in session
    assert keys_of(member)[0].recovery_confirmed_at is None
    second = auth.client_for(member)  # an unconfirmed recovery key is replaced by a new one at the next sign-in
    assert second.get("/messages/recovery-key").status_code == 200


def test_the_session_keys_are_unsealed_once_per_request_and_not_kept_beyond_it(app, ready, member_factory,
                                                                                 other_authority, monkeypatch):
    """A conversation's page asks for the session's keys several times (is messaging ready, the keyring, each receipt
    it signs): they are unsealed once per request and key set, and unsealed again by the next request."""
    from network.messaging import lifecycle

    alice, bob = member_factory(), member_factory(authority=other_authority)
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    for n in range(3):
        submit(a, f"/messages/{conversation_id}/reply", {"text": f"Step {n}"}, page=f"/messages/{conversation_id}")
    unsealed = []
    original = lifecycle.unseal_from_session
    monkeypatch.setattr(lifecycle, "unseal_from_session",
                        lambda *args, **kw: unsealed.append(1) or original(*args, **kw))
    for visit in (1, 2):  # the first visit signs four delivery and four read receipts
        page = b.get(f"/messages/{conversation_id}")
        assert page.status_code == 200 and _html(page).count("Signature verified") == 4
        assert len(unsealed) == visit


def test_a_session_without_keys_is_told_to_sign_in_again(app, auth, member):
    client = auth.client_for(member)
    with client.session_transaction() as session:
        session.pop("messaging_keys")
    page = client.get("/messages/")
    assert page.status_code == 200 and "not unlocked in this session" in _html(page)


# ---------------------------------------------------------------- conversations

def test_direct_message_round_trip_with_signed_receipts(app, ready, member_factory, other_authority):
    alice = member_factory(name="Alice Prosecutor")
    bob = member_factory(authority=other_authority, name="Bob Officer", email="bob@justice.example.ng")
    a, b = ready(alice), ready(bob)
    compose = a.get("/messages/new")
    assert "never indexed by search" in _html(compose) and "not end-to-end encryption" in _html(compose)
    conversation_id = send(a, [bob], confidential=True, limited_use=True)

    inbox = _html(b.get("/messages/"))
    assert CANARY + " subject" in inbox and "Alice Prosecutor" in inbox
    from network.core.db import db
    from network.messaging.models import Message, MessageRecipientState

    state = db.session.query(MessageRecipientState).one()
    assert state.delivered_at is not None and state.read_at is None and state.delivery_receipt

    page = _html(b.get(f"/messages/{conversation_id}"))
    assert CANARY + " text" in page and "Signature verified" in page
    assert "CONFIDENTIAL" in page and "art. 18 (20)" in page and "LIMITATION ON USE" in page and "art. 18 (19)" in page
    db.session.expire_all()
    state = db.session.query(MessageRecipientState).one()
    assert state.read_at is not None and json.loads(state.read_receipt)["kind"] == "read"

    sender_view = _html(a.get(f"/messages/{conversation_id}"))
    assert sender_view.count("signed receipt verified") == 2  # delivered and read, by Bob's own key

    reply = submit(b, f"/messages/{conversation_id}/reply", {"text": "Received, thank you."},
                   page=f"/messages/{conversation_id}")
    assert reply.status_code == 302
    assert "Received, thank you." in _html(a.get(f"/messages/{conversation_id}"))
    assert db.session.query(Message).count() == 2


def test_group_conversation_and_its_participant_cap(app, ready, member_factory, monkeypatch):
    people = [member_factory() for _ in range(4)]
    clients = [ready(p) for p in people]
    conversation_id = send(clients[0], people[1:])
    for client in clients[1:]:
        assert CANARY + " text" in _html(client.get(f"/messages/{conversation_id}"))
    from network.messaging import models

    monkeypatch.setattr(models, "MAX_PARTICIPANTS", 3)
    from network.messaging import services

    monkeypatch.setattr(services, "MAX_PARTICIPANTS", 3)
    refused = submit(clients[0], "/messages/new", {"recipients": [str(p.id) for p in people[1:]],
                                                   "subject": "s", "text": "t"})
    assert refused.status_code == 400 and "at most 3 participants" in _html(refused)


def test_only_participants_open_a_conversation(app, ready, auth, member_factory, moderator, admin):
    alice, bob, carol = member_factory(), member_factory(), member_factory()
    a = ready(alice)
    ready(bob)
    conversation_id = send(a, [bob])
    for outsider in (carol, moderator, admin):
        client = ready(outsider)
        assert client.get(f"/messages/{conversation_id}").status_code == 404
        assert submit(client, f"/messages/{conversation_id}/reply", {"text": "x"},
                      page="/messages/").status_code == 404
        assert client.get(f"/messages/{conversation_id}/export").status_code == 404
        assert CANARY not in _html(client.get("/messages/"))


def test_a_changed_envelope_shows_a_warning_and_nothing_of_the_message(app, ready, member_factory):
    from network.core.db import db
    from network.messaging.models import Message

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    message = db.session.query(Message).one()
    record = json.loads(message.envelope)
    record["header"]["handling"]["confidential"] = True  # an operator quietly edits the metadata
    message.envelope = json.dumps(record).encode()
    db.session.commit()
    page = _html(b.get(f"/messages/{conversation_id}"))
    assert "failed verification" in page and CANARY not in page


def test_urgent_message_mails_a_notice_naming_the_sender_never_the_content(app, ready, member_factory, mailbox):
    alice = member_factory(name="Alice Urgent")
    bob = member_factory(email="bob.urgent@justiz.example.at")
    a = ready(alice)
    ready(bob)
    mailbox.clear()
    send(a, [bob], urgent=True)
    mail = mailbox.last("bob.urgent@justiz.example.at")
    assert "Alice Urgent" in mail["Subject"] and "Alice Urgent" in mail.get_content()
    for message in mailbox.messages:
        assert CANARY not in message["Subject"] and CANARY not in message.get_content()


def test_canary_never_appears_in_the_database_file(app, ready, member_factory, mailbox):
    from network.core.db import db

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob], urgent=True)
    b.get("/messages/")
    b.get(f"/messages/{conversation_id}")
    submit(b, f"/messages/{conversation_id}/reply", {"text": CANARY + " reply"}, page=f"/messages/{conversation_id}")
    db.session.remove()
    db.engine.dispose()
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"CANARY-7f3a9c" not in raw and "CANARY-7f3a9c".encode("utf-16-le") not in raw
    assert b"messaging_messages" in raw  # the scan did read the database


# ---------------------------------------------------------------- password change, reset, recovery

def test_password_change_keeps_the_keys(app, ready, auth, member_factory, clock):
    from tests.conftest import current_code

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    response = submit(b, "/account/password", {"current_password": bob.password,
                                               "new_password": "a much newer passphrase 2026",
                                               "code": current_code(bob.secret, clock)})
    assert response.status_code == 302
    bob.password = "a much newer passphrase 2026"
    again = auth.client_for(bob)
    assert CANARY + " text" in _html(again.get(f"/messages/{conversation_id}"))
    assert [k.key_version for k in keys_of(bob)] == [1]


def test_reset_without_recovery_key_loses_old_messages_and_the_recovery_key_restores_them(
        app, ready, auth, member_factory):
    from network.members.services import make_link_token

    alice, bob = member_factory(), member_factory()
    a = ready(alice)
    ready(bob)
    conversation_id = send(a, [bob])
    old_recovery_key = bob.recovery_key

    token = make_link_token("password-reset", {"m": bob.id, "h": bob.password_hash[-16:]})
    page = _html(auth.app.test_client().get(f"/password/reset/{token}"))
    assert "Before you continue" in page and "recovery key" in page  # warned before it happens
    response = submit(auth.app.test_client(), f"/password/reset/{token}", {"password": "reset passphrase for bob 1"})
    assert response.status_code == 302
    assert keys_of(bob)[0].retired_at is not None
    bob.password = "reset passphrase for bob 1"

    b2 = ready(bob)  # a fresh key set, with its own recovery key
    assert [k.key_version for k in keys_of(bob)] == [1, 2]
    page = _html(b2.get(f"/messages/{conversation_id}"))
    assert "before a password reset" in page and CANARY + " text" not in page
    new_id = send(a, [bob], subject="after reset", text="new keys work")
    assert "new keys work" in _html(b2.get(f"/messages/{new_id}"))

    last = old_recovery_key[-1]
    mistyped = old_recovery_key[:-1] + ("B" if last == "A" else "A")  # always a different character
    typo = submit(b2, "/messages/restore", {"recovery_key": mistyped, "password": bob.password})
    assert typo.status_code == 400
    wrong = submit(b2, "/messages/restore", {"recovery_key": bob.recovery_key, "password": bob.password})
    assert wrong.status_code == 400  # the new set's key does not open the old set
    restored = submit(b2, "/messages/restore", {"recovery_key": old_recovery_key, "password": bob.password})
    assert restored.status_code == 302
    assert CANARY + " text" in _html(b2.get(f"/messages/{conversation_id}"))
    again = auth.client_for(bob)  # and at the next sign-in, with the password alone
    assert CANARY + " text" in _html(again.get(f"/messages/{conversation_id}"))


# ---------------------------------------------------------------- export

def test_exported_conversation_verifies_and_a_changed_byte_does_not(app, ready, member_factory, tmp_path):
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    b.get(f"/messages/{conversation_id}")
    response = a.get(f"/messages/{conversation_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    path = tmp_path / "bundle.json"
    path.write_bytes(response.data)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["messages", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(response.data)["receipts"]
    data = bytearray(response.data)
    index = data.index(b'"ct": "') + 10
    data[index] = ord("A") if data[index] != ord("A") else ord("B")
    path.write_bytes(bytes(data))
    assert runner.invoke(args=["messages", "verify", str(path)]).exit_code == 1


def test_expiry_ends_the_session_and_its_keys(app, ready, member_factory, clock):
    alice = member_factory()
    a = ready(alice)
    assert a.get("/messages/").status_code == 200
    clock.advance(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60)
    response = a.get("/messages/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    with a.session_transaction() as session:
        assert "messaging_keys" not in session
