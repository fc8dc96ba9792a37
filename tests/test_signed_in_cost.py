"""What every signed-in page pays before its own content (issue 14): the session's record, the member, their roles,
the navigation's questions and its badges are read in one statement; and reading less never means reading stale: a
revoked session, a suspended member, a role or a forum group's moderation granted or withdrawn show on the very next
request, and a badge after the page's own writes."""
from __future__ import annotations

import re

import pytest

from tests.test_navigation import header_of
from tests.test_statement_budgets import statements_of

pytestmark = pytest.mark.persistence

MINIMAL = "/account/password"  # a form, and nothing read for it: what is left is what every page pays


def test_a_minimal_signed_in_page_runs_one_statement_and_reads_nothing_stale(app, auth, member):
    """The record, the member, their roles, whether they moderate a forum group and the badges in one statement (it
    was four: the record on a connection of its own, the member with their roles, their forum groups, the badges);
    and a revoked session, a suspended member, a role or a forum group's moderation granted or withdrawn show on the
    very next request."""
    from network.core.db import db
    from network.core.sessions import WebSession
    from network.forum.models import ForumGroup, GroupMembership
    from network.members.models import RoleGrant

    client = auth.client_for(member)
    for _ in range(3):  # whatever a process keeps from one request to the next is kept by now
        assert "/vetting" not in header_of(client.get(MINIMAL))
    statements = statements_of(app, client, MINIMAL)
    listing = "\n".join(re.sub(r"\s+", " ", s)[:160] for s in statements)
    assert len(statements) == 1, listing
    assert "web_sessions" in statements[0] and "members" in statements[0], listing

    grant = RoleGrant(member_id=member.id, role="moderator")
    db.session.add(grant)
    db.session.commit()
    assert "/vetting" in header_of(client.get(MINIMAL))
    db.session.delete(grant)
    db.session.commit()
    assert "/vetting" not in header_of(client.get(MINIMAL))

    group = ForumGroup(slug="judges", name="Judges")
    db.session.add(group)
    db.session.flush()
    moderation = GroupMembership(group_id=group.id, member_id=member.id, role="space_moderator")
    db.session.add(moderation)
    db.session.commit()
    assert "/forum/moderation" in header_of(client.get(MINIMAL))
    moderation.role = "member"
    db.session.commit()
    assert "/forum/moderation" not in header_of(client.get(MINIMAL))

    member.status = "suspended"  # even with its sessions left in place (the services delete them too)
    db.session.commit()
    assert client.get(MINIMAL).status_code == 302
    member.status = "active"
    db.session.commit()

    client = auth.client_for(member)
    assert client.get(MINIMAL).status_code == 200
    db.session.execute(WebSession.__table__.delete().where(WebSession.member_id == member.id))
    db.session.commit()
    assert client.get(MINIMAL).status_code == 302


def test_a_page_that_reads_notifications_shows_the_bell_without_them(app, auth, member, member_factory):
    """The badges come with the member, at the start of the request; a page that writes (a topic read marks its
    notifications read) counts them again before the navigation shows them. (A guard: it passed before the badges
    came with the member; it fails if they are used after a write.)"""
    from network.core.db import db
    from network.forum import services
    from network.forum.models import Space

    space = Space(slug="general", name="General", description="For everyone", position=1)
    db.session.add(space)
    db.session.commit()
    asked = services.create_topic(member, space, "Video hearings", "How long did it take?")
    services.reply(member_factory(name="Another Member"), asked, "Six weeks.")
    db.session.commit()
    client = auth.client_for(member)
    for _ in range(3):  # the badges' shape is known by now: they are read with the member
        assert 'text-bg-danger">1<' in header_of(client.get(MINIMAL))
    topic = header_of(client.get(f"/forum/topics/{asked.id}"))
    assert "forum-bell" in topic and 'text-bg-danger">1<' not in topic
    assert 'text-bg-danger">1<' not in header_of(client.get(MINIMAL))


def test_the_signed_in_statement_is_found_compiled_without_the_engines_cache(app, auth, member):
    """The signed-in statement (record, member, roles, badges) is kept for the process and finds its compiled form in
    a cache of its own, by identity: the engine's cache, which hashes a statement's whole cache key at every
    execution (some 4,000 elements for this one), is not asked for it. Reading stays the same: one statement."""
    from network.core.db import db

    client = auth.client_for(member)
    for _ in range(3):
        assert client.get(MINIMAL).status_code == 200
    engine = db.engine
    engine.clear_compiled_cache()
    assert client.get(MINIMAL).status_code == 200
    compiled = [str(getattr(entry, "string", entry)) for entry in engine._compiled_cache.values()]  # noqa: SLF001
    assert not [text for text in compiled if "web_sessions" in text], compiled
    assert len(statements_of(app, client, MINIMAL)) == 1


def test_a_kept_statements_cache_answers_only_for_the_same_key_object_and_dialect():
    """The kept cache recognises a statement's cache key by identity: an equal key of another object, another
    dialect or other column keys is a miss (compiled anew and kept), never another statement's compiled form; and it
    keeps a few entries, not more."""
    from network.core.db import _KeptCompiled

    cache = _KeptCompiled()
    dialect, other_dialect = object(), object()
    key = tuple(["select", ("members", "id")])
    equal = tuple(["select", ("members", "id")])  # built apart: not the constant Python would share
    assert equal == key and equal is not key
    cache[(dialect, key, (), False, False)] = "compiled"
    assert cache.get((dialect, key, (), False, False)) == "compiled"
    assert cache.get((dialect, equal, (), False, False)) is None
    assert cache.get((other_dialect, key, (), False, False)) is None
    assert cache.get((dialect, key, ("id",), False, False)) is None
    assert cache.get((dialect, key, (), False, True), "missing") == "missing"
    keys = [("select", n) for n in range(20)]
    for n, each in enumerate(keys):
        cache[(dialect, each, (), False, False)] = n
    assert cache.get((dialect, keys[-1], (), False, False)) == 19
    assert cache.get((dialect, keys[0], (), False, False)) is None
    assert len(cache._entries) == _KeptCompiled.KEPT  # noqa: SLF001


def test_the_platforms_own_request_code_reads_nothing_through_a_context_proxy(app, auth, member, monkeypatch):
    """An attribute read through one of Flask's context proxies (`request.path`, `g.pop`, `current_app.config`,
    `session.get`) first fails a look-up on the proxy itself (Python builds and drops an AttributeError) before the
    proxy forwards it: some 2 µs each, and the request's hooks, the member's loading, the layout and the navigation
    asked some 45 on every signed-in page (issue 14). The core's code and the application's factory resolve a proxy
    once (`_get_current_object()`) and read the object."""
    import sys
    from pathlib import Path

    from werkzeug.local import LocalProxy

    root = Path(__file__).resolve().parent.parent
    own = (str(root / "network" / "core") + "/", str(root / "app.py"))
    client = auth.client_for(member)
    assert client.get(MINIMAL).status_code == 200
    looked_up: list[str] = []

    def counting(proxy, name):
        caller = sys._getframe(1).f_code  # noqa: SLF001 (who asked)
        if caller.co_filename.startswith(own):
            looked_up.append(f"{caller.co_filename}:{caller.co_name}: {name}")
        return getattr(proxy._get_current_object(), name)  # what the proxy's own look-up answers  # noqa: SLF001

    monkeypatch.setattr(LocalProxy, "__getattr__", counting)
    for path in (MINIMAL, "/"):
        assert client.get(path).status_code == 200, path
    monkeypatch.undo()
    assert looked_up == []
