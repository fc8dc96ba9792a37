"""Statements kept per shape of search (PostgresBackend._shape): two searches that differ only by their values (other
words, other filter codes, other years, other weights) run the same statements, built once, each with its own values
as named parameters (VALUE_NAMES); and a statement built for one search answers another exactly as one built for it
would, on every path (the facets' pass, the two phases, the RUM index, the impact lists, the tiers, max-score, the
sample). PostgreSQL only: run on the migrated test database, rolled back at the end."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date

import pytest

from network.search import postgres_backend as pb
from network.search.backend import Viewer
from network.search.documents import SearchDocument, Version
from tests.search_postgres_support import engine, indexed  # noqa: F401 (fixtures)

VETTED, ANONYMOUS = Viewer(vetted=True), Viewer()
N = 400
WORDS = ("treaty", "request", "authority", "evidence", "court", "transfer", "yacht", "falcon", "bank", "records",
         "witness", "fraud", "extradition", "laundering", "confiscation", "prison")
REGIONS = ("africa", "asia", "europe", "americas")
CRIMES = ("fraud", "cybercrime", "corruption")


def _document(n: int) -> SearchDocument:
    """Words of WORDS in varying numbers and places (title or summary), facets and years that differ from case to
    case, one case in five for members only, one in three in French."""
    summary = " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 2 + n % 6))
    title = f"{WORDS[n % len(WORDS)]} {WORDS[(n // 3) % len(WORDS)]}"
    language = "fr" if n % 3 == 0 else "en"
    if language == "fr":
        summary += " entraide judiciaire blanchiment"
    return SearchDocument(id=n, status="published", visibility="members" if n % 5 == 0 else "public",
                          when=date(2000 + n % 20, 1 + n % 12, 1 + n % 28), year=2000 + n % 20,
                          facets=[f"region:{REGIONS[n % 4]}", f"crime_type:{CRIMES[n % 3]}", "cooperation_form:mla",
                                  f"language:{language}"],
                          versions=[Version(language, title=title, summary=summary + ".")])


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, [_document(n) for n in range(1, N + 1)]) as backend:
        yield backend


# what _KEPT holds per query beside the statements: a path's values (its lexemes, weights, bounds), no SQL
VALUES_KEPT = {"tiers", "max-score", "impacts"}


def _hits(backend, text, filters=None, viewer=VETTED, sort="relevance", page=(1, 10)):
    hits = backend.search(text, filters or {}, facets=("region", "crime_type"), page=page, viewer=viewer, sort=sort,
                          suggest=False)
    return list(hits.page_ids), hits.total, hits.total_exact, hits.facets_exact, hits.facets


def _fresh(backend, monkeypatch, *args, **kwargs):
    """The same search with every statement built for it (nothing kept)."""
    monkeypatch.setattr(pb, "_KEPT", {})
    return _hits(backend, *args, **kwargs)


# pairs of searches of one shape: the same number of concepts, synonym groups and pairs, the same filters set,
# the same reader, order and page; other words, codes, years and weights
SAME_SHAPE = [
    (("treaty falcon",), ("falcon yacht",)),
    (("prison",), ("witness",)),  # (a synonym group each)
    (("court yacht", {"region": ["asia"]}), ("falcon prison", {"region": ["europe", "africa"]})),
    (("evidence", {"crime_type": ["fraud"], "year_from": ["2003"], "year_to": ["2011"]}),
     ("records", {"crime_type": ["corruption", "cybercrime"], "year_from": ["2010"], "year_to": ["2018"]})),
    (("transfer authority request", {}, ANONYMOUS), ("falcon records yacht", {}, ANONYMOUS)),
    ((None, {"region": ["asia"]}), (None, {"region": ["africa"]})),
    (("treaty", {}, VETTED, "date"), ("yacht", {}, VETTED, "date")),
]


@pytest.mark.parametrize(("first", "second"), SAME_SHAPE, ids=[p[0][0] or "no words" for p in SAME_SHAPE])
def test_searches_of_one_shape_share_their_statements(backend, monkeypatch, first, second):
    """The second search of a shape builds no statement: it runs the first one's with its own values, and finds
    what it finds with statements built for it."""
    monkeypatch.setattr(pb, "_KEPT", {})
    _hits(backend, *first)
    kept = dict(pb._KEPT)
    found = _hits(backend, *second)
    built = {key for key in pb._KEPT if key not in kept and key[0] not in VALUES_KEPT}
    assert built == set()
    assert all(pb._KEPT[key] is value for key, value in kept.items())
    assert found == _fresh(backend, monkeypatch, *second)
    assert found != _fresh(backend, monkeypatch, *first)  # (the two searches find different things)


SEARCHES = [
    ("treaty",), ("falcon",), ("treaty falcon",), ("court yacht",), ("court falcon",), ("bank records witness",),
    ("evidence prison transfer",), ('"bank records"',), ('"court yacht"',), ("mutual legal assistance",),
    ("entraide judiciaire",), ("money laundering confiscation",), ("blanchiment extradition",),
    ("trea*",), ("fal*",), ("treaty -falcon",), ("court -yacht",), ("+treaty falcon",), ("+court yacht",),
    ("treaty OR falcon",), ("court OR yacht",),
    ("treaty", {"region": ["asia"]}), ("court", {"region": ["europe", "africa"]}),
    ("treaty falcon", {"crime_type": ["fraud"]}), ("witness bank", {"crime_type": ["corruption", "cybercrime"]}),
    ("evidence", {"year_from": ["2005"]}), ("prison", {"year_from": ["2012"]}),
    ("evidence", {"year_from": ["2002"], "year_to": ["2008"]}), ("records", {"year_from": ["2011"], "year_to": ["2019"]}),
    ("treaty", {}, ANONYMOUS), ("yacht", {}, ANONYMOUS), ("bank records", {"region": ["asia"]}, ANONYMOUS),
    ("witness fraud", {"region": ["americas"]}, ANONYMOUS),
    ("treaty", {}, VETTED, "date"), ("yacht court", {}, VETTED, "date"),
    (None, {"region": ["asia"]}), (None, {"region": ["europe"]}), (None, {"year_from": ["2004"], "year_to": ["2009"]}),
    (None, {"year_from": ["2013"], "year_to": ["2016"]}),
    ("treaty", {}, VETTED, "relevance", (2, 10)), ("court", {}, VETTED, "relevance", (2, 10)),
    # many matches beside filters (the RUM index, the tiers, max-score): two of each shape
    ("treaty request evidence", {"region": ["asia", "europe"]}), ("court transfer bank", {"region": ["africa"]}),
    ("falcon treaty request", {"crime_type": ["fraud", "cybercrime"], "region": ["asia", "africa", "europe"]}),
    ("yacht court evidence", {"crime_type": ["corruption"], "region": ["americas", "europe", "asia"]}),
    ("records transfer request", {"region": ["asia", "europe"], "year_from": ["2001"], "year_to": ["2017"]}),
    ("authority evidence treaty", {"region": ["africa", "americas"], "year_from": ["2004"], "year_to": ["2019"]}),
]


@pytest.mark.parametrize("paths", ["as configured", "two phases", "rum or gin", "tiers and max-score", "in the pass",
                                   "sampled"])
def test_a_statement_kept_for_one_search_answers_another_as_built_for_it(backend, monkeypatch, paths):
    """Every search of SEARCHES, run one after the other with the statements the earlier ones kept, finds what it
    finds with statements built for it alone: the same page, total, counts and exactness (the paths forced in turn
    by thresholds a catalogue of 400 cases reaches)."""
    if paths in ("two phases", "rum or gin", "tiers and max-score"):  # (the page read on its own, not in the pass)
        monkeypatch.setattr(pb, "PAGE_IN_PASS", 20)
        monkeypatch.setattr(pb, "RANKED_IN_PASS", 20)
    if paths == "two phases":
        monkeypatch.setattr(pb, "FULLY_RANKED", 20)
        monkeypatch.setattr(pb, "RANK_CANDIDATES", 30)
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    elif paths == "rum or gin":  # (beside filters too)
        monkeypatch.setattr(pb, "FULLY_RANKED", 20)
        monkeypatch.setattr(pb, "RANK_CANDIDATES", 30)
        monkeypatch.setattr(pb, "RUM_MIN_FILTERED", 0)
        monkeypatch.setattr(pb, "RUM_MIN_SHARE", 0)
        monkeypatch.setattr(backend, "has_impacts", lambda: False)
        monkeypatch.setattr(backend, "has_tiers", lambda: False)
    elif paths == "tiers and max-score":
        monkeypatch.setattr(pb, "FULLY_RANKED", 20)
        monkeypatch.setattr(pb, "RANK_CANDIDATES", 30)
        monkeypatch.setattr(pb, "MAX_SCORE_ROWS", 150)
        monkeypatch.setattr(backend, "has_impacts", lambda: False)
        monkeypatch.setattr(backend, "_tier_budget", lambda matches, limit: pb.TIER_ROWS)
    elif paths == "in the pass":
        monkeypatch.setattr(pb, "FULLY_RANKED", 20)
        monkeypatch.setattr(pb, "RANK_CANDIDATES", 30)
        monkeypatch.setattr(pb, "PAGE_IN_PASS", 60)
    elif paths == "sampled":
        monkeypatch.setattr(pb, "EXACT_FACETS", 30)
        monkeypatch.setattr(pb, "EXACT_TOTAL", 60)
        monkeypatch.setattr(pb, "MIN_SAMPLE", 20)
        monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 20)
    expected = [_fresh(backend, monkeypatch, *search) for search in SEARCHES]
    kept: dict = {}
    monkeypatch.setattr(pb, "_KEPT", kept)
    for _round in range(2):  # (the second round: every statement kept, some built for another search)
        for search, found in zip(SEARCHES, expected, strict=True):
            assert _hits(backend, *search) == found, search


LONG = ["treaty falcon yacht records transfer", "treaty falcon yacht records transfer evidence",
        "court witness prison fraud falcon yacht laundering", "How can a court obtain bank records from a yacht owner?"]


@pytest.mark.parametrize("text", LONG)
def test_a_padded_rank_scores_every_case_as_the_query_s_own(backend, monkeypatch, text):
    """Above RANK_PADDED_FROM concepts (synonym groups, pairs) a rank is built for the next size of RANK_PADDED, the
    padding of weight 0 and held by no case: every case scores exactly what the query's own shape gives it."""
    import sqlalchemy as sa

    from network.search.engine_models import CaseSearch
    from network.search.query import parse

    query = parse(text)
    backend.prepare(query)
    shape, values = backend._rank_plan(query)
    assert shape[0] == pb._padded(len(query.concepts)) and shape[3] == pb._padded(len(query.pairs))
    assert any(count > pb.RANK_PADDED_FROM for count in (len(query.concepts), len(query.pairs)))

    def scores():
        shape, values = backend._rank_plan(query)
        score = backend._rank_sql(shape, CaseSearch.rank_document, values)
        return shape, backend.session.execute(sa.select(CaseSearch.case_id, score).order_by(CaseSearch.case_id)).all()

    padded_shape, padded = scores()
    monkeypatch.setattr(pb, "RANK_PADDED_FROM", 100)
    own_shape, own = scores()
    assert padded_shape != own_shape and padded == own
    assert sum(1 for _id, score in own if score) > 20


