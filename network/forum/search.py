"""Forum posts as a kind of the search layer: the post document, which posts a flush changed, the reader's scope
(network.forum.access.visible_posts as a rule over each post's scope tokens), and the forum's search: a page of
posts best first with highlighted snippets, and the forum's group of the one box.

A post's document carries its space, topic and author as tokens and whether it, or its topic, is hidden and
whether the topic was merged; the engine applies the reader's rule inside its query, so a total or a snippet never
comes from a post they may not read. A change to a topic that its posts' documents show (title, space, hiding,
merging) queues every post of the topic."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import Session, joinedload

from network.core.caching import cached_fragment
from network.core.db import db, kept_options
from network.core.markdown import source_digest
from network.forum import access
from network.forum.models import Post, Space, Topic
from network.members.models import Member
from network.search.kinds import Group, IndexKind, Item
from network.search.records import (
    NOBODY,
    AllOf,
    AnyOf,
    RecordDocument,
    Rule,
    Without,
    has,
    parse,
    record_index_for,
    snippet,
    tokens_of,
)
from network.search.services import ensure_checked, index_of

KIND = "posts"
POST_FIELDS = ("body_markdown", "hidden", "topic_id", "author_id")
TOPIC_FIELDS = ("title", "space_id", "hidden", "merged_into_id")  # not last_post_at: a reply changes no document


# ---------------------------------------------------------------- documents

def plain_text(markdown: str) -> str:
    """A post's Markdown as the reader sees it, without markup (links as their text, "@[Name]" mentions as the
    name in brackets); rendered without the forum's links, which need a request to build."""
    from network.core.markdown import render_markdown

    return render_markdown(markdown).striptags()


def scope_tokens(post: Post) -> list[str]:
    topic = post.topic
    tokens = [f"space:{topic.space_id}", f"topic:{post.topic_id}"]
    if post.author_id:
        tokens.append(f"author:{post.author_id}")
    tokens += [name for name, flag in (("hidden", post.hidden), ("topic_hidden", topic.hidden),
                                       ("merged", topic.merged_into_id is not None)) if flag]
    return tokens


def post_document(post: Post, first_post_id: int | None) -> RecordDocument:
    """The topic's title goes with its first post only: a title word finds the topic once."""
    return RecordDocument(
        id=post.id, scope=scope_tokens(post), created_at=post.created_at,
        title=post.topic.title if post.id == first_post_id else "",
        names=post.author.name if post.author else "", body=plain_text(post.body_markdown or ""))


def _first_posts(session, topic_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(topic_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Post.topic_id, func.min(Post.id)).where(Post.topic_id.in_(ids))
                                .group_by(Post.topic_id)).all())


def documents(session, post_ids: set[int]) -> list[RecordDocument]:
    posts = list(session.scalars(select(Post).where(Post.id.in_(sorted(post_ids))).order_by(Post.id)
                                 .options(joinedload(Post.topic).joinedload(Topic.space))).unique())
    firsts = _first_posts(session, {post.topic_id for post in posts})
    return [post_document(post, firsts.get(post.topic_id)) for post in posts]


def all_documents(session, batch: int = 200) -> Iterator[RecordDocument]:
    firsts = dict(session.execute(select(Post.topic_id, func.min(Post.id)).group_by(Post.topic_id)).all())
    last = 0
    while True:
        posts = list(session.scalars(select(Post).where(Post.id > last).order_by(Post.id).limit(batch)
                                     .options(joinedload(Post.topic).joinedload(Topic.space))).unique())
        if not posts:
            return
        for post in posts:
            yield post_document(post, firsts.get(post.topic_id))
        last = posts[-1].id
        session.expunge_all()


def expected(session) -> int:
    """Every post (the reader's scope is applied at query time)."""
    return session.scalar(select(func.count()).select_from(Post)) or 0


def _changed(obj, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def changed(session: Session) -> set[int]:
    """The posts whose documents this flush changed: new, deleted or edited posts, and every post of a topic whose
    title, space, hiding or merging changed."""
    posts: set[int] = set()
    topics: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Post) and obj.id is not None:
            posts.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Post) and obj.id is not None and _changed(obj, POST_FIELDS):
            posts.add(obj.id)
        elif isinstance(obj, Topic) and obj.id is not None and _changed(obj, TOPIC_FIELDS):
            topics.add(obj.id)
    if topics:
        posts |= set(session.connection().execute(select(Post.id).where(Post.topic_id.in_(sorted(topics))))
                     .scalars())
    return posts


# ---------------------------------------------------------------- the reader's scope

