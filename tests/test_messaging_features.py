"""Messaging around the envelope: key verification with safety numbers and changed-key warnings, encrypted
attachments, and reports that forward a message's text to the moderators."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from network.core.db import db
from tests.conftest import csrf_token, submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 -- `ready` is a fixture


def _safety_number(page: str) -> str:
    return re.search(r'id="safety-number">([0-9 ]+)<', page).group(1)


def reset_password(auth, member, password="reset passphrase 2026 x"):  # noqa: S107 -- a test fixture
    from network.members.services import make_link_token

    token = make_link_token("password-reset", {"m": member.id, "h": member.password_hash[-16:]})
    response = submit(auth.app.test_client(), f"/password/reset/{token}", {"password": password})
    assert response.status_code == 302
    member.password = password


# ---------------------------------------------------------------- key verification

def test_both_members_see_the_same_safety_number_and_can_mark_each_other_verified(app, ready, member_factory):
    from network.messaging import lifecycle
    from network.messaging.keys import safety_number

    alice, bob = member_factory(name="Alice V"), member_factory(name="Bob V")
    a, b = ready(alice), ready(bob)
    on_alice = _html(a.get(f"/messages/verify/{bob.id}"))
    on_bob = _html(b.get(f"/messages/verify/{alice.id}"))
    number = _safety_number(on_alice)
    assert number == _safety_number(on_bob) and len(number.replace(" ", "")) == 30
    expected = safety_number(f"member:{alice.id}", lifecycle.public_keys(lifecycle.current_keys(alice)),
                             f"member:{bob.id}", lifecycle.public_keys(lifecycle.current_keys(bob)))
    assert number == expected
    assert "mark as verified" in on_alice
    response = submit(a, f"/messages/verify/{bob.id}")
    assert response.status_code == 302
    page = _html(a.get(f"/messages/verify/{bob.id}"))
    assert "You verified <bdi>Bob V" in page and "mark as verified" not in page
    assert a.get(f"/messages/verify/{alice.id}").status_code == 404  # not with oneself


def test_a_changed_key_warns_in_every_conversation_with_that_member(app, ready, auth, member_factory):
    alice, bob, carol = member_factory(), member_factory(name="Bob Changing"), member_factory()
    a = ready(alice)
    ready(bob)
    ready(carol)
    direct = send(a, [bob])
    group = send(a, [bob, carol])
    submit(a, f"/messages/verify/{bob.id}")
    for conversation_id in (direct, group):
        assert "has changed" not in _html(a.get(f"/messages/{conversation_id}"))
    before = _safety_number(_html(a.get(f"/messages/verify/{bob.id}")))

    reset_password(auth, bob)
    ready(bob)  # the next sign-in makes a new key set
    for conversation_id in (direct, group):
        page = _html(a.get(f"/messages/{conversation_id}"))
        assert "The key of <bdi>Bob Changing</bdi> has changed" in page and f"/messages/verify/{bob.id}" in page
    verify_page = _html(a.get(f"/messages/verify/{bob.id}"))
    assert "changed since you verified it" in verify_page and _safety_number(verify_page) != before
    submit(a, f"/messages/verify/{bob.id}")  # compared again, out of band
    assert "has changed" not in _html(a.get(f"/messages/{direct}"))


def test_an_unverified_member_whose_key_changed_is_warned_about_too(app, ready, auth, member_factory):
    alice, bob = member_factory(), member_factory(name="Bob Unverified")
    a = ready(alice)
    ready(bob)
    conversation_id = send(a, [bob])
    reset_password(auth, bob)
    ready(bob)
    assert "The key of <bdi>Bob Unverified</bdi> has changed" in _html(a.get(f"/messages/{conversation_id}"))


# ---------------------------------------------------------------- attachments

def send_with_file(client, recipients, data: bytes, name="evidence.pdf"):
    response = submit(client, "/messages/new", {
        "recipients": [str(r.id) for r in recipients], "subject": "With a file", "text": "See the attachment.",
        "attachments": (io.BytesIO(data), name)}, page="/messages/new", content_type="multipart/form-data")
    assert response.status_code == 302, _html(response)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _file_link(page: str) -> str:
    return re.search(r'href="(/messages/\d+/files/\d+/f-[0-9a-f]{32})"', page).group(1)


def test_attachment_round_trip_is_encrypted_at_rest_and_served_as_a_download(app, ready, member_factory):
    from network.core.storage import StoredChunk
    from network.messaging.services import legacy_attachment_files

    alice, bob, carol = member_factory(), member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    outsider = ready(carol)
    content = (CANARY + " attachment body\n").encode() * 5000 + b"<script>alert(1)</script>"  # several chunks
    conversation_id = send_with_file(a, [bob], content, name="bank-records.html")
    page = _html(b.get(f"/messages/{conversation_id}"))
    assert "bank-records.html" in page
    link = _file_link(page)
    response = b.get(link)
    assert response.status_code == 200 and response.data == content
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "bank-records.html" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert a.get(link).data == content  # the sender's own copy
    assert outsider.get(link).status_code == 404
    pieces = db.session.scalars(select(StoredChunk).order_by(StoredChunk.blob_id, StoredChunk.seq)).all()
    assert {piece.blob_id for piece in pieces} == {link.rsplit("/", 1)[1]}  # in the database, not on disk
    sealed = b"".join(piece.data for piece in pieces)
    assert CANARY.encode() not in sealed and len(sealed) > len(content)  # chunk tags
    assert not legacy_attachment_files().ids()


def test_a_tampered_attachment_is_refused_and_nothing_is_sent(app, ready, member_factory):
    from network.core.storage import StoredChunk

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send_with_file(a, [bob], b"secret bytes " * 10000)
    link = _file_link(_html(b.get(f"/messages/{conversation_id}")))
    (piece,) = db.session.scalars(select(StoredChunk)).all()
    data = bytearray(piece.data)
    data[-20] ^= 1
    piece.data = bytes(data)
    db.session.commit()
    response = b.get(link)
    assert response.status_code == 409 and b"secret bytes" not in response.data
    assert "failed verification" in _html(response)


def test_attachments_above_the_form_limit_pass_up_to_the_configured_size(app, ready, member_factory):
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    big = b"x" * (3 * 1024 * 1024)  # above the site-wide MAX_CONTENT_LENGTH of 2 MB
    token = csrf_token(_html(a.get("/messages/new")))
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "recipients": str(bob.id), "subject": "Big",
                                       "text": "A big file", "attachments": FileStorage(io.BytesIO(big), "big.bin")})
    response = a.post("/messages/new", input_stream=io.BytesIO(body), content_length=len(body),
                      content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, response.status_code
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = _html(b.get(f"/messages/{conversation_id}"))
    assert "big.bin" in page, page[page.find("<main"):][:3000]
    assert b.get(_file_link(page)).data == big
    # Smaller limits, so that the refused bodies stay in memory: per file, then per request (files x size + form).
    app.config["MESSAGING_ATTACHMENT_MAX_BYTES"] = 100_000
    app.config["MESSAGING_MAX_ATTACHMENTS"] = 1
    refused = submit(a, "/messages/new", {"recipients": [str(bob.id)], "subject": "s", "text": "t",
                                          "attachments": (io.BytesIO(b"y" * 100_001), "too-big.bin")},
                     content_type="multipart/form-data")
    assert refused.status_code == 400 and "at most 0 MB" not in _html(refused) and "Each attachment" in _html(refused)
    too_large = submit(a, "/messages/new", {"recipients": [str(bob.id)], "subject": "s", "text": "t",
                                            "attachments": (io.BytesIO(b"z" * 400_000), "huge.bin")},
                       content_type="multipart/form-data")
    assert too_large.status_code == 413
    from network.core.storage import DatabaseStorage

    assert DatabaseStorage().count() == 1  # nothing left behind by the refused uploads


def test_a_reply_can_carry_an_attachment(app, ready, member_factory):
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    response = submit(b, f"/messages/{conversation_id}/reply",
                      {"text": "Here it is.", "attachments": (io.BytesIO(b"reply file"), "reply.txt")},
                      page=f"/messages/{conversation_id}", content_type="multipart/form-data")
    assert response.status_code == 302
    page = _html(a.get(f"/messages/{conversation_id}"))
    assert "reply.txt" in page and a.get(_file_link(page)).data == b"reply file"


# ---------------------------------------------------------------- reports to moderators

def test_a_participant_reports_a_message_forwarding_its_text_to_the_moderators(app, ready, member_factory,
                                                                              moderator):
    from network.core.db import db
    from network.messaging.models import Message, MessageReport

    alice, bob = member_factory(name="Alice Sender"), member_factory()
    a, b = ready(alice), ready(bob)
    mod = ready(moderator)
    conversation_id = send(a, [bob], text="Abusive text to report")
    message = db.session.query(Message).one()
    url = f"/messages/{conversation_id}/report/{message.id}"
    page = _html(b.get(f"/messages/{conversation_id}"))
    assert url in page
    form = _html(b.get(url))
    assert "forwarded with your report" in form and "Abusive text to report" in form
    unconfirmed = submit(b, url, {"reason": "Threatening"})
    assert unconfirmed.status_code == 400 and db.session.query(MessageReport).count() == 0
    assert a.get(url).status_code == 404  # one's own message
    assert mod.get(url).status_code == 404  # not a participant
    assert "Abusive text to report" not in _html(mod.get("/messages/reports"))
    done = submit(b, url, {"reason": "Threatening", "disclose": "y"})
    assert done.status_code == 302
    report = db.session.query(MessageReport).one()
    assert report.forwarded_text.endswith("Abusive text to report") and report.reporter_id == bob.id
    assert "/messages/reports" in _html(mod.get("/messages/")) and "/messages/reports" not in _html(b.get("/messages/"))
    queue = _html(mod.get("/messages/reports"))
    assert "Abusive text to report" in queue and "Threatening" in queue and "Alice Sender" in queue
    assert "forwarded, decrypted, by a participant" in queue
    assert b.get("/messages/reports").status_code == 403
    submit(mod, f"/messages/reports/{report.id}/resolve", page="/messages/reports")
    assert "No open reports" in _html(mod.get("/messages/reports"))
    assert json.loads(message.envelope)  # the stored envelope is unchanged: reporting decrypts nothing for the server
