"""Forum search through the search layer: which forum index, wiring (outbox events, health check, the forum's
search provider), and the provider itself: a page of posts in the reader's scope with highlighted snippets.

Registered into network.forum.hooks at app creation (the network never imports the catalogue). The forum index is
a sibling of the case index: a Whoosh folder next to the case folder, or the forum_post_search table on
PostgreSQL, chosen as the case backend is (SEARCH_BACKEND)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from catalogue.search import forum_outbox
from catalogue.search.backend import SearchBackend
from catalogue.search.forum_index import ForumScope, make_forum_index, plain_text, snippet
from catalogue.search.query import parse
from network.core.db import db
from network.forum.hooks import SearchResults, SearchScope, register_search_provider

EXTENSION = "catalogue.search.forum"


def configure_forum_search(app: Flask) -> None:
    forum_outbox.install()
    app.extensions[EXTENSION] = {"backend": None, "checked": False}
    from network.core.health import register_health_check

    register_health_check(app, "forum_search", health)
    register_search_provider(app, search_forum)


def index_kind(app: Flask) -> str:
    choice = app.config["SEARCH_BACKEND"]
    if not choice:
        choice = "postgres" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "whoosh"
    return choice


def index_path(app: Flask) -> Path:
    """The Whoosh folder: next to the case index's ("search-index" -> "search-index-forum")."""
    case_path = Path(app.config["SEARCH_INDEX_PATH"] or Path(app.instance_path) / "search-index")
    return case_path.with_name(case_path.name + "-forum")


def forum_backend() -> SearchBackend:
    state = current_app.extensions[EXTENSION]
    if state["backend"] is None:
        state["backend"] = make_forum_index(index_kind(current_app), index_path(current_app), lambda: db.session,
                                            float(current_app.config["SEARCH_WRITER_TIMEOUT"]))
    return state["backend"]


def _ensure_checked() -> None:
    """Once per process, before the first search: the embedded index is in step with the database."""
    state = current_app.extensions[EXTENSION]
    if not state["checked"]:
        state["checked"] = True
        if current_app.config["SEARCH_INDEX_ON_COMMIT"]:
            from catalogue.search.forum_indexer import ensure_consistent

            ensure_consistent()


def search_forum(scope: SearchScope, text: str, author_id: int | None, page: int, per_page: int) -> SearchResults:
    """The forum's search provider: posts in the reader's scope matching the query (the search box's language)
    and the author, best first (newest first without words), one page of them with their snippets."""
    from network.forum.models import Post

    query = parse(text)
    empty = SearchResults(0, [], {})
    if not query and author_id is None:
        return empty
    _ensure_checked()
    viewer = ForumScope(scope.member_id, frozenset(scope.space_ids), frozenset(scope.moderated_space_ids))
    filters = {"author": [author_id]} if author_id is not None else {}
    hits = forum_backend().search(query, filters, page=(page, per_page), viewer=viewer, suggest=False)
    posts = {post.id: post for post in db.session.scalars(select(Post).where(Post.id.in_(hits.page_ids)))}
    snippets = {post_id: snippet(plain_text(posts[post_id].body_markdown or ""), query.root)
                for post_id in hits.page_ids if post_id in posts}
    return SearchResults(hits.total, list(hits.page_ids), snippets)


def health() -> dict:
    """For /healthz: the forum index's backend, documents indexed and expected, outbox size and age. The embedded
    default rebuilds the index here when the counts differ."""
    from catalogue.search.forum_indexer import ensure_consistent, status

    current = ensure_consistent() if current_app.config["SEARCH_INDEX_ON_COMMIT"] else status()
    return {
        "ok": current.in_step and current.lag_seconds <= float(current_app.config["SEARCH_MAX_LAG"]),
        "backend": current.backend, "indexed": current.indexed, "expected": current.expected,
        "queued": current.queued, "lag_seconds": round(current.lag_seconds, 1),
    }
