"""PostgreSQL search: impact-ordered lists (issue 11, search speed; migration d8e2f5a1c6b9). For each common lexeme
of the ranking vectors, its holders in the order (rank, newest, id) and the cut every case reaching it is listed
above; a query of common words reads the first rows of its lists, scores the likeliest cases in full and, when no case
left unread can come first, has the full ranking's page. The lists must be exact after a rebuild and keep their
invariant under writes and deletes; a page the lists prove must be the full ranking's, ties included; a page they
cannot prove is the best of the cases scored. PostgreSQL only, on the migrated test database, inside transactions
rolled back at the end."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from network.search import postgres_backend as pb
from network.search.backend import ANONYMOUS, Viewer
from network.search.documents import SearchDocument, Version
from tests.search_postgres_support import engine, indexed, statements  # noqa: F401 (fixtures)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from search_data import synthetic_catalogue, synthetic_document  # noqa: E402

VETTED = Viewer(vetted=True)
# every lexeme of every ranking vector, with its rank alone there and the case's key, computed here from scratch
HOLDERS = sa.text(
    "SELECT u.lexeme, ts_rank('{0.1,0.2,0.4,1}'::float4[], r.rank_document, "
    "CAST('''' || replace(replace(u.lexeme, '\\', '\\\\'), '''', '''''') || '''' AS tsquery)), "
    "coalesce(r.filed_on, '-infinity'::date) > '-infinity'::date, nullif(r.filed_on, '-infinity'::date), r.case_id "
    "FROM case_search r, unnest(r.rank_document) u")
LISTED = sa.text("SELECT lexeme, impact, nullif(filed_on, '-infinity'::date), case_id FROM search_impacts")
CUTS = sa.text("SELECT lexeme, impact, nullif(filed_on, '-infinity'::date), case_id FROM search_impact_cuts")


def _key(impact: float, filed_on, case_id: int) -> tuple:
    return round(impact, 6), filed_on or date.min, case_id


def _holders(session) -> dict[str, list[tuple]]:
    """lexeme -> every holder's key (rank, filed_on, id), best first."""
    holders: dict[str, list[tuple]] = defaultdict(list)
    for lexeme, impact, _dated, filed_on, case_id in session.execute(HOLDERS):
        holders[lexeme].append(_key(impact, filed_on, case_id))
    for keys in holders.values():
        keys.sort(reverse=True)
    return holders


def _lists(session) -> tuple[dict[str, set[tuple]], dict[str, tuple]]:
    listed: dict[str, set[tuple]] = defaultdict(set)
    for lexeme, impact, filed_on, case_id in session.execute(LISTED):
        listed[lexeme].add(_key(impact, filed_on, case_id))
    cuts = {lexeme: _key(impact, filed_on, case_id) for lexeme, impact, filed_on, case_id in session.execute(CUTS)}
    return listed, cuts


def _invariant_holds(session, exact: bool) -> None:
    """Every listed lexeme's list holds exactly the cases whose key reaches its cut (with their rank now); after a
    rebuild, the lists are the first IMPACT_LIST_KEEP holders of every lexeme more than IMPACT_LIST_MIN hold."""
    holders = _holders(session)
    listed, cuts = _lists(session)
    assert cuts and set(listed) <= set(cuts)
    for lexeme, cut in cuts.items():
        reaching = {key for key in holders.get(lexeme, ()) if key >= cut}
        assert listed.get(lexeme, set()) == reaching, lexeme
    if exact:
        common = {lexeme for lexeme, keys in holders.items() if len(keys) > pb.IMPACT_LIST_MIN}
        assert set(cuts) == common
        for lexeme in common:
            assert listed[lexeme] == set(holders[lexeme][:pb.IMPACT_LIST_KEEP]), lexeme


