"""PostgreSQL facet counts at scale (issue 11, item 5): exact up to EXACT_FACETS matches, estimated above from a
sample of the matches in the same pass that counts them (the total stays exact, `facets_exact` says which), the
reader's scope in both; pages without words read the newest first from ix_case_search_filed_on. PostgreSQL only:
run on the migrated test database, inside a transaction rolled back at the end. The thresholds are lowered so
that 400 cases stand for 100,000."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

import math
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from network.search import postgres_backend as pb
from network.search.backend import ANONYMOUS, Viewer
from network.search.documents import SearchDocument, Version
from network.search.query import parse
from tests.search_postgres_support import engine, indexed, statements  # noqa: F401 (fixtures)

VETTED = Viewer(vetted=True)
FACETS = ("cooperation_form", "region", "outcome", "crime_type")
N = 400


def _document(n: int) -> SearchDocument:
    """Every case is "mla" and says "treaty"; one in four is members-only, and only those are in Oceania (so a
    count naming Oceania to an anonymous reader would reveal them); every tenth is a draft about corruption (never
    counted for anyone); "yacht" is in one case in eight."""
    members = n % 4 == 0
    region = "oceania" if members else ("europe", "asia", "africa")[n % 3]
    crimes = ["crime_type:corruption"] if n % 10 == 0 else [f"crime_type:{('fraud', 'cybercrime')[n % 2]}"]
    title = "Treaty request about a yacht" if n % 8 == 1 else "Treaty request"
    return SearchDocument(id=n, status="draft" if n % 10 == 0 else "published",
                          visibility="members" if members else "public",
                          when=date(2000 + n % 20, 1 + n % 12, 1 + n % 28), year=2000 + n % 20,
                          facets=["cooperation_form:mla", f"region:{region}", f"outcome:{('granted', 'refused')[n % 2]}",
                                  *crimes],
                          versions=[Version("en", title=title, summary="A treaty was invoked.")])


DOCUMENTS = [_document(n) for n in range(1, N + 1)]


def _visible(doc: SearchDocument, viewer: Viewer) -> bool:
    return doc.status == "published" and (viewer.vetted or doc.visibility == "public")


def _exact(viewer: Viewer, word: str | None = None) -> tuple[int, dict[str, dict[str, int]]]:
    """What every count should be, from the documents themselves."""
    found = [d for d in DOCUMENTS if _visible(d, viewer)
             and (word is None or any(word in v.title.lower() or word in v.summary.lower() for v in d.versions))]
    tokens = Counter(token for d in found for token in d.facets)
    counts: dict[str, dict[str, int]] = {kind: {} for kind in FACETS}
    for token, n in tokens.items():
        kind, _sep, code = token.partition(":")
        if kind in counts:
            counts[kind][code] = n
    return len(found), counts


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, DOCUMENTS) as backend:
        yield backend


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
@pytest.mark.parametrize("text", ["", "treaty", "yacht"])
def test_up_to_the_threshold_every_facet_is_counted_exactly(backend, viewer, text):
    hits = backend.search(text, facets=FACETS, page=(1, 10), viewer=viewer)
    total, counts = _exact(viewer, text or None)
    assert hits.facets_exact is True and hits.total_exact is True
    assert hits.total == total
    assert hits.facets == counts


def _expected_estimates(backend, viewer: Viewer, word: str, buckets: tuple[int, ...]) -> dict[str, dict[str, int]]:
    """The estimates a sample of these buckets gives: each count in the sample times matches / sampled."""
    ids = {d.id for d in DOCUMENTS if pb.sample_bucket(d.id) in buckets}
    found = [d for d in DOCUMENTS if _visible(d, viewer) and any(word in v.title.lower() or word in v.summary.lower()
                                                                  for v in d.versions)]
    sample = [d for d in found if d.id in ids]
    tokens = Counter(token for d in sample for token in d.facets)
    estimates: dict[str, dict[str, int]] = {kind: {} for kind in FACETS}
    for token, n in tokens.items():
        kind, _sep, code = token.partition(":")
        if kind in estimates:
            estimates[kind][code] = min(len(found), max(1, round(n * len(found) / len(sample))))
    return estimates


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
def test_above_the_threshold_the_counts_are_estimates_from_a_sample_and_say_so(backend, monkeypatch, statements,
                                                                            viewer):
    monkeypatch.setattr(pb, "EXACT_FACETS", 50)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)  # the first part (1 in 16) is enough
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=viewer)
    total, counts = _exact(viewer, "treaty")
    assert total > 50
    assert hits.facets_exact is False
    assert hits.total == total and hits.total_exact  # the total is exact up to EXACT_TOTAL
    assert len(hits.page_ids) == 10
    # one statement: the facets' pass reads the first rows (their count, up to EXACT_TOTAL + 1, is the exact total)
    # and, as they are all of the matches, joins the sample's tokens among them (no statement selects the sample's
    # rows again in the GIN index): no GROUP BY over them
    assert sum("string_agg" in s for s in statements) == 1
    assert sum("FROM case_search" in s and "set_config" not in s for s in statements) == 1
    assert any("MATERIALIZED" in s and "FILTER (WHERE" in s for s in statements)
    assert not any(" AS one " in s for s in statements)
    assert not any("unnest" in s for s in statements)
    # the kept rows keep their facet tokens as the array: joined into text only where the sample counts them (joining
    # every kept row's took 4-13 ms of 8,515 matches, three quarters of them outside the sample)
    kept_rows = next(s for s in statements if "MATERIALIZED" in s).split("MATERIALIZED", 1)[1].split("LIMIT", 1)[0]
    assert "case_search.facets" in kept_rows and "array_to_string" not in kept_rows
    assert hits.facets == _expected_estimates(backend, viewer, "treaty", (0,))
    # a facet every match holds is estimated as the total; each estimate is at least 1 and at most the total
    assert hits.facets["cooperation_form"] == {"mla": total}
    for kind in FACETS:
        assert set(hits.facets[kind]) <= set(counts[kind])  # nothing the matches do not hold
        assert all(1 <= n <= total for n in hits.facets[kind].values())
    # the sample is drawn under the reader's scope: members-only cases (Oceania) and drafts (corruption) are
    # never counted for a reader who may not see them
    assert ("oceania" in hits.facets["region"]) == viewer.vetted
    assert "corruption" not in hits.facets["crime_type"]


@pytest.mark.parametrize("exact_facets", [20, 5000], ids=["more matches than counted exactly", "fewer"])
def test_without_a_page_the_tokens_are_joined_only_when_they_are_all_counted(backend, monkeypatch, statements,
                                                                             exact_facets):
    """The facets without a page (the counts of a filter's own facet beside a page): the first rows kept with their
    facets' array, counted, and joined into text only when they are all that is counted (no more than
    EXACT_FACETS); above, the sample's parts count them, and the kept rows' tokens were joined and sent for
    nothing."""
    monkeypatch.setattr(pb, "EXACT_FACETS", exact_facets)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)
    hits = backend.search("treaty", facets=FACETS, viewer=VETTED)
    total, counts = _exact(VETTED, "treaty")
    assert hits.total == total and hits.total_exact
    assert hits.facets_exact == (total <= exact_facets)
    if hits.facets_exact:
        assert hits.facets == {kind: counts[kind] for kind in FACETS}
    first = next(s for s in statements if "MATERIALIZED" in s)
    kept_rows = first.split("MATERIALIZED", 1)[1].split("LIMIT", 1)[0]
    assert "case_search.facets" in kept_rows and "array_to_string" not in kept_rows
    assert "CASE WHEN" in first.split("LIMIT", 1)[1] and "string_agg" in first


def test_a_sample_smaller_than_min_sample_takes_in_the_next_parts(backend, monkeypatch, statements):
    monkeypatch.setattr(pb, "EXACT_FACETS", 50)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 60)  # 1 in 16 of about 330 matches is too few, 1 in 8 too: 1 in 4
    hits = backend.search("treaty", facets=FACETS, viewer=VETTED)
    total, counts = _exact(VETTED, "treaty")
    assert hits.facets_exact is False and hits.total == total
    # the first rows counted the matches: the parts they need are read at once
    assert sum("string_agg" in s for s in statements) == 2
    assert hits.facets == _expected_estimates(backend, VETTED, "treaty", (0, 1, 2, 3))
    assert set(hits.facets["region"]) == set(counts["region"])
    # matches beyond EXACT_TOTAL are not counted: one part after another until the sample is large enough
    statements.clear()
    monkeypatch.setattr(pb, "EXACT_TOTAL", 50)
    hits = backend.search("treaty", facets=FACETS, viewer=VETTED)
    assert hits.facets_exact is False and hits.total_exact is False
    assert hits.total == max(51, _estimated_total(VETTED, "treaty", (0, 1, 2, 3)))
    # (the table holds more than three times EXACT_TOTAL rows: the sample is read first, and puts the matches far
    # above EXACT_FACETS, so the first rows are not read)
    assert not any("MATERIALIZED" in s for s in statements)
    assert sum("string_agg" in s for s in statements) == 3  # one statement per part
    assert hits.facets["cooperation_form"] == {"mla": hits.total}  # every match holds it: scaled to the estimate
    assert all(set(hits.facets[kind]) <= set(counts[kind]) for kind in FACETS)


def test_without_words_the_counts_and_the_newest_first_come_from_the_indexes(backend, monkeypatch, statements):
    session = backend.session
    assert session.scalar(sa.text("SELECT to_regclass('ix_case_search_filed_on') IS NOT NULL"))
    filters = {"region": ["europe", "asia"]}
    hits = backend.search("", filters, facets=FACETS, page=(1, 10), viewer=ANONYMOUS)
    kept = sorted((d for d in DOCUMENTS if _visible(d, ANONYMOUS) and d.facets[1] in ("region:europe", "region:asia")),
                  key=lambda d: (d.when, d.id), reverse=True)
    assert hits.total == len(kept) and hits.facets_exact
    assert hits.page_ids == [d.id for d in kept[:10]]
    # the statements of a filtered page are planned with the facets' index (a scan would test every row); the page
    # comes in the facets' pass (_facets_and_page)
    reads = [i for i, s in enumerate(statements) if "FROM case_search" in s and "set_config" not in s]
    setting = [i for i, s in enumerate(statements) if "set_config('enable_seqscan', 'off'" in s]
    assert len(reads) == 1 and "MATERIALIZED" in statements[reads[0]]
    assert setting and setting[0] < reads[0]


def test_without_words_a_year_range_selects_through_the_selector_lexemes(backend, statements):
    """Without words, a year range is no condition the date index serves (walking it newest first passed every newer
    case): the page's matches come from the selector lexemes' GIN index, newest first all the same."""
    filters = {"region": ["europe", "asia"], "year_from": ["2004"], "year_to": ["2008"]}
    hits = backend.search("", filters, facets=FACETS, page=(1, 10), viewer=ANONYMOUS)
    kept = sorted((d for d in DOCUMENTS if _visible(d, ANONYMOUS) and d.facets[1] in ("region:europe", "region:asia")
                   and 2004 <= d.year <= 2008), key=lambda d: (d.when, d.id), reverse=True)
    assert hits.total == len(kept) > 10
    assert hits.page_ids == [d.id for d in kept[:10]]
    page = [s for s in statements if "ORDER BY" in s]
    assert len(page) == 1 and "document @@" in page[0] and "&&" not in page[0]


def _estimated_total(viewer: Viewer, word: str | None, buckets: tuple[int, ...], keep=lambda d: True) -> int:
    """The total the sample of these buckets gives: the visible matches in them times 16 / the buckets."""
    sampled = sum(1 for d in DOCUMENTS if _visible(d, viewer) and keep(d) and pb.sample_bucket(d.id) in buckets
                  and (word is None or any(word in v.title.lower() for v in d.versions)))
    return round(sampled * pb.SAMPLE_BUCKETS / len(buckets))


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
@pytest.mark.parametrize("facets", [(), FACETS], ids=["total only", "with facets"])
def test_above_exact_total_the_total_is_estimated_from_the_sample_and_says_so(backend, monkeypatch, viewer, facets):
    """Above EXACT_TOTAL the total is the sample's count scaled (Elasticsearch's track_total_hits), never below
    EXACT_TOTAL + 1, drawn under the reader's scope; up to it, it stays exact (total_exact True)."""
    monkeypatch.setattr(pb, "EXACT_FACETS", 20)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 60)
    monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 5)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)
    hits = backend.search("treaty", facets=facets, page=(1, 10), viewer=viewer)
    total, _counts = _exact(viewer, "treaty")
    assert total > 2 * 60
    assert hits.total_exact is False
    assert hits.total == max(61, _estimated_total(viewer, "treaty", (0,)))
    assert hits.total != total  # an estimate (of 360 or 270 matches: 1 in 16 of them scaled)
    assert len(hits.page_ids) == 10
    # the scope holds in the estimate: an anonymous reader's counts only public, published cases
    if not viewer.vetted:
        assert hits.total < _estimated_total(VETTED, "treaty", (0,))
    # up to EXACT_TOTAL the total stays exact
    few = backend.search("yacht", facets=facets, page=(1, 10), viewer=viewer)
    assert few.total_exact is True and few.total == _exact(viewer, "yacht")[0] <= 60
    # the default thresholds: exact
    monkeypatch.setattr(pb, "EXACT_TOTAL", 10_000)
    assert backend.search("treaty", facets=facets, viewer=viewer).total == total


