"""Hardening (issue 12, findings 11, 13, 15): forum posts are rendered once and stored (rendered again only when
their text or the renderer changes) under a render cost cap; a revision shown in a case diff must itself be
readable by the reader; moderator notes are for platform moderators and administrators only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import submit
from tests.test_forum import html

# ---------------------------------------------------------------- finding 11: stored HTML, render cost cap


@pytest.fixture
def parser_calls(monkeypatch):
    """Counts the Markdown parser's runs (the costly part of rendering)."""
    from network.core import markdown

    calls = []
    original = markdown._parser.render

    def counting(text, *args, **kwargs):
        calls.append(len(text))
        return original(text, *args, **kwargs)

    monkeypatch.setattr(markdown._parser, "render", counting)
    return calls


def hostile_reply(n: int) -> str:
    """As much of the nesting that slows the parser down as a post may hold, and the rest of the 50,000 characters."""
    from network.core.markdown import MAX_LINKS, MAX_MARKS, MAX_NESTING

    nested = ("[" * MAX_NESTING + "x" + "]" * MAX_NESTING + " ") * ((MAX_MARKS // 2) // (2 * MAX_NESTING))
    links = "[a](" * (MAX_LINKS // 2) + "b" * 1500 + " "
    return (f"Reply {n}: " + nested + links + "lorem ipsum " * 5000)[:50_000]


@pytest.mark.persistence
def test_a_topic_of_twenty_hostile_replies_is_shown_from_stored_html(app, auth, forum, parser_calls):
    from network.core.db import db
    from network.core.markdown import render_cost_problem
    from network.forum import services
    from network.forum.models import Post

    topic = forum["open_topic"]
    for n in range(20):
        assert render_cost_problem(hostile_reply(n)) is None  # within the cap: accepted
        services.reply(forum["insider"], topic, hostile_reply(n))
    db.session.commit()
    client = auth.client_for(forum["member"])
    first = client.get(f"/forum/topics/{topic.id}")
    assert first.status_code == 200 and "Reply 18:" in html(first)
    assert len(parser_calls) <= 20  # the page's 20 posts rendered once each, then stored
    db.session.expire_all()
    stored = db.session.scalars(select(Post).where(Post.topic_id == topic.id)).all()
    assert sum(bool(post.body_html and post.body_html_version) for post in stored) == 20  # those shown
    parser_calls.clear()
    for _ in range(2):
        page = client.get(f"/forum/topics/{topic.id}")
        assert page.status_code == 200 and "Reply 18:" in html(page)
    assert parser_calls == []  # every later view uses the stored HTML


def test_a_post_over_the_render_cost_cap_is_refused_with_a_form_error(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Post

    topic = forum["open_topic"]
    client = auth.client_for(forum["insider"])
    before = db.session.scalar(select(func.count(Post.id)))
    for body in ("[" * 40_000, "*_" * 20_000, "[a](" * 3_000):
        response = submit(client, f"/forum/topics/{topic.id}/reply", {"body": body},
                          page=f"/forum/topics/{topic.id}")
        assert response.status_code == 400
        assert "too many" in html(response) or "nested" in html(response), html(response)[:500]
    assert db.session.scalar(select(func.count(Post.id))) == before


def test_text_over_the_cap_from_elsewhere_is_shown_as_plain_text_without_parsing(app, parser_calls):
    from network.core.markdown import render_markdown

    rendered = str(render_markdown("[" * 40_000 + " <script>alert(1)</script> *x*"))
    assert parser_calls == []
    assert "<script" not in rendered and "&lt;script&gt;" in rendered and "*x*" in rendered


@pytest.mark.persistence
def test_editing_a_post_renders_it_again(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Post
    from network.forum.services import first_post

    topic = forum["open_topic"]
    post = first_post(topic)
    client = auth.client_for(forum["member"])
    assert "Looking for advice." in html(client.get(f"/forum/topics/{topic.id}"))
    response = submit(client, f"/forum/posts/{post.id}/edit", {"body": "Now with **urgent** advice."})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Post, post.id)
    assert "<strong>urgent</strong>" in stored.body_html
    page = html(client.get(f"/forum/topics/{topic.id}"))
    assert "Now with <strong>urgent</strong> advice." in page and "Looking for advice." not in page
    history = html(client.get(f"/forum/posts/{post.id}/history"))
    assert "Looking for advice." in history and "<strong>urgent</strong>" in history


def test_a_renderer_version_bump_renders_the_posts_again(app, auth, forum, parser_calls, monkeypatch):
    from network.core import markdown
    from network.core.db import db
    from network.forum.services import first_post

    topic = forum["open_topic"]
    client = auth.client_for(forum["member"])
    client.get(f"/forum/topics/{topic.id}")
    parser_calls.clear()
    client.get(f"/forum/topics/{topic.id}")
    assert parser_calls == []
    old_version = first_post(topic).body_html_version
    monkeypatch.setattr(markdown, "RENDERER_VERSION", markdown.RENDERER_VERSION + 1)
    assert "Looking for advice." in html(client.get(f"/forum/topics/{topic.id}"))
    assert len(parser_calls) == 1
    db.session.expire_all()
    assert first_post(topic).body_html_version != old_version


def test_text_changed_behind_the_renderer_is_never_shown_from_stale_html(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Post
    from network.forum.services import first_post

    topic = forum["open_topic"]
    client = auth.client_for(forum["member"])
    client.get(f"/forum/topics/{topic.id}")
    db.session.execute(Post.__table__.update().where(Post.id == first_post(topic).id)
                       .values(body_markdown="Changed *directly* in the database."))
    db.session.commit()
    assert "Changed <em>directly</em> in the database." in html(client.get(f"/forum/topics/{topic.id}"))


def test_stored_html_is_sanitised(app, auth, forum):
    from network.core.db import db
    from network.forum.models import Post
    from tests.test_markdown import assert_safe

    client = auth.client_for(forum["insider"])
    topic = forum["open_topic"]
    response = submit(client, f"/forum/topics/{topic.id}/reply",
                      {"body": "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"},
                      page=f"/forum/topics/{topic.id}")
    assert response.status_code == 302
    db.session.expire_all()
    post = db.session.scalars(select(Post).order_by(Post.id.desc()).limit(1)).one()
    assert post.body_html  # stored when it was written
    assert_safe(post.body_html)
    assert "<script" not in post.body_html and "javascript:" not in post.body_html.split(">", 1)[0]
    assert "&lt;script&gt;" in post.body_html


def test_the_same_markdown_elsewhere_is_parsed_once(app, parser_calls):
    from network.core.markdown import render_markdown

    text = "## Legal requirements\n\nA **certified** translation. [Law](https://laws.example.org)"
    assert render_markdown(text) == render_markdown(text)
    assert len(parser_calls) == 1


# ---------------------------------------------------------------- finding 13: each revision of a diff readable


@pytest.fixture
def once_members_only(app, member, moderator):
    """A case published members-only (revision 1), then made public with other words (revision 2)."""
    from catalogue.cases import services
    from catalogue.cases.models import Case, CaseRevision
    from network.core.clock import utcnow
    from network.core.db import db
    from tests.test_case_reading import BASE

    case = Case(reference="CASE-HIST-001", submitter_id=member.id, status="draft")
    db.session.add(case)
    services.apply_data(case, {**BASE, "visibility": "members",
                               "summary": "Confidential: the informant Jane Roe in the Lagos branch."})
    db.session.flush()
    case.status, case.published_at = "published", utcnow()
    case.revisions.append(CaseRevision(number=1, data=services.case_to_dict(case), published_by_id=moderator.id,
                                       note="first, members only"))
    services.apply_data(case, {**services.case_to_dict(case), "visibility": "public",
                               "summary": "Bank records obtained through mutual legal assistance."})
    case.revisions.append(CaseRevision(number=2, data=services.case_to_dict(case), published_by_id=moderator.id,
                                       note="anonymised and made public"))
    db.session.commit()
    return case


def test_an_anonymous_diff_never_shows_a_members_only_revision(client, once_members_only):
    reference = once_members_only.reference
    assert client.get(f"/cases/{reference}").status_code == 200  # public now
    assert client.get(f"/cases/{reference}/diff?from=1&to=2").status_code == 404
    assert client.get(f"/cases/{reference}/diff?from=2&to=1").status_code == 404
    default = client.get(f"/cases/{reference}/diff")
    assert "informant" not in html(default)
    history = html(client.get(f"/cases/{reference}/history"))
    assert "informant" not in history and "first, members only" not in history
    assert "diff?from=1" not in history


def test_a_vetted_member_still_compares_both_revisions(client, auth, member, once_members_only):
    auth.sign_in(client, member)
    response = client.get(f"/cases/{once_members_only.reference}/diff?from=1&to=2")
    assert response.status_code == 200 and "informant" in html(response)


# ---------------------------------------------------------------- finding 15: moderator notes


def test_a_space_moderator_never_reads_the_platform_moderators_notes(app, auth, forum, admin):
    from network.core.db import db
    from network.forum import moderation
    from network.forum.models import ModeratorNote

    subject = forum["outsider"]
    url = f"/forum/members/{subject.id}/moderation"
    with app.test_request_context():
        moderation.silence_member(forum["moderator"], subject, 3, "Quoted the regional network's closed space")
    db.session.commit()
    moderator = auth.client_for(forum["moderator"])
    assert submit(moderator, f"/forum/members/{subject.id}/notes", {"body": "Under review by the platform"},
                  page=url).status_code == 302
    assert "Under review by the platform" in html(moderator.get(url))
    assert "Under review by the platform" in html(auth.client_for(admin).get(url))

    space_moderator = auth.client_for(forum["space_moderator"])
    page = space_moderator.get(url)
    assert page.status_code == 200  # the flags on the member's posts in their spaces
    assert "Under review by the platform" not in html(page)
    assert "Silenced in the forum until" in html(page) and "closed space" not in html(page)
    notes = db.session.scalar(select(func.count(ModeratorNote.id)))
    token_page = space_moderator.get("/forum/moderation")
    from tests.conftest import csrf_token

    response = space_moderator.post(f"/forum/members/{subject.id}/notes",
                                    data={"csrf_token": csrf_token(html(token_page)), "body": "My own note"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(ModeratorNote.id))) == notes


@pytest.mark.persistence
def test_a_burst_of_first_views_renders_and_stores_each_post_without_error(app, auth, forum, member_factory):
    import threading

    from network.core.db import db
    from network.forum import services
    from network.forum.models import Post
    from network.forum.render import renderer_version

    topic = forum["open_topic"]
    for n in range(4):
        services.reply(forum["insider"], topic, f"Stale reply **{n}**")
    db.session.commit()
    topic_id = topic.id
    clients = [auth.client_for(member_factory()) for _ in range(4)]
    db.session.remove()
    barrier = threading.Barrier(len(clients))
    pages: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def view(client) -> None:
        try:
            barrier.wait()
            response = client.get(f"/forum/topics/{topic_id}")
            pages.append((response.status_code, response.get_data(as_text=True)))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=view, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [status for status, _page in pages] == [200] * len(clients)
    assert all("Stale reply <strong>3</strong>" in page for _status, page in pages)
    with app.test_request_context():
        version = renderer_version()
    posts = db.session.scalars(select(Post).where(Post.topic_id == topic_id)).all()
    assert all(post.body_html_version == version for post in posts)
    assert "Stale reply <strong>0</strong>" in "".join(post.body_html for post in posts)
