"""PostgreSQL search at scale (issue 11, item 5): the RUM index that ranks from the index where the rum extension
exists, the GIN path where it does not (both give the page full ranking gives), and text queries with filters
selected through the text's GIN index. PostgreSQL only: these are the PostgreSQL engine's own plans, run on the
migrated test database (inside a transaction rolled back at the end)."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from network.search import postgres_backend as pb
from network.search.backend import Viewer
from network.search.documents import SearchDocument, Version
from tests.search_postgres_support import engine, indexed, statements  # noqa: F401 (fixtures)

VETTED = Viewer(vetted=True)
TITLES = ("Yacht confiscation and yacht sale", "Yacht confiscation", "Bank records of a shell company",
          "Extradition of a fugitive", "Confiscation of a villa", "Witnesses heard by videoconference")


def _document(n: int) -> SearchDocument:
    """Case n: a title from TITLES, a summary naming a yacht every third case, "harbour" only in the body of every
    seventh (found, never ranked: rank_document leaves the body out), a region every fifth in Asia."""
    title = TITLES[n % len(TITLES)]
    summary = "A yacht was seized." if n % 3 == 0 else "The request was executed."
    body = "The harbour master testified." if n % 7 == 0 else "Nothing else."
    region = "asia" if n % 5 == 0 else "europe"
    outcome = ("granted", "refused", "pending")[n % 3]
    return SearchDocument(id=n, when=date(2000 + n % 20, 1 + n % 12, 1), year=2000 + n % 20,
                          facets=[f"region:{region}", f"outcome:{outcome}", "cooperation_form:mla"],
                          versions=[Version("en", title=title, summary=summary, body=body)])


@pytest.fixture(scope="module")
def backend(engine):
    """300 cases indexed in a transaction of their own, rolled back when the module is done."""
    with indexed(engine, (_document(n) for n in range(1, 301))) as backend:
        yield backend


def _rum_available(session) -> bool:
    return bool(session.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")))


def test_the_migration_gives_ranking_a_rum_index_where_the_server_offers_rum(backend):
    session = backend.session
    exists = session.scalar(sa.text("SELECT to_regclass('ix_case_search_rank_rum') IS NOT NULL"))
    options = session.scalar(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'case_search'")) or []
    assert exists == _rum_available(session) == backend.has_rum()
    assert ("toast_tuple_target=512" in options) == exists


QUERIES = ("yacht", "yacht confiscation", "confiscation", "bank records", '"yacht confiscation"', "conf*",
           "harbour", "harbour yacht", "yacht -sale", "yacht OR villa", "records")


def _scores(backend, q: str) -> dict[int, float]:
    """The full score of every case for `q` (what orders a page), rounded: equal scores are ties."""
    query = pb.ql.parse(q)
    backend.prepare(query)
    score = backend.rank_expression(query, pb.CaseSearch.rank_document)
    rows = backend.session.execute(sa.select(pb.CaseSearch.case_id, score)).all()
    return {case_id: round(value or 0.0, 5) for case_id, value in rows}


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("filters", [{}, {"region": ["asia"]}, {"outcome": ["granted", "pending"]}])
def test_the_rum_path_and_the_gin_path_give_the_page_full_ranking_gives(backend, statements, monkeypatch, q,
                                                                        filters):
    """Pages of 7 among more matches than candidates (five pages' worth): the candidates come from the RUM index (rank order
    read from the index), the page holds the cases the full score puts there (equally scored cases may trade
    places), cases found only in the body follow newest first; the GIN path gives the same."""
    if not _rum_available(backend.session):  # the GIN path alone is then what this server can run
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    monkeypatch.setattr(backend, "has_impacts", lambda: False)  # (the impact-ordered lists: their own tests)
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 10)
    monkeypatch.setattr(pb, "FULLY_RANKED", 10)
    monkeypatch.setattr(pb, "RUM_MIN_FILTERED", 0)
    monkeypatch.setattr(pb, "RUM_MIN_SHARE", 0)  # the RUM index whatever share of the text's matches a filter keeps
    full = backend.ranked(q, filters, viewer=VETTED)  # every match ranked (no limit: ts_rank on every row)
    scores = _scores(backend, q)
    for number in (1, 2, 3):
        statements.clear()
        rum_page = backend.search(q, filters, page=(number, 7), viewer=VETTED, suggest=False).page_ids
        expected = full[(number - 1) * 7:number * 7]
        assert [scores[i] for i in rum_page] == [scores[i] for i in expected]
        if backend.has_rum() and len(full) > 5 * 7 * number:  # more matches than candidates: RUM picks them
            assert any("<=>" in s for s in statements)
    monkeypatch.setattr(backend, "has_rum", lambda: False)
    statements.clear()
    gin_page = backend.search(q, filters, page=(1, 7), viewer=VETTED, suggest=False).page_ids
    assert [scores[i] for i in gin_page] == [scores[i] for i in full[:7]]
    assert not any("<=>" in s for s in statements)


def test_few_matches_behind_a_filter_are_ranked_without_the_rum_index(backend, statements):
    """A filter keeping few of the text's matches: ts_rank over those few, not the RUM index handing over every
    text match in rank order until enough pass the filter."""
    hits = backend.search("yacht", {"region": ["asia"]}, page=(1, 7), viewer=VETTED, suggest=False)
    assert 0 < hits.total < pb.RUM_MIN_FILTERED and len(hits.page_ids) == 7
    assert not any("<=>" in s for s in statements)


def test_a_filter_keeping_a_small_share_of_many_text_matches_is_ranked_without_the_rum_index(backend, statements,
                                                                                           monkeypatch):
    """Enough matches behind the filter, but a small share of the text's: the RUM index would rank every text
    match, ts_rank ranks only those the GIN index selects with the filter. A large share: the RUM index."""
    if not _rum_available(backend.session):
        pytest.skip("the rum extension is not installed")
    monkeypatch.setattr(pb, "RUM_MIN_FILTERED", 10)
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 10)
    monkeypatch.setattr(pb, "FULLY_RANKED", 10)
    # "yacht": 150 of 300 cases; in Asia: 30 of them (0.2 of the text's matches, below RUM_MIN_SHARE at 0.5)
    monkeypatch.setattr(pb, "RUM_MIN_SHARE", 0.5)
    hits = backend.search("yacht", {"region": ["asia"]}, page=(1, 3), viewer=VETTED, suggest=False)
    assert hits.total > 10 and len(hits.page_ids) == 3
    assert not any("<=>" in s for s in statements)
    statements.clear()
    monkeypatch.setattr(pb, "RUM_MIN_SHARE", 0.1)
    assert backend.search("yacht", {"region": ["asia"]}, page=(1, 3), viewer=VETTED, suggest=False).page_ids \
        == hits.page_ids
    assert any("<=>" in s for s in statements)


@pytest.mark.parametrize("rum", [True, False])
def test_with_more_matches_than_candidates_the_best_candidates_get_the_full_score(backend, statements, monkeypatch,
                                                                                  rum):
    """200 matches, 20 candidates: the RUM index (or ts_rank on the GIN path) picks them, the full score orders
    them: the page holds cases of the best kind only (title "Yacht confiscation and yacht sale", summary "A yacht
    was seized", every sixth case: fifty equally good ones, of which the cut keeps some)."""
    if not rum or not _rum_available(backend.session):
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    monkeypatch.setattr(backend, "has_impacts", lambda: False)  # (the impact-ordered lists: their own tests)
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 20)
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    full = backend.ranked("yacht confiscation", {}, viewer=VETTED)
    best = set(full[:50])
    assert len(full) > 100 and best == {n for n in range(1, 301) if n % 6 == 0}
    statements.clear()
    page = backend.search("yacht confiscation", {}, page=(1, 4), viewer=VETTED, suggest=False).page_ids
    assert len(page) == 4 and set(page) <= best
    assert any("<=>" in s for s in statements) == (rum and _rum_available(backend.session))


