"""Search for the application: which backend, wiring (outbox events, health check, settings), and what the
catalogue's listing and API call: the ranked ids of a text query in the reader's scope, snippets, the rate limit."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app, request
from markupsafe import Markup

from catalogue.search import outbox
from catalogue.search.backend import SearchBackend, SearchHits, Viewer
from catalogue.search.highlight import case_snippet
from catalogue.search.query import Query, parse

EXTENSION = "catalogue.search"


def configure_search(app: Flask) -> None:
    """Settings are in config/defaults.py (SEARCH_*)."""
    outbox.install()
    app.extensions[EXTENSION] = {"backend": None, "checked": False}
    from network.core.health import register_health_check

    register_health_check(app, "search", health)
    from catalogue.search.forum_search import configure_forum_search

    configure_forum_search(app)  # forum posts too: their own index, outbox and health check, the forum's provider


def _make_backend(app: Flask) -> SearchBackend:
    choice = app.config["SEARCH_BACKEND"]
    if not choice:
        choice = "postgres" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "whoosh"
    if choice == "postgres":
        from catalogue.search.postgres_backend import PostgresBackend
        from network.core.db import db

        return PostgresBackend(lambda: db.session)
    if choice != "whoosh":
        raise RuntimeError(f"SEARCH_BACKEND must be whoosh or postgres, not {choice!r}")
    from catalogue.search.whoosh_backend import WhooshBackend

    path = app.config["SEARCH_INDEX_PATH"] or str(Path(app.instance_path) / "search-index")
    return WhooshBackend(path, writer_timeout=float(app.config["SEARCH_WRITER_TIMEOUT"]))


def backend() -> SearchBackend:
    state = current_app.extensions[EXTENSION]
    if state["backend"] is None:
        state["backend"] = _make_backend(current_app)
    return state["backend"]


def _ensure_checked() -> None:
    """Once per process, before the first search: the embedded index is in step with the database."""
    state = current_app.extensions[EXTENSION]
    if not state["checked"]:
        state["checked"] = True
        if current_app.config["SEARCH_INDEX_ON_COMMIT"]:
            from catalogue.search.indexer import ensure_consistent

            ensure_consistent()


def find(viewer: Viewer, text: str, correct: bool = True) -> tuple[Query, SearchHits | None]:
    """The query searched and every case id it finds in the viewer's scope, unranked (None: nothing to search).
    With `correct`, misspelt words are corrected first: the query returned is then the correction, and
    hits.corrected_from the text typed."""
    query = parse(text)
    if not query:
        return query, None
    _ensure_checked()
    hits = backend().search(query, viewer=viewer, suggest=False, correct=correct)
    return hits.query or query, hits


def corrected(viewer: Viewer, text: str, correct: bool = True) -> tuple[Query, str | None]:
    """The query to search for what was typed (None as the query when nothing searchable was typed), and the
    text typed when that query is its correction."""
    query = parse(text)
    if not query:
        return query, None
    _ensure_checked()
    fixed = backend().correction(query, {}, viewer) if correct else None
    return (fixed, query.text) if fixed is not None else (query, None)


def page(viewer: Viewer, query: Query, filters: dict, facets: tuple[str, ...], number: int, size: int) \
        -> SearchHits:
    """One page of the cases the query finds with these filters in the viewer's scope, best first, and the
    facet counts asked for, each over the results of every filter except its own: one selection for the page
    and the facets no filter restricts, one more for each facet whose filter is set."""
    engine = backend()
    hits = engine.search(query, filters, facets=tuple(k for k in facets if not _restricts(k, filters)),
                         page=(number, size), viewer=viewer, suggest=False)
    for kind in facets:
        if _restricts(kind, filters):
            others = {k: v for k, v in filters.items()
                      if k != kind and not (kind == "year" and k in ("year_from", "year_to"))}
            hits.facets[kind] = engine.search(query, others, facets=(kind,), viewer=viewer, suggest=False) \
                .facets.get(kind, {})
    return hits


def _restricts(kind: str, filters: dict) -> bool:
    if kind == "year":
        return bool(filters.get("year_from") or filters.get("year_to"))
    return bool(filters.get(kind))


def rank(viewer: Viewer, query: Query, filters: dict, limit: int | None) -> list[int]:
    """The first `limit` cases (None: all) the query finds with these filters in the viewer's scope, best first:
    the engine ranks only those."""
    return backend().ranked(query, filters, viewer=viewer, limit=limit)


def suggestion(query: Query, filters: dict, viewer: Viewer, found: int) -> str | None:
    """ "Did you mean": a corrected query that finds more of what the viewer may see, with the same filters."""
    return backend().suggestion(query, filters, viewer, found)


def snippets(cases: Iterable, query: Query) -> dict[int, Markup]:
    return {case.id: case_snippet(case, query.root) for case in cases}


def over_rate_limit() -> bool:
    """Counts one text search of this client; True once it is over SEARCH_RATE_LIMIT in the window."""
    from network.core.ratelimit import counter

    config = current_app.config
    key = f"search:{request.remote_addr or 'unknown'}"
    return counter().add(key, int(config["SEARCH_RATE_WINDOW"])) > int(config["SEARCH_RATE_LIMIT"])


def health() -> dict:
    """For /healthz: backend, documents indexed and expected, outbox size and age. The embedded default
    rebuilds the index here when the counts differ."""
    from catalogue.search.indexer import ensure_consistent, status

    current = ensure_consistent() if current_app.config["SEARCH_INDEX_ON_COMMIT"] else status()
    return {
        "ok": current.in_step and current.lag_seconds <= float(current_app.config["SEARCH_MAX_LAG"]),
        "backend": current.backend, "indexed": current.indexed, "expected": current.expected,
        "queued": current.queued, "lag_seconds": round(current.lag_seconds, 1),
    }
