"""The forum pages that read their topics and spaces as plain rows (network.forum.cards: TopicLine, SpaceLine) rather
than as entities give each reader what the entities and the rules would: the same attributes, the same rows of a
topic list and the same cards of the index, on either database."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from flask import template_rendered
from sqlalchemy import select

from tests.test_statement_budgets import statements_of


def html(response) -> str:
    return response.get_data(as_text=True)


@contextmanager
def page_context(app):
    """The context of each template the app renders meanwhile, in order."""
    seen: list[dict] = []

    def note(sender, template, context, **extra) -> None:  # noqa: ARG001 (the signal's)
        seen.append(dict(context))

    template_rendered.connect(note, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(note, app)


def _as_entity(line, entity, names) -> None:
    for name in names:
        assert getattr(line, name) == getattr(entity, name), name


TOPIC_NAMES = ("id", "space_id", "author_id", "title", "is_question", "solved_post_id", "locked", "pinned", "hidden",
               "created_at", "last_post_at", "merged_into_id", "solved")
SPACE_NAMES = ("id", "slug", "name", "description", "restricted", "group_id", "position", "created_at")


def _add_seeing_groups(forum) -> list[str]:
    """Two more groups that see the restricted space and one that does not: Space.seen_by, in the rows' order."""
    from network.core.db import db
    from network.forum.models import ForumGroup, SpacePermission

    regional = forum["regional"]
    for slug, name, sees in (("zeta", "Zeta prosecutors", True), ("beta", "Beta observers", False),
                             ("alpha", "Alpha liaison magistrates", True)):
        group = ForumGroup(slug=slug, name=name, description="")
        db.session.add(group)
        db.session.flush()
        db.session.add(SpacePermission(space_id=regional.id, group_id=group.id, can_see=sees))
    db.session.commit()
    db.session.expire_all()
    return list(regional.seen_by)


@pytest.mark.persistence
def test_the_topic_page_reads_its_topic_space_and_group_as_the_entities_have_them(app, auth, forum):
    """The topic page's topic is a plain row with its space, the space's group and the groups that see it (one
    statement with the page's counts): every attribute the rules and the template read is the entity's, and the
    padlock names the groups of Space.seen_by in their order."""
    from network.core.db import db
    from network.forum import services
    from network.forum.cards import TopicLine
    from network.forum.models import Topic

    seen_by = _add_seeing_groups(forum)
    assert len(seen_by) >= 3 and "Beta observers" not in seen_by
    secret = forum["secret"]
    secret.pinned, secret.is_question = True, True
    secret.solved_post_id = services.first_post(secret).id
    db.session.commit()
    client = auth.client_for(forum["insider"])
    with page_context(app) as contexts:
        page = html(client.get(f"/forum/topics/{secret.id}"))
    shown = contexts[-1]["topic"]
    assert isinstance(shown, TopicLine)
    topic = db.session.get(Topic, secret.id)
    _as_entity(shown, topic, TOPIC_NAMES)
    _as_entity(shown.space, topic.space, SPACE_NAMES)
    assert (shown.space.group.id, shown.space.group.slug, shown.space.group.name) == (
        topic.space.group.id, topic.space.group.slug, topic.space.group.name)
    assert shown.space.seen_by == seen_by
    assert f'title="Restricted to {", ".join(seen_by)}"' in page
    assert len(statements_of(app, client, f"/forum/topics/{secret.id}")) <= 3