def test_a_filter_beside_words_is_checked_on_the_rows_the_text_index_selects(backend):
    """The facets' GIN index never selects for a text query: the planner would read it for a selective filter
    and then test `document @@ query` row by row, decompressing every kept row's TOASTed document."""
    matches = backend._select(pb.ql.parse("request executed"), {"region": ["asia"]}, VETTED)
    where, tsquery = matches.handle
    statement = sa.select(sa.func.count()).select_from(pb.CaseSearch).where(*where)
    compiled = statement.compile(dialect=backend.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    session = backend.session
    session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(session.scalars(sa.text(f"EXPLAIN {compiled}")))  # noqa: S608 (the module's own statement)
    session.execute(sa.text("SET LOCAL enable_seqscan = on"))
    assert "ix_case_search_document" in plan and "ix_case_search_facets" not in plan, plan
    assert matches.total == 40  # the Asian cases (every fifth) whose summary is "The request was executed."


def _statements_of(engine, action) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_an_exclusive_rebuild_builds_the_rum_index_once_after_the_rows_and_a_failed_one_changes_nothing(backend,
                                                                                                       engine):
    """`search reindex --exclusive`: the RUM index is dropped and created after the rows (maintaining it on each
    insert made a 10,000-case rebuild three times slower); a rebuild that fails half-way leaves the old rows and the
    index. In a savepoint of the module's transaction (the DROP INDEX holds the table until that transaction ends)."""
    session = backend.session
    if not _rum_available(session):
        pytest.skip("no rum extension on this server: the GIN path alone (tested above)")
    savepoint = session.begin_nested()
    exclusive = pb.PostgresBackend(lambda: session)
    exclusive.exclusive_rebuild = True
    seen = _statements_of(engine, lambda: exclusive.rebuild(_document(n) for n in range(1, 41)))
    drop = next(i for i, s in enumerate(seen) if s.startswith("DROP INDEX"))
    create = next(i for i, s in enumerate(seen) if s.startswith("CREATE INDEX"))
    inserts = [i for i, s in enumerate(seen) if "INSERT INTO case_search" in s]
    assert inserts and drop < min(inserts) and create > max(inserts)
    exists = sa.text("SELECT to_regclass('ix_case_search_rank_rum') IS NOT NULL")
    assert session.scalar(exists)

    def failing():
        yield from (_document(n) for n in range(1, 700))  # more than a batch reaches the table first
        raise RuntimeError("the source failed")

    with pytest.raises(RuntimeError):
        exclusive.rebuild(failing())
    assert session.scalar(exists)
    assert exclusive.count() == 40
    savepoint.rollback()
    assert backend.count() == 300


def test_a_rebuild_prepares_the_next_batch_while_the_database_writes_and_writes_what_indexing_writes(backend,
                                                                                                       monkeypatch):
    """The rows of a batch (Python alone) are made in a thread of their own while the database writes the batch
    before: the same rows as indexing them one batch at a time, the progress of every case, and a rebuild whose
    rows or source fail half-way changes nothing."""
    import threading

    session = backend.session
    monkeypatch.setattr(pb, "BATCH", 40)
    threads: set[str] = set()
    row = pb._row

    def recorded(doc, now):
        threads.add(threading.current_thread().name)
        return row(doc, now)

    monkeypatch.setattr(pb, "_row", recorded)
    vectors = sa.text("SELECT case_id, md5(document::text), md5(rank_document::text), facets FROM case_search "
                      "ORDER BY case_id")
    savepoint = session.begin_nested()
    try:
        with backend.writer() as writer:
            session.execute(sa.delete(pb.CaseSearch))
            writer.index([_document(n) for n in range(1, 131)])
        expected = session.execute(vectors).all()
        done: list[int] = []
        assert backend.rebuild((_document(n) for n in range(1, 131)), progress=done.append) == 130
        assert session.execute(vectors).all() == expected
        assert sum(done) == 130 and done == [40, 40, 40, 10]
        assert any(name.startswith("search-rebuild") for name in threads)

        def failing_rows(doc, now):
            if doc.id == 100:
                raise RuntimeError("a case the analysis could not read")
            return row(doc, now)

        monkeypatch.setattr(pb, "_row", failing_rows)
        with pytest.raises(RuntimeError):
            backend.rebuild(_document(n) for n in range(1, 301))
        assert session.execute(vectors).all() == expected
    finally:
        savepoint.rollback()


def test_the_default_rebuild_keeps_the_index_so_readers_keep_the_old_rows(backend, engine):
    session = backend.session
    savepoint = session.begin_nested()
    seen = _statements_of(engine, lambda: backend.rebuild(_document(n) for n in range(1, 41)))
    assert not any(s.startswith(("DROP INDEX", "CREATE INDEX")) for s in seen)
    savepoint.rollback()
    assert backend.count() == 300


def test_an_exclusive_rebuild_that_a_reader_holds_up_rebuilds_the_default_way_instead_of_waiting(backend, engine):
    """A reader's open transaction on the table (a search in progress; or, in the indexer, the caller's own request
    session) would make DROP INDEX wait for ever: after the lock timeout the rebuild keeps the index instead."""
    session = backend.session
    if not _rum_available(session):
        pytest.skip("no rum extension on this server")
    exclusive = pb.PostgresBackend(lambda: session)
    exclusive.exclusive_rebuild = True
    exclusive.EXCLUSIVE_LOCK_TIMEOUT = "200ms"
    savepoint = session.begin_nested()
    with engine.connect() as reader:
        reader.execute(sa.text("SELECT count(*) FROM case_search"))  # holds ACCESS SHARE until it ends
        seen = _statements_of(engine, lambda: exclusive.rebuild(_document(n) for n in range(1, 41)))
        reader.rollback()
    assert any(s.startswith("DROP INDEX") for s in seen)
    assert not any(s.startswith("CREATE INDEX") for s in seen)
    assert session.scalar(sa.text("SELECT to_regclass('ix_case_search_rank_rum') IS NOT NULL"))
    assert exclusive.count() == 40
    savepoint.rollback()


def _max_score_document(n: int) -> SearchDocument:
    """A common word in nearly every title, thrice in most (the best by a rank without the concepts' weights), a rare
    word in the summary of every 25th case only (12 cases, equally ranked, several on the same date: ties)."""
    rare = n % 25 == 0
    title = "Yacht" if rare else "Villa" if n % 10 == 0 else "Yacht yacht yacht"
    summary = "A zebra was seen." if rare else "Nothing was seen."
    return SearchDocument(id=n, when=date(2000 + n % 4, 1, 1), year=2000 + n % 4, facets=["region:asia"],
                          versions=[Version("en", title=title, summary=summary)])


@pytest.fixture
def max_score_table(backend, monkeypatch):
    """The module's table replaced by _max_score_document's 300 cases in a savepoint (analysed: the rank weighs the
    concepts by the statistics), the process's kept statements and statistics set aside meanwhile."""
    session = backend.session
    monkeypatch.setattr(pb, "_STATS", {})
    monkeypatch.setattr(pb, "_KEPT", {})
    savepoint = session.begin_nested()
    backend.rebuild(_max_score_document(n) for n in range(1, 301))
    session.execute(sa.text("ANALYZE case_search"))
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 10)  # the other paths pick 10 candidates (five pages of 2)
    monkeypatch.setattr(pb, "FULLY_RANKED", 10)
    monkeypatch.setattr(pb, "MAX_SCORE_ROWS", 50)  # rare: in at most 50 of 300 rows
    yield backend
    savepoint.rollback()
    session.execute(sa.text("ANALYZE case_search"))