def test_ranks_of_five_and_six_concepts_share_one_shape(backend):
    from network.search.query import parse

    five, six = parse("treaty falcon yacht records transfer"), parse("treaty falcon yacht records transfer, evidence")
    for query in (five, six):
        backend.prepare(query)
    assert (len(five.concepts), len(six.concepts)) == (5, 6)
    assert backend._rank_plan(five)[0][:3] == backend._rank_plan(six)[0][:3] == (6, 0, False)


# parameters a path names for its own execution beside the search's values (VALUE_NAMES)
PATH_NAMES = {"rum_from", "tier_low", "tier_high", "impact_ids", "impact_unlisted", "tier_limit", "max_score_limit"}


def _binds(statement) -> dict[str, object]:
    """The bound parameters of a kept statement (or conditions) by name, with the values they were built with."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.sql import ClauseElement, and_, true

    if isinstance(statement, (tuple, list)):  # (the conditions and the tsquery of a selection)
        statement = and_(true(), *(s for s in statement if isinstance(s, ClauseElement)))
    if not isinstance(statement, ClauseElement):
        return {}
    return dict(statement.compile(dialect=postgresql.dialect()).params)


@pytest.mark.parametrize(("first", "second"), SAME_SHAPE, ids=[p[0][0] or "no words" for p in SAME_SHAPE])
def test_a_kept_statement_carries_no_value_of_the_search_it_was_built_for(backend, monkeypatch, first, second):
    """Built for either of two searches of one shape, every statement has the same parameters, and those whose values
    differ between the two are named values (VALUE_NAMES), given at each execution: no value of one search is left
    in a statement another search runs."""
    built = []
    for search in (first, second):
        monkeypatch.setattr(pb, "_KEPT", {})
        _hits(backend, *search)
        built.append({key: _binds(value) for key, value in pb._KEPT.items() if key[0] not in VALUES_KEPT})
    assert built[0].keys() == built[1].keys() and built[0]
    differing = set()
    for key, binds in built[0].items():
        assert binds.keys() == built[1][key].keys(), key
        differing |= {name for name, value in binds.items() if value != built[1][key][name]}
        named = {name for name in binds if name.startswith(pb.VALUE_NAMES) or name in PATH_NAMES}
        assert {name for name in binds if name.startswith("v_")} <= named, key
    assert differing and all(name.startswith(pb.VALUE_NAMES) for name in differing), differing
