"""Authority mailboxes: opened by a focal point, written to from the directory, granted only by a holder's session,
rotated when a holder is removed; replies name the authority and the officer who wrote them."""
from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_PASSWORD, submit
from tests.test_messaging_flow import CANARY, _html, ready  # noqa: F401 -- `ready` is a fixture

MAILBOX = "/messages/mailboxes/AUT-MOJ"


def open_mailbox(client):
    response = submit(client, MAILBOX + "/open", page=MAILBOX)
    assert response.status_code == 302 and response.headers["Location"].endswith(MAILBOX)


def write(client, key="AUT-MOJ", subject=CANARY + " subject", text=CANARY + " text"):
    response = submit(client, f"/messages/authority/{key}", {"subject": subject, "text": text})
    assert response.status_code == 302, _html(response)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def grant(client, member):
    response = submit(client, MAILBOX + "/grant", {"member": str(member.id)}, page=MAILBOX)
    assert response.status_code == 302
    return response


def private_keys(member):
    """The member's private keys, unwrapped with the password (what their session would hold)."""
    from network.messaging import lifecycle
    from network.messaging.keys import unwrap_with_password

    keys = lifecycle.current_keys(member)
    return {keys.key_version: unwrap_with_password(keys.record("password_wrapped"), TEST_PASSWORD,
                                                   member_id=member.id, allow_weak=True)}


@pytest.fixture
def people(member_factory, authority, other_authority, ready):  # noqa: F811
    focal = member_factory(roles=("focal_point",), authority=authority, email="focal@justiz.example.at",
                           name="Franziska Focal")
    colleague = member_factory(authority=authority, email="colleague@justiz.example.at", name="Conrad Colleague")
    writer = member_factory(authority=other_authority, email="writer@justice.example.ng", name="Wale Writer")
    return {"focal": (focal, ready(focal)), "colleague": (colleague, ready(colleague)),
            "writer": (writer, ready(writer))}


def test_directory_says_the_mailbox_is_closed_until_a_focal_point_opens_it(app, people):
    focal, f = people["focal"]
    writer, w = people["writer"]
    page = _html(w.get("/directory/AUT-MOJ"))
    assert "This authority has not opened its mailbox yet" in page and "/messages/authority/AUT-MOJ" not in page
    assert "not opened its mailbox yet" in _html(w.get("/messages/authority/AUT-MOJ"))
    colleague, c = people["colleague"]
    assert c.get(MAILBOX).status_code == 404  # not a focal point: cannot open it
    assert w.get(MAILBOX).status_code == 404
    assert "/messages/mailboxes/AUT-MOJ" in _html(f.get("/directory/AUT-MOJ"))  # the focal point is shown the way
    assert "/messages/mailboxes/AUT-MOJ" not in _html(w.get("/directory/AUT-MOJ"))
    open_mailbox(f)
    page = _html(w.get("/directory/AUT-MOJ"))
    assert "/messages/authority/AUT-MOJ" in page and "not opened its mailbox yet" not in page


def test_mailbox_round_trip_and_replies_name_the_authority_and_the_officer(app, people):
    from network.core.db import db
    from network.messaging.models import Conversation, Message

    focal, f = people["focal"]
    writer, w = people["writer"]
    open_mailbox(f)
    conversation_id = write(w)
    assert db.session.get(Conversation, conversation_id).kind == "mailbox"
    inbox = _html(f.get("/messages/"))
    assert CANARY + " subject" in inbox and "Mailbox" in inbox
    page = _html(f.get(f"/messages/{conversation_id}"))
    assert CANARY + " text" in page and "Signature verified" in page
    reply = submit(f, f"/messages/{conversation_id}/reply", {"text": "We are on it."},
                   page=f"/messages/{conversation_id}")
    assert reply.status_code == 302
    seen = _html(w.get(f"/messages/{conversation_id}"))
    assert "We are on it." in seen and "Federal Ministry of Justice" in seen and "written by <bdi>Franziska Focal</bdi>" in seen
    last = db.session.query(Message).order_by(Message.id.desc()).first()
    header = json.loads(last.envelope)["header"]
    assert header["on_behalf_of"].startswith("authority:") and header["sender"] == f"member:{focal.id}"
    # The writer's view of their first message: the mailbox received and read it, signed by the officer.
    assert _html(w.get(f"/messages/{conversation_id}")).count("signed receipt verified") == 2


def test_a_holder_grants_the_mailbox_with_its_history(app, people):
    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    conversation_id = write(w)
    assert c.get(f"/messages/{conversation_id}").status_code == 404
    assert "Conrad Colleague" in _html(f.get(MAILBOX))
    grant(f, colleague)
    assert CANARY + " text" in _html(c.get(f"/messages/{conversation_id}"))
    from network.messaging.models import AuthorityKeyGrant

    record = json.loads(AuthorityKeyGrant.query.filter_by(member_id=colleague.id).one().grant)
    assert record["granted_by"] == focal.id and record["member"] == colleague.id


