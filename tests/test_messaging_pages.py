"""The inbox and a conversation's page as their readers see them, read as plain rows with the key sets in the same
statement: names escaped however they are written, and a participant's changed key still warned."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import re

from tests.conftest import count_builds, submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 (ready: a fixture)
from tests.test_messaging_mailboxes import people  # noqa: F401 (a fixture)

HOSTILE = '<script>alert("x")</script> O\'Brien & \u202eevil\u202c'


def test_participant_names_are_escaped_in_the_inbox_and_the_conversation(app, ready, member_factory):
    alice, bob = member_factory(name=HOSTILE), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    for page in (_html(b.get("/messages/")), _html(b.get(f"/messages/{conversation_id}"))):
        assert "<script>alert" not in page and CANARY + " subject" in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &amp; \u202eevil\u202c" in page
    # the writer's own view: the recipient among the people, the first message's subject opened with their key
    assert CANARY + " subject" in _html(a.get("/messages/"))
    assert CANARY + " text" in _html(a.get(f"/messages/{conversation_id}"))


def test_a_participants_new_key_is_warned_and_their_messages_still_open_after_the_page_read_the_keys_with_it(
        app, auth, ready, member_factory):
    from network.core.db import db
    from network.messaging import lifecycle

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    page = f"/messages/{conversation_id}"
    assert "key-changed" not in _html(b.get(page))
    lifecycle.retire_on_reset(alice)  # a password reset: alice's next session makes a new key set
    db.session.commit()
    a = ready(alice)
    assert submit(a, f"{page}/reply", {"text": "After the reset."}, page=page).status_code == 302
    seen = _html(b.get(page))
    assert "key-changed" in seen and CANARY + " text" in seen and "After the reset." in seen
    assert CANARY + " subject" in _html(b.get("/messages/"))


def test_the_buttons_token_is_the_markup_of_a_confirm_form(app, ready, member_factory):
    from flask import g

    from network.messaging.forms import ConfirmForm
    from network.messaging.views import TOKEN_ONLY

    with app.test_request_context("/messages/"):
        built = str(ConfirmForm().hidden_tag())
        assert str(TOKEN_ONLY.hidden_tag()) == built and 'name="csrf_token"' in built
        g.csrf_token = 'a"b<c'  # whatever the token holds, it stays inside its attribute
        assert str(TOKEN_ONLY.hidden_tag()).endswith('value="a&#34;b&lt;c">')
    # and the archive buttons of both pages post with it
    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    assert submit(b, f"/messages/{conversation_id}/archive", {"next": "inbox"},
                  page="/messages/").status_code == 302
    assert CANARY + " subject" in _html(b.get("/messages/archived"))
    assert submit(b, f"/messages/{conversation_id}/unarchive", {"next": "conversation"},
                  page=f"/messages/{conversation_id}").status_code == 302
    assert CANARY + " subject" in _html(b.get("/messages/"))


def _without_tokens(page: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=)"[^"]*"', r"\1", page)


def test_a_conversation_page_reads_its_messages_with_the_conversation_in_one_statement(app, ready, member_factory):
    """The signed-in request's statement and one more: the conversation, its people, their key sets and the reader's
    marks, and its messages with their copies, however many messages it holds."""
    from tests.test_statement_budgets import statements_of

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    page = f"/messages/{conversation_id}"
    for n in range(3):
        assert submit(b if n % 2 == 0 else a, f"{page}/reply", {"text": f"Step {n}"}, page=page).status_code == 302
    statements = statements_of(app, a, page)
    assert len(statements) == 2, "\n".join(re.sub(r"\s+", " ", s)[:160] for s in statements)
    seen = _html(a.get(page))
    assert CANARY + " text" in seen and all(f"Step {n}" in seen for n in range(3))


def test_the_messages_read_with_the_conversation_are_its_messages_and_none_for_a_non_participant(
        app, ready, member_factory):
    from network.core.db import db
    from network.members.models import Member
    from network.messaging import services
    from network.messaging.models import Conversation

    alice, bob, carol = member_factory(), member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    c = ready(carol)
    conversation_id = send(a, [bob], urgent=True)
    page = f"/messages/{conversation_id}"
    assert submit(b, f"{page}/reply", {"text": "An answer."}, page=page).status_code == 302
    assert c.get(page).status_code == 404  # the same refusal as before: no such conversation, for anyone else

    def columns(messages):
        return [(m.id, m.public_id, m.sender_id, m.sent_at, m.urgent, bytes(m.envelope),
                 m.sender.id if m.sender else None,
                 [(s.id, s.slot, s.member_id, s.delivered_at, s.read_at, s.delivery_receipt, s.read_receipt,
                   s.member.id if s.member else None) for s in m.states]) for m in messages]

    with app.test_request_context():
        reader = db.session.get(Member, bob.id)
        found, archived = services.conversation_for_reading(reader, conversation_id)
        assert found.message_rows and not archived and services.is_participant(reader, found)
        read_with_it = columns(services.conversation_messages(found))
        read_alone = columns(services.conversation_messages(db.session.get(Conversation, conversation_id)))
        assert read_with_it == read_alone and len(read_with_it) == 2 and read_with_it[0][4]
        outsider = db.session.get(Member, carol.id)
        found, _archived = services.conversation_for_reading(outsider, conversation_id)
        assert found is not None and found.message_rows == [] and not services.is_participant(outsider, found)
        assert services.conversation_for_reading(reader, conversation_id + 1000) == (None, False)


def test_a_conversation_opened_to_read_builds_no_reply_form_while_its_fields_are_kept(
        app, ready, member_factory, monkeypatch):
    """The reply form is blank on a conversation opened to read, its handling boxes ticked like the message it
    answers: its fields' kept markup serves without building the form; with nothing kept, a form is built and gives
    the same page."""
    from network.core import caching
    from network.messaging import views

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob], confidential=True)
    page = f"/messages/{conversation_id}"
    b.get(page)  # read: the flashed message shown, the copy marked read, the unread badge gone
    first = _without_tokens(_html(b.get(page)))
    built = count_builds(monkeypatch, views)
    again = _without_tokens(_html(b.get(page)))
    assert built == [] and again == first
    assert 'id="handling-carried"' in again
    assert "checked" in re.search(r'<input[^>]*id="confidential"[^>]*>', again).group(0)
    assert "checked" not in re.search(r'<input[^>]*id="limited_use"[^>]*>', again).group(0)
    caching._fragments.clear()
    cold = _without_tokens(_html(b.get(page)))
    assert built == [1] and cold == first
    # a reply sent back with an error shows the form as it was typed, not the kept fields
    refused = submit(b, f"{page}/reply", {"text": "", "urgent": "y"}, page=page)
    assert refused.status_code == 400 and "Write your reply." in _html(refused)


def test_the_inbox_reads_its_messages_with_the_listing_as_it_would_alone_for_a_mailbox_holder_too(
        app, people, ready):
    """The listing's statement carries the messages the page needs (first messages, counts, copies not yet
    delivered): the same rows as their own statement reads, for the mailboxes the reader holds whether the listing
    looked them up or was given them; the inbox page is the signed-in request's statement and that one."""
    from network.core.db import db
    from network.members.models import Member
    from network.messaging import mailboxes, services
    from tests.test_messaging_mailboxes import open_mailbox, write
    from tests.test_statement_budgets import statements_of

    focal, f = people["focal"]
    writer, w = people["writer"]
    open_mailbox(f)
    to_mailbox = write(w)
    assert submit(w, f"/messages/{to_mailbox}/reply", {"text": "More."},
                  page=f"/messages/{to_mailbox}").status_code == 302
    send(w, [focal], subject="Direct", urgent=True)

    def columns(found):
        firsts, urgent, unread, candidates = found
        return ({c: m.id for c, m in firsts.items()}, urgent, unread,
                [(m.id, m.conversation_id, m.public_id, m.sender_id, m.sent_at, m.urgent, bytes(m.envelope),
                  [(s.id, s.slot, s.member_id, s.delivered_at, s.read_at, s.delivery_receipt, s.read_receipt)
                   for s in m.states]) for m in candidates])

    for given in (False, True):
        with app.test_request_context("/messages/"):
            reader = db.session.get(Member, focal.id)
            if given:
                assert mailboxes.held_authority_ids(reader) == {reader.authority_id}  # read before the listing
            listing = services.inbox_listing(reader)
            held = {f"authority:{reader.authority_id}"}
            assert listing.held_slots == held and listing.message_rows
            ids = [c.id for c in listing.conversations]
            conversations = {c.id: c for c in listing.conversations}
            with_it = columns(services._inbox_messages(reader, held, ids, conversations, listing.message_rows))
            alone = columns(services._inbox_messages(reader, held, ids, conversations))
            assert with_it == alone
            assert with_it[2].get(to_mailbox) == 2 and len(with_it[1]) == 1  # the mailbox's copies unread; urgent
            db.session.remove()
    inbox = _html(f.get("/messages/"))
    assert CANARY + " subject" in inbox and "Direct" in inbox and "Mailbox" in inbox
    assert len(statements_of(app, w, "/messages/")) == 2


