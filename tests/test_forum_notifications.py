"""Forum notifications: the bell and the notifications page, e-mail immediately, in a daily digest (`flask forum
digest`, once a day, idempotent) or not at all, watch and mute, mentions always; e-mail from restricted spaces carries
the title only, and nobody hears of a space they cannot see. Mail goes through the real SMTP transport (aiosmtpd)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import submit
from tests.forum_support import RESTRICTED_TITLE
from tests.test_forum import html


def _notifications(member) -> int:
    from network.core.db import db
    from network.forum.models import Notification

    return db.session.scalar(select(func.count(Notification.id)).where(Notification.member_id == member.id))


def _reply_as(auth, who, topic, body):
    client = auth.client_for(who)
    response = submit(client, f"/forum/topics/{topic.id}/reply", {"body": body}, page=f"/forum/topics/{topic.id}")
    assert response.status_code == 302, html(response)
    return response


def _set_mode(auth, who, mode):
    client = auth.client_for(who)
    assert submit(client, "/forum/preferences", {"email_mode": mode}).status_code == 302


def _digest(app) -> str:
    result = app.test_cli_runner().invoke(args=["forum", "digest"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_reply_rings_the_bell_lists_the_notification_and_mails_the_asker_at_once(app, auth, forum, mailbox):
    _reply_as(auth, forum["outsider"], forum["open_topic"], "Use the **urgent channel** of article 18 (13).")
    asker = auth.client_for(forum["member"])
    home = html(asker.get("/forum/"))
    assert 'class="nav-link forum-bell"' in home and 'text-bg-danger">1<' in home
    page = html(asker.get("/forum/notifications"))
    assert "<bdi>Otto Outsider</bdi> replied in" in page and forum["open_topic"].title in page  # the name isolated
    mail = mailbox.body(forum["member"].email)
    assert "urgent channel" in mail and f"/forum/topics/{forum['open_topic'].id}" in mail
    assert mailbox.last(forum["member"].email)["Subject"].startswith("New reply in")
    from network.core.db import db
    from network.forum.models import Notification

    notification_id = db.session.scalar(select(Notification.id).where(Notification.member_id == forum["member"].id))
    response = submit(asker, f"/forum/notifications/{notification_id}/open", {}, page="/forum/notifications")
    assert response.status_code == 302 and "#post-" in response.headers["Location"]
    assert 'text-bg-danger">' not in html(asker.get("/forum/"))


def test_mark_all_read_clears_the_bell(app, auth, forum):
    _reply_as(auth, forum["outsider"], forum["open_topic"], "First reply")
    _reply_as(auth, forum["insider"], forum["open_topic"], "Second reply")
    asker = auth.client_for(forum["member"])
    assert 'text-bg-danger">2<' in html(asker.get("/forum/"))
    assert submit(asker, "/forum/notifications/read", {}, page="/forum/notifications").status_code == 302
    assert 'text-bg-danger">' not in html(asker.get("/forum/"))


def test_a_muted_topic_stays_quiet_but_a_mention_still_notifies(app, auth, forum, mailbox):
    asker = auth.client_for(forum["member"])
    topic_url = f"/forum/topics/{forum['open_topic'].id}"
    assert submit(asker, f"{topic_url}/subscription", {"level": "mute"}, page=topic_url).status_code == 302
    _reply_as(auth, forum["outsider"], forum["open_topic"], "A reply the asker muted")
    assert _notifications(forum["member"]) == 0
    _reply_as(auth, forum["outsider"], forum["open_topic"], f"@[{forum['member'].name}] please look at this")
    assert _notifications(forum["member"]) == 1
    assert "mentioned you" in mailbox.body(forum["member"].email)


def test_watching_a_space_notifies_of_new_topics_in_it(app, auth, forum, mailbox):
    watcher = auth.client_for(forum["outsider"])
    assert submit(watcher, "/forum/spaces/mla/subscription", {"level": "watch"},
                  page="/forum/spaces/mla").status_code == 302
    author = auth.client_for(forum["insider"])
    assert submit(author, "/forum/spaces/mla/new", {"title": "Hearing a witness by video link",
                                                    "body": "What did the requested State need?"}).status_code == 302
    assert mailbox.last(forum["outsider"].email)["Subject"] == "New topic: Hearing a witness by video link"


def test_mail_from_a_restricted_space_carries_the_title_only(app, auth, forum, mailbox):
    _reply_as(auth, forum["space_moderator"], forum["secret"], "Route details: the boat leaves on Tuesday")
    mail = mailbox.body(forum["insider"].email)  # the topic's author
    assert RESTRICTED_TITLE in mail and "title only" in mail
    assert "Tuesday" not in mail and "boat" not in mail


@pytest.mark.persistence
def test_a_mentioned_outsider_of_a_restricted_space_gets_nothing(app, auth, forum, mailbox):
    _reply_as(auth, forum["insider"], forum["secret"], f"@[{forum['outsider'].name}] should not hear of this")
    assert _notifications(forum["outsider"]) == 0
    assert mailbox.to(forum["outsider"].email) == []
    outsider = auth.client_for(forum["outsider"])
    assert RESTRICTED_TITLE not in html(outsider.get("/forum/notifications"))
    assert 'text-bg-danger">' not in html(outsider.get("/forum/"))


def test_an_outsider_watching_then_leaving_hears_nothing_more(app, auth, forum, mailbox):
    """A subscription made while a member could see the space does not outlive their access."""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import GroupMembership

    services.subscribe(forum["insider"], "watch", space=forum["regional"])
    db.session.execute(GroupMembership.__table__.delete().where(GroupMembership.member_id == forum["insider"].id))
    db.session.commit()
    mailbox.clear()
    _reply_as(auth, forum["space_moderator"], forum["secret"], "After the insider left the group")
    assert _notifications(forum["insider"]) == 0 and mailbox.to(forum["insider"].email) == []


def test_e_mail_off_keeps_the_bell_but_sends_nothing(app, auth, forum, mailbox):
    _set_mode(auth, forum["member"], "off")
    mailbox.clear()
    _reply_as(auth, forum["outsider"], forum["open_topic"], "A reply while mail is off")
    assert _notifications(forum["member"]) == 1
    assert mailbox.to(forum["member"].email) == []
    assert _digest(app).startswith("0 digest")


@pytest.mark.persistence
def test_the_daily_digest_is_sent_once_a_day_and_only_to_members_who_chose_it(app, auth, forum, mailbox, clock):
    _set_mode(auth, forum["member"], "digest")
    page = html(auth.client_for(forum["member"]).get("/forum/preferences"))
    assert 'value="digest" checked' in page
    mailbox.clear()
    _reply_as(auth, forum["outsider"], forum["open_topic"], "First reply for the digest")
    _reply_as(auth, forum["insider"], forum["open_topic"], "Second reply for the digest")
    assert mailbox.to(forum["member"].email) == []  # nothing immediately
    assert _digest(app).startswith("1 digest")
    digests = mailbox.to(forum["member"].email)
    assert len(digests) == 1 and digests[0]["Subject"] == "Your forum digest: 2 new"
    body = digests[0].get_content()
    assert "First reply for the digest" in body and "Second reply for the digest" in body
    assert _digest(app).startswith("0 digest")  # idempotent: a second run the same day sends nothing
    _reply_as(auth, forum["outsider"], forum["open_topic"], "A reply later the same day")
    assert _digest(app).startswith("0 digest")  # at most one digest a day
    clock.advance(days=1)
    assert _digest(app).startswith("1 digest")
    assert len(mailbox.to(forum["member"].email)) == 2
    assert "A reply later the same day" in mailbox.body(forum["member"].email)


def test_a_digest_from_a_restricted_space_carries_the_title_only(app, auth, forum, mailbox):
    _set_mode(auth, forum["insider"], "digest")
    _reply_as(auth, forum["space_moderator"], forum["secret"], "The informant's name is Z")
    mailbox.clear()
    assert _digest(app).startswith("1 digest")
    body = mailbox.body(forum["insider"].email)
    assert RESTRICTED_TITLE in body and "informant" not in body and "title only" in body


def test_preferences_refuse_an_unknown_mode(app, auth, forum):
    client = auth.client_for(forum["member"])
    assert submit(client, "/forum/preferences", {"email_mode": "hourly"}).status_code == 400