def test_the_migration_gives_every_postgresql_database_the_lists(engine):
    with engine.connect() as connection:
        for name in ("search_impacts", "search_impact_cuts", "ix_search_impacts_order", "ix_search_impacts_case"):
            assert connection.scalar(sa.text(f"SELECT to_regclass('{name}') IS NOT NULL")), name
        triggers = set(connection.scalars(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'case_search'::regclass AND tgname LIKE '%impacts%'")))
        assert triggers == {"case_search_impacts_insert", "case_search_impacts_update", "case_search_impacts_delete"}


@pytest.fixture(scope="module")
def catalogue(engine):
    """2,000 cases of the benchmark's synthetic catalogue (four languages, titles, keywords, summaries)."""
    with indexed(engine, synthetic_catalogue(2000)) as backend:
        yield backend


def test_the_lists_are_exact_after_a_rebuild_and_keep_their_invariant_under_writes_and_deletes(catalogue):
    session = catalogue.session
    savepoint = session.begin_nested()
    try:
        _invariant_holds(session, exact=True)
        with catalogue.writer() as writer:  # changed cases (other texts: another seed), new cases, deleted cases
            writer.index([synthetic_document(n, seed=7) for n in range(1, 301)])
            writer.index([synthetic_document(n, seed=7) for n in range(5001, 5101)])
            writer.delete(range(1500, 2001))
        # a new case ranking first for a listed lexeme, an undated one, and raw SQL on the table
        assert session.scalar(sa.text("SELECT count(*) FROM search_impact_cuts WHERE lexeme = 'bank'")) == 1
        top = "bank"
        with catalogue.writer() as writer:
            writer.index([SearchDocument(id=9001, when=date(2030, 1, 1), year=2030, facets=[],
                                         versions=[Version("en", title=f"{top} " * 3, summary=top)]),
                          SearchDocument(id=9002, when=None, year=None, facets=[],
                                         versions=[Version("en", title="Undated request", summary=top)])])
        session.execute(sa.text("UPDATE case_search SET filed_on = filed_on - 400 WHERE case_id % 7 = 0"))
        session.execute(sa.text("DELETE FROM case_search WHERE case_id % 11 = 0"))
        _invariant_holds(session, exact=False)
        assert session.scalar(sa.text("SELECT count(*) FROM search_impacts WHERE case_id = 9001 "
                                      "AND lexeme = 'bank'")) == 1
        catalogue.rebuild(synthetic_catalogue(700))  # a rebuild makes them again from its rows: exact
        _invariant_holds(session, exact=True)
        assert session.scalar(sa.text("SELECT count(*) FROM search_impacts WHERE case_id > 700")) == 0
    finally:
        savepoint.rollback()


QUERIES = ("central authority draft", "bank records", "MLA bank records", "court order account",
           "shell companies fraud", "extradition", "laundering", "corruption", "witnesses", "cocaine", "piracy",
           "JIT trafficking", "letter rogatory", "entraide judiciaire", "traite des personnes", "trata de personas",
           "отмывание денег", "экстрадиция", "AML", "decomiso")


def _answers(backend, monkeypatch, best_effort: bool) -> list[tuple[str, Viewer, int, list[int], list[int]]]:
    """(query, reader, page size, the lists' page, the full ranking's first cases) wherever the lists answer."""
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    monkeypatch.setattr(pb, "_KEPT", {})
    monkeypatch.setattr(pb, "IMPACT_BEST_EFFORT", best_effort)
    found = []
    for text in QUERIES:
        query = pb.ql.parse(text)
        for viewer in (ANONYMOUS, VETTED):
            full = backend.ranked(query, {}, viewer=viewer)
            for limit in (1, 20, 60):
                page = backend._impact_top(backend._select(query, {}, viewer), limit)
                if page is not None:
                    found.append((text, viewer, limit, page, full[:limit]))
    return found


def test_a_page_the_lists_prove_is_the_full_ranking_s(catalogue, monkeypatch):
    """On 2,000 synthetic cases, the benchmark's kinds of query, both readers and three page sizes: wherever the
    lists prove the page, it is the full ranking's first cases, ties included (score, then newest, then id), and
    they prove most of them."""
    found = _answers(catalogue, monkeypatch, best_effort=False)
    for text, viewer, limit, page, full in found:
        assert page == full, (text, viewer, limit)
    assert len(found) >= len(QUERIES) * 6 // 2, len(found)


def test_the_lists_stay_exact_after_writes_and_deletes(catalogue, monkeypatch):
    session = catalogue.session
    savepoint = session.begin_nested()
    try:
        with catalogue.writer() as writer:
            writer.index([synthetic_document(n, seed=11) for n in range(1, 401)])
            writer.index([synthetic_document(n, seed=11) for n in range(6001, 6201)])
            writer.delete(range(1200, 1500))
        found = _answers(catalogue, monkeypatch, best_effort=False)
        for text, viewer, limit, page, full in found:
            assert page == full, (text, viewer, limit)
        assert found
    finally:
        savepoint.rollback()


def test_a_page_the_lists_cannot_prove_is_the_best_of_the_cases_scored(catalogue, monkeypatch):
    """Best effort: every query answers, the pages share most of the full ranking's cases, and most are it."""
    found = _answers(catalogue, monkeypatch, best_effort=True)
    twenties = [(page, full) for _t, _v, limit, page, full in found if limit == 20]
    assert len(twenties) == len(QUERIES) * 2
    shared = sum(len(set(page) & set(full)) for page, full in twenties) / (20 * len(twenties))
    assert shared >= 0.8, shared
    assert sum(page == full for page, full in twenties) >= len(twenties) * 2 // 3


def test_the_search_page_comes_from_the_lists(catalogue, statements, monkeypatch):
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    monkeypatch.setattr(pb, "_KEPT", {})
    monkeypatch.setattr(pb, "IMPACT_BEST_EFFORT", False)
    full = catalogue.ranked("bank records", {}, viewer=VETTED)
    statements.clear()
    page = catalogue.search("bank records", {}, page=(1, 20), viewer=VETTED, suggest=False).page_ids
    assert page == full[:20]
    assert any("search_impact_cuts" in s for s in statements)
    assert not any("<=>" in s for s in statements)  # not the RUM index's ranking of every posting


def test_undated_cases_at_the_head_of_a_list_are_read_and_ranked_as_the_full_ranking_ranks_them(catalogue,
                                                                                                monkeypatch):
    """A case without a date is listed as -infinity (the full ranking puts it last among equals): read from the head
    of a list (and as a list's cut), it is the earliest date, and the page is still the full ranking's."""
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    monkeypatch.setattr(pb, "_KEPT", {})
    monkeypatch.setattr(pb, "IMPACT_BEST_EFFORT", False)
    session = catalogue.session
    savepoint = session.begin_nested()
    try:
        with catalogue.writer() as writer:
            writer.index([SearchDocument(id=9100 + n, when=None, year=None, facets=[],
                                         versions=[Version("en", title="Bank records, bank records, bank records",
                                                           summary="Bank records of the bank.")])
                          for n in range(3)])
        session.execute(sa.text("UPDATE search_impact_cuts SET filed_on = '-infinity' WHERE lexeme = 'record'"))
        assert session.scalar(sa.text("SELECT count(*) FROM search_impacts WHERE case_id >= 9100 "
                                      "AND filed_on = '-infinity'")) > 0
        query = pb.ql.parse("bank records")
        full = catalogue.ranked(query, {}, viewer=VETTED)
        assert set(full[:3]) == {9100, 9101, 9102}
        page = catalogue._impact_top(catalogue._select(query, {}, VETTED), 20)
        assert page == full[:20]
    finally:
        savepoint.rollback()


def test_the_lists_give_way_to_the_usual_paths(catalogue, statements, monkeypatch):
    """A required word, a filter, a prefix or a phrase, a lexeme made common since the lists were made, a database
    without them: the usual paths rank."""
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    monkeypatch.setattr(pb, "_KEPT", {})
    for text, filters in (("+bank records", {}), ("bank records", {"region": ["europe"]}), ("launder*", {}),
                          ("bank records", {"year_from": ["2012"]}), ("bank records", {"year_to": ["2009"]}),
                          ('"bank secrecy"', {}), ("bank -records", {})):
        assert catalogue._impact_top(catalogue._select(pb.ql.parse(text), filters, VETTED), 20) is None, text
    words = catalogue._select(pb.ql.parse("bank records"), {}, VETTED)
    assert catalogue._impact_top(words, 20) is not None
    session = catalogue.session
    savepoint = session.begin_nested()
    try:
        session.execute(sa.text("DELETE FROM search_impact_cuts WHERE lexeme = 'bank'"))
        monkeypatch.setattr(pb, "_KEPT", {})
        monkeypatch.setattr(pb, "IMPACT_UNLISTED", 100)
        assert catalogue._impact_top(words, 20) is None  # 'bank' unlisted, held by hundreds: not read whole
    finally:
        savepoint.rollback()
    years = {"year_from": ["2012"]}
    assert catalogue.search("bank records", years, page=(1, 20), viewer=VETTED, suggest=False).page_ids \
        == catalogue.ranked("bank records", years, viewer=VETTED)[:20]
    monkeypatch.setattr(catalogue, "has_impacts", lambda: False)
    assert catalogue._impact_top(words, 20) is None
    assert catalogue.search("bank records", {}, page=(1, 20), viewer=VETTED, suggest=False).page_ids \
        == catalogue.ranked("bank records", {}, viewer=VETTED)[:20]
