"""Forum moderation: flags (one open flag per member per post) and their queue with context, oldest first, for
platform moderators and for space moderators of their spaces only; decisions (agree hides with the author told
and able to edit, then a moderator shows it again; disagree; silence for N days; suspend, platform moderators
only); moderator notes visible to moderators only; moving and merging topics. Everything audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import submit
from tests.test_forum import audit_actions, html


def _reply(author, topic, text):
    from network.core.db import db
    from network.forum import services

    post = services.reply(author, topic, text)
    db.session.commit()
    return post


def _flag(auth, who, post, reason="Personal attack on a colleague"):
    client = auth.client_for(who)
    return client, submit(client, f"/forum/posts/{post.id}/flag", {"reason": reason})


@pytest.mark.persistence
def test_a_member_flags_a_post_once_with_a_reason(app, auth, forum):
    post = _reply(forum["outsider"], forum["open_topic"], "A rude remark about the asker")
    client, response = _flag(auth, forum["insider"], post, "")
    assert response.status_code == 400
    client, response = _flag(auth, forum["insider"], post)
    assert response.status_code == 302
    again = submit(client, f"/forum/posts/{post.id}/flag", {"reason": "Still rude"}, page=f"/forum/topics/{post.topic_id}")
    assert again.status_code == 400 and "already flagged" in html(again)
    assert "forum.post_flagged" in audit_actions()


def test_nobody_flags_their_own_post_or_a_post_they_cannot_read(app, auth, forum):
    from network.forum.services import first_post

    own = first_post(forum["open_topic"])
    assert auth.client_for(forum["member"]).get(f"/forum/posts/{own.id}/flag").status_code == 403
    secret = first_post(forum["secret"])
    assert auth.client_for(forum["outsider"]).get(f"/forum/posts/{secret.id}/flag").status_code == 404


def test_the_queue_shows_flags_oldest_first_with_their_context(app, auth, forum, clock):
    first = _reply(forum["insider"], forum["open_topic"], "The earlier, harmless post")
    rude = _reply(forum["outsider"], forum["open_topic"], "The first rude post")
    clock.advance(minutes=5)
    _flag(auth, forum["insider"], rude, "Rude to the asker")
    later = _reply(forum["outsider"], forum["open_topic"], "The second rude post")
    clock.advance(minutes=5)
    _flag(auth, forum["member"], later, "Rude again")
    page = html(auth.client_for(forum["moderator"]).get("/forum/moderation"))
    assert page.index("Rude to the asker") < page.index("Rude again")
    assert "The earlier, harmless post" in page and forum["open_topic"].title in page
    assert first.id < rude.id


def test_space_moderators_see_the_flags_of_their_spaces_only_and_members_no_queue(app, auth, forum):
    open_post = _reply(forum["outsider"], forum["open_topic"], "Open space remark")
    secret_post = _reply(forum["space_moderator"], forum["secret"], "Restricted remark")
    _flag(auth, forum["insider"], open_post, "Flag in the open space")
    _flag(auth, forum["insider"], secret_post, "Flag in the restricted space")
    space_mod = html(auth.client_for(forum["space_moderator"]).get("/forum/moderation"))
    assert "Flag in the restricted space" in space_mod and "Flag in the open space" not in space_mod
    platform = html(auth.client_for(forum["moderator"]).get("/forum/moderation"))
    assert "Flag in the restricted space" in platform and "Flag in the open space" in platform
    assert auth.client_for(forum["member"]).get("/forum/moderation").status_code == 403


def _decide(auth, who, flag_id, data):
    client = auth.client_for(who)
    return client, submit(client, f"/forum/flags/{flag_id}/decide", data, page="/forum/moderation")


def _flag_id(post):
    from network.core.db import db
    from network.forum.models import Flag

    return db.session.scalar(select(Flag.id).where(Flag.post_id == post.id).order_by(Flag.id.desc()))


def test_agreeing_hides_the_post_tells_the_author_who_edits_it_and_a_moderator_shows_it_again(app, auth, forum,
                                                                                             mailbox):
    from network.core.db import db
    from network.forum.models import Flag, Post

    post = _reply(forum["outsider"], forum["open_topic"], "Insulting words")
    _flag(auth, forum["insider"], post)
    _flag(auth, forum["member"], post, "Insulting the asker")
    _client, response = _decide(auth, forum["moderator"], _flag_id(post), {"decision": "agree", "reason": ""})
    assert response.status_code == 400  # agreeing needs the reason the author is told
    _client, response = _decide(auth, forum["moderator"], _flag_id(post),
                                {"decision": "agree", "reason": "Be courteous to colleagues"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).hidden
    assert set(db.session.scalars(select(Flag.status).where(Flag.post_id == post.id))) == {"agreed"}
    assert "Be courteous to colleagues" in mailbox.body(forum["outsider"].email)
    author = auth.client_for(forum["outsider"])
    topic_url = f"/forum/topics/{post.topic_id}"
    assert "Be courteous to colleagues" in html(author.get(topic_url))
    assert submit(author, f"/forum/posts/{post.id}/edit", {"body": "Courteous words"}).status_code == 302
    queue = html(auth.client_for(forum["moderator"]).get("/forum/moderation"))
    assert "Hidden posts edited by their authors" in queue
    moderator = auth.client_for(forum["moderator"])
    assert submit(moderator, f"/forum/posts/{post.id}/unhide", {}, page="/forum/moderation").status_code == 302
    assert "Courteous words" in html(auth.client_for(forum["insider"]).get(topic_url))
    assert {"forum.flag_agreed", "forum.post_hidden", "forum.post_unhidden"} <= set(audit_actions())


def test_disagreeing_closes_the_flag_and_leaves_the_post(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Flag, Post

    post = _reply(forum["outsider"], forum["open_topic"], "A blunt but fair remark")
    _flag(auth, forum["insider"], post)
    _client, response = _decide(auth, forum["moderator"], _flag_id(post), {"decision": "disagree"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Post, post.id).hidden
    assert db.session.scalar(select(Flag.status).where(Flag.post_id == post.id)) == "disagreed"
    assert "No open flags" in html(auth.client_for(forum["moderator"]).get("/forum/moderation"))
    assert "forum.flag_disagreed" in audit_actions()


def test_silencing_stops_the_author_posting_for_n_days_and_tells_them(app, auth, forum, clock, mailbox):
    post = _reply(forum["outsider"], forum["open_topic"], "Spam spam spam")
    _flag(auth, forum["insider"], post)
    _client, response = _decide(auth, forum["space_moderator"], _flag_id(post),
                                {"decision": "silence", "reason": "Advertising", "days": "3"})
    assert response.status_code == 403  # the open space is not the space moderator's
    _client, response = _decide(auth, forum["moderator"], _flag_id(post),
                                {"decision": "silence", "reason": "Advertising", "days": "3"})
    assert response.status_code == 302
    assert any("silenced" in m.get_content() for m in mailbox.to(forum["outsider"].email))
    author = auth.client_for(forum["outsider"])
    topic_url = f"/forum/topics/{forum['open_topic'].id}"
    page = html(author.get(topic_url))
    assert "You are silenced in the forum until" in page and "Advertising" in page
    refused = author.post(f"/forum/topics/{forum['open_topic'].id}/reply",
                          data={"csrf_token": _token(page), "body": "More spam"})
    assert refused.status_code == 400
    assert author.get("/forum/spaces/general/new").status_code == 302
    clock.advance(days=3, minutes=1)
    author = auth.client_for(forum["outsider"])
    assert submit(author, f"/forum/topics/{forum['open_topic'].id}/reply", {"body": "I am back, politely"},
                  page=topic_url).status_code == 302
    assert "forum.member_silenced" in audit_actions()


def _token(page: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(page)


def test_suspending_goes_through_the_members_service_and_only_for_platform_moderators(app, auth, forum, mailbox):
    from network.core.db import db
    from network.members.models import Member

    post = _reply(forum["insider"], forum["secret"], "Threatening message")
    _flag(auth, forum["space_moderator"], post)
    _client, response = _decide(auth, forum["space_moderator"], _flag_id(post),
                                {"decision": "suspend", "reason": "Threats"})
    assert response.status_code == 400 and "Only platform moderators suspend" in html(response)
    db.session.expire_all()
    assert db.session.get(Member, forum["insider"].id).status == "active"
    _client, response = _decide(auth, forum["moderator"], _flag_id(post), {"decision": "suspend", "reason": "Threats"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, forum["insider"].id).status == "suspended"
    assert {"member.suspended", "forum.flag_agreed"} <= set(audit_actions())


def test_moderator_notes_are_for_moderators_only(app, auth, forum):
    url = f"/forum/members/{forum['outsider'].id}/moderation"
    moderator = auth.client_for(forum["moderator"])
    assert submit(moderator, f"/forum/members/{forum['outsider'].id}/notes",
                  {"body": "Warned informally about tone"}, page=url).status_code == 302
    assert "Warned informally about tone" in html(moderator.get(url))
    assert "Warned informally about tone" not in html(auth.client_for(forum["space_moderator"]).get(url))  # finding 15
    for who in ("outsider", "member", "insider"):
        assert auth.client_for(forum[who]).get(url).status_code == 403, who
    assert "forum.moderator_note_added" in audit_actions()


def test_a_moderator_moves_a_topic_to_another_space(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Topic

    moderator = auth.client_for(forum["moderator"])
    topic_url = f"/forum/topics/{forum['open_topic'].id}"
    response = submit(moderator, f"/forum/topics/{forum['open_topic'].id}/move", {"space": "mla"}, page=topic_url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Topic, forum["open_topic"].id).space.slug == "mla"
    assert auth.client_for(forum["member"]).post(f"/forum/topics/{forum['open_topic'].id}/move").status_code in (
        400, 403)
    assert "forum.topic_moved" in audit_actions()


@pytest.mark.persistence
def test_merging_moves_the_posts_in_order_and_the_old_topic_redirects(app, auth, forum, clock):
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Post

    target = forum["open_topic"]
    clock.advance(minutes=1)
    duplicate = services.create_topic(forum["insider"], forum["general"], "Reaching a central authority quickly",
                                      "Same question as the other topic.")
    clock.advance(minutes=1)
    services.reply(forum["member"], target, "An answer in the original")
    clock.advance(minutes=1)
    services.reply(forum["outsider"], duplicate, "An answer in the duplicate")
    db.session.commit()
    moderator = auth.client_for(forum["moderator"])
    response = submit(moderator, f"/forum/topics/{duplicate.id}/merge", {"target": str(target.id)},
                      page=f"/forum/topics/{duplicate.id}")
    assert response.status_code == 302
    old = moderator.get(f"/forum/topics/{duplicate.id}")
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/forum/topics/{target.id}")
    bodies = [p.body_markdown for p in db.session.scalars(select(Post).where(Post.topic_id == target.id)
                                                           .order_by(Post.id))]
    assert bodies == ["Looking for advice.", "Same question as the other topic.", "An answer in the original",
                      "An answer in the duplicate"]
    page = html(auth.client_for(forum["member"]).get(f"/forum/topics/{target.id}"))
    assert page.index("Same question as the other topic.") < page.index("An answer in the duplicate")
    assert "Reaching a central authority quickly" not in html(auth.client_for(forum["member"]).get("/forum/spaces/general"))
    assert "forum.topic_merged" in audit_actions()


def test_a_topic_cannot_be_merged_into_a_space_the_moderator_does_not_moderate(app, auth, forum):
    from network.core.db import db
    from network.forum import moderation
    from network.forum.services import ForumError

    try:
        moderation.merge_topic(forum["space_moderator"], forum["secret"], forum["open_topic"])
    except ForumError:
        db.session.rollback()
    else:
        raise AssertionError("a space moderator merged into a space they do not moderate")


@pytest.mark.persistence
def test_the_database_holds_one_open_flag_per_member_and_post(app, forum):
    import sqlalchemy.exc

    from network.core.db import db
    from network.forum.models import Flag

    post = _reply(forum["outsider"], forum["open_topic"], "A remark")
    db.session.add(Flag(post_id=post.id, member_id=forum["insider"].id, reason="First", status="disagreed"))
    db.session.add(Flag(post_id=post.id, member_id=forum["insider"].id, reason="Second"))
    db.session.commit()  # a closed flag and an open one may coexist
    db.session.add(Flag(post_id=post.id, member_id=forum["insider"].id, reason="Third"))
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
