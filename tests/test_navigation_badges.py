"""The navigation's badges (network/core/counters.py), read on every signed-in page with the session's record: the
bell's unread notifications and the unread messages are the counts of the rules they show (notifications.unread_count,
the inbox's unread copies with mailboxes.held_authority_query), whatever happens to the messages, the mailbox and the
forum's permissions; and they are asked of the member's own rows (by their keys), never of a set of every readable
post or of every authority's newest key, which a statement would build on each page."""
# ruff: noqa: F811 -- fixtures imported from other test modules are requested by name
from __future__ import annotations

import pytest
from sqlalchemy import exists, func, select

from tests.conftest import submit
from tests.forum_support import forum  # noqa: F401 -- a fixture
from tests.test_messaging_flow import ready, send  # noqa: F401 -- `ready` is a fixture
from tests.test_messaging_mailboxes import MAILBOX, grant, open_mailbox, people, write  # noqa: F401 -- a fixture
from tests.test_statement_budgets import counted

pytestmark = pytest.mark.persistence
ALL, SEE = (True, True, True), (True, False, False)  # see, reply, create


def badges(app, member) -> dict:
    from network.core import counters

    with app.test_request_context("/"):
        return counters.counts(member, ["forum_notifications", "unread_messages"])


def expected_messages(member) -> int:
    """The inbox's unread copies: the member's own, and those others sent to the mailbox they hold (the rule as the
    inbox states it: mailboxes.held_authority_query), in conversations they have not archived since."""
    from network.core.db import db
    from network.messaging import mailboxes
    from network.messaging.formats import authority_slot
    from network.messaging.models import Conversation, ConversationArchive, Message
    from network.messaging.models import MessageRecipientState as State

    mine = State.member_id == member.id
    if member.status == "active" and member.authority_id is not None and member.authority_id in set(
            db.session.scalars(mailboxes.held_authority_query(member))):
        mine = mine | (State.member_id.is_(None) & (State.slot == authority_slot(member.authority_id))
                       & (Message.sender_id != member.id))
    shelved = exists().where(ConversationArchive.conversation_id == Conversation.id,
                             ConversationArchive.member_id == member.id,
                             ConversationArchive.archived_at >= Conversation.last_message_at)
    return db.session.scalar(select(func.count(State.id)).join(Message, State.message_id == Message.id)
                             .join(Conversation, Message.conversation_id == Conversation.id)
                             .where(mine, State.read_at.is_(None), ~shelved))


def check_messages(app, *members) -> list[int]:
    found = []
    for member in members:
        count = badges(app, member)["unread_messages"]
        assert count == expected_messages(member), member
        found.append(count)
    return found


def test_unread_messages_through_reading_archiving_deleting_and_the_mailbox_s_holders(app, people, clock):
    from network.core.db import db
    from network.messaging import services
    from network.messaging.models import Conversation, Message

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    assert check_messages(app, focal, colleague, writer) == [0, 0, 0]
    first = send(w, [colleague])  # a member's own copy
    assert check_messages(app, focal, colleague, writer) == [0, 1, 0]  # the sender's own copy is read
    open_mailbox(f)
    to_mailbox = write(w)
    assert check_messages(app, focal, colleague, writer) == [1, 1, 0]  # the colleague does not hold the mailbox
    grant(f, colleague)
    assert check_messages(app, focal, colleague, writer) == [1, 2, 0]
    c.get(f"/messages/{first}")  # read
    assert check_messages(app, focal, colleague, writer) == [1, 1, 0]
    clock.advance(minutes=5)
    services.archive(colleague, db.session.get(Conversation, to_mailbox))  # unread: the page would read it
    db.session.commit()
    assert check_messages(app, focal, colleague, writer) == [1, 0, 0]  # archived by the colleague alone
    clock.advance(minutes=5)
    again = write(w, subject="second", text="second text")
    assert check_messages(app, focal, colleague, writer) == [2, 1, 0]
    removed = submit(f, f"{MAILBOX}/remove/{colleague.id}", page=MAILBOX)  # left the mailbox: its key rotates
    assert removed.status_code == 302
    assert check_messages(app, focal, colleague, writer) == [2, 0, 0]
    third = write(w, subject="after the rotation", text="third text")
    assert check_messages(app, focal, colleague, writer) == [3, 0, 0]
    reply_to_writer = send(c, [writer])
    assert check_messages(app, focal, colleague, writer) == [3, 0, 1]
    for conversation_id in (again, reply_to_writer):  # deleted messages count no more
        for message in db.session.scalars(select(Message).where(Message.conversation_id == conversation_id)):
            db.session.delete(message)
    db.session.commit()
    assert check_messages(app, focal, colleague, writer) == [2, 0, 0]
    f.get(f"/messages/{third}")  # a holder reads the mailbox's copy
    assert check_messages(app, focal, colleague, writer) == [1, 0, 0]
    colleague.status = "suspended"  # no longer a member: no badge
    db.session.commit()
    assert badges(app, colleague)["unread_messages"] is None


def check_bell(app, forum) -> list[int]:
    from network.forum import notifications

    found = []
    for name in ("member", "insider", "outsider", "space_moderator", "moderator"):
        member = forum[name]
        count = badges(app, member)["forum_notifications"]
        with app.test_request_context("/"):
            assert count == notifications.unread_count(member), name
        found.append(count)
    return found


def test_the_bell_counts_what_the_member_may_read_through_permissions_hiding_merging_and_silences(app, forum):

    with app.test_request_context("/"):  # the mails name pages
        _bell_story(app, forum)


