"""Per-space, per-group permissions (see, reply, create): the one visibility filter, read-only spaces, the page that
edits a space's permissions, the page that manages a group's members, and what an outsider never learns."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import submit
from tests.forum_support import RESTRICTED_TITLE
from tests.test_forum import html

ALL = (True, True, True)
SEE = (True, False, False)


@pytest.fixture
def announcements(forum, member_factory):
    """A read-only space: every vetted member sees it; only the editors' group replies and starts topics."""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import ForumGroup, GroupMembership, Space, SpacePermission

    editors = ForumGroup(slug="editors", name="Network editors", description="They publish the announcements")
    db.session.add(editors)
    db.session.flush()
    writer = member_factory(name="Wanda Writer", email="wanda@justiz.example.at")
    db.session.add(GroupMembership(group_id=editors.id, member_id=writer.id, role="member"))
    space = Space(slug="announcements", name="Network announcements", description="Read-only", group_id=editors.id,
                  position=0, permissions=[SpacePermission(group_id=None, can_see=True),
                                           SpacePermission(group_id=editors.id, can_see=True, can_reply=True,
                                                           can_create=True)])
    db.session.add(space)
    db.session.flush()
    topic = services.create_topic(writer, space, "The plenary meets in Vienna in October", "Register by September.")
    db.session.commit()
    return {**forum, "editors": editors, "writer": writer, "announcements": space, "announcement": topic}


def _audit(action: str):
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _grid_form(grid: dict) -> dict:
    """Form fields for a permission grid: group id (None: all vetted members) -> (see, reply, create)."""
    data = {}
    for group_id, grant in grid.items():
        key = "all" if group_id is None else str(group_id)
        for permission, on in zip(("see", "reply", "create"), grant, strict=True):
            if on:
                data[f"{permission}-{key}"] = "1"
    return data


def _post_count() -> int:
    from network.core.db import db
    from network.forum.models import Post

    return db.session.scalar(select(func.count(Post.id)))


# ---------------------------------------------------------------- read-only spaces

def test_a_see_only_member_reads_announcements_but_gets_no_forms_and_403_on_writing(app, auth, announcements):
    space, topic = announcements["announcements"], announcements["announcement"]
    client = auth.client_for(announcements["member"])
    page = html(client.get("/forum/spaces/announcements"))
    assert topic.title in page and "/forum/spaces/announcements/new" not in page and "Read-only for you" in page
    assert "forum-padlock" not in page  # every member sees it: no padlock
    topic_page = html(client.get(f"/forum/topics/{topic.id}"))
    assert "Register by September." in topic_page and f"/forum/topics/{topic.id}/reply" not in topic_page
    assert client.get("/forum/spaces/announcements/new").status_code == 403
    before = _post_count()
    response = submit(client, f"/forum/topics/{topic.id}/reply", {"body": "May I register late?"},
                      page=f"/forum/topics/{topic.id}")
    assert response.status_code == 403
    response = submit(client, "/forum/spaces/announcements/new", {"title": "A question about the plenary",
                                                                  "body": "Where exactly?"},
                      page="/forum/spaces/announcements")
    assert response.status_code == 403
    assert _post_count() == before

    from network.forum import access, services

    member = announcements["member"]
    assert access.can_see_space(member, space) and access.can_read_topic(member, topic)
    assert not access.can_reply(member, topic) and not access.can_create_topic(member, space)
    with pytest.raises(services.ForumError):
        services.reply(member, topic, "Through the service, too?")


def test_the_group_with_create_writes_while_the_rest_only_read(app, auth, announcements):
    topic = announcements["announcement"]
    writer = auth.client_for(announcements["writer"])
    assert "/forum/spaces/announcements/new" in html(writer.get("/forum/spaces/announcements"))
    response = submit(writer, "/forum/spaces/announcements/new", {"title": "New members from West Africa",
                                                                  "body": "Welcome to three central authorities."})
    assert response.status_code == 302
    response = submit(writer, f"/forum/topics/{topic.id}/reply", {"body": "The agenda is attached."},
                      page=f"/forum/topics/{topic.id}")
    assert response.status_code == 302
    moderator = auth.client_for(announcements["moderator"])  # platform moderators keep full access
    response = submit(moderator, f"/forum/topics/{topic.id}/reply", {"body": "Thank you."},
                      page=f"/forum/topics/{topic.id}")
    assert response.status_code == 302


