"""Catalogue cases as a kind of the search layer: the case document, which cases a flush changed, the case engine
(Whoosh or PostgreSQL full-text search, catalogue/search/), and what the catalogue's listing, its API and the one
box call: the ranked ids of a text query in the reader's scope (catalogue.cases.services.visible_cases, applied
inside the engine as a Viewer), corrections, facet counts, snippets."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalogue.cases.models import Case, CaseFacet, CaseRevision
from catalogue.cases.services import search_viewer
from network.core.labels import state_label
from network.search import engine_models as _engine_tables  # noqa: F401 (case_search, search_words: in the metadata)
from network.search.backend import SearchBackend, SearchHits, Viewer
from network.search.documents import SearchDocument, case_document
from network.search.highlight import case_snippet, matcher_for
from network.search.kinds import Group, IndexKind, Item
from network.search.query import Query, parse
from network.search.services import engine_choice, ensure_checked, index_of, state_key, whoosh_path
from network.search.services import over_rate_limit as over_rate_limit

KIND = "cases"
EXTENSION = state_key(KIND)  # app.extensions[EXTENSION]: {"backend": ..., "checked": ...} (relevance.py sets it)
BATCH = 200


# ---------------------------------------------------------------- the kind

def changed(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, (CaseFacet, CaseRevision)) and obj.case_id is not None:
            ids.add(obj.case_id)
    return ids


def documents(session, ids: set[int]) -> list[SearchDocument]:
    return [case_document(case) for case in session.scalars(
        select(Case).where(Case.id.in_(sorted(ids))).options(selectinload(Case.facets)))]


def all_documents(session, yield_per: int = BATCH) -> Iterator[SearchDocument]:
    statement = select(Case).order_by(Case.id).options(selectinload(Case.facets)).execution_options(
        yield_per=yield_per)
    for case in session.scalars(statement):
        yield case_document(case)


def expected(session) -> int:
    """Every case (the reader's scope is applied at query time)."""
    return session.scalar(select(func.count()).select_from(Case)) or 0


def make_index(app: Flask) -> SearchBackend:
    if engine_choice(app) == "postgres":
        from network.core.db import db
        from network.search.postgres_backend import PostgresBackend

        return PostgresBackend(lambda: db.session)
    from network.search.whoosh_backend import WhooshBackend

    return WhooshBackend(whoosh_path(app), writer_timeout=float(app.config["SEARCH_WRITER_TIMEOUT"]))


def box(member, text: str, size: int, page: int = 1) -> Group:
    """The catalogue's group of the one box, corrected like the catalogue's own search."""
    from catalogue.cases import queries

    found = queries.search_cases(member, {"q": [text]}, "relevance", page, size, listing=True)
    searched = found.corrected_query or text
    items = [Item(case.title, url_for("catalogue.case_page", reference=case.reference),
                  " · ".join(str(p) for p in (state_label(case.requesting_state), state_label(case.requested_state),
                                              case.year) if p),
                  found.snippets.get(case.id, "")) for case in found.cases]
    return Group(KIND, str(_l("Catalogue cases")), found.total, url_for("catalogue.listing", q=searched), items,
                 corrected=found.corrected_query, typed=found.typed_query, total_exact=found.total_exact)


CASES = IndexKind(name=KIND, label="cases", changed=changed, documents=documents, all_documents=all_documents,
                  expected=expected, make_index=make_index, scope=search_viewer, box=box)


# ---------------------------------------------------------------- what the catalogue calls

def backend() -> SearchBackend:
    return index_of(KIND)


def reading():
    """A block holding one request's searches (correction, facets, page): the engine shares per-statement work
    across them (SearchBackend.reading)."""
    return backend().reading()


def find(viewer: Viewer, text: str, correct: bool = True, filters: dict | None = None) \
        -> tuple[Query, SearchHits | None]:
    """The query searched and every case id it finds in the viewer's scope, unranked (None: nothing to search).
    With `correct`, misspelt words are corrected first: the query returned is then the correction, and
    hits.corrected_from the text typed. The correction is chosen for the listing's `filters` (see corrected); the
    ids are not filtered (the listing filters them in SQL, and counts each facet without its own filter)."""
    query = parse(text)
    if not query:
        return query, None
    ensure_checked(KIND)
    typed = None
    if correct and filters:
        query, typed = corrected(viewer, query, True, filters)
        correct = False
    hits = backend().search(query, viewer=viewer, suggest=False, correct=correct)
    if typed is not None:
        hits.corrected_from = typed
    return hits.query or query, hits


def corrected(viewer: Viewer, text: str | Query, correct: bool = True, filters: dict | None = None) \
        -> tuple[Query, str | None]:
    """The query to search for what was typed (None as the query when nothing searchable was typed), and the
    text typed when that query is its correction (`text` may be parsed already). The correction must find something
    with the `filters` the page will apply: a quoted phrase found only in cases the filters leave out gives way to
    its words, as one found nowhere does (it was kept, and the page was empty although the filtered cases held the
    words), and a corrected word is not searched instead of the typed one when it finds nothing there."""
    query = text if isinstance(text, Query) else parse(text)
    if not query:
        return query, None
    ensure_checked(KIND)
    fixed = backend().correction(query, filters or {}, viewer) if correct else None
    return (fixed, query.text) if fixed is not None else (query, None)


def page(viewer: Viewer, query: Query, filters: dict, facets: tuple[str, ...], number: int, size: int) \
        -> SearchHits:
    """One page of the cases the query finds with these filters in the viewer's scope, best first, and the
    facet counts asked for, each over the results of every filter except its own: one selection for the page
    and the facets no filter restricts, one more for each facet whose filter is set. `facets_exact`: whether every
    count is exact (an engine estimates them over very many matches)."""
    ensure_checked(KIND)
    engine = backend()
    hits = engine.search(query, filters, facets=tuple(k for k in facets if not _restricts(k, filters)),
                         page=(number, size), viewer=viewer, suggest=False)
    for kind in facets:
        if _restricts(kind, filters):
            others = {k: v for k, v in filters.items()
                      if k != kind and not (kind == "year" and k in ("year_from", "year_to"))}
            counted = engine.search(query, others, facets=(kind,), viewer=viewer, suggest=False)
            hits.facets[kind] = counted.facets.get(kind, {})
            hits.facets_exact = hits.facets_exact and counted.facets_exact
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
    matcher = matcher_for(query.root)  # one for the page
    return {case.id: case_snippet(case, query.root, matcher=matcher) for case in cases}