@pytest.mark.parametrize("rum", [True, False])
def test_a_rare_concept_beside_a_common_one_gives_the_exact_page_by_max_score(max_score_table, statements,
                                                                              monkeypatch, rum):
    """"zebra yacht": the candidates by a rank without weights were the cases saying "yacht" thrice, where the
    full score (the rare concept weighs far more) puts the 12 zebra cases first. Ranking those fully and checking that
    the last of the page beats what any case without "zebra" can score gives the page of the full ranking, ties on
    the rare word in the full ranking's order (newest, then id), on the RUM path and the GIN path alike."""
    backend = max_score_table
    if not rum or not _rum_available(backend.session):
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    full = backend.ranked("zebra yacht", {}, viewer=VETTED)
    assert set(full[:12]) == {n for n in range(25, 301, 25)}
    statements.clear()
    page = backend.search("zebra yacht", {}, page=(1, 7), viewer=VETTED, suggest=False).page_ids
    assert page == full[:7]
    assert not any("<=>" in s for s in statements)
    assert backend.search("zebra yacht", {"region": ["asia"]}, page=(1, 7), viewer=VETTED,
                          suggest=False).page_ids == full[:7]


def test_max_score_gives_way_when_the_rare_concept_cannot_fill_the_page(max_score_table):
    """12 cases hold "zebra": a page of 14 needs cases without it, which the bound cannot order: the usual path ranks."""
    backend = max_score_table
    matches = backend._select(pb.ql.parse("zebra yacht"), {}, VETTED)
    assert backend._max_score_top(matches, 7) == backend.ranked("zebra yacht", {}, viewer=VETTED)[:7]
    assert backend._max_score_top(matches, 14) is None
    single = backend._select(pb.ql.parse("zebra"), {}, VETTED)  # one concept: nothing to prune
    assert backend._max_score_top(single, 7) is None