def test_a_group_may_reply_without_starting_topics(app, auth, announcements):
    from network.core.db import db
    from network.forum import access, services

    space, topic = announcements["announcements"], announcements["announcement"]
    services.set_space_permissions(announcements["moderator"], space, {
        None: SEE, announcements["group"].id: (True, True, False), announcements["editors"].id: ALL})
    db.session.commit()
    insider, member = announcements["insider"], announcements["member"]
    assert access.can_reply(insider, topic) and not access.can_create_topic(insider, space)
    assert not access.can_reply(member, topic)
    client = auth.client_for(insider)
    assert client.get("/forum/spaces/announcements/new").status_code == 403
    response = submit(client, f"/forum/topics/{topic.id}/reply", {"body": "REFCO will attend."},
                      page=f"/forum/topics/{topic.id}")
    assert response.status_code == 302


def test_the_space_moderators_keep_full_access_whatever_the_rows_say(app, announcements):
    from network.core.db import db
    from network.forum import access
    from network.forum.models import GroupMembership, SpacePermission

    space_moderator = announcements["space_moderator"]
    db.session.add(GroupMembership(group_id=announcements["editors"].id, member_id=space_moderator.id,
                                   role="space_moderator"))
    db.session.execute(SpacePermission.__table__.update()
                       .where(SpacePermission.group_id == announcements["editors"].id)
                       .values(can_reply=False, can_create=False))
    db.session.commit()
    space = announcements["announcements"]
    assert access.can_create_topic(space_moderator, space)
    assert access.can_reply(space_moderator, announcements["announcement"])
    assert not access.can_create_topic(announcements["writer"], space)


def test_a_new_space_without_rows_gets_the_rows_its_flag_means(app, forum):
    from network.core.db import db
    from network.forum.models import Space

    assert [(p.group_id, p.can_see, p.can_reply, p.can_create) for p in forum["general"].permissions] == \
        [(None, True, True, True)]
    assert [(p.group_id, p.can_see, p.can_reply, p.can_create) for p in forum["regional"].permissions] == \
        [(forum["group"].id, True, True, True)]
    hidden = Space(slug="nobody", name="Nobody", restricted=True)
    db.session.add(hidden)
    db.session.flush()
    assert hidden.permissions == []


# ---------------------------------------------------------------- an outsider learns nothing

def test_an_outsider_sees_nothing_of_a_restricted_space(app, auth, forum):
    from network.core.db import db
    from network.forum import access, notifications, services
    from network.forum.models import Topic
    from network.forum.search import search_posts

    outsider, secret = forum["outsider"], forum["secret"]
    reply = services.reply(forum["insider"], secret, "Ask @[Otto Outsider] about the route, later.")
    db.session.commit()
    client = auth.client_for(outsider)
    index = html(client.get("/forum/"))
    assert RESTRICTED_TITLE not in index and "forum-padlock" in index
    assert "Secret coordination" not in html(client.get("/forum/new"))
    assert "Confidential plan" not in html(client.get("/forum/search?q=confidential"))
    assert "about the route" not in html(client.get("/forum/search?q=route"))
    assert client.get(f"/forum/topics/{secret.id}").status_code == 404
    assert client.get(f"/forum/posts/{reply.id}/history").status_code == 404
    assert RESTRICTED_TITLE not in html(client.get("/forum/spaces/refco"))
    assert services.space_counts(outsider, [forum["regional"]]) == {forum["regional"].id: (0, 0)}
    assert db.session.scalar(access.visible_topics(outsider).where(Topic.space_id == forum["regional"].id)) is None
    assert search_posts(outsider, "confidential").total == 0
    assert notifications.unread_count(outsider) == 0 and notifications.listing(outsider) == []
    assert RESTRICTED_TITLE not in html(client.get("/forum/notifications"))


def test_notifications_follow_the_see_permission_when_made_and_when_listed(app, auth, forum):
    from network.core.db import db
    from network.forum import notifications, services

    moderator, outsider, regional = forum["moderator"], forum["outsider"], forum["regional"]
    group = forum["group"]
    services.set_space_permissions(moderator, regional, {None: SEE, group.id: ALL})
    db.session.commit()
    assert not regional.restricted
    services.reply(forum["insider"], forum["secret"], "Thoughts, @[Otto Outsider]?")
    db.session.commit()
    assert notifications.unread_count(outsider) == 1
    services.set_space_permissions(moderator, regional, {group.id: ALL})
    db.session.commit()
    assert regional.restricted
    assert notifications.unread_count(outsider) == 0 and notifications.listing(outsider) == []
    assert RESTRICTED_TITLE not in html(auth.client_for(outsider).get("/forum/notifications"))
    services.reply(forum["insider"], forum["secret"], "Again, @[Otto Outsider]?")
    db.session.commit()
    assert notifications.unread_count(outsider) == 0


