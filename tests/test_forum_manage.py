"""Managing the forum's spaces and groups: the page that lists them, creating groups and spaces (open to every vetted
member or restricted to a group), editing a space's settings with its permissions kept consistent, validation that
changes nothing, who may do it, and the audit entries."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import submit
from tests.forum_support import RESTRICTED_TITLE
from tests.test_forum import html

ALL = (True, True, True)
SEE = (True, False, False)


def _audit(action: str):
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _space(slug: str):
    from network.core.db import db
    from network.forum.models import Space

    db.session.expire_all()
    return db.session.scalar(select(Space).where(Space.slug == slug))


def _group(slug: str):
    from network.core.db import db
    from network.forum.models import ForumGroup

    db.session.expire_all()
    return db.session.scalar(select(ForumGroup).where(ForumGroup.slug == slug))


def _counts() -> tuple[int, int, int]:
    from network.core.db import db
    from network.forum.models import ForumGroup, Space, SpacePermission

    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count(model.id))) for model in (ForumGroup, Space, SpacePermission))


def _sees(member, space) -> bool:
    """Through the one visibility filter (the query every list uses) and the object rule alike."""
    from network.core.db import db
    from network.forum import access
    from network.forum.models import Space

    listed = db.session.scalar(access.visible_spaces(member).where(Space.id == space.id)) is not None
    assert listed == access.can_see_space(member, space)
    return listed


def _grid(space):
    from network.forum import services

    return services.permission_grid(space)


# ---------------------------------------------------------------- the page

def test_the_manage_page_lists_every_space_and_group_and_the_index_links_to_it_for_moderators_only(app, auth,
                                                                                                  forum):
    client = auth.client_for(forum["moderator"])
    assert 'href="/forum/groups">Manage spaces and groups' in html(client.get("/forum/"))
    page = html(client.get("/forum/groups"))
    for text in ("Manage spaces and groups", "General", "Mutual legal assistance", "REFCO space", "forum-padlock",
                 "/forum/spaces/refco/settings", "/forum/spaces/general/permissions", "/forum/groups/refco/members",
                 "/forum/spaces/new", "/forum/groups/new", "2 members"):
        assert text in page, text
    for who in ("member", "insider", "space_moderator"):
        other = auth.client_for(forum[who])
        assert "Manage spaces and groups" not in html(other.get("/forum/"))
        assert other.get("/forum/groups").status_code == 403


def test_the_manage_page_shows_read_only_spaces_and_counts_topics_through_the_visibility_filter(app, auth, forum,
                                                                                                admin):
    from network.core.db import db
    from network.forum import services

    services.set_space_permissions(forum["moderator"], forum["mla"], {None: SEE, forum["group"].id: ALL})
    db.session.commit()
    page = html(auth.client_for(forum["moderator"]).get("/forum/groups"))
    assert "Read-only for members" in page
    # an administrator who is not in REFCO manages the space but is not shown how many topics it holds
    admin_page = html(auth.client_for(admin).get("/forum/groups"))
    assert "You do not see this space" in admin_page and RESTRICTED_TITLE not in admin_page


# ---------------------------------------------------------------- groups

def test_a_moderator_creates_a_group_audited_and_is_sent_to_add_its_members(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    response = submit(client, "/forum/groups/new", {"slug": "cyber-wg", "name": "Working group on cybercrime",
                                                   "description": "Electronic evidence across borders."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/forum/groups/cyber-wg/members")
    group = _group("cyber-wg")
    assert group.name == "Working group on cybercrime" and group.description == "Electronic evidence across borders."
    assert group.memberships == []
    entry = _audit("forum.group_created")[-1]
    assert entry.actor_id == forum["moderator"].id and entry.target_id == str(group.id)
    assert json.loads(entry.details)["group"] == "cyber-wg"
    assert "Working group on cybercrime" in html(client.get("/forum/groups"))


def test_an_administrator_creates_a_group_too(app, auth, forum, admin):
    response = submit(auth.client_for(admin), "/forum/groups/new", {"slug": "gafilat", "name": "GAFILAT"})
    assert response.status_code == 302 and _group("gafilat") is not None


def test_a_bad_or_taken_group_slug_is_refused_with_its_reason_and_nothing_is_written(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    before = _counts()
    cases = [
        ({"slug": "Cyber WG", "name": "Cyber"}, "lowercase letters, digits and hyphens"),
        ({"slug": "-cyber", "name": "Cyber"}, "lowercase letters, digits and hyphens"),
        ({"slug": "c", "name": "Cyber"}, "2 to 60 characters"),
        ({"slug": "cyber", "name": ""}, "Give a name."),
        ({"slug": "", "name": "Cyber"}, "Give the short name"),
        ({"slug": "refco", "name": "Another REFCO"}, "already used"),
        ({"slug": "new", "name": "New"}, "reserved"),
    ]
    for data, message in cases:
        response = submit(client, "/forum/groups/new", data)
        assert response.status_code == 400, data
        assert message in html(response), data
    assert _counts() == before
    assert _audit("forum.group_created") == []
    assert _group("refco").name == "REFCO"


# ---------------------------------------------------------------- spaces

def test_an_open_space_is_created_for_every_vetted_member_and_leads_to_its_permissions(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    response = submit(client, "/forum/spaces/new", {"slug": "asset-recovery", "name": "Asset recovery",
                                                   "description": "Tracing, freezing, confiscation.",
                                                   "access": "open", "group": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/forum/spaces/asset-recovery/permissions")
    space = _space("asset-recovery")
    assert not space.restricted and space.group is None and _grid(space) == {None: ALL}
    for who in ("member", "insider", "outsider", "space_moderator", "moderator"):
        assert _sees(forum[who], space), who
    assert "Asset recovery" in html(auth.client_for(forum["outsider"]).get("/forum/"))
    entry = _audit("forum.space_created")[-1]
    details = json.loads(entry.details)
    assert entry.actor_id == forum["moderator"].id and entry.target_id == str(space.id)
    assert details["restricted"] is False and details["permissions"] == {"*": "src"}
    assert 'name="see-all"' in html(client.get("/forum/spaces/asset-recovery/permissions"))


def test_a_restricted_space_is_seen_only_by_its_groups_members_and_the_moderators(app, auth, forum, admin):
    from network.forum import access

    client = auth.client_for(forum["moderator"])
    response = submit(client, "/forum/spaces/new", {"slug": "refco-extradition", "name": "REFCO extradition",
                                                   "access": "restricted", "group": "refco"})
    assert response.status_code == 302
    space = _space("refco-extradition")
    assert space.restricted and space.group_id == forum["group"].id
    assert _grid(space) == {forum["group"].id: ALL}
    for who in ("insider", "space_moderator", "moderator"):
        assert _sees(forum[who], space), who
    for who in ("member", "outsider"):
        assert not _sees(forum[who], space), who
    assert not _sees(admin, space)
    assert access.can_moderate_space(forum["space_moderator"], space)
    assert access.can_create_topic(forum["insider"], space)
    index = html(auth.client_for(forum["outsider"]).get("/forum/"))
    assert "REFCO extradition" in index and "forum-padlock" in index
    assert json.loads(_audit("forum.space_created")[-1].details)["permissions"] == {"refco": "src"}


def test_a_new_space_must_have_a_group_when_restricted_a_free_slug_and_a_name(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    before = _counts()
    cases = [
        ({"slug": "secret", "name": "Secret", "access": "restricted", "group": ""}, "needs a moderating group"),
        ({"slug": "general", "name": "General again", "access": "open", "group": ""}, "already used"),
        ({"slug": "new", "name": "New", "access": "open", "group": ""}, "reserved"),
        ({"slug": "two  words", "name": "Two words", "access": "open", "group": ""}, "lowercase letters"),
        ({"slug": "nameless", "name": "  ", "access": "open", "group": ""}, "Give a name."),
        ({"slug": "nowhere", "name": "Nowhere", "access": "open", "group": "no-such-group"}, "Not a valid choice"),
        ({"slug": "no-choice", "name": "No choice", "group": ""}, "Choose open or restricted."),
    ]
    for data, message in cases:
        response = submit(client, "/forum/spaces/new", data)
        assert response.status_code == 400, data
        assert message in html(response), data
    assert _counts() == before
    assert _audit("forum.space_created") == []
    assert _space("general").name == "General"


def test_the_service_refuses_a_restricted_space_without_a_group_and_a_non_moderator(app, forum):
    from network.core.db import db
    from network.forum import services

    with pytest.raises(services.ForumError, match="needs a moderating group"):
        services.create_space(forum["moderator"], "hidden", "Hidden", restricted=True)
    with pytest.raises(services.ForumError, match="Only platform moderators"):
        services.create_group(forum["space_moderator"], "mine", "Mine")
    db.session.rollback()
    assert _space("hidden") is None and _group("mine") is None


# ---------------------------------------------------------------- editing a space

def test_a_moderator_renames_and_describes_a_space_its_slug_and_permissions_stay(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    page = html(client.get("/forum/spaces/general/settings"))
    assert 'value="General"' in page and 'name="slug"' not in page
    response = submit(client, "/forum/spaces/general/settings",
                      {"name": "General questions", "description": "Anything about cooperation.", "access": "open",
                       "group": "", "slug": "hijacked"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/forum/groups")
    space = _space("general")
    assert space.name == "General questions" and space.description == "Anything about cooperation."
    assert _grid(space) == {None: ALL} and _space("hijacked") is None
    changes = json.loads(_audit("forum.space_updated")[-1].details)["changes"]
    assert changes["name"] == {"before": "General", "after": "General questions"}
    assert _audit("forum.space_permissions_changed") == []


def test_restricting_an_open_space_leaves_only_its_group_and_opening_it_again_lets_every_member_in(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    mla = forum["mla"]
    response = submit(client, "/forum/spaces/mla/settings",
                      {"name": mla.name, "description": mla.description, "access": "restricted", "group": "refco"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/forum/spaces/mla/permissions")
    space = _space("mla")
    assert space.restricted and space.group_id == forum["group"].id and _grid(space) == {forum["group"].id: ALL}
    assert _sees(forum["insider"], space) and not _sees(forum["member"], space)
    assert not _sees(forum["outsider"], space) and _sees(forum["moderator"], space)
    changes = json.loads(_audit("forum.space_updated")[-1].details)["changes"]
    assert changes["restricted"] == {"before": False, "after": True}
    assert changes["group"] == {"before": None, "after": "refco"}
    assert json.loads(_audit("forum.space_permissions_changed")[-1].details)["after"] == {"refco": "src"}

    response = submit(client, "/forum/spaces/mla/settings",
                      {"name": mla.name, "description": mla.description, "access": "open", "group": "refco"})
    assert response.status_code == 302
    space = _space("mla")
    assert not space.restricted and _grid(space) == {None: ALL, forum["group"].id: ALL}
    assert _sees(forum["member"], space) and _sees(forum["outsider"], space)


def test_a_new_moderating_group_of_a_restricted_space_keeps_seeing_it(app, auth, forum):
    from network.core.db import db
    from network.forum import access
    from network.forum.models import GroupMembership

    client = auth.client_for(forum["moderator"])
    assert submit(client, "/forum/groups/new", {"slug": "wacap", "name": "WACAP"}).status_code == 302
    wacap = _group("wacap")
    db.session.add(GroupMembership(group_id=wacap.id, member_id=forum["outsider"].id, role="space_moderator"))
    db.session.commit()
    regional = forum["regional"]
    response = submit(client, "/forum/spaces/refco/settings", {"name": regional.name, "access": "restricted",
                                                               "group": "wacap"})
    assert response.status_code == 302
    space = _space("refco")
    assert space.restricted and space.group_id == wacap.id
    assert _grid(space)[wacap.id] == ALL
    assert _grid(space)[forum["group"].id] == ALL  # REFCO keeps its row until the moderator changes it
    assert access.can_moderate_space(forum["outsider"], space)
    assert not access.can_moderate_space(forum["space_moderator"], space)
    assert RESTRICTED_TITLE in html(auth.client_for(forum["outsider"]).get("/forum/spaces/refco"))


def test_a_space_edit_that_breaks_a_rule_changes_nothing(app, auth, forum):
    client = auth.client_for(forum["moderator"])
    before = _grid(forum["regional"])
    cases = [
        ({"name": "", "access": "restricted", "group": "refco"}, "Give a name."),
        ({"name": "Unmoderated", "access": "restricted", "group": ""}, "needs a moderating group"),
        ({"name": "Elsewhere", "access": "restricted", "group": "no-such-group"}, "Not a valid choice"),
    ]
    for data, message in cases:
        response = submit(client, "/forum/spaces/refco/settings", data)
        assert response.status_code == 400 and message in html(response), data
    space = _space("refco")
    assert space.name == "REFCO space" and space.restricted and space.group_id == forum["group"].id
    assert _grid(space) == before
    assert _audit("forum.space_updated") == [] and _audit("forum.space_permissions_changed") == []


# ---------------------------------------------------------------- who may

def test_members_space_moderators_and_outsiders_may_not_create_or_edit(app, auth, forum):
    before = _counts()
    for who in ("member", "insider", "space_moderator", "outsider"):
        client = auth.client_for(forum[who])
        assert client.get("/forum/groups/new").status_code == 403, who
        assert client.get("/forum/spaces/new").status_code == 403, who
        assert client.get("/forum/spaces/general/settings").status_code == 403, who
        token_page = "/forum/preferences"
        assert submit(client, "/forum/groups/new", {"slug": "mine", "name": "Mine"},
                      page=token_page).status_code == 403, who
        assert submit(client, "/forum/spaces/new", {"slug": "mine", "name": "Mine", "access": "open"},
                      page=token_page).status_code == 403, who
        assert submit(client, "/forum/spaces/general/settings", {"name": "Taken over", "access": "open"},
                      page=token_page).status_code == 403, who
    # an outsider of the restricted space learns nothing more than its name on the index: 404, as on its permissions
    outsider = auth.client_for(forum["outsider"])
    assert outsider.get("/forum/spaces/refco/settings").status_code == 404
    assert submit(outsider, "/forum/spaces/refco/settings", {"name": "Taken over", "access": "open"},
                  page="/forum/preferences").status_code == 404
    # the space's own moderators refine its permissions, but its settings are the platform's
    assert auth.client_for(forum["space_moderator"]).get("/forum/spaces/refco/settings").status_code == 403
    assert _counts() == before
    assert _space("general").name == "General" and _space("refco").name == "REFCO space"
    assert _audit("forum.group_created") == [] and _audit("forum.space_created") == []
    assert _audit("forum.space_updated") == []