@pytest.mark.parametrize("rum", [True, False])
def test_the_rare_concept_s_best_holders_join_a_page_max_score_cannot_prove(max_score_table, monkeypatch, rum):
    """A page of 14 needs two cases without "zebra": max-score cannot prove it, and the RUM or GIN path picks its
    candidates by a rank without the concepts' weights ("Yacht yacht yacht" first), which left every zebra case off
    the page. The zebra cases max-score scored join the page: the full ranking's first 12, in its order, and the
    rest as well scored as the full ranking's."""
    backend = max_score_table
    if not rum or not _rum_available(backend.session):
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    monkeypatch.setattr(backend, "has_impacts", lambda: False)
    monkeypatch.setattr(backend, "has_tiers", lambda: False)
    full = backend.ranked("zebra yacht", {}, viewer=VETTED)
    scores = _scores(backend, "zebra yacht")
    for filters in ({}, {"region": ["asia"]}):
        page = backend.search("zebra yacht", filters, page=(1, 14), viewer=VETTED, suggest=False).page_ids
        assert page[:12] == full[:12]
        assert [scores[i] for i in page] == [scores[i] for i in full[:14]]
        # the second page follows the first: the same order over more candidates
        assert backend.search("zebra yacht", filters, page=(2, 7), viewer=VETTED, suggest=False).page_ids == page[7:]


