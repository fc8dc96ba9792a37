"""The candidates of a page of many matches (the RUM index's order, the first of the two phases) are picked by the
rank of a bounded part of a long query (PostgresBackend._candidate_query): at most CANDIDATE_ITEMS items, the
rarest concepts first, each alternative of an OR on its own, a prefix counting as several items. A query within the
bound is picked by all of its concepts, as before; either way the total counts every match and the candidates'
full score every concept. PostgreSQL only: run on the migrated test database, rolled back at the end."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date
from functools import reduce

import pytest
from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import TSQUERY

from network.search import postgres_backend as pb
from network.search.backend import Viewer
from network.search.documents import SearchDocument, Version
from network.search.query import parse
from tests.search_postgres_support import engine, indexed, statements  # noqa: F401 (fixtures)

VETTED = Viewer(vetted=True)
N = 300
COMMON = ("treaty", "request", "authority", "evidence", "court", "transfer")


def _document(n: int) -> SearchDocument:
    """Every case names the common words; "yacht" is in one case in ten, "falcon" in one in thirty."""
    words = list(COMMON)
    if n % 10 == 0:
        words.append("yacht")
    if n % 30 == 0:
        words.append("falcon")
    return SearchDocument(id=n, status="published", visibility="public", when=date(2000 + n % 20, 1, 1 + n % 28),
                          year=2000 + n % 20, facets=["cooperation_form:mla"],
                          versions=[Version("en", title=f"Case {n}", summary=" ".join(words) + ".")])


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, [_document(n) for n in range(1, N + 1)]) as backend:
        yield backend


def _picked(backend, query) -> str:
    """The candidates' tsquery (tsquery input text: v_rcand) as PostgreSQL reads it."""
    return backend.session.scalar(select(cast(cast(literal(backend._candidate_query(query), String), TSQUERY),
                                              String)))


def _all_concepts(backend, query) -> str:
    """The OR of every concept's rank tsquery, as PostgreSQL builds it (tsquery_or)."""
    return backend.session.scalar(select(cast(reduce(func.tsquery_or, [
        c for c in (backend.compile(n, ranking=True) for n in query.concepts) if c is not None]), String)))


def test_a_query_within_the_bound_is_picked_by_every_concept(backend):
    query = parse("yacht treaty court")
    backend.prepare(query)
    assert sum(backend._candidate_items(n) for n in query.concepts) <= pb.CANDIDATE_ITEMS
    assert _picked(backend, query) == _all_concepts(backend, query)


def test_a_long_query_is_picked_by_its_rarest_concepts_within_the_bound(backend, monkeypatch):
    query = parse("treaty request falcon authority evidence yacht court transfer")
    backend.prepare(query)
    items = {n: backend._candidate_items(n) for n in query.concepts}
    falcon, yacht = (next(n for n in query.concepts if word in repr(n)) for word in ("falcon", "yacht"))
    monkeypatch.setattr(pb, "CANDIDATE_ITEMS", items[falcon] + items[yacht])
    picked = _picked(backend, query)
    assert "falcon" in picked and "yacht" in picked  # the rarest two (in 10 and 30 of 300 cases)
    assert not any(f"'{word}'" in picked for word in ("treati", "request", "court"))
    monkeypatch.setattr(pb, "CANDIDATE_ITEMS", 1)  # fewer items than the rarest concept has: it alone
    assert "falcon" in _picked(backend, query) and "yacht" not in _picked(backend, query)


def test_an_or_of_many_words_is_picked_by_its_rarest_alternatives(backend, monkeypatch):
    query = parse("treaty OR request OR falcon OR authority OR evidence OR court")
    backend.prepare(query)
    assert len(query.concepts) == 1
    monkeypatch.setattr(pb, "CANDIDATE_ITEMS", 2)
    picked = _picked(backend, query)
    assert "falcon" in picked and not any(f"'{word}'" in picked for word in ("request", "court", "evidenc"))


def test_a_prefix_counts_as_several_items(backend):
    query = parse("yach*")
    backend.prepare(query)
    assert backend._candidate_items(query.concepts[0]) == pb.CANDIDATE_PREFIX_ITEMS


@pytest.mark.parametrize("rum", [True, False], ids=["rum", "gin"])
@pytest.mark.parametrize("bound", [1, 3, 100])
def test_the_total_counts_every_match_and_the_page_ranks_by_every_concept(backend, monkeypatch, statements, bound,
                                                                          rum):
    """The bound changes which matches are candidates, never what matches: the total is every case holding any
    word; and the page (two phases: more matches than FULLY_RANKED) is the candidates by their full score, so the
    cases holding both rare words come first whichever words picked the candidates (through the RUM index, and
    through the GIN index where the rum extension is absent)."""
    if rum and not backend.has_rum():
        pytest.skip("the rum extension is not on this server")
    if not rum:
        monkeypatch.setattr(pb.PostgresBackend, "has_rum", lambda self: False)
    monkeypatch.setattr(backend, "has_impacts", lambda: False)  # (the paths tried first: their own tests)
    for path in ("_max_score_top", "_tier_top"):
        monkeypatch.setattr(backend, path, lambda matches, limit: None)
    monkeypatch.setattr(backend, "_tier_phase_top", lambda matches, limit, by_date: None)
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 40)
    monkeypatch.setattr(pb, "CANDIDATE_ITEMS", bound)
    hits = backend.search("treaty request falcon authority yacht court", page=(1, 10), viewer=VETTED)
    assert hits.total == N
    assert set(hits.page_ids) == {n for n in range(1, N + 1) if n % 30 == 0}  # the ten holding falcon and yacht
    assert any(("<=>" in s) == rum and "ts_rank" in s for s in statements)  # (the path named)