@pytest.mark.persistence
def test_the_topic_page_of_an_open_space_reads_a_space_without_group(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Topic

    topic = forum["open_topic"]
    client = auth.client_for(forum["member"])
    with page_context(app) as contexts:
        page = html(client.get(f"/forum/topics/{topic.id}"))
    shown = contexts[-1]["topic"]
    entity = db.session.get(Topic, topic.id)
    _as_entity(shown, entity, TOPIC_NAMES)
    _as_entity(shown.space, entity.space, SPACE_NAMES)
    assert shown.space.group is None and shown.space.seen_by == []
    assert "forum-padlock" not in page and f'href="/forum/spaces/{entity.space.slug}"' in page


@pytest.mark.persistence
def test_a_space_page_lists_the_rows_the_entities_give(app, auth, forum, member_factory):
    """The space page's topics are plain rows with their author's name: each row is the one services.topic_rows
    gives for the Topic entities (every value it shows, TopicRow.key), pinned, locked, hidden, solved and of a former
    member included, for a reader and for a moderator of the space."""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import GroupMembership, Space, Topic
    from network.members.models import Member

    regional, insider = forum["regional"], forum["insider"]
    leaving = member_factory(name="Lea Leaving", email="lea@justiz.example.at")
    db.session.add(GroupMembership(group_id=forum["group"].id, member_id=leaving.id, role="member"))
    db.session.flush()
    pinned = services.create_topic(insider, regional, "Pinned and locked", "Read me first.")
    pinned.pinned, pinned.locked = True, True
    hidden = services.create_topic(insider, regional, "Hidden one", "Off topic.")
    hidden.hidden = True
    question = services.create_topic(insider, regional, "A question", "Who knows?", is_question=True)
    answer = services.reply(forum["space_moderator"], question, "I do.")
    question.solved_post_id = answer.id
    orphan = services.create_topic(leaving, regional, "By someone who left", "Bye.")
    db.session.flush()
    orphan.author_id = None
    db.session.commit()
    for reader in (insider, forum["space_moderator"]):
        client = auth.client_for(reader)
        with page_context(app) as contexts:
            page = html(client.get(f"/forum/spaces/{regional.slug}"))
        rows, shown = contexts[-1]["rows"], contexts[-1]["space"]
        db.session.expire_all()
        _as_entity(shown, db.session.get(Space, regional.id), SPACE_NAMES)
        assert shown.seen_by == db.session.get(Space, regional.id).seen_by
        assert (shown.group.slug, shown.group.name) == (forum["group"].slug, forum["group"].name)
        with app.test_request_context(f"/forum/spaces/{regional.slug}"):
            entities = [db.session.get(Topic, row.topic.id) for row in rows]
            expected = services.topic_rows(db.session.get(Member, reader.id), entities)
        assert [row.key(False) for row in rows] == [row.key(False) for row in expected]
        titles = {row.topic.title for row in rows}
        assert {"Pinned and locked", "A question", "By someone who left"} <= titles
        assert ("Hidden one" in titles) == (reader is forum["space_moderator"])
        assert "a former member" in page
    outsider = auth.client_for(forum["outsider"])
    with page_context(app) as contexts:
        locked = html(outsider.get(f"/forum/spaces/{regional.slug}"))
    assert "Request to join" in locked and "Pinned and locked" not in locked
    assert contexts[-1]["space"].slug == regional.slug


@pytest.mark.persistence
def test_the_index_cards_hold_what_the_space_entities_give(app, auth, forum):
    """The index's spaces are plain rows with their groups: the key of each card (every value it shows) is the one
    the Space entities give, for an insider and an outsider, and the padlock names Space.seen_by."""
    from network.core.db import db
    from network.forum import views
    from network.forum.models import Space
    from network.members.models import Member

    seen_by = _add_seeing_groups(forum)
    for reader in (forum["insider"], forum["outsider"], forum["member"]):
        client = auth.client_for(reader)
        with page_context(app) as contexts:
            page = html(client.get("/forum/"))
        context = contexts[-1]
        lines = context["spaces"]
        db.session.expire_all()
        entities = [db.session.get(Space, line.id) for line in lines]
        assert [space.slug for space in entities] == [space.slug for space in db.session.scalars(
            select(Space).order_by(Space.restricted, Space.position, Space.name))]
        for line, entity in zip(lines, entities, strict=True):
            _as_entity(line, entity, SPACE_NAMES)
            assert (line.group.slug, line.group.name) == (entity.group.slug, entity.group.name) if entity.group \
                else line.group is None
        with app.test_request_context("/forum/"):
            member = db.session.get(Member, reader.id)
            expected = views._index_card_keys(member, entities, context["visible"], context["counts"],
                                              context["latest"], context["seen_by"])
        assert context["keys"] == expected
        assert f'title="Restricted to {", ".join(seen_by)}"' in page


# ---------------------------------------------------------------- kept pieces with forms

def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token"[^>]*value="([^"]*)"', page))


def test_kept_post_cards_with_forms_hold_each_readers_own_csrf_token(app, auth, forum):
    """A post's card with forms (hide, show again, mark as the answer) is kept once for every reader who sees the same
    card, with a slot where each reader's own CSRF token goes: two moderators of the space get the same cards, each
    with their own token in every form, and no slot is left in the page."""
    from network.forum.views import TOKEN_SLOT

    secret = forum["secret"]
    pages = []
    for reader in (forum["moderator"], forum["space_moderator"]):
        client = auth.client_for(reader)
        client.get(f"/forum/topics/{secret.id}")
        page = html(client.get(f"/forum/topics/{secret.id}"))
        assert "/forum/posts/" in page and "Hide this post" in page
        assert str(TOKEN_SLOT) not in page and "forum-csrf-token-slot" not in page
        assert len(_tokens(page)) == 1  # the navigation's, the card's forms and the reply form's: the session's own
        pages.append(page)
    assert _tokens(pages[0]) != _tokens(pages[1])
    cards = [page[page.index('<article'):page.rindex('</article>')] for page in pages]
    assert re.sub(r'value="[^"]*"', "", cards[0]) == re.sub(r'value="[^"]*"', "", cards[1])


def test_kept_index_cards_of_closed_spaces_hold_each_readers_own_csrf_token(app, auth, forum, member_factory):
    """The index's card of a space the reader does not see holds the request to join: kept once, each reader's own
    CSRF token put in its form."""
    from network.forum.views import TOKEN_SLOT

    pages = []
    for reader in (forum["outsider"], member_factory(name="Nina Newcomer", email="nina@justiz.example.at")):
        client = auth.client_for(reader)
        client.get("/forum/")
        page = html(client.get("/forum/"))
        assert "Request to join" in page and "/forum/groups/refco/join" in page
        assert str(TOKEN_SLOT) not in page and "forum-csrf-token-slot" not in page
        assert len(_tokens(page)) == 1
        pages.append(page)
    assert _tokens(pages[0]) != _tokens(pages[1])