# ---------------------------------------------------------------- the permissions page

def test_the_permissions_page_shows_a_grid_and_saves_a_read_only_space_with_an_audit_entry(app, auth, forum):
    from network.core.db import db
    from network.forum import access, services

    client = auth.client_for(forum["moderator"])
    page = html(client.get("/forum/spaces/general/permissions"))
    assert 'name="see-all"' in page and f'name="create-{forum["group"].id}"' in page and "csrf_token" in page
    response = submit(client, "/forum/spaces/general/permissions", _grid_form({None: SEE, forum["group"].id: ALL}))
    assert response.status_code == 302
    db.session.expire_all()
    general = forum["general"]
    assert services.permission_grid(general) == {None: SEE, forum["group"].id: ALL}
    assert not general.restricted
    assert not access.can_create_topic(forum["member"], general) and access.can_create_topic(forum["insider"], general)
    entry = _audit("forum.space_permissions_changed")[-1]
    details = json.loads(entry.details)
    assert entry.actor_id == forum["moderator"].id and entry.target_id == str(general.id)
    assert details["before"] == {"*": "src"} and details["after"] == {"*": "s", "refco": "src"}


def test_the_permissions_page_refuses_reply_without_see_an_empty_grid_and_dropping_the_moderating_group(
        app, auth, forum):
    from network.core.db import db
    from network.forum import services

    client = auth.client_for(forum["moderator"])
    group_id = forum["group"].id
    cases = [
        ("/forum/spaces/general/permissions", {None: (False, True, False)}, "needs seeing the space"),
        ("/forum/spaces/general/permissions", {}, "Nobody but the platform"),
        ("/forum/spaces/refco/permissions", {None: (False, False, False)}, "Nobody but the platform"),
        ("/forum/spaces/refco/permissions", {group_id: (False, True, True)}, "needs seeing the space"),
    ]
    for url, grid, message in cases:
        response = submit(client, url, _grid_form(grid))
        assert response.status_code == 400 and message in html(response), url
    db.session.expire_all()
    other = _make_group("wacap")
    with pytest.raises(services.ForumError, match="must keep seeing"):
        services.set_space_permissions(forum["moderator"], forum["regional"], {other.id: ALL})
    db.session.rollback()
    assert services.permission_grid(forum["general"]) == {None: ALL}
    assert services.permission_grid(forum["regional"]) == {group_id: ALL}
    assert _audit("forum.space_permissions_changed") == []


def _make_group(slug: str):
    from network.core.db import db
    from network.forum.models import ForumGroup

    group = ForumGroup(slug=slug, name=slug.upper(), description="")
    db.session.add(group)
    db.session.commit()
    return group


def test_who_may_open_the_permissions_page(app, auth, forum, admin):
    sam = auth.client_for(forum["space_moderator"])
    assert sam.get("/forum/spaces/refco/permissions").status_code == 200  # their own space
    assert sam.get("/forum/spaces/general/permissions").status_code == 403
    assert auth.client_for(admin).get("/forum/spaces/refco/permissions").status_code == 200
    assert auth.client_for(forum["member"]).get("/forum/spaces/general/permissions").status_code == 403
    assert auth.client_for(forum["outsider"]).get("/forum/spaces/refco/permissions").status_code == 404
    response = submit(sam, "/forum/spaces/refco/permissions",
                      _grid_form({forum["group"].id: ALL, None: SEE}))
    assert response.status_code == 302
    assert RESTRICTED_TITLE in html(auth.client_for(forum["outsider"]).get("/forum/spaces/refco"))


# ---------------------------------------------------------------- group members

def test_platform_moderators_add_promote_and_remove_group_members(app, auth, forum):
    from network.core.db import db
    from network.forum import access

    outsider, regional = forum["outsider"], forum["regional"]
    client = auth.client_for(forum["moderator"])
    assert "Irene Insider" in html(client.get("/forum/groups/refco/members"))
    response = submit(client, "/forum/groups/refco/members", {"email": outsider.email.upper(), "role": "member"})
    assert response.status_code == 302
    assert access.can_see_space(outsider, regional) and not access.can_moderate_space(outsider, regional)
    url = f"/forum/groups/refco/members/{outsider.id}"
    assert submit(client, url, {"role": "space_moderator"}, page="/forum/groups/refco/members").status_code == 302
    db.session.expire_all()
    assert access.can_moderate_space(outsider, regional)
    assert submit(client, url, {"role": "remove"}, page="/forum/groups/refco/members").status_code == 302
    db.session.expire_all()
    assert not access.can_see_space(outsider, regional)
    changes = [json.loads(e.details) for e in _audit("forum.group_role_changed")]
    assert [(c["before"], c["after"]) for c in changes] == [(None, "member"), ("member", "space_moderator"),
                                                           ("space_moderator", None)]