def test_text_filters_and_scope_are_one_condition_of_the_text_index(backend, statements):
    """A text query with facet filters selects through the selector lexemes of `document` (scope, filters): the
    count, the facets and the page read no `facets &&` condition row by row, and every count is exact."""
    filters = {"region": ["europe", "asia"], "outcome": ["granted"]}
    hits = backend.search("treaty", filters, facets=FACETS, page=(1, 10), viewer=ANONYMOUS)
    kept = [d for d in DOCUMENTS if _visible(d, ANONYMOUS) and d.facets[1] in ("region:europe", "region:asia")
            and "outcome:granted" in d.facets]
    assert hits.total == len(kept) and hits.total_exact and hits.facets_exact
    assert set(hits.page_ids) <= {d.id for d in kept} and len(hits.page_ids) == 10
    assert hits.facets["region"] == dict(Counter(d.facets[1].partition(":")[2] for d in kept))
    assert not any("&&" in s for s in statements)
    # a filter code is a quoted lexeme, whatever it holds: it finds nothing and breaks nothing
    for code in ("x' | '~:s:draft", "a\\' & !'b", "x" * 300, ""):
        assert backend.search("treaty", {"region": [code]}, facets=FACETS, page=(1, 10)).total == 0


def test_the_migration_gives_stored_rows_the_selector_lexemes_the_writer_gives(backend):
    """Migration 5e4c0b0a1d17 adds the selector lexemes to rows indexed before it, from their own columns: the
    same lexemes the writer gives (the sample bucket computed the same way in SQL and in Python)."""
    from tests.migration_support import load_migration

    session = backend.session
    written = dict(session.execute(sa.text("SELECT case_id, CAST(document AS text) FROM case_search")).all())
    migration = load_migration("5e4c0b0a1d17", session)  # (on the backend's session, rolled back with the module)
    migration.downgrade()
    stripped = dict(session.execute(sa.text("SELECT case_id, CAST(document AS text) FROM case_search")).all())
    assert all("~:" not in document for document in stripped.values())
    migration.upgrade()
    migrated = dict(session.execute(sa.text("SELECT case_id, CAST(document AS text) FROM case_search")).all())
    assert migrated == written
    assert "'~:b:1'" in written[16] and "'~:s:draft'" in written[10] and "'~:f:region:oceania'" in written[4]