def reader_scope(member) -> Rule:
    """Mirrors access.visible_posts: posts of the spaces the member sees, not of merged topics; of hidden topics
    only in spaces they moderate; hidden posts only their own or in spaces they moderate."""
    if member is None or not access.can_use_forum(member):
        return NOBODY
    seen, moderated = access.search_scope(member)
    if not seen:
        return NOBODY
    moderated_spaces = tokens_of("space", moderated)
    return AllOf((tokens_of("space", seen), Without(has("merged")),
                  AnyOf((Without(has("topic_hidden")), moderated_spaces)),
                  AnyOf((Without(has("hidden")), has(f"author:{member.id}"), moderated_spaces))))


# ---------------------------------------------------------------- searching

class ResultPost(NamedTuple):
    """What a result shows of its post, as a plain row: its topic's title and space's name (from the visibility
    filter's joins) and its author's name (None for a former member)."""

    id: int
    topic_id: int
    created_at: datetime
    hidden: bool
    body_markdown: str | None
    title: str
    space_name: str
    author_name: str | None


@dataclass(frozen=True)
class SearchResults:
    """A page of forum search results: post ids best first, the total in the reader's scope, the posts of the page
    that the visibility filter gives once more (in order, as ResultPost rows), and for each of them its best passage
    as safe HTML (escaped text, matches in <mark>)."""

    total: int
    post_ids: list[int]
    snippets: dict[int, Markup]
    posts: list[ResultPost] = field(default_factory=list)


PAGE_POSTS = bindparam("forum_result_posts", expanding=True)
_results: dict[bool, object] = {}


def _results_statement(platform_moderator: bool):
    """The posts of a page of results as plain rows (ResultPost), read through the visibility filter (kept per
    process, the values bound)."""
    found = _results.get(platform_moderator)
    if found is None:
        found = _results[platform_moderator] = (
            access.kept_visible_posts(platform_moderator)
            .with_only_columns(Post.id, Post.topic_id, Post.created_at, Post.hidden, Post.body_markdown, Topic.title,
                               Space.name, Member.name)
            .outerjoin(Member, Post.author_id == Member.id).where(Post.id.in_(PAGE_POSTS)))
    return found


def result_posts(member, post_ids: list[int]) -> list[ResultPost]:
    """The posts of `post_ids` the member may read, in that order, as plain rows: one statement on the session's
    connection, without the ORM's loading (anything pending is flushed first, as the session's own execute would)."""
    if not post_ids:
        return []
    statement = _results_statement(access.is_platform_moderator(member))
    db.session.flush()
    rows = {row[0]: ResultPost(*row) for row in db.session.connection().execute(
        statement, {**access.page_parameters(member), PAGE_POSTS.key: list(post_ids)},
        execution_options=kept_options(statement))}
    return [rows[post_id] for post_id in post_ids if post_id in rows]


def _snippet(markdown: str, root) -> str:
    return snippet(plain_text(markdown), root)


def search_posts(member, text: str, author_id: int | None = None, page: int = 1, per_page: int = 20) \
        -> SearchResults:
    """Posts in the member's scope matching the query (the search box's language) and the author, best first
    (newest first without words), one page of them with their snippets. The engine applied the reader's rule in its
    query; the posts of the page are read through the visibility filter once more, in one statement."""
    query = parse(text)
    if not query and author_id is None:
        return SearchResults(0, [], {})
    ensure_checked(KIND)
    filters = {"author": [author_id]} if author_id is not None else {}
    hits = index_of(KIND).search(query, filters, page=(page, per_page), viewer=reader_scope(member),
                                 suggest=False)
    posts = result_posts(member, list(hits.page_ids))
    # A post's best passage for this query depends on its text and the query alone: kept per process under both (the
    # text by its digest), and asked for only once the post is known readable.
    snippets = {post.id: cached_fragment(("forum snippet", text, source_digest(post.body_markdown or "")),
                                         _snippet, post.body_markdown or "", query.root) for post in posts}
    return SearchResults(hits.total, list(hits.page_ids), snippets, posts)


def box(member, text: str, size: int, page: int = 1) -> Group | None:
    """The forum's group of the one box (None when the forum is not the member's)."""
    if member is None or not access.can_use_forum(member):
        return None
    found = search_posts(member, text, None, page, size)
    items = [Item(post.title, url_for("forum.topic", topic_id=post.topic_id, post=post.id) + f"#post-{post.id}",
                  post.author_name or "", found.snippets.get(post.id, ""))
             for post in found.posts]
    return Group(KIND, str(_l("Forum posts")), found.total, url_for("forum.search", q=text), items)


POSTS = IndexKind(name=KIND, label="forum posts", changed=changed, documents=documents,
                  all_documents=all_documents, expected=expected, make_index=record_index_for(KIND), scope=reader_scope, box=box)
