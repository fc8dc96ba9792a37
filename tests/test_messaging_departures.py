"""Officers leave: a holder who is suspended, lapses or closes their account stops reading the mailbox at once; the
remaining holders are told to remove them (which renews the key); when the last holder leaves, the mailbox takes no
new messages, its focal points are told, and a focal point opens it again with a new key version. The earlier
versions stay with those who held them: an officer who comes back and is granted the mailbox reads both."""
# ruff: noqa: F811 -- the `ready` and `people` fixtures are imported and requested by name
from __future__ import annotations

from tests.conftest import submit
from tests.test_messaging_flow import CANARY, _html, ready  # noqa: F401 -- a fixture
from tests.test_messaging_mailboxes import MAILBOX, grant, open_mailbox, people, write  # noqa: F401 -- a fixture


def suspend(moderator_client, member):
    response = submit(moderator_client, f"/members/{member.id}/suspend", {"reason": "Left the ministry."},
                      page="/account/security")
    assert response.status_code == 302, response.status_code


def test_a_holder_who_leaves_stops_reading_at_once_and_the_others_are_told(app, people, moderator, auth, mailbox):
    from network.messaging import mailboxes

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    conversation_id = write(w)
    assert c.get(f"/messages/{conversation_id}").status_code == 200

    suspend(auth.client_for(moderator), colleague)
    assert not mailboxes.is_holder(colleague, colleague.authority_id)
    assert mailboxes.state(colleague.authority) == "open"  # the focal point still reads it
    told = mailbox.last(focal.email)
    assert " ".join(told["Subject"].split()) == "Conrad Colleague no longer reads the mailbox of " + colleague.authority.name
    assert "/messages/mailboxes/AUT-MOJ" in told.get_content() and CANARY not in told.get_content()

    page = _html(f.get(MAILBOX))
    assert "has left: no longer reads it" in page and f"/remove/{colleague.id}" in page
    response = submit(f, f"{MAILBOX}/remove/{colleague.id}", page=MAILBOX)
    assert response.status_code == 302
    assert [m.id for m in mailboxes.holders(colleague.authority_id)] == [focal.id]  # the key was renewed without them
    assert "has left" not in _html(f.get(MAILBOX))


def test_a_holder_who_left_is_not_given_the_renewed_key_when_another_is_removed(app, people, member_factory,
                                                                                 authority, ready, moderator, auth):
    from network.messaging import mailboxes

    focal, f = people["focal"]
    colleague, _c = people["colleague"]
    third = member_factory(authority=authority, name="Theo Third")
    ready(third)
    open_mailbox(f)
    grant(f, colleague)
    grant(f, third)
    suspend(auth.client_for(moderator), colleague)
    assert submit(f, f"{MAILBOX}/remove/{third.id}", page=MAILBOX).status_code == 302
    assert [m.id for m in mailboxes.holders(authority.id)] == [focal.id]


def test_when_the_last_holder_leaves_the_mailbox_is_unattended_until_a_focal_point_opens_it_again(
        app, people, member_factory, authority, ready, moderator, auth, mailbox):
    from network.messaging import mailboxes
    from network.messaging.models import AuthorityMailboxKey

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    assert submit(c, f"{MAILBOX}/remove/{focal.id}", page=MAILBOX).status_code == 302  # the colleague alone holds it
    old_id = write(w, text="OLD-SECRET before the departure")
    assert f.get(f"/messages/{old_id}").status_code == 404

    suspend(auth.client_for(moderator), colleague)
    assert mailboxes.state(authority) == "unattended"
    told = mailbox.last(focal.email)
    assert " ".join(told["Subject"].split()) == f"The mailbox of {authority.name} is unattended"
    assert "open it again" in told.get_content()

    # Writers are told before they type, and nothing is accepted that no one could read.
    assert "No officer of this authority reads its mailbox at present" in _html(w.get("/directory/AUT-MOJ"))
    page = _html(w.get("/messages/authority/AUT-MOJ"))
    assert "No officer of this authority reads its mailbox at present" in page and "<textarea" not in page
    refused = submit(w, f"/messages/{old_id}/reply", {"text": "are you there?"}, page=f"/messages/{old_id}")
    assert refused.status_code == 302
    assert "No officer of this authority reads its mailbox" in _html(w.get(f"/messages/{old_id}"))
    assert "are you there?" not in _html(w.get(f"/messages/{old_id}"))

    # The focal point opens it again: a new key version, which only they hold.
    page = _html(f.get(MAILBOX))
    assert "No officer reads this mailbox at present" in page and "Open the mailbox again" in page
    response = submit(f, MAILBOX + "/open", page=MAILBOX)
    assert response.status_code == 302
    assert mailboxes.state(authority) == "open"
    assert [k.key_version for k in AuthorityMailboxKey.query.filter_by(authority_id=authority.id)] == [1, 2, 3]
    new_id = write(w, subject="after reopening", text="NEW-SECRET after reopening")
    assert "NEW-SECRET after reopening" in _html(f.get(f"/messages/{new_id}"))
    old_page = _html(f.get(f"/messages/{old_id}"))  # the earlier key did not come with the new one
    assert "OLD-SECRET" not in old_page
    assert submit(f, MAILBOX + "/open", page=MAILBOX).status_code == 302  # a second opening is refused
    assert [k.key_version for k in AuthorityMailboxKey.query.filter_by(authority_id=authority.id)] == [1, 2, 3]

    # The colleague comes back and is granted the mailbox: the new version joins the ones they kept.
    assert submit(auth.client_for(moderator), f"/members/{colleague.id}/reinstate",
                  page="/account/security").status_code == 302
    c = auth.client_for(colleague)  # signs in again: keys unlocked, recovery key already confirmed
    assert c.get(f"/messages/{old_id}").status_code == 404  # not a present holder until granted again
    grant(f, colleague)
    assert "OLD-SECRET before the departure" in _html(c.get(f"/messages/{old_id}"))
    assert "NEW-SECRET after reopening" in _html(c.get(f"/messages/{new_id}"))


def test_only_a_focal_point_opens_an_unattended_mailbox(app, people, moderator, auth):
    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    grant(f, colleague)
    assert submit(f, f"{MAILBOX}/remove/{colleague.id}", page=MAILBOX).status_code == 302
    suspend(auth.client_for(moderator), focal)
    for client in (c, w):
        assert client.get(MAILBOX).status_code == 404
        assert submit(client, MAILBOX + "/open", page="/messages/").status_code == 404


def test_a_lapsed_holder_leaves_the_mailbox_too(app, people, clock, mailbox):
    from datetime import timedelta

    from network.core.db import db
    from network.members import services as members
    from network.messaging import mailboxes

    focal, f = people["focal"]
    colleague, _c = people["colleague"]
    open_mailbox(f)
    grant(f, colleague)
    colleague.confirmed_until = clock.now - timedelta(days=1)
    db.session.commit()
    with app.test_request_context():
        members.revalidate()
        db.session.commit()
    assert colleague.status == "lapsed"
    assert not mailboxes.is_holder(colleague, colleague.authority_id)
    assert [m.id for m in mailboxes.present_holders(colleague.authority_id)] == [focal.id]