def test_only_a_holder_session_can_grant(app, people):
    from network.messaging import mailboxes
    from network.messaging.models import AuthorityKeyGrant

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, _w = people["writer"]
    open_mailbox(f)
    # A member who does not hold the mailbox cannot reach the grant form or send it.
    assert submit(c, MAILBOX + "/grant", {"member": str(colleague.id)}, page="/messages/").status_code == 404
    # The holder's session without unlocked keys cannot grant: the server alone holds no usable key.
    with f.session_transaction() as session:
        session.pop("messaging_keys")
    page = f.post(MAILBOX + "/grant", data={"member": str(colleague.id)})
    assert page.status_code in (200, 400) and AuthorityKeyGrant.query.filter_by(member_id=colleague.id).count() == 0
    # Nor can the server acting on its own, outside any session of a holder.
    with app.test_request_context("/"):
        with pytest.raises(mailboxes.MailboxError):
            mailboxes.grant(focal, focal.authority, colleague)
    assert AuthorityKeyGrant.query.filter_by(member_id=colleague.id).count() == 0


def test_removal_rotates_the_key_so_the_removed_member_cannot_read_new_messages(app, people):
    from network.core.db import db
    from network.messaging import mailboxes
    from network.messaging.envelope import load_envelope, open_message
    from network.messaging.formats import MessagingCryptoError, authority_slot
    from network.messaging.keys import open_authority_grant
    from network.messaging.models import AuthorityKeyGrant, AuthorityMailboxKey, Message

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    old_id = write(w)
    assert CANARY + " text" in _html(c.get(f"/messages/{old_id}"))
    response = submit(f, f"{MAILBOX}/remove/{colleague.id}", page=MAILBOX)
    assert response.status_code == 302
    authority_id = colleague.authority_id
    assert [k.key_version for k in AuthorityMailboxKey.query.filter_by(authority_id=authority_id)] == [1, 2]
    new_id = write(w, subject="after removal", text="NEW-SECRET after removal")
    # The remaining holder reads both; the removed member neither (and no grant of version 2 exists for them).
    assert CANARY + " text" in _html(f.get(f"/messages/{old_id}"))
    assert "NEW-SECRET after removal" in _html(f.get(f"/messages/{new_id}"))
    assert c.get(f"/messages/{new_id}").status_code == 404 and c.get(f"/messages/{old_id}").status_code == 404
    assert not mailboxes.is_holder(colleague, authority_id)
    # Cryptographically: every grant the removed member ever had opens version 1 only, which does not open the new
    # message (its authority wrap is for version 2).
    privates = private_keys(colleague)
    versions = {}
    for row in AuthorityKeyGrant.query.filter_by(member_id=colleague.id):
        key = open_authority_grant(row.record(), member_id=colleague.id, member_private=privates[row.member_key_version])
        versions[key.key_version] = key
    assert set(versions) == {1}
    message = db.session.query(Message).filter_by(conversation_id=new_id).one()
    envelope = load_envelope(message.envelope)
    assert envelope.wrap_for(authority_slot(authority_id)).key_version == 2
    from network.messaging.lifecycle import current_keys, public_keys

    with pytest.raises(MessagingCryptoError):
        open_message(envelope, authority_slot(authority_id), versions, public_keys(current_keys(writer)))
    # The last holder cannot be removed: the mailbox would be lost.
    alone = submit(f, f"{MAILBOX}/remove/{focal.id}", page=MAILBOX)
    assert alone.status_code == 302 and mailboxes.is_holder(focal, authority_id)


def test_a_tampered_grant_opens_nothing(app, people):
    from network.core.db import db
    from network.messaging.models import AuthorityKeyGrant

    focal, f = people["focal"]
    writer, w = people["writer"]
    open_mailbox(f)
    conversation_id = write(w)
    row = AuthorityKeyGrant.query.filter_by(member_id=focal.id).one()
    record = row.record()
    record["granted_by"] = writer.id  # claim another granter: the signature no longer verifies
    row.grant = json.dumps(record)
    db.session.commit()
    assert f.get(f"/messages/{conversation_id}").status_code == 200
    assert CANARY not in _html(f.get(f"/messages/{conversation_id}"))


def test_a_holder_whose_keys_were_reset_can_be_granted_the_mailbox_again(app, people, auth):
    from tests.test_messaging_features import reset_password
    from tests.test_messaging_flow import confirm_recovery_key

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    conversation_id = write(w)
    reset_password(auth, colleague)
    c = auth.client_for(colleague)
    confirm_recovery_key(c)  # a new key set: the old grants do not open with it
    assert "mailbox key that you do not hold" in _html(c.get(f"/messages/{conversation_id}"))
    assert f'<option dir="auto" value="{colleague.id}">Conrad Colleague</option>' in _html(f.get(MAILBOX))  # offered again
    grant(f, colleague)
    assert CANARY + " text" in _html(c.get(f"/messages/{conversation_id}"))