def _bell_story(app, forum) -> None:
    from network.core.db import db
    from network.forum import moderation, notifications, services

    moderator, regional, group, secret = forum["moderator"], forum["regional"], forum["group"], forum["secret"]
    everyone = " ".join(f"@[{forum[name].name}]" for name in ("member", "insider", "outsider", "space_moderator",
                                                              "moderator"))
    check_bell(app, forum)
    services.set_space_permissions(moderator, regional, {None: SEE, group.id: ALL})
    db.session.commit()
    hidden_later = services.reply(forum["insider"], secret, "Thoughts? " + everyone)
    services.reply(forum["insider"], forum["open_topic"], "Also here. " + everyone)
    db.session.commit()
    before = check_bell(app, forum)
    assert before[2] >= 2  # the outsider hears of both while every member sees the space
    services.hide_post(moderator, hidden_later, "Off topic")
    db.session.commit()
    check_bell(app, forum)
    services.unhide_post(moderator, hidden_later)
    db.session.commit()
    secret.hidden = True  # a hidden topic: its space's moderators read it still
    db.session.commit()
    check_bell(app, forum)
    secret.hidden = False
    db.session.commit()
    services.set_space_permissions(moderator, regional, {group.id: ALL})  # restricted again
    db.session.commit()
    after = check_bell(app, forum)
    assert after[2] < before[2]  # the outsider no longer hears of the restricted space
    moderation.silence_member(moderator, forum["insider"], 3, "Cooling off")
    db.session.commit()
    check_bell(app, forum)
    moderation.merge_topic(moderator, secret, forum["open_topic"])
    db.session.commit()
    check_bell(app, forum)
    notifications.mark_read(forum["outsider"])
    db.session.commit()
    assert check_bell(app, forum)[2] == 0


def signed_in_plan(app, auth, member) -> tuple[list[str], list[str]]:
    """The signed-in statement of a member's page (its text, alone in a list) and SQLite's plan of it."""
    from network.core.db import db

    client = auth.client_for(member)
    for _ in range(3):
        assert client.get("/account/password").status_code == 200
    with counted(app) as statements:
        client.get("/account/password")
    signed_in = [s for s in statements if "navigation_unread_messages" in s and "navigation_forum_notifications" in s]
    assert len(signed_in) == 1, statements
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()  # the values do not change SQLite's plan
            cursor.execute("EXPLAIN QUERY PLAN " + signed_in[0], [1] * signed_in[0].count("?"))
            plan = [row[-1] for row in cursor.fetchall()]
        finally:
            raw.close()
    return signed_in, plan


def test_the_badges_are_asked_of_the_member_s_rows_not_of_sets_built_for_each_page(app, auth, member, db_backend):
    """The signed-in statement (one per page) with the badges: on SQLite, no subquery is materialised, no automatic
    index built, and no list of readable posts made; every table is searched by an index."""
    if db_backend != "sqlite":
        pytest.skip("SQLite's query plan")
    signed_in, plan = signed_in_plan(app, auth, member)
    text = "\n".join(plan)
    assert "MATERIALIZE" not in text and "AUTOMATIC" not in text, text
    assert not [line for line in plan if line.startswith("SCAN") and line != "SCAN CONSTANT ROW"], text
    assert "SEARCH forum_posts USING INTEGER PRIMARY KEY" in text and "ix_forum_posts_topic_id" not in text, text


def test_the_badges_find_the_member_s_unread_rows_by_their_own_indexes(app, auth, member, db_backend):
    """The bell and the unread messages are found among the member's unread rows alone (a partial index each, of the
    rows not read yet), not among every notification and copy the member ever had; and the bell asks each unread
    notification's post and topic by their keys, its space by the topic's key (not joined: on PostgreSQL the join
    made the plan hash every visible post of the forum for a member with hundreds of unread notifications)."""
    if db_backend != "sqlite":
        pytest.skip("SQLite's query plan")
    signed_in, plan = signed_in_plan(app, auth, member)
    text = "\n".join(plan)
    assert "INDEX ix_forum_notifications_member_unread (member_id=?)" in text, text
    assert text.count("INDEX ix_messaging_recipient_states_member_unread (member_id=?)") >= 1, text
    assert "ix_forum_notifications_member_id " not in text and "ix_messaging_recipient_states_member_id " not in text
    assert "JOIN forum_spaces" not in signed_in[0], signed_in[0]


def test_the_inbox_knows_who_holds_the_mailbox_from_the_navigation_s_reading(app, people):
    """Whether the reader holds their authority's mailbox is read with the navigation's badges (with the signed-in
    member): the inbox's own statement does not ask it again (several times over), and lists the mailbox's
    conversations to its holders alone, a grant made between two pages included."""
    from tests.test_messaging_flow import CANARY, _html

    focal, f = people["focal"]
    colleague, c = people["colleague"]
    writer, w = people["writer"]
    open_mailbox(f)
    write(w)
    for client, holds in ((f, True), (c, False)):
        for _ in range(2):  # the session's first page tells the badges' shape; the next ones read them with the member
            client.get("/messages/")
        with counted(app) as statements:
            page = _html(client.get("/messages/"))
        inbox = [s for s in statements if "inbox_reading" in s]
        assert len(inbox) == 1, statements
        assert "messaging_authority_grants" not in inbox[0], inbox[0]
        assert (CANARY + " subject" in page) is holds
    grant(f, colleague)
    assert CANARY + " subject" in _html(c.get("/messages/"))
    assert CANARY + " subject" in _html(c.get("/messages/"))