def test_a_sample_far_above_exact_total_skips_the_exact_count(backend, monkeypatch, statements):
    """The sample is counted first: when it puts the total above ESTIMATE_ABOVE times EXACT_TOTAL, the matches are
    not counted one by one (no statement reading the first EXACT_TOTAL + 1); below, they are."""
    monkeypatch.setattr(pb, "EXACT_TOTAL", 60)
    monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 5)
    monkeypatch.setattr(pb, "ESTIMATE_ABOVE", 1)  # the sample's estimate (about 340) is above 60
    hits = backend.search("treaty", viewer=VETTED)
    assert hits.total_exact is False and hits.total == max(61, _estimated_total(VETTED, "treaty", (0,)))
    assert not any(" AS one " in s for s in statements)
    statements.clear()
    monkeypatch.setattr(pb, "ESTIMATE_ABOVE", 10)  # 600: the matches may be at most 60, so they are counted
    assert backend.search("treaty", viewer=VETTED).total == hits.total
    assert any(" AS one " in s for s in statements)


def test_a_sample_a_quarter_above_exact_total_skips_the_exact_count(backend, monkeypatch, statements):
    """With the default ESTIMATE_ABOVE (1.25), a sample putting the total 1.8 times above EXACT_TOTAL (about 340
    matches against 200) skips the exact count, which could only have said
    "more than EXACT_TOTAL"; the estimate is the sample's (here 28 rows: within a third of the true total)."""
    assert pb.ESTIMATE_ABOVE == 1.25
    monkeypatch.setattr(pb, "EXACT_TOTAL", 200)
    monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 5)
    total, _counts = _exact(VETTED, "treaty")
    hits = backend.search("treaty", viewer=VETTED)
    assert hits.total_exact is False and hits.total == _estimated_total(VETTED, "treaty", (0,))
    assert abs(hits.total - total) <= total / 3
    assert not any(" AS one " in s for s in statements)