def test_the_key_sets_and_marks_read_with_the_conversation_are_plain_rows_agreeing_with_the_entities(
        app, ready, member_factory):
    """conversation_for_reading keeps the participants' key sets and the reader's marks as plain rows (no entity
    built for the rows of its statement): the same values the entities hold, for members with one key set or two (one
    retired), a mark or none, and the same keys found changed."""
    from network.core.db import db
    from network.members.models import Member
    from network.messaging import lifecycle, services, verification
    from network.messaging.models import KeyVerification, MemberKeys

    alice, bob, carol = member_factory(), member_factory(), member_factory()
    a, _b, c = ready(alice), ready(bob), ready(carol)
    conversation_id = send(a, [bob, carol], urgent=True)
    page = f"/messages/{conversation_id}"
    with app.app_context():
        verification.mark_verified(db.session.get(Member, bob.id), db.session.get(Member, alice.id))
        verification.mark_verified(db.session.get(Member, bob.id), db.session.get(Member, carol.id))
        db.session.commit()
        lifecycle.retire_on_reset(db.session.get(Member, alice.id))  # alice's next session makes a second key set
        db.session.commit()
    a = ready(alice)
    assert submit(a, f"{page}/reply", {"text": "After the reset."}, page=page).status_code == 302
    assert submit(c, f"{page}/reply", {"text": "An answer.", "urgent": "y"}, page=page).status_code == 302
    ids = [alice.id, bob.id, carol.id]

    def read(plain: bool):
        with app.test_request_context():
            reader = db.session.get(Member, bob.id)
            if plain:
                found, _archived = services.conversation_for_reading(reader, conversation_id)
            else:
                found = db.session.get(services.Conversation, conversation_id)
            verification.remember_keys_of(reader, found)  # as the page does: its own statement (entities) if not read
            sets = lifecycle.key_sets_of(ids)
            marks = verification.request_memo(verification.MARKS_MEMO)[bob.id]
            kinds = {type(row) for rows in sets.values() for row in rows} | {
                type(mark) for mark in marks.values() if mark is not None}
            changed = [m.id for m in verification.changed_keys(reader, found, services.conversation_messages(found))]
            values = ({member_id: [(k.member_id, k.key_version, k.public_keys, k.recovery_confirmed_at, k.retired_at)
                                   for k in rows] for member_id, rows in sets.items()},
                      {other_id: mark and (mark.other_id, mark.fingerprint) for other_id, mark in marks.items()},
                      changed)
            db.session.rollback()
            return kinds, values

    plain_kinds, plain = read(plain=True)
    entity_kinds, entities = read(plain=False)
    assert plain == entities
    assert len(plain[0][alice.id]) == 2 and plain[0][alice.id][0][4] is not None  # one retired, one live
    assert set(plain[1]) == {alice.id, carol.id} and all(plain[1].values()) and plain[2] == [alice.id]
    assert entity_kinds == {MemberKeys, KeyVerification}
    assert plain_kinds == {services.KeySetRow, services.MarkRow}