def test_the_group_members_page_refuses_unknown_and_unvetted_people_and_non_moderators(app, auth, forum,
                                                                                      member_factory):
    applicant = member_factory(status="pending", email="pending@justiz.example.at")
    client = auth.client_for(forum["moderator"])
    for email in ("nobody@justiz.example.at", applicant.email):
        response = submit(client, "/forum/groups/refco/members", {"email": email, "role": "member"})
        assert response.status_code == 400 and "No vetted member" in html(response)
    assert submit(client, "/forum/groups/refco/members", {"email": "not an address", "role": "member"}
                  ).status_code == 400
    assert client.get("/forum/groups/nowhere/members").status_code == 404
    assert client.get("/forum/groups").status_code == 200
    for who in ("space_moderator", "insider", "member"):
        other = auth.client_for(forum[who])
        assert other.get("/forum/groups/refco/members").status_code == 403
        assert other.get("/forum/groups").status_code == 403
    assert _audit("forum.group_role_changed") == []


# ---------------------------------------------------------------- demonstration data

def test_the_demo_announcements_are_read_only_for_members(app, member_factory, member):
    from network.core.db import db
    from network.forum import access
    from network.forum.demo import load_demo_forum
    from network.forum.models import Space

    for email, name in [("moderator@network.example.org", "Mona Moderator"),
                        ("moderator2@network.example.org", "Mateo Moderador")]:
        member_factory(email=email, name=name, roles=("moderator",), authority=None)
    load_demo_forum()
    db.session.commit()
    load_demo_forum()
    space = db.session.scalar(select(Space).where(Space.slug == "announcements"))
    assert not space.restricted and len(space.permissions) == 2
    assert access.can_see_space(member, space) and not access.can_create_topic(member, space)


# ---------------------------------------------------------------- the filters in SQL and the rules agree

def _world_of_posts(forum):
    """Posts of every kind: own and others', hidden, in an open and a restricted space, a hidden topic, a merged
    topic, and a locked topic."""
    from network.core.db import db
    from network.forum import moderation, services

    member, insider, space_moderator = forum["member"], forum["insider"], forum["space_moderator"]
    open_topic, secret = forum["open_topic"], forum["secret"]
    services.reply(insider, open_topic, "The insider's reply.")
    hidden = services.reply(forum["outsider"], open_topic, "A reply a moderator hides.")
    services.hide_post(forum["moderator"], hidden, "Off topic")
    services.reply(space_moderator, secret, "The space moderator's reply.")
    hidden_secret = services.reply(insider, secret, "An insider's reply the space moderator hides.")
    services.hide_post(space_moderator, hidden_secret, "Off topic")
    hidden_topic = services.create_topic(insider, forum["regional"], "A topic its moderator hides", "Hidden.")
    services.moderate_topic(space_moderator, hidden_topic, "hide", "Duplicate")
    locked = services.create_topic(member, forum["mla"], "A locked topic of the member's", "Locked now.")
    services.reply(insider, locked, "Before the lock.")
    services.moderate_topic(forum["moderator"], locked, "lock")
    merged = services.create_topic(insider, forum["general"], "A topic merged into another", "Merged.")
    moderation.merge_topic(forum["moderator"], merged, open_topic)
    db.session.commit()
    return [open_topic, secret, hidden_topic, locked]


def test_the_visibility_filters_are_flat_statements_that_give_what_the_rules_allow(app, forum):
    """Each filter names the member's groups and spaces as lists of ids, not as nested subqueries (building and keying
    those cost a page more than running it), and selects exactly the spaces, topics and posts the object rules let
    each kind of member read."""
    from network.core.db import db
    from network.forum import access
    from network.forum.models import Post, Space, Topic

    readers = ("member", "insider", "outsider", "space_moderator", "moderator")
    with app.test_request_context("/forum/"):  # hiding a post mails its author a link
        _world_of_posts(forum)
        for name in readers:
            reader = forum[name]
            for query, model, rule in ((access.visible_spaces(reader), Space, access.can_see_space),
                                       (access.visible_topics(reader), Topic, access.can_read_topic),
                                       (access.visible_posts(reader), Post, access.can_read_post)):
                assert str(query).count("SELECT") == 1, (name, model.__name__, str(query))
                everything = db.session.scalars(select(model)).unique().all()
                expected = {row.id for row in everything if rule(reader, row)
                            and (model is not Topic or row.merged_into_id is None)
                            and (model is not Post or row.topic.merged_into_id is None)}
                assert set(db.session.scalars(query.with_only_columns(model.id))) == expected, (name, model.__name__)