def test_a_sample_far_above_exact_facets_skips_the_first_rows(backend, monkeypatch, statements):
    """Where the table may hold many more than EXACT_TOTAL rows, the sample's first part is read first: when it puts
    the matches above ESTIMATE_ABOVE times EXACT_FACETS, the first EXACT_FACETS + 1 rows are not read (the counts are
    the sample's); below, they are."""
    monkeypatch.setattr(pb, "EXACT_FACETS", 20)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 60)  # the table (more than 3 x 60 rows) may hold many more
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)
    monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 5)
    hits = backend.search("treaty", facets=FACETS, viewer=VETTED)
    assert hits.facets_exact is False
    assert not any("MATERIALIZED" in s for s in statements)  # the first EXACT_FACETS + 1 rows: not read
    assert sum("string_agg" in s for s in statements) == 1  # the sample's first part only
    total, counts = _exact(VETTED, "treaty")
    assert hits.facets["cooperation_form"] == {"mla": hits.total}  # every match holds it: estimated as the total
    assert all(set(hits.facets[kind]) <= set(counts[kind]) for kind in FACETS)
    statements.clear()
    monkeypatch.setattr(pb, "EXACT_FACETS", 400)  # the matches may be at most that many: the first rows are read
    hits = backend.search("treaty", facets=FACETS, viewer=VETTED)
    assert hits.facets_exact is True and any("MATERIALIZED" in s for s in statements)


