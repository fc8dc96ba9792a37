"""Forum search through the search layer, on both engines (Whoosh on SQLite, PostgreSQL full-text search): the
cases' analysis and query language, the visibility filter applied inside the engine (no hit, count or snippet from
what the reader may not read), the outbox keeping the index in step with edits, hiding, moving and merging, a
crash between the index write and the outbox delete, and hostile queries."""
from __future__ import annotations

import pytest

from tests.forum_support import RESTRICTED_TITLE

pytestmark = pytest.mark.persistence


def html(response) -> str:
    return response.get_data(as_text=True)


def search(member, text: str = "", author_id: int | None = None, page: int = 1, per_page: int = 20):
    """What the forum's search page asks its kind of the search layer, in the member's scope."""
    from network.forum.search import search_posts

    return search_posts(member, text, author_id, page, per_page)


def bodies(member, text: str, **kwargs) -> list[str]:
    from network.core.db import db
    from network.forum.models import Post

    return [db.session.get(Post, post_id).body_markdown for post_id in search(member, text, **kwargs).post_ids]


def _posts(ids: list[int]) -> list:
    from network.core.db import db
    from network.forum.models import Post

    return [db.session.get(Post, post_id) for post_id in ids]


def _outbox() -> list[int]:
    from sqlalchemy import select

    from network.core.db import db
    from network.search.models import IndexOutbox

    return list(db.session.scalars(select(IndexOutbox.object_id).where(IndexOutbox.kind == "posts")
                                   .order_by(IndexOutbox.id)))


def _topic_posts(topic) -> list:
    from sqlalchemy import select

    from network.core.db import db
    from network.forum.models import Post

    return list(db.session.scalars(select(Post).where(Post.topic_id == topic.id)))


def _reply(member, topic, body: str):
    from network.core.db import db
    from network.forum import services

    post = services.reply(member, topic, body)
    db.session.commit()
    return post


# ---------------------------------------------------------------- analysis and query language

def test_words_are_found_stemmed_unaccented_in_phrases_and_left_out_with_not(app, forum):
    member, topic = forum["member"], forum["open_topic"]
    _reply(member, topic, "The prosecutors requested banking records from Lagos.")
    _reply(member, topic, "La coopération judiciaire avec les autorités françaises a été rapide.")
    _reply(member, topic, "Extradition was refused; the records stayed in Vienna.")
    # Words are optional and ranked: the post holding all three comes first, the one holding "records" after.
    assert bodies(member, "request bank record") == ["The prosecutors requested banking records from Lagos.",
                                                     "Extradition was refused; the records stayed in Vienna."]
    assert bodies(member, "cooperation autorites") == [
        "La coopération judiciaire avec les autorités françaises a été rapide."]
    assert bodies(member, "judiciaires") == bodies(member, "cooperation")  # French stemming
    assert bodies(member, '"records stayed"') == ["Extradition was refused; the records stayed in Vienna."]
    assert bodies(member, '"stayed records"') == []
    assert bodies(member, "records -extradition") == ["The prosecutors requested banking records from Lagos."]
    assert bodies(member, "records NOT lagos") == ["Extradition was refused; the records stayed in Vienna."]
    assert sorted(bodies(member, "lagos OR vienna")) == sorted([
        "The prosecutors requested banking records from Lagos.",
        "Extradition was refused; the records stayed in Vienna."])
    assert bodies(member, "extradit*") == ["Extradition was refused; the records stayed in Vienna."]


def test_a_topic_title_finds_its_first_post_and_snippets_mark_escaped_text(app, auth, forum):
    member = forum["member"]
    _reply(member, forum["open_topic"], "Use <script>alert(1)</script> & the central authority's e-mail.")
    found = search(member, "central authority")
    assert found.total == 2  # the title's first post, and the reply naming it
    page = html(auth.client_for(member).get("/forum/search?q=central+authority"))
    assert "interim search" not in page and "2 posts found" in page
    assert "<mark>central</mark> <mark>authority</mark>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_posts_by_an_author_are_listed_newest_first(app, auth, forum):
    insider = forum["insider"]
    _reply(insider, forum["open_topic"], "First answer by Irene")
    _reply(insider, forum["open_topic"], "Second answer by Irene")
    assert bodies(forum["member"], "", author_id=insider.id) == ["Second answer by Irene", "First answer by Irene"]
    assert bodies(forum["member"], "answer", author_id=forum["member"].id) == []
    page = html(auth.client_for(forum["member"]).get(f"/forum/search?author={insider.id}"))
    assert "Posts by <bdi>Irene Insider</bdi>" in page and "2 posts found" in page  # not her restricted topic's post


# ---------------------------------------------------------------- permissions inside the engine