def test_the_rules_of_a_page_of_posts_answer_as_each_post_s_own_rules(app, forum):
    from network.core.db import db
    from network.forum import access
    from network.forum.models import Post

    readers = ("member", "insider", "outsider", "space_moderator", "moderator")
    answers = set()
    with app.test_request_context("/forum/"):
        topics = _world_of_posts(forum)
        for topic in topics:
            posts = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).unique().all()
            stranger = db.session.scalars(select(Post).where(Post.topic_id != topic.id)).unique().first()
            for name in readers:
                reader = forum[name]
                rules = access.post_rules(reader, topic, [*posts, stranger])
                for post in (*posts, stranger):
                    assert rules[post.id] == (access.can_edit_post(reader, post), access.can_flag(reader, post)), \
                        (name, topic.title, post.body_markdown)
                answers.update(rules.values())
    assert answers == {(True, False), (False, True), (False, False)}  # every answer a post can have (own: no flag)


@pytest.mark.persistence
def test_the_facts_a_page_reads_with_its_own_statement_are_the_facts_statement_s(app, announcements):
    """A page's statement carries the member's forum facts (access.facts_columns, aggregated differently on each
    database): seeded from it, the rules answer as they do from the facts statement."""
    from network.core.db import db
    from network.forum import access, moderation
    from network.forum.models import GroupMembership, Space

    forum = announcements
    with app.test_request_context("/forum/"):
        db.session.add(GroupMembership(group_id=forum["editors"].id, member_id=forum["insider"].id,
                                       role="space_moderator"))
        db.session.flush()
        moderation.silence_member(forum["moderator"], forum["insider"], 3, "Cooling off")
        db.session.commit()
    seen = []
    for name in ("member", "insider", "outsider", "space_moderator", "moderator", "writer"):
        reader = forum[name]
        with app.test_request_context("/forum/"):
            read = access._facts(reader)
            expected = (read.roles, read.spaces, read.silence_id)
        with app.test_request_context("/forum/"):
            row = db.session.execute(select(*access.facts_columns(access.PAGE_MEMBER)),
                                     {access.PAGE_MEMBER.key: reader.id, **access.facts_values()}).one()
            access.seed_facts(reader, row)
            seeded = access._facts(reader)
            assert (seeded.roles, seeded.spaces, seeded.silence_id) == expected, name
            facts = access.page_facts(reader)
            for space in db.session.scalars(select(Space)):
                assert facts.sees(space) == access.can_see_space(reader, space), (name, space.slug)
        seen.append(expected)
    insider = seen[1]
    assert len(insider[0]) == 2 and insider[2] is not None and insider[1]["create"]  # two groups, a silence, grants


@pytest.mark.persistence
def test_the_index_names_every_group_that_sees_a_restricted_space_in_the_order_of_its_rows(app, auth, forum):
    """The groups that see a restricted space are read with the spaces and the member's rules (one statement on
    either database): an outsider's index names them all, in the order of the space's permission rows, in the padlock
    and the text."""
    from network.core.db import db
    from network.forum.models import ForumGroup, SpacePermission
    from tests.test_statement_budgets import statements_of

    regional = forum["regional"]
    for slug, name, sees in (("zeta", "Zeta prosecutors", True), ("beta", "Beta observers", False),
                             ("alpha", "Alpha liaison magistrates", True)):
        group = ForumGroup(slug=slug, name=name, description="")
        db.session.add(group)
        db.session.flush()
        db.session.add(SpacePermission(space_id=regional.id, group_id=group.id, can_see=sees))
    db.session.commit()
    names = [permission.group.name for permission in sorted(regional.permissions, key=lambda row: row.id)
             if permission.can_see and permission.group is not None]
    assert names[1:] == ["Zeta prosecutors", "Alpha liaison magistrates"]
    client = auth.client_for(forum["outsider"])
    assert len(statements_of(app, client, "/forum/")) == 2  # the session; the spaces with all that and the rules
    page = html(client.get("/forum/"))
    listed = ", ".join(names)
    assert f'title="Restricted to {listed}"' in page
    assert f"Restricted to the members of {listed}." in page and "Beta observers" not in page