def test_a_table_smaller_than_the_estimates_threshold_is_counted_in_one_statement(backend, statements):
    """Where the table cannot hold many more than EXACT_TOTAL rows (every catalogue but a very large one), the total
    is one count that stops at EXACT_TOTAL + 1: no sample is counted first (it was three statements more)."""
    hits = backend.search("treaty", viewer=VETTED)
    assert hits.total == _exact(VETTED, "treaty")[0] and hits.total_exact
    assert sum("count(" in s.lower() for s in statements) == 1, statements


def _page_reads(statements: list[str]) -> list[str]:
    """The statements that read case_search (not the planner setting's, which looks at its size)."""
    return [s for s in statements if "FROM case_search" in s and "set_config" not in s]


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
@pytest.mark.parametrize("text", ["", "yacht", "treaty", "yacht -fraud", "treaty yacht"])
@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize("fully", [None, 20], ids=["fully-ranked", "two-phases"])
def test_the_page_comes_in_the_pass_that_counts_the_facets(backend, monkeypatch, statements, viewer, text, sort,
                                                           fully):
    """With facets and up to PAGE_IN_PASS matches, the statement that counts the facets reads the page too
    (_facets_and_page: the matches selected once); the page, the total and the counts are those of separate
    statements (the page asked for without facets), whether every match is scored in full or, above FULLY_RANKED,
    in two phases."""
    if fully is not None:
        monkeypatch.setattr(pb, "FULLY_RANKED", fully)
    for page in ((1, 10), (2, 10), (3, 25)):
        alone = backend.search(text, page=page, viewer=viewer, sort=sort)
        statements.clear()
        hits = backend.search(text, facets=FACETS, page=page, viewer=viewer, sort=sort)
        total, counts = _exact(viewer, text.split()[0] if text else None) if " " not in text else (hits.total, None)
        assert (hits.page_ids, hits.total) == (alone.page_ids, alone.total)
        assert hits.total == total and (counts is None or hits.facets == counts)
        assert len(hits.page_ids) == min(page[1], max(0, total - (page[0] - 1) * page[1]))
        reads = _page_reads(statements)
        assert len(reads) == 1 and "MATERIALIZED" in reads[0], reads


