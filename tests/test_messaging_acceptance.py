"""Acceptance of encrypted messaging against the stored data itself: every stored field changed in the database is
detected and nothing is shown; a canary sent in messages of every kind never appears in any table, the search index,
the logs, the e-mails or any page of someone it was not addressed to. On SQLite and PostgreSQL."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.conftest import submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 -- `ready` is a fixture

pytestmark = pytest.mark.persistence

MARK = "CANARY-7f3a9c"
FAILED = "failed verification"


def _flip(value: str) -> str:
    """Change one character of a base64url field (keeping it valid base64url)."""
    middle = len(value) // 2
    return value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]


def _edit_envelope(message, edit) -> None:
    record = json.loads(message.envelope)
    edit(record)
    message.envelope = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def _wrap_of(record, slot):
    return next(w for w in record["wraps"] if w["slot"] == slot)


TAMPERINGS = {
    "ciphertext": lambda m, ids: _edit_envelope(m, lambda r: r.update(ct=_flip(r["ct"]))),
    "nonce": lambda m, ids: _edit_envelope(m, lambda r: r.update(nonce=_flip(r["nonce"]))),
    "key commitment": lambda m, ids: _edit_envelope(m, lambda r: r.update(commit=_flip(r["commit"]))),
    "wrapped key": lambda m, ids: _edit_envelope(
        m, lambda r: _wrap_of(r, f"member:{ids['bob']}").update(enc=_flip(_wrap_of(r, f"member:{ids['bob']}")["enc"]))),
    "signature": lambda m, ids: _edit_envelope(m, lambda r: r.update(sig=_flip(r["sig"]))),
    "signed metadata: time": lambda m, ids: _edit_envelope(
        m, lambda r: r["header"].update(sent_at="2020-01-01T00:00:00Z")),
    "signed metadata: handling": lambda m, ids: _edit_envelope(
        m, lambda r: r["header"]["handling"].update(limited_use=not r["header"]["handling"]["limited_use"])),
    "signed recipient list": lambda m, ids: _edit_envelope(
        m, lambda r: r["header"].update(recipients=sorted([*r["header"]["recipients"], f"member:{ids['carol']}"]))),
    "clear column: urgent": lambda m, ids: setattr(m, "urgent", not m.urgent),
    "clear column: sender": lambda m, ids: setattr(m, "sender_id", ids["carol"]),
    "clear recipient rows": lambda m, ids: m.states.append(_state(m, ids["carol"])),
    "envelope truncated": lambda m, ids: setattr(m, "envelope", m.envelope[:-10]),
}


def _state(message, member_id):
    from network.messaging.models import MessageRecipientState

    return MessageRecipientState(slot=f"member:{member_id}", member_id=member_id)


@pytest.mark.parametrize("field", sorted(TAMPERINGS))
def test_every_stored_field_changed_in_the_database_is_detected_and_nothing_shown(app, ready, member_factory, field):
    from network.core.db import db
    from network.messaging.models import Message

    alice, bob, carol = member_factory(), member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    message = db.session.query(Message).one()
    TAMPERINGS[field](message, {"bob": bob.id, "carol": carol.id})
    db.session.commit()
    for client in (b, a):  # the recipient and the sender's own copy
        page = _html(client.get(f"/messages/{conversation_id}"))
        assert FAILED in page and MARK not in page, field
        assert MARK not in _html(client.get("/messages/"))


def test_a_changed_receipt_is_no_longer_shown_as_proof(app, ready, member_factory):
    from network.core.db import db
    from network.messaging.models import MessageRecipientState

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    b.get(f"/messages/{conversation_id}")
    assert _html(a.get(f"/messages/{conversation_id}")).count("signed receipt verified") == 2
    for column, edit in (("read_receipt", lambda r: r.update(at="2020-01-01T00:00:00Z")),
                         ("delivery_receipt", lambda r: r.update(sig=_flip(r["sig"])))):
        state = db.session.query(MessageRecipientState).one()
        record = json.loads(getattr(state, column))
        edit(record)
        setattr(state, column, json.dumps(record))
        db.session.commit()
    assert "signed receipt verified" not in _html(a.get(f"/messages/{conversation_id}"))
    state = db.session.query(MessageRecipientState).one()
    state.read_receipt = json.dumps(json.loads(state.delivery_receipt) | {"kind": "read"})  # a receipt moved
    db.session.commit()
    assert "signed receipt verified" not in _html(a.get(f"/messages/{conversation_id}"))


def _table_texts(app) -> dict[str, str]:
    """Every row of every table, as text: on PostgreSQL each row cast to text by the server (what a dump holds),
    on SQLite each value rendered (bytes decoded as Latin-1, so no byte sequence is lost)."""
    from network.core.db import db

    names = inspect(db.engine).get_table_names()
    texts = {}
    with db.engine.connect() as connection:
        for name in names:
            quoted = db.engine.dialect.identifier_preparer.quote(name)
            if db.engine.dialect.name == "postgresql":
                rows = connection.execute(text(f"SELECT CAST(t AS text) FROM {quoted} t"))  # noqa: S608 -- names from the inspector
                texts[name] = "\n".join(row[0] for row in rows)
            else:
                rows = connection.execute(text(f"SELECT * FROM {quoted}"))  # noqa: S608 -- names from the inspector
                texts[name] = "\n".join(
                    " | ".join(bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v) for v in row)
                    for row in rows)
    return texts


def test_the_canary_never_reaches_tables_index_logs_mail_or_outsiders(app, ready, member_factory, authority,
                                                                      other_authority, moderator, admin, mailbox,
                                                                      caplog, tmp_path):
    from network.core.db import db

    caplog.set_level(logging.DEBUG)
    focal = member_factory(roles=("focal_point",), authority=authority, email="focal@justiz.example.at")
    alice = member_factory(authority=other_authority, email="alice@justice.example.ng")
    bob, carol, outsider = member_factory(), member_factory(), member_factory()
    f, a, b, c = ready(focal), ready(alice), ready(bob), ready(carol)
    clients = {"outsider": ready(outsider), "moderator": ready(moderator), "admin": ready(admin)}
    mailbox.clear()

    # Direct with an attachment, urgent; group; authority mailbox; replies; receipts; export.
    direct = submit(a, "/messages/new", {"recipients": [str(bob.id)], "subject": CANARY + " direct",
                                         "text": CANARY + " body", "urgent": "y", "confidential": "y",
                                         "attachments": (io.BytesIO((CANARY + " file").encode()),
                                                         CANARY + ".txt")},
                    content_type="multipart/form-data")
    assert direct.status_code == 302
    direct_id = int(direct.headers["Location"].rsplit("/", 1)[1])
    group_id = send(a, [bob, carol], subject=CANARY + " group", text=CANARY + " group body")
    submit(f, "/messages/mailboxes/AUT-MOJ/open", page="/messages/mailboxes/AUT-MOJ")
    mailbox_conversation = submit(a, "/messages/authority/AUT-MOJ", {"subject": CANARY + " mailbox",
                                                                     "text": CANARY + " mailbox body", "urgent": "y"})
    mailbox_id = int(mailbox_conversation.headers["Location"].rsplit("/", 1)[1])
    for client, conversation_id in ((b, direct_id), (c, group_id), (f, mailbox_id)):
        assert MARK in _html(client.get(f"/messages/{conversation_id}"))
        submit(client, f"/messages/{conversation_id}/reply", {"text": CANARY + " reply"},
               page=f"/messages/{conversation_id}")
    page = _html(b.get(f"/messages/{direct_id}"))
    link = page[page.index("/messages/", page.index("attachments")):].split('"')[0]
    assert (CANARY + " file").encode() == b.get(link).data
    export = a.get(f"/messages/{direct_id}/export")
    assert export.status_code == 200  # the participant's own readable copy: downloaded, never stored
    db.session.remove()

    # No table holds it, on either backend.
    texts = _table_texts(app)
    assert "messaging_messages" in texts and any(texts.values())
    assert not [name for name, content in texts.items() if MARK in content]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        db.engine.dispose()
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert MARK.encode() not in raw and MARK.encode("utf-16-le") not in raw
    # Nor the search index, the encrypted attachments, the logs or any e-mail.
    index = Path(app.config["SEARCH_INDEX_PATH"] or Path(app.instance_path) / "search-index")
    for folder in (index, Path(app.instance_path) / "messaging-files"):
        for file in folder.rglob("*") if folder.exists() else ():
            if file.is_file():
                assert MARK.encode() not in file.read_bytes(), file
    assert not [r for r in caplog.records if MARK in r.getMessage()]
    assert len(mailbox.messages) >= 2  # the urgent notices were sent
    for message in mailbox.messages:
        assert MARK not in message.as_string()
    # Nor any page of those it was not addressed to.
    pages = ["/messages/", "/messages/mailboxes", "/messages/reports", "/forum/", "/audit",
             "/directory/AUT-MOJ", "/members/", "/account/security"]
    for conversation_id in (direct_id, group_id, mailbox_id):
        pages += [f"/messages/{conversation_id}", f"/messages/{conversation_id}/export"]
    pages.append(link)
    for role, client in clients.items():
        for url in pages:
            response = client.get(url)
            assert MARK.encode() not in response.data, (role, url)
    bob_pages = [f"/messages/{mailbox_id}", "/messages/mailboxes/AUT-MOJ"]
    for url in bob_pages:
        assert MARK.encode() not in b.get(url).data