def test_an_outsider_gets_no_hit_count_or_snippet_from_a_restricted_space(app, auth, forum):
    outsider, insider = forum["outsider"], forum["insider"]
    for text in ("confidential", "secret coordination", "route OR plan", "-nothing", "conf*"):
        found = search(outsider, text)
        assert all(forum["secret"].id != post.topic_id for post in _posts(found.post_ids)), text
        assert all("onfidential" not in str(s) for s in found.snippets.values()), text
    assert search(outsider, "confidential").total == 0
    assert search(insider, "confidential").total == 1
    page = html(auth.client_for(outsider).get("/forum/search?q=confidential+plan"))
    assert "0 posts found" in page and "Confidential" not in page and RESTRICTED_TITLE not in page
    page = html(auth.client_for(insider).get("/forum/search?q=confidential+plan"))
    assert "1 post found" in page and "<mark>Confidential</mark> <mark>plan</mark>" in page


def test_a_moderator_finds_hidden_posts_a_member_does_not_and_the_author_does(app, forum):
    from network.core.db import db
    from network.forum import services

    post = _reply(forum["outsider"], forum["open_topic"], "An offensive remark about prosecutors")
    with app.test_request_context():
        services.hide_post(forum["moderator"], post, "Personal attack")
        db.session.commit()
    assert search(forum["member"], "offensive").total == 0
    assert search(forum["moderator"], "offensive").post_ids == [post.id]
    assert search(forum["outsider"], "offensive").post_ids == [post.id]  # the author sees why it was hidden
    with app.test_request_context():
        services.unhide_post(forum["moderator"], post)
        db.session.commit()
    assert search(forum["member"], "offensive").post_ids == [post.id]


def test_the_engine_agrees_with_the_visibility_filter_for_every_reader(app, forum):
    from network.core.db import db
    from network.forum import access, services

    secret_reply = _reply(forum["insider"], forum["secret"], "Plan B for the convoy")
    _reply(forum["member"], forum["open_topic"], "Plan A for the hearing")
    with app.test_request_context():
        services.moderate_topic(forum["space_moderator"], forum["secret"], "hide", "Too early")
        services.hide_post(forum["moderator"], secret_reply, "Names")
        db.session.commit()
    for who in ("member", "insider", "outsider", "space_moderator", "moderator"):
        reader = forum[who]
        expected = {p.id for p in db.session.scalars(access.visible_posts(reader)).unique()
                    if "plan" in p.body_markdown.lower()}
        found = search(reader, "plan")
        assert set(found.post_ids) == expected and found.total == len(expected), who


# ---------------------------------------------------------------- the outbox keeps the index in step

def test_editing_hiding_moving_and_merging_update_the_results(app, forum):
    from network.core.db import db
    from network.forum import moderation, services

    post = _reply(forum["member"], forum["open_topic"], "Rogatory letter drafted")
    assert search(forum["outsider"], "rogatory").post_ids == [post.id]
    services.edit_post(forum["member"], post, "Commission drafted")
    db.session.commit()
    assert search(forum["outsider"], "rogatory").total == 0
    assert search(forum["outsider"], "commission").post_ids == [post.id]
    with app.test_request_context():
        moderation.move_topic(forum["moderator"], forum["open_topic"], forum["regional"])
        db.session.commit()
    assert search(forum["outsider"], "commission").total == 0
    assert search(forum["insider"], "commission").post_ids == [post.id]
    with app.test_request_context():
        moderation.merge_topic(forum["moderator"], forum["open_topic"], forum["secret"])
        db.session.commit()
    found = search(forum["insider"], "commission")
    assert found.post_ids == [post.id] and _posts(found.post_ids)[0].topic_id == forum["secret"].id
    with app.test_request_context():
        services.moderate_topic(forum["moderator"], forum["secret"], "hide", "Closed")
        db.session.commit()
    assert search(forum["insider"], "commission").total == 0
    assert search(forum["space_moderator"], "commission").post_ids == [post.id]


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_every_change_writes_an_outbox_row_in_its_transaction(app, forum):
    from network.core.db import db
    from network.forum import services

    before = len(_outbox())
    assert before  # the fixture's topics
    post = services.reply(forum["member"], forum["open_topic"], "Rolled back")
    db.session.flush()
    db.session.rollback()
    assert len(_outbox()) == before
    post = _reply(forum["member"], forum["open_topic"], "Kept")
    assert _outbox()[-1] == post.id
    queued = len(_outbox())
    forum["open_topic"].last_post_at = forum["open_topic"].last_post_at  # no change that a document shows
    db.session.commit()
    assert len(_outbox()) == queued
    forum["open_topic"].title = "A new title"  # every post of the topic: the change reaches each document
    db.session.commit()
    assert sorted(_outbox()[queued:]) == sorted(p.id for p in _topic_posts(forum["open_topic"]))


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_a_crash_between_the_index_write_and_the_outbox_delete_loses_nothing(app, forum, monkeypatch):
    from network.search import indexer

    for n in range(4):
        _reply(forum["member"], forum["open_topic"], f"Yacht number {n}")
    queued = len(_outbox())

    def crash(session, row_ids):
        raise RuntimeError("died between the index write and the outbox delete")

    monkeypatch.setattr(indexer, "_delete_rows", crash)
    with pytest.raises(RuntimeError):
        indexer.drain("posts")
    assert len(_outbox()) == queued  # the rows stay
    monkeypatch.undo()
    assert indexer.drain("posts") == queued
    assert _outbox() == []
    assert search(forum["member"], "yacht").total == 4  # replayed, not duplicated
    status = indexer.status("posts")
    assert status.in_step and status.indexed == status.expected


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_a_crash_in_the_middle_of_the_index_write_keeps_the_rows(app, forum, monkeypatch):
    from network.forum import search as forum_search
    from network.search import indexer

    for n in range(3):
        _reply(forum["member"], forum["open_topic"], f"Ketch number {n}")
    queued = len(_outbox())

    def broken(post, first):
        raise RuntimeError("a post that cannot be read")

    monkeypatch.setattr(forum_search, "post_document", broken)
    with pytest.raises(RuntimeError):
        indexer.drain("posts")
    assert len(_outbox()) == queued
    monkeypatch.undo()
    indexer.drain("posts")
    assert search(forum["member"], "ketch").total == 3