@pytest.mark.parametrize("text", ["", "treaty"])
def test_above_page_in_pass_the_page_is_read_on_its_own(backend, monkeypatch, statements, text):
    """More matches than PAGE_IN_PASS (and, without words, than the first rows read): the pass leaves the page out
    (its CASE takes no branch) and _top reads it as before, the same page."""
    alone = backend.search(text, page=(1, 10), viewer=VETTED)
    monkeypatch.setattr(pb, "PAGE_IN_PASS", 50)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 50)  # (without words, the page is in the pass whenever every match is)
    monkeypatch.setattr(pb, "EXACT_FACETS", 50)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)
    monkeypatch.setattr(pb, "ESTIMATE_ABOVE", 100)  # the first rows are read (no sample decides against them first)
    statements.clear()
    hits = backend.search(text, facets=FACETS, page=(1, 10), viewer=VETTED)
    assert hits.page_ids == alone.page_ids and len(hits.page_ids) == 10
    reads = _page_reads(statements)
    assert any("MATERIALIZED" in s for s in reads) and any("MATERIALIZED" not in s and "ORDER BY" in s for s in reads)


@pytest.mark.parametrize("elsewhere_from", [math.inf, 100.0, 0.0])
def test_between_page_in_pass_and_ranked_in_pass_the_page_is_in_the_pass_where_no_index_would_pick_it(
        backend, monkeypatch, statements, elsewhere_from):
    """Between PAGE_IN_PASS and RANKED_IN_PASS matches the pass ranks the page only where neither the RUM index nor
    the tier would pick a page read on its own (fewer matches than _elsewhere says): the same page either way."""
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    alone = backend.search("treaty", page=(1, 10), viewer=VETTED)
    monkeypatch.setattr(pb, "PAGE_IN_PASS", 50)
    monkeypatch.setattr(pb.PostgresBackend, "_elsewhere", lambda self, matches, limit: {
        "rum_from": elsewhere_from, "tier_low": math.inf, "tier_high": math.inf})
    statements.clear()
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=VETTED)
    assert hits.total > 100 and hits.page_ids == alone.page_ids and len(hits.page_ids) == 10
    reads = _page_reads(statements)
    assert "MATERIALIZED" in reads[0]
    if hits.total < elsewhere_from:
        assert len(reads) == 1, reads
    else:  # the page on its own, by _top's paths
        assert len(reads) >= 2 and not any("MATERIALIZED" in s for s in reads[1:]), reads


def _reads(statements: list[str]) -> list[str]:
    """The statements that read the matches (not the planner settings)."""
    return [s for s in statements if "FROM case_search" in s and "set_config" not in s]


def test_a_first_part_that_foresees_the_count_reads_it_with_the_other_parts(backend, monkeypatch, statements):
    """Above EXACT_FACETS, when the sample's first part puts the matches at most EXACT_TOTAL (so that they will be
    counted), the count and the sample's other parts come in one statement: the matches are read twice (the first
    part, then the count with the parts), not three times (each part, then the count); the total is exact and the
    estimates are those of the parts a reading part by part takes."""
    monkeypatch.setattr(pb, "EXACT_FACETS", 100)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 355)
    monkeypatch.setattr(pb, "ESTIMATE_ABOVE", 1.1)  # 400 rows, more than 1.1 x 355: the sample's first part first
    monkeypatch.setattr(pb, "MIN_SAMPLE", 40)  # the first part (22 rows) is not enough, the second (23 more) is
    total, _counts = _exact(ANONYMOUS, "treaty")
    assert 1.1 * 100 < _estimated_total(ANONYMOUS, "treaty", (0,)) <= 355 and total <= 355
    hits = backend.search("treaty", facets=FACETS, viewer=ANONYMOUS)
    assert hits.total == total and hits.total_exact is True
    assert hits.facets_exact is False
    assert hits.facets == _expected_estimates(backend, ANONYMOUS, "treaty", (0, 1))
    assert sum("string_agg" in s for s in _reads(statements)) == 2
    assert not any(" AS one " in s for s in statements)  # no count of its own


