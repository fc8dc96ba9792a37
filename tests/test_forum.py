"""The forum: spaces, topics, replies, edit history, answers, unread tracking, watch and mute, the feed, join
requests, moderation basics, and the one visibility filter (an outsider sees no restricted title or count in lists,
feed or search, and gets 404 on a restricted topic)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import count_builds, csrf_token, submit
from tests.forum_support import RESTRICTED_TITLE


def html(response) -> str:
    return response.get_data(as_text=True)


def audit_actions() -> list[str]:
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ---------------------------------------------------------------- spaces and visibility

def test_the_forum_is_for_vetted_members_only(client, auth, member_factory, forum):
    assert client.get("/forum/").status_code == 302
    applicant = member_factory(status="pending", enrolled=False, email="applicant@justiz.example.at")
    assert auth.client_for(applicant).get("/forum/").status_code == 403


def test_the_navigation_links_to_the_forum_for_members(auth, forum):
    page = html(auth.client_for(forum["member"]).get("/"))
    assert 'href="/forum/"' in page


def test_an_outsider_sees_the_restricted_space_with_a_padlock_and_a_join_button_but_no_titles_or_counts(auth, forum):
    client = auth.client_for(forum["outsider"])
    page = html(client.get("/forum/"))
    assert "REFCO space" in page and "Restricted space" in page
    assert "Request to join" in page
    assert RESTRICTED_TITLE not in page
    card = page[page.index("REFCO space"):]
    assert "topic" not in card.split("</li>")[0].lower().replace("topics visible", "")  # no counts in its card
    locked = client.get("/forum/spaces/refco")
    assert locked.status_code == 200
    assert RESTRICTED_TITLE not in html(locked) and "Request to join" in html(locked)


def test_an_outsider_gets_404_on_a_restricted_topic_and_its_posts(auth, forum):
    from network.forum.services import first_post

    client = auth.client_for(forum["outsider"])
    secret = forum["secret"]
    post = first_post(secret)
    for url in (f"/forum/topics/{secret.id}", f"/forum/posts/{post.id}/history", f"/forum/posts/{post.id}/edit",
                f"/forum/topics/{secret.id}?quote={post.id}"):
        assert client.get(url).status_code == 404, url
    assert client.get("/forum/spaces/refco/new").status_code == 404
    token = csrf_token(html(client.get("/forum/")))
    response = client.post(f"/forum/topics/{secret.id}/reply", data={"csrf_token": token, "body": "Let me in"})
    assert response.status_code == 404


def test_an_outsider_finds_no_restricted_title_in_the_feed_or_search(auth, forum):
    client = auth.client_for(forum["outsider"])
    assert RESTRICTED_TITLE not in html(client.get("/forum/new"))
    found = html(client.get("/forum/search?q=coordination"))
    assert RESTRICTED_TITLE not in found and "0 posts found" in found
    insider = auth.client_for(forum["insider"])
    assert RESTRICTED_TITLE in html(insider.get("/forum/search?q=coordination"))


def test_group_members_and_platform_moderators_see_the_restricted_space(auth, forum):
    for who in ("insider", "moderator", "space_moderator"):
        client = auth.client_for(forum[who])
        assert RESTRICTED_TITLE in html(client.get("/forum/spaces/refco")), who
        assert client.get(f"/forum/topics/{forum['secret'].id}").status_code == 200, who


def test_counts_cover_only_what_the_member_may_read(app, forum):
    from network.forum import services

    spaces = [forum["general"], forum["regional"]]
    assert services.space_counts(forum["outsider"], spaces)[forum["regional"].id] == (0, 0)
    assert services.space_counts(forum["insider"], spaces)[forum["regional"].id] == (1, 1)


# ---------------------------------------------------------------- topics, replies, edits, answers

def test_a_member_asks_a_question_and_another_member_replies(auth, forum):
    asker = auth.client_for(forum["member"])
    response = submit(asker, "/forum/spaces/mla/new", {"title": "Videoconference hearing of a witness abroad",
                                                       "body": "What does the requested State need?",
                                                       "is_question": "y"})
    assert response.status_code == 302
    topic_url = response.headers["Location"]
    page = html(asker.get(topic_url))
    assert "Videoconference hearing of a witness abroad" in page and "Question" in page
    helper = auth.client_for(forum["insider"])
    response = submit(helper, topic_url.split("?")[0] + "/reply", {"body": "Article 18 (18): send a **test call**."},
                      page=topic_url)
    assert response.status_code == 302 and "#post-" in response.headers["Location"]
    assert "<strong>test call</strong>" in html(helper.get(topic_url))


def test_an_empty_title_or_body_is_refused_with_the_form_again(auth, forum):
    client = auth.client_for(forum["member"])
    response = submit(client, "/forum/spaces/mla/new", {"title": "", "body": ""})
    assert response.status_code == 400 and "Give the topic a title" in html(response)
    topic_id = forum["open_topic"].id
    response = submit(client, f"/forum/topics/{topic_id}/reply", {"body": "   "}, page=f"/forum/topics/{topic_id}")
    assert response.status_code == 400 and "Write your reply" in html(response)


def test_editing_a_post_keeps_its_history_visible_to_readers(auth, forum):
    from network.forum.services import first_post

    post = first_post(forum["open_topic"])
    author = auth.client_for(forum["member"])
    response = submit(author, f"/forum/posts/{post.id}/edit", {"body": "Looking for advice on **urgent** requests."})
    assert response.status_code == 302
    reader = auth.client_for(forum["outsider"])
    page = html(reader.get(f"/forum/topics/{forum['open_topic'].id}"))
    assert f'href="/forum/posts/{post.id}/history">edited' in page
    history = html(reader.get(f"/forum/posts/{post.id}/history"))
    assert "Looking for advice." in history and "<strong>urgent</strong>" in history and "Version 1" in history
    assert reader.get(f"/forum/posts/{post.id}/edit").status_code == 403  # only the author edits


def test_the_asker_marks_the_answer_which_is_shown_first(auth, forum):
    from network.core.db import db
    from network.forum import services

    topic = forum["open_topic"]
    replies = [services.reply(forum["insider"], topic, f"Reply number {n}") for n in range(3)]
    db.session.commit()
    other = auth.client_for(forum["outsider"])
    token = csrf_token(html(other.get(f"/forum/topics/{topic.id}")))
    assert other.post(f"/forum/posts/{replies[2].id}/answer", data={"csrf_token": token}).status_code == 403
    asker = auth.client_for(forum["member"])
    token = csrf_token(html(asker.get(f"/forum/topics/{topic.id}")))
    assert asker.post(f"/forum/posts/{replies[2].id}/answer", data={"csrf_token": token}).status_code == 302
    page = html(asker.get(f"/forum/topics/{topic.id}"))
    assert "Accepted answer" in page and "Solved" in page
    assert page.index("Accepted answer") < page.index("Reply number 0")
    listing = html(asker.get("/forum/spaces/general"))
    assert "Solved" in listing


def test_the_question_itself_cannot_be_its_answer(app, forum):
    from network.forum import services

    with pytest.raises(services.ForumError):
        services.mark_answer(forum["member"], services.first_post(forum["open_topic"]))


@pytest.mark.persistence
def test_an_accepted_answer_on_a_later_page_shows_under_the_opening_post_unless_it_is_hidden(app, auth, forum):
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Post

    topic = forum["open_topic"]
    replies = [services.reply(forum["insider"], topic, f"Numbered reply {n:02d}") for n in range(30)]
    services.mark_answer(forum["member"], replies[25])  # on the second page of 20
    db.session.commit()
    reader = auth.client_for(forum["outsider"])
    first = html(reader.get(f"/forum/topics/{topic.id}"))
    assert "Numbered reply 25" in first and first.index("Accepted answer") < first.index("Numbered reply 00")
    assert f'id="post-{replies[25].id}"' not in first  # shown again without its anchor: its place is on page 2
    second = html(reader.get(f"/forum/topics/{topic.id}?page=2"))
    assert f'id="post-{replies[25].id}"' in second and "See the accepted answer at the top of the topic" in second
    db.session.execute(Post.__table__.update().where(Post.id == replies[25].id).values(hidden=True))  # still marked
    db.session.commit()
    assert "Numbered reply 25" not in html(reader.get(f"/forum/topics/{topic.id}"))  # a hidden answer is not shown
    moderated = html(auth.client_for(forum["moderator"]).get(f"/forum/topics/{topic.id}"))
    assert moderated.index("Numbered reply 25") < moderated.index("Numbered reply 00")


@pytest.mark.persistence
def test_post_bylines_are_escaped_and_a_former_member_s_post_keeps_its_place(app, auth, forum, member_factory):
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Post

    hostile = member_factory(name='<script>alert("x")</script> \u202eRTL & "quoted"', authority=None,
                             email="hostile@example.org")
    hostile.authority_other = "<b>Ministry</b> & 'Co'"
    topic = forum["open_topic"]
    services.reply(hostile, topic, "A reply from the hostile name.")
    services.reply(forum["outsider"], topic, "A reply from an authority's member.")
    gone = services.reply(forum["insider"], topic, "A reply whose author left.")
    db.session.commit()
    db.session.execute(Post.__table__.update().where(Post.id == gone.id).values(author_id=None))
    db.session.commit()
    page = html(auth.client_for(forum["member"]).get(f"/forum/topics/{topic.id}"))
    assert "<script>alert" not in page and "<b>Ministry</b>" not in page
    assert '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; \u202eRTL &amp; &#34;quoted&#34;' in page
    assert "&lt;b&gt;Ministry&lt;/b&gt; &amp; &#39;Co&#39;" in page
    assert "Central Authority Unit</bdi> (NGA)" in page  # the authority's name and state
    card = page[page.index(f'id="post-{gone.id}"'):]
    assert card.index("A former member") < card.index("A reply whose author left.")


def test_the_quote_button_prefills_the_reply_with_a_markdown_quote(auth, forum):
    from network.forum.services import first_post

    post = first_post(forum["open_topic"])
    page = html(auth.client_for(forum["insider"]).get(f"/forum/topics/{forum['open_topic'].id}?quote={post.id}"))
    reply_box = page[page.index('id="body"'):]
    assert "&gt; **Member 1** wrote:" in reply_box and "&gt; Looking for advice." in reply_box


def test_posts_are_paginated_and_a_post_link_opens_its_page(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    topic = forum["open_topic"]
    posts = [services.reply(forum["insider"], topic, f"Numbered reply {n:02d}") for n in range(45)]
    db.session.commit()
    client = auth.client_for(forum["outsider"])
    first = html(client.get(f"/forum/topics/{topic.id}"))
    assert "Numbered reply 00" in first and "Numbered reply 30" not in first and "?page=2" in first
    third = html(client.get(f"/forum/topics/{topic.id}?page=3"))
    assert "Numbered reply 44" in third and "Numbered reply 00" not in third
    jumped = html(client.get(f"/forum/topics/{topic.id}?post={posts[25].id}"))
    assert "Numbered reply 25" in jumped and 'aria-current="page">2<' in jumped


@pytest.mark.parametrize("query", ["?page=abc", "?page=-4", "?page=99999999999", "?post=-1", "?post=abc",
                                   "?quote=abc", "?quote=999999", "?quote=99999999999999999999999",
                                   "?post=99999999999999999999999"])
def test_odd_query_strings_never_break_the_topic_page(auth, forum, query):
    client = auth.client_for(forum["member"])
    assert client.get(f"/forum/topics/{forum['open_topic'].id}{query}").status_code == 200
    assert client.get(f"/forum/spaces/general{query}").status_code == 200


def test_a_topic_number_larger_than_any_id_is_not_found(auth, forum):
    client = auth.client_for(forum["member"])
    assert client.get("/forum/topics/99999999999999999999999").status_code == 404


# ---------------------------------------------------------------- reading state, watch and mute, feed

def test_unread_markers_and_the_feed_clear_once_read(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    services.reply(forum["insider"], forum["open_topic"], "A fresh answer")
    db.session.commit()
    client = auth.client_for(forum["member"])
    assert "forum-topic-unread" in html(client.get("/forum/spaces/general"))
    assert forum["open_topic"].title in html(client.get("/forum/new"))
    assert "forum-unread" in html(client.get(f"/forum/topics/{forum['open_topic'].id}"))
    assert "forum-topic-unread" not in html(client.get("/forum/spaces/general"))
    assert forum["open_topic"].title not in html(client.get("/forum/new"))


def kept_fragments(kind: str) -> list[tuple]:
    from network.core import caching

    return [key for key in caching._fragments if key[1] == kind]


def test_topic_list_rows_are_kept_per_process_and_follow_every_change_and_reader(app, auth, forum):
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Topic

    topic = forum["open_topic"]
    services.reply(forum["insider"], topic, "A fresh answer")
    db.session.commit()
    outsider, member = auth.client_for(forum["outsider"]), auth.client_for(forum["member"])
    member.get(f"/forum/topics/{topic.id}")  # the member has read it all; the outsider has not
    assert "forum-topic-unread" in html(outsider.get("/forum/spaces/general"))
    assert kept_fragments("forum_topic_row")  # the row is kept ...
    assert "forum-topic-unread" not in html(member.get("/forum/spaces/general"))  # ... under its reader's marks
    hostile = '<script>alert("t")</script> ‮RTL & "quoted"'
    db.session.execute(Topic.__table__.update().where(Topic.id == topic.id).values(title=hostile, locked=True))
    db.session.commit()
    for page in (html(member.get("/forum/spaces/general")), html(outsider.get("/forum/new"))):
        assert "<script>alert" not in page and "How do I reach a central authority fast?" not in page
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; ‮RTL &amp; &#34;quoted&#34;" in page
        assert "Locked</span>" in page
    assert '<a href="/forum/spaces/general"><bdi>General</bdi></a>' in html(outsider.get("/forum/new"))
    assert '<a href="/forum/spaces/general"><bdi>General</bdi></a>' not in html(member.get("/forum/spaces/general"))


def test_the_index_keeps_the_cards_of_spaces_a_member_sees_but_never_a_join_form(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    insider, outsider = auth.client_for(forum["insider"]), auth.client_for(forum["outsider"])
    first = html(insider.get("/forum/"))
    assert RESTRICTED_TITLE in first and "Request to join" not in first
    assert kept_fragments("forum_index_space")
    assert RESTRICTED_TITLE not in html(outsider.get("/forum/"))  # not the insider's kept card
    page = html(outsider.get("/forum/"))
    assert "Request to join" in page and csrf_token(page) in page.split("Request to join", 1)[1]
    services.reply(forum["member"], forum["open_topic"], "One more post")
    db.session.commit()
    assert "1 topic · 2 posts" in html(insider.get("/forum/"))  # the counts changed: a new card, never the old one


def test_a_topic_read_without_a_quote_builds_no_reply_form_once_its_fields_are_kept(app, auth, forum, monkeypatch):
    from network.forum import views

    built = count_builds(monkeypatch, views)
    client = auth.client_for(forum["member"])
    path = f"/forum/topics/{forum['open_topic'].id}"
    client.get(path)  # the reply form's fields rendered once, and kept
    built.clear()
    page = html(client.get(path))
    assert built == []
    assert '<textarea aria-describedby="body-help" class="form-control" dir="auto" id="body"' in page
    quoted = html(client.get(f"{path}?quote={views.services.first_post(forum['open_topic']).id}"))
    assert built == [1] and "&gt; Looking for advice." in quoted


def test_muting_a_topic_or_space_leaves_it_out_of_the_feed_and_watching_brings_it_first(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    reader = forum["outsider"]
    other = services.create_topic(forum["insider"], forum["mla"], "Hearing by videoconference", "Any practice?")
    db.session.commit()
    client = auth.client_for(reader)
    feed = html(client.get("/forum/new"))
    assert other.title in feed and forum["open_topic"].title in feed
    response = submit(client, f"/forum/topics/{forum['open_topic'].id}/subscription", {"level": "mute"},
                      page="/forum/")  # not the topic page: reading it would clear it from the feed anyway
    assert response.status_code == 302
    assert forum["open_topic"].title not in html(client.get("/forum/new"))
    submit(client, "/forum/spaces/mla/subscription", {"level": "mute"}, page="/forum/spaces/mla")
    assert other.title not in html(client.get("/forum/new"))
    services.subscribe(reader, "watch", topic=other)
    db.session.commit()
    assert other.title in html(client.get("/forum/new"))
    submit(client, f"/forum/topics/{forum['open_topic'].id}/subscription", {"level": "default"},
           page="/forum/spaces/general")
    feed = html(client.get("/forum/new"))
    assert feed.index(other.title) < feed.index(forum["open_topic"].title)  # watched first


def test_an_unknown_subscription_level_is_refused(auth, forum):
    client = auth.client_for(forum["member"])
    response = submit(client, f"/forum/topics/{forum['open_topic'].id}/subscription", {"level": "loud"},
                      page="/forum/")
    assert response.status_code == 400


# ---------------------------------------------------------------- join requests

def test_a_join_request_approved_by_a_space_moderator_opens_the_space_and_is_audited(app, auth, forum, mailbox):
    outsider = auth.client_for(forum["outsider"])
    response = submit(outsider, "/forum/groups/refco/join", {"message": "I handle requests with Central America."},
                      page="/forum/")
    assert response.status_code == 302
    assert "Request sent" in html(outsider.get("/forum/"))
    again = submit(outsider, "/forum/groups/refco/join", {}, page="/forum/")
    assert again.status_code == 302 and "already waiting" in html(outsider.get("/forum/"))
    assert outsider.get("/forum/groups/refco/requests").status_code == 403
    moderator = auth.client_for(forum["space_moderator"])
    page = html(moderator.get("/forum/groups/refco/requests"))
    assert "Otto Outsider" in page and "I handle requests with Central America." in page
    request_id = int(re.search(r"/forum/join-requests/(\d+)/decide", page).group(1))
    response = moderator.post(f"/forum/join-requests/{request_id}/decide",
                              data={"csrf_token": csrf_token(page), "decision": "approve"})
    assert response.status_code == 302
    assert RESTRICTED_TITLE in html(outsider.get("/forum/spaces/refco"))
    assert "forum.join_requested" in audit_actions() and "forum.join_approved" in audit_actions()
    assert "was approved" in mailbox.body(forum["outsider"].email)


def test_refusing_a_join_request_needs_a_reason_which_the_member_is_told(app, auth, forum, mailbox):
    from network.core.db import db
    from network.forum import services

    join = services.request_join(forum["outsider"], forum["group"], "")
    db.session.commit()
    client = auth.client_for(forum["moderator"])  # a platform moderator decides too
    page = html(client.get("/forum/groups/refco/requests"))
    client.post(f"/forum/join-requests/{join.id}/decide", data={"csrf_token": csrf_token(page),
                                                                 "decision": "refuse"})
    db.session.refresh(join)
    assert join.status == "pending"
    client.post(f"/forum/join-requests/{join.id}/decide",
                data={"csrf_token": csrf_token(page), "decision": "refuse",
                      "reason": "The group is for prosecutors of the region."})
    db.session.refresh(join)
    assert join.status == "refused" and "forum.join_refused" in audit_actions()
    assert "The group is for prosecutors of the region." in mailbox.body(forum["outsider"].email)
    assert auth.client_for(forum["outsider"]).get(f"/forum/topics/{forum['secret'].id}").status_code == 404


def test_group_role_changes_are_audited(app, forum):
    from network.forum import access, services

    services.set_group_role(forum["moderator"], forum["group"], forum["outsider"], "space_moderator")
    assert access.can_moderate_space(forum["outsider"], forum["regional"])
    services.set_group_role(forum["moderator"], forum["group"], forum["outsider"], None)
    assert not access.can_see_space(forum["outsider"], forum["regional"])
    assert audit_actions().count("forum.group_role_changed") == 2
    with pytest.raises(services.ForumError):
        services.set_group_role(forum["member"], forum["group"], forum["member"], "member")


# ---------------------------------------------------------------- moderation basics

def test_a_moderator_locks_and_pins_a_topic_and_it_is_audited(app, auth, forum):
    topic_id = forum["open_topic"].id
    client = auth.client_for(forum["moderator"])
    for action in ("lock", "pin"):
        response = submit(client, f"/forum/topics/{topic_id}/moderate", {"action": action},
                          page=f"/forum/topics/{topic_id}")
        assert response.status_code == 302
    member = auth.client_for(forum["outsider"])
    page = html(member.get(f"/forum/topics/{topic_id}"))
    assert "Locked" in page and "This topic is locked" in page
    response = submit(member, f"/forum/topics/{topic_id}/reply", {"body": "Still there?"},
                      page=f"/forum/topics/{topic_id}")
    assert response.status_code == 400
    assert response.status_code == 400 and submit(
        member, f"/forum/topics/{topic_id}/moderate", {"action": "unlock"}, page="/forum/").status_code == 403
    assert {"forum.topic_lock", "forum.topic_pin"} <= set(audit_actions())


def test_pinned_topics_come_first(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    services.moderate_topic(forum["moderator"], forum["open_topic"], "pin")
    services.create_topic(forum["insider"], forum["general"], "A newer topic, not pinned", "Text")
    db.session.commit()
    page = html(auth.client_for(forum["member"]).get("/forum/spaces/general"))
    assert page.index(forum["open_topic"].title) < page.index("A newer topic, not pinned")


def test_a_hidden_post_is_shown_to_moderators_and_its_author_with_the_reason_only(app, auth, forum, mailbox):
    from network.core.db import db
    from network.forum import services

    post = services.reply(forum["outsider"], forum["open_topic"], "An offensive remark")
    db.session.commit()
    topic_url = f"/forum/topics/{forum['open_topic'].id}"
    moderator = auth.client_for(forum["moderator"])
    response = submit(moderator, f"/forum/posts/{post.id}/hide", {"reason": ""}, page=topic_url)
    assert response.status_code == 400
    response = submit(moderator, f"/forum/posts/{post.id}/hide", {"reason": "Personal attack"}, page=topic_url)
    assert response.status_code == 302
    assert "An offensive remark" in html(moderator.get(topic_url))
    assert "An offensive remark" not in html(auth.client_for(forum["insider"]).get(topic_url))
    assert "An offensive remark" not in html(auth.client_for(forum["insider"]).get("/forum/search?q=offensive"))
    author_page = html(auth.client_for(forum["outsider"]).get(topic_url))
    assert "An offensive remark" in author_page and "Personal attack" in author_page
    mail = mailbox.body(forum["outsider"].email)
    assert "Personal attack" in mail and "An offensive remark" not in mail
    response = submit(moderator, f"/forum/posts/{post.id}/unhide", {}, page=topic_url)
    assert response.status_code == 302
    assert "An offensive remark" in html(auth.client_for(forum["insider"]).get(topic_url))
    assert {"forum.post_hidden", "forum.post_unhidden"} <= set(audit_actions())


def test_mail_about_a_post_hidden_in_a_restricted_space_carries_the_title_only(app, forum, mailbox):
    from network.core.db import db
    from network.core.mail import deliver_queued
    from network.forum import services

    with app.test_request_context():  # as in the request that hides it: links are built from its URL
        post = services.reply(forum["insider"], forum["secret"], "Names of the smugglers are X and Y")
        services.hide_post(forum["space_moderator"], post, "Names of suspects must not be posted: X and Y")
        db.session.commit()
        deliver_queued()
    mail = mailbox.body(forum["insider"].email)
    assert RESTRICTED_TITLE in mail
    assert "smugglers" not in mail and "X and Y" not in mail


def test_a_hidden_topic_disappears_for_members_but_not_for_moderators(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    with pytest.raises(services.ForumError):
        services.moderate_topic(forum["moderator"], forum["open_topic"], "hide", "")
    services.moderate_topic(forum["moderator"], forum["open_topic"], "hide", "Duplicate of another topic")
    db.session.commit()
    assert auth.client_for(forum["outsider"]).get(f"/forum/topics/{forum['open_topic'].id}").status_code == 404
    assert auth.client_for(forum["moderator"]).get(f"/forum/topics/{forum['open_topic'].id}").status_code == 200


def test_only_space_moderators_moderate_a_restricted_space(app, forum):
    from network.forum import access

    assert access.can_moderate_space(forum["space_moderator"], forum["regional"])
    assert not access.can_moderate_space(forum["space_moderator"], forum["general"])
    assert not access.can_moderate_space(forum["insider"], forum["regional"])
    assert access.can_moderate_space(forum["moderator"], forum["general"])


# ---------------------------------------------------------------- mentions, references, search

def test_mentions_of_vetted_members_and_references_become_links(app, auth, forum, member_factory):
    from network.core.db import db
    from network.forum import services

    member_factory(name="Paul Pending", email="paul@justiz.example.at", status="pending", enrolled=False)
    services.reply(forum["insider"], forum["open_topic"],
                   "Ask @[Otto Outsider], not @[Paul Pending] or @[Nobody Here]. See [[case:CASE-2021-7]] and "
                   "[[authority:AUT-MOJ]]. `@[Otto Outsider]` in code stays code.")
    db.session.commit()
    page = html(auth.client_for(forum["member"]).get(f"/forum/topics/{forum['open_topic'].id}"))
    assert f'href="http://localhost/forum/search?author={forum["outsider"].id}"' in page
    assert ">@Otto Outsider</a>" in page
    assert "@[Paul Pending]" in page and "@[Nobody Here]" in page
    assert 'href="http://localhost/cases/CASE-2021-7"' in page
    assert 'href="http://localhost/directory/AUT-MOJ"' in page
    assert "<code>@[Otto Outsider]</code>" in page


def test_the_search_goes_through_the_search_layer_and_ignores_like_wildcards(app, auth, forum):
    from network.core.db import db
    from network.forum import services

    services.reply(forum["insider"], forum["open_topic"], "A discount of 100% on fees")
    db.session.commit()
    client = auth.client_for(forum["member"])
    page = html(client.get("/forum/search?q=100%25"))
    assert "interim search" not in page and "1 post found" in page  # the search layer's kind, no interim search
    assert "0 posts found" in html(client.get("/forum/search?q=%25%25"))
    assert "0 posts found" in html(client.get("/forum/search?q=_"))
    by_author = html(client.get(f"/forum/search?author={forum['insider'].id}"))
    assert "Posts by <bdi>Irene Insider</bdi>" in by_author
    assert client.get("/forum/search?author=abc&q=" + "x" * 500).status_code == 200


@pytest.mark.persistence
def test_the_visibility_filter_holds_on_both_databases(app, forum):
    from network.core.db import db
    from network.forum import access, services

    services.reply(forum["insider"], forum["secret"], "Insider reply")
    db.session.commit()
    titles = lambda member: set(db.session.scalars(access.visible_topics(member).with_only_columns(  # noqa: E731
        access.Topic.title)))
    assert RESTRICTED_TITLE not in titles(forum["outsider"])
    assert RESTRICTED_TITLE in titles(forum["insider"]) and RESTRICTED_TITLE in titles(forum["moderator"])
    from network.forum.search import search_posts

    assert not search_posts(forum["outsider"], "insider").post_ids
    assert search_posts(forum["insider"], "insider").post_ids
    assert [row.topic.title for row in services.new_for(forum["outsider"])] == [forum["open_topic"].title]


@pytest.mark.persistence
def test_the_demo_forum_loads_once(app, member_factory, clock):
    from network.core.db import db
    from network.forum.demo import load_demo_forum
    from network.forum.models import Space, Topic

    for email, name in [("ana.souza@mj.example.br", "Ana Souza"), ("jose.reyes@doj.example.ph", "José Reyes"),
                        ("focal@justiz.example.at", "Franz Fokus"), ("focal@justice.example.ng", "Ngozi Okafor"),
                        ("moderator@network.example.org", "Mona Moderator"),
                        ("moderator2@network.example.org", "Mateo Moderador")]:
        member_factory(email=email, name=name)
    first = load_demo_forum()
    db.session.commit()
    assert first["forum spaces"] == 6 and first["forum topics"] >= 9
    assert load_demo_forum() == {"forum groups": 0, "forum spaces": 0, "forum topics": 0}
    assert db.session.scalar(select(Space).where(Space.slug == "wacap")).restricted
    solved = db.session.scalars(select(Topic).where(Topic.solved_post_id.isnot(None))).all()
    assert len(solved) >= 3