def test_reindex_status_and_healthz_cover_the_forum_index(app, client, forum):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "forum posts" in result.output
    result = runner.invoke(args=["search", "status", "--kind", "posts"])
    assert result.exit_code == 0 and "indexed 2 of 2 forum posts" in result.output, result.output
    body = client.get("/healthz").get_json()
    posts = body["checks"]["search"]["kinds"]["posts"]
    assert posts["ok"] and posts["expected"] == 2


def test_the_post_index_is_a_private_whoosh_folder_on_sqlite_and_search_records_on_postgresql(app, db_backend,
                                                                                             forum):
    import os
    import stat
    from pathlib import Path

    from sqlalchemy import func, select

    from network.core.db import db
    from network.search.models import SearchRecord

    search(forum["member"], "anything")
    folder = Path(app.instance_path) / "search-index-posts"
    rows = db.session.scalar(select(func.count()).select_from(SearchRecord).where(SearchRecord.kind == "posts"))
    if db_backend == "sqlite":
        assert folder.is_dir() and stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and rows == 0
    else:
        assert not folder.exists() and rows == 2


# ---------------------------------------------------------------- hostile queries

@pytest.mark.parametrize("text", ['"', '""', "-", "NOT", "OR OR", "*", "a*", "\x00", "' OR 1=1 --", "&|!:*()",
                                  "x" * 500, "(((", "<mark>", "\\", "é" * 300, "NOT NOT -\"-\"", "%_%"])
def test_hostile_queries_never_fail(app, auth, forum, text):
    client = auth.client_for(forum["member"])
    response = client.get("/forum/search", query_string={"q": text, "page": "9999"})
    assert response.status_code == 200
    assert "<mark>" not in html(response)  # nothing matched, and what was typed comes back escaped
    found = search(forum["member"], text)
    assert found.total == len(found.post_ids) or found.total > 20


def test_the_forum_box_no_longer_says_interim(app, auth, forum):
    client = auth.client_for(forum["member"])
    for url in ("/forum/", "/forum/search?q=central"):
        page = html(client.get(url))
        assert "interim" not in page.lower(), url
    assert "1 post found" in html(client.get("/forum/search?q=central"))


def test_the_result_rows_are_what_the_visibility_filter_loads_for_every_reader(app, forum):
    """The page's results are read as plain rows (search.result_posts): for every reader and every post, in the
    order asked, the same posts as the ORM's visibility filter gives, with every value the results show."""
    from sqlalchemy import select

    from network.core.db import db
    from network.forum import access, services
    from network.forum.models import Post
    from network.forum.search import ResultPost, result_posts

    hidden = _reply(forum["outsider"], forum["open_topic"], "An offensive remark about prosecutors")
    former = _reply(forum["member"], forum["open_topic"], "Written by someone who left")
    with app.test_request_context():
        services.hide_post(forum["moderator"], hidden, "Personal attack")
        db.session.commit()
    former.author_id = None
    db.session.commit()
    ids = sorted(db.session.scalars(select(Post.id)), reverse=True)
    secret = set(db.session.scalars(select(Post.id).where(Post.topic_id == forum["secret"].id)))
    assert secret
    for name in ("member", "moderator", "outsider", "insider"):
        reader = forum[name]
        loaded = {post.id: post for post in db.session.scalars(
            access.kept_visible_posts(access.is_platform_moderator(reader)).where(Post.id.in_(ids)),
            access.page_parameters(reader))}
        expected = [ResultPost(post.id, post.topic_id, post.created_at, post.hidden, post.body_markdown,
                               post.topic.title, post.topic.space.name, post.author.name if post.author else None)
                    for post in (loaded[post_id] for post_id in ids if post_id in loaded)]
        rows = result_posts(reader, ids)
        assert rows == expected and all(type(row) is ResultPost for row in rows), name
        assert (hidden.id in {row.id for row in rows}) == (name in ("moderator", "outsider")), name
        assert (secret <= {row.id for row in rows}) == (name in ("insider", "moderator")), name
    assert [row.author_name for row in result_posts(forum["member"], [former.id])] == [None]
    assert result_posts(forum["member"], []) == []