def test_the_item_bound_holds_for_postgresql_s_ts_rank(backend):
    """RANK_ITEM_BOUND against ts_rank itself: one lexeme at every weight pattern the bound's cases consider (all at
    the top weight; a lower weight first, then the top weight up to PostgreSQL's 256 positions)."""
    vectors = ["'x':" + ",".join(f"{i}A" for i in range(1, 257)),
               "'x':1B," + ",".join(f"{i}A" for i in range(2, 257)),
               "'x':1B,2B," + ",".join(f"{i}A" for i in range(3, 257)),
               "'x':1C", "'x':1A"]
    ranks = [backend.session.scalar(sa.select(pb.rank(sa.cast(v, TSVECTOR), sa.cast("x", TSQUERY))))
             for v in vectors]
    assert max(ranks) <= pb.RANK_ITEM_BOUND
    assert max(ranks) >= 0.99 * pb.RANK_ITEM_BOUND  # and close: a loose bound prunes nothing


def test_a_concept_scores_what_its_items_hold_however_many_alternatives_it_has(backend):
    """"treaty" ranks as 'treati' | 'treaty' (the English stem, the word unstemmed) and ts_rank averages over a
    tsquery's items: a case holding the stem in its title scored half what one holding "legal" (one lexeme under
    every configuration) did, and "basis" ('basi' | 'bas' | 'basis') a third. Each concept's rank is the sum of its
    items' (PostgresBackend._rank_scale)."""
    def score(q: str, vector: str) -> float:
        query = pb.ql.parse(q)
        backend.prepare(query)
        return backend.session.scalar(sa.select(backend.rank_expression(query, sa.cast(vector, TSVECTOR))))

    legal = score("legal", "'legal':1A")
    assert legal > 0
    assert score("treaty", "'treati':1A") == pytest.approx(legal)
    assert score("basis", "'basi':1A") == pytest.approx(legal)
    # several concepts (weighed alike: no statistics for these words in the module's table)
    assert score("treaty legal", "'treati':1A") == pytest.approx(score("treaty legal", "'legal':1A"))


