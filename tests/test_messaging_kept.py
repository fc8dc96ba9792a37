"""Messages kept opened (network/messaging/kept.py): a page shown again does not verify and decrypt every message
again, yet what is kept is sealed under the session that opened it, bounded, aged, never another member's, and never
shown for a message that changed, whose sender's key changed, that was deleted, or once the reader's keys changed."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import json

import pytest

from tests.conftest import submit
from tests.test_messaging_flow import CANARY, _html, ready, send  # noqa: F401 (ready: a fixture)


@pytest.fixture(autouse=True)
def _empty_keeps():
    from network.messaging import kept

    kept.PLAINTEXTS.clear()
    kept.RECEIPTS.clear()
    yield
    kept.PLAINTEXTS.clear()
    kept.RECEIPTS.clear()


def _kept_for(member_id: int) -> list[tuple]:
    from network.messaging import kept

    return [key for key in kept.PLAINTEXTS.keys() if key[0] == member_id]


def test_the_keep_is_sealed_bounded_and_aged():
    from network.messaging.kept import KeptPlaintexts, Sealer

    now = [1000.0]
    keep = KeptPlaintexts(entries=3, budget=5_000, max_age=60, clock=lambda: now[0])
    mine, other_session, other_member = Sealer("token-a", 1), Sealer("token-b", 1), Sealer("token-a", 2)
    keep.put((1, 10, "m-1"), mine, b"secret text")
    assert keep.get((1, 10, "m-1"), mine) == b"secret text"
    assert b"secret text" not in keep._kept[(1, 10, "m-1")][1]  # sealed, not kept in the clear
    assert keep.get((1, 10, "m-1"), other_session) is None  # another session of the same member
    assert keep.get((1, 10, "m-1"), other_member) is None
    keep.put((1, 11, "m-2"), mine, b"second")
    keep._kept[(1, 11, "m-3")] = keep._kept.pop((1, 11, "m-2"))  # a value moved to another key does not open
    assert keep.get((1, 11, "m-3"), mine) is None
    for n in range(5):
        keep.put((1, 20 + n, "m"), mine, b"x")
    assert len(keep) == 3  # bounded in entries
    keep.put((1, 30, "big"), mine, b"y" * 4_950)
    assert len(keep) == 1 and keep.get((1, 30, "big"), mine) == b"y" * 4_950  # and in bytes
    now[0] += 61
    assert keep.get((1, 30, "big"), mine) is None and len(keep) == 0  # and in age
    keep.put((1, 40, "a"), mine, b"a")
    keep.put((2, 40, "a"), other_member, b"a")
    keep.put((2, 41, "b"), other_member, b"b")
    keep.forget_member(2)
    assert [key[0] for key in keep.keys()] == [1]
    keep.forget_message(40)
    assert len(keep) == 0


def test_a_page_shown_again_is_not_decrypted_again_and_no_other_member_reads_what_was_kept(
        app, auth, ready, member_factory, monkeypatch):
    from network.messaging import kept, services

    alice, bob, carol, dave = member_factory(), member_factory(), member_factory(), member_factory()
    a, b, c, d = ready(alice), ready(bob), ready(carol), ready(dave)
    conversation_id = send(a, [bob, carol])
    assert CANARY + " text" in _html(b.get(f"/messages/{conversation_id}"))
    kept_for_bob = _kept_for(bob.id)
    assert len(kept_for_bob) == 1
    assert all(CANARY.encode() not in sealed for _expires, sealed in kept.PLAINTEXTS._kept.values())

    opened = []
    real = services.open_message
    monkeypatch.setattr(services, "open_message", lambda *args, **kwargs: opened.append(1) or real(*args, **kwargs))
    assert CANARY + " text" in _html(b.get(f"/messages/{conversation_id}"))
    assert CANARY + " subject" in _html(b.get("/messages/"))
    assert opened == []  # shown from what bob's session kept: no signature checked, no key decapsulated again

    # Carol opens her own copy (her session, her key); bob's entry opens with neither another session nor hers.
    assert CANARY + " text" in _html(c.get(f"/messages/{conversation_id}"))
    assert len(opened) == 1 and len(_kept_for(carol.id)) == 1
    for sealer in (kept.Sealer("another session", bob.id), kept.Sealer("another session", carol.id)):
        assert kept.PLAINTEXTS.get(kept_for_bob[0], sealer) is None
    # An outsider is refused before anything is looked up, and nothing is kept for them.
    assert d.get(f"/messages/{conversation_id}").status_code == 404
    assert CANARY not in _html(d.get("/messages/")) and _kept_for(dave.id) == []
    # A new session of bob's opens the message again: what the first one kept is sealed under that session.
    later = auth.client_for(bob)
    assert CANARY + " text" in _html(later.get(f"/messages/{conversation_id}"))
    assert len(opened) == 2 and len(_kept_for(bob.id)) == 2
    # Signing out drops what the process kept of the member's at once (not only when it ages); others' stay.
    assert submit(c, "/sign-out", page="/messages/").status_code == 302
    assert _kept_for(carol.id) == [] and len(_kept_for(bob.id)) == 2


def test_a_kept_message_is_not_shown_once_its_row_its_envelope_or_its_senders_key_changed_nor_kept_after_a_reset(
        app, ready, member_factory):
    from network.core.db import db
    from network.messaging import lifecycle
    from network.messaging.keys import generate_member_keys
    from network.messaging.models import MemberKeys, Message

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    page = f"/messages/{conversation_id}"

    def shown_and_kept():
        assert CANARY + " text" in _html(b.get(page))
        assert _kept_for(bob.id)

    def refused():
        html = _html(b.get(page))
        assert "failed verification" in html and CANARY not in html

    message = db.session.query(Message).one()
    shown_and_kept()
    message.urgent = True  # a clear column the server routes with, changed under the signature
    db.session.commit()
    refused()
    message.urgent = False
    db.session.commit()

    shown_and_kept()
    stored = message.envelope
    record = json.loads(stored)
    record["header"]["handling"]["limited_use"] = True
    message.envelope = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    db.session.commit()
    refused()
    message.envelope = stored
    db.session.commit()

    shown_and_kept()
    keys = db.session.query(MemberKeys).filter_by(member_id=alice.id).one()
    genuine = keys.public_keys
    keys.public_keys = json.dumps(generate_member_keys(key_version=keys.key_version)[0].to_dict())
    db.session.commit()  # the server hands out another key for the sender
    refused()
    keys.public_keys = genuine
    db.session.commit()

    shown_and_kept()
    db.session.delete(message)  # deleted: what was kept goes with it
    db.session.commit()
    assert _kept_for(bob.id) == []
    assert CANARY not in _html(b.get(page))

    conversation_id = send(a, [bob])
    page = f"/messages/{conversation_id}"
    shown_and_kept()
    lifecycle.retire_on_reset(bob)  # a password reset without the recovery key: what was kept for bob is forgotten
    db.session.commit()
    assert _kept_for(bob.id) == []


def test_a_changed_receipt_is_not_shown_as_verified_after_it_was_kept_and_a_report_is_verified_anew(
        app, ready, member_factory, monkeypatch):
    from network.core.db import db
    from network.messaging import kept, services
    from network.messaging.models import Message, MessageRecipientState

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    b.get(f"/messages/{conversation_id}")  # delivered and read: two signed receipts
    assert _html(a.get(f"/messages/{conversation_id}")).count("signed receipt verified") == 2
    assert len(list(kept.RECEIPTS._kept)) == 2
    assert _html(a.get(f"/messages/{conversation_id}")).count("signed receipt verified") == 2
    state = db.session.query(MessageRecipientState).one()
    record = json.loads(state.read_receipt)
    record["at"] = "2020-01-01T00:00:00Z"  # an operator backdates the reading
    state.read_receipt = json.dumps(record)
    db.session.commit()
    assert _html(a.get(f"/messages/{conversation_id}")).count("signed receipt verified") == 1

    # A report forwards to the moderators, in the clear, the text verified and decrypted for the report itself.
    opened = []
    real = services.open_message
    monkeypatch.setattr(services, "open_message", lambda *args, **kwargs: opened.append(1) or real(*args, **kwargs))
    reply = submit(b, f"/messages/{conversation_id}/reply", {"text": "A reply to report."},
                   page=f"/messages/{conversation_id}")
    assert reply.status_code == 302
    reported = db.session.query(Message).filter(Message.sender_id == bob.id).one()
    url = f"/messages/{conversation_id}/report/{reported.id}"
    assert submit(a, url, {"reason": "Spam.", "disclose": "y"}).status_code == 302
    assert opened


def test_the_inbox_looks_up_the_readers_slots_and_the_sessions_key_once_for_the_page_not_per_row(
        app, ready, member_factory, monkeypatch):
    from network.messaging import services

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    for n in range(3):
        send(a, [bob], subject=f"{CANARY} subject {n}")
    assert CANARY + " subject 2" in _html(b.get("/messages/"))  # opened, and kept for the next showing

    slots, sealers = [], []
    real_slots, real_sealer = services.Keyring.slots, services._kept_sealer
    monkeypatch.setattr(services.Keyring, "slots", lambda ring: slots.append(1) or real_slots(ring))
    monkeypatch.setattr(services, "_kept_sealer", lambda reader: sealers.append(1) or real_sealer(reader))
    page = _html(b.get("/messages/"))
    assert all(f"{CANARY} subject {n}" in page for n in range(3))  # every subject still shown
    assert slots == [1] and sealers == [1]  # once for the page, not per conversation listed


def test_a_conversation_of_kept_messages_builds_one_cipher_and_finds_each_readers_slot_once_per_message(
        app, ready, member_factory, monkeypatch):
    """What a page shown again costs per message it opens from the keep: the reader's slot in its envelope found once
    (for both the check of a missing key and the opening), and no AES-GCM object of its own (the session's sealer
    builds one for the page): a conversation of four messages builds no more cipher objects than one of one."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from network.core import crypto
    from network.messaging import kept, services

    alice, bob = member_factory(), member_factory()
    a, b = ready(alice), ready(bob)
    one = send(a, [bob], subject=f"{CANARY} one")
    four = send(a, [bob], subject=f"{CANARY} four")
    for n in range(3):
        assert submit(a, f"/messages/{four}/reply", {"text": f"{CANARY} reply {n}"},
                      page=f"/messages/{four}").status_code == 302
    for conversation_id in (one, four):
        assert CANARY in _html(b.get(f"/messages/{conversation_id}"))  # opened (and marked read), then kept

    built, slots = [], []
    real_slot = services._reader_slot
    monkeypatch.setattr(crypto, "AESGCM", lambda key: built.append(1) or AESGCM(key))
    monkeypatch.setattr(kept, "AESGCM", lambda key: built.append(1) or AESGCM(key), raising=False)
    monkeypatch.setattr(services, "_reader_slot", lambda *args: slots.append(1) or real_slot(*args))
    costs = {}
    for conversation_id, shown in ((one, [f"{CANARY} text"]), (four, [f"{CANARY} reply {n}" for n in range(3)])):
        built.clear()
        slots.clear()
        page = _html(b.get(f"/messages/{conversation_id}"))
        assert all(text in page for text in shown) and "failed verification" not in page
        costs[conversation_id] = (len(built), len(slots))
    assert costs[four][0] == costs[one][0]  # no cipher object per message
    assert costs[four][1] - costs[one][1] == 3  # one slot look-up per message, not one to check and one to open


def test_the_minute_a_card_shows_is_strftimes_for_every_kind_of_time():
    from datetime import UTC, datetime, timedelta, timezone

    from network.messaging.views import _minute

    for at in (datetime(2026, 12, 6, 4, 5, 6, 789), datetime(2026, 1, 2, 23, 59), datetime(1999, 12, 31, 0, 0, 0),
               datetime(999, 3, 4, 5, 6), datetime(2, 3, 4, 5, 6), datetime(9999, 12, 31, 23, 59, 59, 999999),
               datetime(2026, 6, 1, 12, 30, tzinfo=UTC),
               datetime(2026, 6, 1, 12, 30, 1, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))):
        assert _minute(at) == _minute(at, at.isoformat()) == at.strftime("%Y-%m-%d %H:%M"), at