def test_with_a_page_a_first_part_that_foresees_the_count_is_followed_by_the_pass(backend, monkeypatch, statements):
    """The same with a page: after the first part, one statement (the facets' pass) counts the matches, reads the
    sample's other parts among them and ranks the page (_count_and_parts counted and sampled, and the page was a
    statement more); the total, the estimates and the page are those of the reading without the pass."""
    viewer = ANONYMOUS  # (280 matches, 352 estimated from the first part)
    monkeypatch.setattr(pb, "FULLY_RANKED", 20)
    alone = backend.search("treaty", page=(1, 10), viewer=viewer)
    monkeypatch.setattr(pb, "EXACT_FACETS", 100)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 355)
    monkeypatch.setattr(pb, "ESTIMATE_ABOVE", 1.1)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 40)  # the first part is not enough, the second is
    total, _counts = _exact(viewer, "treaty")
    assert 1.1 * 100 < _estimated_total(viewer, "treaty", (0,)) <= 355 and total <= 355
    statements.clear()
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=viewer)
    assert hits.total == total and hits.total_exact is True and hits.facets_exact is False
    assert hits.facets == _expected_estimates(backend, viewer, "treaty", (0, 1))
    assert hits.page_ids == alone.page_ids and len(hits.page_ids) == 10
    reads = _reads(statements)
    assert len(reads) == 2 and "MATERIALIZED" in reads[1], reads  # the first part, then the pass
    assert not any(" AS one " in s for s in statements)
    # where the pass would leave the page to the RUM index or the tier (_elsewhere), its kept rows would cost more
    # than the count: the count with the parts (_count_and_parts), then the page on its own, the same
    monkeypatch.setattr(pb, "PAGE_IN_PASS", 50)
    monkeypatch.setattr(pb.PostgresBackend, "_elsewhere", lambda self, matches, limit: {
        "rum_from": 0.0, "tier_low": math.inf, "tier_high": math.inf})
    statements.clear()
    again = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=viewer)
    assert (again.total, again.facets, again.page_ids) == (hits.total, hits.facets, hits.page_ids)
    reads = _reads(statements)
    assert not any("MATERIALIZED" in s for s in reads) and "FILTER (WHERE" in reads[1], reads


def test_with_a_page_a_pass_that_overflows_leaves_the_parts_and_the_page_to_their_own_statements(
        backend, monkeypatch, statements):
    """A pass whose count overflows EXACT_TOTAL did not read every match: the sample's parts are read on their own
    (the total is their estimate) and the page by _top, as without the pass."""
    alone = backend.search("treaty", page=(1, 10), viewer=ANONYMOUS)
    monkeypatch.setattr(pb, "EXACT_FACETS", 100)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 250)  # 280 matches: the count overflows
    monkeypatch.setattr(pb, "SAMPLE_PARTS", ((9,), (1,), (2, 3)))  # bucket 9 holds half the rows of the others
    monkeypatch.setattr(pb, "MIN_SAMPLE", 40)
    statements.clear()
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=ANONYMOUS)
    estimate = _estimated_total(ANONYMOUS, "treaty", (9, 1, 2, 3))
    assert hits.total_exact is False and hits.facets_exact is False and hits.total == max(251, estimate)
    assert hits.page_ids == alone.page_ids
    reads = _reads(statements)
    assert "MATERIALIZED" in reads[1] and sum("string_agg" in s for s in reads[2:]) == 2, reads  # (1,), (2, 3)


@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize("fully", [20, 1000])
@pytest.mark.parametrize("paged", [50, 5000])
@pytest.mark.parametrize("rum_from", [math.inf, 0.0])
def test_page_in_pass_says_whether_the_pass_ranks_the_page(backend, monkeypatch, statements, sort, fully, paged,
                                                           rum_from):
    """_page_in_pass (which decides, after the sample's first part, whether the pass is worth its kept rows) says
    what the pass's CASE does: the page in the pass's one statement, or read on its own after it."""
    monkeypatch.setattr(pb, "FULLY_RANKED", fully)
    monkeypatch.setattr(pb, "PAGE_IN_PASS", paged)
    monkeypatch.setattr(pb.PostgresBackend, "_elsewhere", lambda self, matches, limit: {
        "rum_from": rum_from, "tier_low": math.inf, "tier_high": math.inf})
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=VETTED, sort=sort)
    reads = _reads(statements)
    assert "MATERIALIZED" in reads[0]
    with backend.reading():
        matches = backend._select(parse("treaty"), {}, VETTED)
        predicted = backend._page_in_pass(matches, sort, 10, hits.total)
    assert predicted == (len(reads) == 1), reads