def test_a_group_counts_less_in_a_case_naming_many_more_groups_than_the_average(backend):
    """A synonym group's bonus is normalised as BM25 normalises the Whoosh backend's "syn" field by its length, at
    most 1 (postgres_backend.SYNONYM_B): a case naming the query's group among thirty others mentions it in passing
    and scores less than one naming it alone, which scores what one naming a few does."""
    query = pb.ql.parse("confiscation")
    backend.prepare(query)
    group = pb._synonyms_of(query)[0].group
    assert backend._mean_groups() is not None and backend._mean_groups() < 10  # (the module's cases name a few)

    def score(others: int) -> float:
        vector = " ".join([f"'{pb.synonym_lexeme(group)}':1", *(f"'~other{i}':1" for i in range(others)),
                           "'confisc':1A"])
        return backend.session.scalar(sa.select(backend.rank_expression(query, sa.cast(vector, TSVECTOR))))

    assert score(0) == pytest.approx(score(1))
    assert score(30) < 0.9 * score(0)
    assert score(60) < score(30)


@pytest.mark.parametrize("rum", [True, False])
def test_the_candidates_vectors_are_copied_once_for_the_full_score(backend, statements, monkeypatch, rum):
    """The full score names rank_document six or seven times and each mention of the TOASTed column fetched it
    again: the candidates' vectors are copied into memory (`|| ''`) once, in the subquery that picks them (RUM)
    or above the cut (GIN path: below it, every match would be copied). The page is the same."""
    if not rum or not _rum_available(backend.session):
        monkeypatch.setattr(backend, "has_rum", lambda: False)
    monkeypatch.setattr(backend, "has_impacts", lambda: False)  # (the impact-ordered lists: their own tests)
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 10)
    monkeypatch.setattr(pb, "FULLY_RANKED", 10)
    monkeypatch.setattr(pb, "MAX_SCORE_ROWS", 0)  # no concept rare: the RUM or GIN path ranks
    full = backend.ranked("yacht confiscation", {}, viewer=VETTED)
    scores = _scores(backend, "yacht confiscation")
    statements.clear()
    page = backend.search("yacht confiscation", {}, page=(1, 7), viewer=VETTED, suggest=False).page_ids
    assert [scores[i] for i in page] == [scores[i] for i in full[:7]]
    ranked = [s for s in statements if "ts_rank" in s]
    assert len(ranked) == 1 and "rank_document ||" in ranked[0], ranked
    if not rum or not _rum_available(backend.session):  # the copy after the cut: of the cut's column, not the table's
        assert "case_search.rank_document ||" not in ranked[0]


def test_up_to_fully_ranked_matches_every_match_gets_the_full_score(backend, statements, monkeypatch):
    """More matches than candidates but no more than FULLY_RANKED: no candidates picked by one unweighted rank (whose
    ties make the cut in the table's physical order), neither through the RUM index nor in two phases, but the full
    score on every match: the page full ranking gives, the same on every run."""
    monkeypatch.setattr(pb, "RANK_CANDIDATES", 10)  # fewer candidates than matches
    monkeypatch.setattr(pb, "RUM_MIN_FILTERED", 0)
    monkeypatch.setattr(pb, "RUM_MIN_SHARE", 0)
    full = backend.ranked("yacht", {}, viewer=VETTED)
    assert 5 * 7 < len(full) <= pb.FULLY_RANKED
    scores = _scores(backend, "yacht")
    picked = []
    for name in ("_rum_top", "_two_phase", "_max_score_top"):
        original = getattr(pb.PostgresBackend, name)
        monkeypatch.setattr(pb.PostgresBackend, name,
                            lambda self, *a, _name=name, _original=original, **k: picked.append(_name) or
                            _original(self, *a, **k))
    page = backend.search("yacht", {}, page=(1, 7), viewer=VETTED, suggest=False).page_ids
    assert picked == []
    assert [scores[i] for i in page] == [scores[i] for i in full[:7]]
