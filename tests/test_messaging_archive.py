"""Archiving: each member archives a conversation for themselves; it leaves their inbox (and no one else's) and comes
back on its own when someone writes in it again. Nothing is deleted."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import re

from tests.conftest import submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 -- `ready` is a fixture
from tests.test_messaging_mailboxes import MAILBOX, grant, open_mailbox, people, write  # noqa: F401 -- a fixture


def listed(client, path="/messages/") -> set[int]:
    page = _html(client.get(path))
    return {int(n) for n in re.findall(r'<a href="/messages/(\d+)">', page)}


def archive(client, conversation_id, action="archive", next_page="inbox"):
    response = submit(client, f"/messages/{conversation_id}/{action}", {"next": next_page},
                      page=f"/messages/{conversation_id}")
    assert response.status_code == 302, response.status_code
    return response


def test_archiving_moves_a_conversation_out_of_the_inbox_for_that_member_only(app, ready, member_factory, clock):
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    kept, shelved = send(a, [bob], subject="kept"), send(a, [bob], subject="to archive")
    assert listed(b) == {kept, shelved}

    response = archive(b, shelved)
    assert response.headers["Location"].endswith("/messages/")
    assert listed(b) == {kept}
    assert listed(b, "/messages/archived") == {shelved}
    assert listed(a) == {kept, shelved}  # the other participant's inbox does not change
    inbox = _html(b.get("/messages/"))
    assert 'href="/messages/archived">Archived <span class="badge text-bg-light">1</span>' in inbox

    page = _html(b.get(f"/messages/{shelved}"))  # still readable, nothing deleted
    assert CANARY + " text" in page and "You archived this conversation" in page and "Move to inbox" in page


def test_a_new_message_brings_an_archived_conversation_back(app, ready, member_factory, clock):
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    clock.advance(minutes=5)
    archive(b, conversation_id)
    assert conversation_id not in listed(b)
    clock.advance(minutes=5)
    response = submit(a, f"/messages/{conversation_id}/reply", {"text": "a follow-up"},
                      page=f"/messages/{conversation_id}")
    assert response.status_code == 302
    assert conversation_id in listed(b) and conversation_id not in listed(b, "/messages/archived")
    page = _html(b.get("/messages/"))
    assert re.search(rf'<tr class="fw-bold">\s*<td>\s*<a href="/messages/{conversation_id}">', page)  # unread again


def test_moving_back_to_the_inbox_and_archiving_from_the_archive_page(app, ready, member_factory, clock):
    alice, bob = member_factory(), member_factory()
    a = ready(alice)
    ready(bob)
    conversation_id = send(a, [bob])
    archive(a, conversation_id)  # the sender can archive too, with no message addressed to them
    assert listed(a) == set() and listed(a, "/messages/archived") == {conversation_id}
    assert "No conversations in your inbox." in _html(a.get("/messages/"))
    response = archive(a, conversation_id, "unarchive", next_page="archived")
    assert response.headers["Location"].endswith("/messages/archived")
    assert listed(a) == {conversation_id} and listed(a, "/messages/archived") == set()
    assert "No archived conversations" in _html(a.get("/messages/archived"))
    archive(a, conversation_id)
    archive(a, conversation_id)  # twice is harmless
    response = archive(a, conversation_id, "unarchive", next_page="conversation")
    assert response.headers["Location"].endswith(f"/messages/{conversation_id}")
    archive(a, conversation_id, "unarchive")  # and so is moving back what is already in the inbox
    assert listed(a) == {conversation_id}


def test_only_a_participant_archives_and_only_with_the_form_token(app, ready, member_factory, moderator):
    from network.core.db import db
    from network.messaging.models import ConversationArchive

    alice, bob, eve = member_factory(), member_factory(), member_factory()
    a, _b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    e = ready(eve)
    page = f"/messages/{conversation_id}"
    assert submit(e, page + "/archive", page="/messages/").status_code == 404
    assert submit(ready(moderator), page + "/archive", page="/messages/").status_code == 404
    assert a.post(page + "/archive", data={}).status_code == 400  # no CSRF token
    assert db.session.query(ConversationArchive).count() == 0


def test_mailbox_holders_archive_each_for_themselves(app, people, clock):
    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    conversation_id = write(w)
    assert conversation_id in listed(f) and conversation_id in listed(c)
    archive(f, conversation_id)
    assert conversation_id not in listed(f) and conversation_id in listed(c)
    assert listed(f, "/messages/archived") == {conversation_id}


def test_archived_conversations_page_through_like_the_inbox(app, ready, member_factory, clock, monkeypatch):
    from network.messaging import services

    monkeypatch.setattr(services, "INBOX_PAGE", 2)
    alice, bob = member_factory(), member_factory()
    a = ready(alice)
    ready(bob)
    ids = []
    for n in range(3):
        clock.advance(minutes=1)
        ids.append(send(a, [bob], subject=f"case {n}"))
    clock.advance(minutes=1)
    for conversation_id in ids:
        archive(a, conversation_id)
    assert listed(a, "/messages/archived") == {ids[2], ids[1]}
    assert listed(a, "/messages/archived?page=2") == {ids[0]}
    assert 'href="/messages/archived?page=2"' in _html(a.get("/messages/archived"))