def test_when_the_count_with_the_parts_overflows_the_parts_are_read_as_before(backend, monkeypatch, statements):
    """The count read with the sample's parts stops at EXACT_TOTAL + 1: above (the first part put the matches lower
    than they are), the parts' rows were not all read, so the parts are read on their own, and the total is the
    sample's estimate."""
    monkeypatch.setattr(pb, "EXACT_FACETS", 100)
    monkeypatch.setattr(pb, "EXACT_TOTAL", 250)  # 280 matches: the count overflows
    monkeypatch.setattr(pb, "SAMPLE_PARTS", ((9,), (1,), (2, 3)))  # bucket 9 holds half the rows of the others
    monkeypatch.setattr(pb, "MIN_SAMPLE", 40)
    assert _estimated_total(ANONYMOUS, "treaty", (9,)) <= 250 < _exact(ANONYMOUS, "treaty")[0]
    hits = backend.search("treaty", facets=FACETS, viewer=ANONYMOUS)
    buckets = (9, 1, 2, 3)  # (9 and 1: fewer than 40 rows)
    estimate = _estimated_total(ANONYMOUS, "treaty", buckets)
    assert hits.total_exact is False and hits.facets_exact is False
    assert hits.total == max(251, estimate)
    sample = [d for d in DOCUMENTS if _visible(d, ANONYMOUS) and pb.sample_bucket(d.id) in buckets]
    tokens = Counter(token for d in sample for token in d.facets)
    assert hits.facets["region"] == {token.partition(":")[2]: min(hits.total, max(1, round(n * hits.total / len(sample))))
                                     for token, n in tokens.items() if token.startswith("region:")}
    assert sum("string_agg" in s for s in _reads(statements)) == 4  # the first part, the count with the others, each


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
def test_a_first_part_that_foresees_the_count_is_followed_by_the_count(backend, monkeypatch, statements, viewer):
    """A total without facets: when the sample's first part puts it at most ESTIMATE_ABOVE times EXACT_TOTAL, the
    matches are counted next (two statements); the sample's other parts are read only when that count overflows."""
    monkeypatch.setattr(pb, "EXACT_TOTAL", 300)
    monkeypatch.setattr(pb, "MIN_TOTAL_SAMPLE", 40)  # more than the first part's rows
    total, _counts = _exact(viewer, "treaty")
    hits = backend.search("treaty", viewer=viewer)
    if total <= 300:  # anonymous: 280 (the first part: 22 rows, 352 estimated)
        assert hits.total == total and hits.total_exact is True
        assert sum("count(" in s.lower() for s in statements) == 2, statements
    else:  # vetted: 360 (448 estimated, above 375): the sample's parts until 40 rows, no count
        assert hits.total == _estimated_total(VETTED, "treaty", (0, 1)) and hits.total_exact is False
        assert sum("count(" in s.lower() for s in statements) == 2 and not any(" AS one " in s for s in statements)


def test_the_pass_joins_the_tokens_only_when_they_are_all_counted(backend, monkeypatch, statements):
    """The facets' pass (_facets_and_page) joins its rows' facet tokens only when they are at most EXACT_FACETS (all
    counted exactly): above, the counts come from the sample, and the tokens of every kept row (1-2 MB for 5,000-
    10,000 matches) were joined and sent for nothing."""
    monkeypatch.setattr(pb, "EXACT_FACETS", 20)
    monkeypatch.setattr(pb, "MIN_SAMPLE", 5)
    hits = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=VETTED)
    total, _counts = _exact(VETTED, "treaty")
    assert hits.total == total and hits.total_exact and hits.facets_exact is False
    (passed,) = [s for s in statements if "MATERIALIZED" in s]
    flat = " ".join(passed.split())
    # every row's tokens joined once, in a CASE on the count; beside it, only the sample's parts' rows (FILTER)
    assert flat.count("string_agg(") == 1 + len(pb.SAMPLE_PARTS)
    assert flat.count("THEN (SELECT string_agg(") == 1
    assert flat.count(") FILTER (WHERE") == 2 * len(pb.SAMPLE_PARTS)  # (each part's count and tokens)
    statements.clear()
    monkeypatch.setattr(pb, "EXACT_FACETS", 5000)
    exact = backend.search("treaty", facets=FACETS, page=(1, 10), viewer=VETTED)
    assert exact.facets_exact and exact.facets == _counts and exact.page_ids == hits.page_ids
