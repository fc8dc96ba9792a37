"""PostgreSQL corrections ("Showing results for ...") and their round trips (issue 14): a word the page searched alone
needs no lookup of its own, the typed words a correction asks about are looked up in one statement, and a word's
count says whether search_words holds it in the same statement; every answer is the one the lookups gave, in the
reader's scope. PostgreSQL only: run on the migrated test database, inside a transaction rolled back at the end."""
# ruff: noqa: F811 -- the engine and statements fixtures come from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from network.search import postgres_backend as pb
from network.search.backend import ANONYMOUS, Viewer
from network.search.documents import SearchDocument, Version
from network.search.query import parse
from tests.search_postgres_support import engine, indexed, statements  # noqa: F401 (fixtures)

VETTED = Viewer(vetted=True)
LONG = "pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 letters: indexed, but not in search_words (40 at most)


def _document(n: int, title: str, visibility: str = "public", region: str = "europe") -> SearchDocument:
    return SearchDocument(id=n, status="published", visibility=visibility, when=date(2020, 1, n), year=2020,
                          facets=[f"region:{region}", "outcome:granted"],
                          versions=[Version("en", title=title, summary="A treaty was invoked.")])


DOCUMENTS = [
    _document(1, "Extradition of a fugitive"),
    _document(2, "Extradition after a joint investigation", region="asia"),
    _document(3, "Confiscation of criminal assets"),
    _document(4, "Seizure of a yacht", visibility="members"),  # "yacht": only where a visitor may not look
    _document(5, f"Zanzibar ferry inquiry {LONG}"),
    _document(6, "Zanzibar port records"),
]


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, DOCUMENTS) as backend:
        yield backend


def _lookups(statements: list[str]) -> list[str]:
    """The statements that only look words up in search_words (not those listing candidates for a correction, nor a
    count that looks its word up too)."""
    return [s for s in statements if s.startswith(("SELECT search_words.word", "SELECT word FROM search_words"))
            and "length(" not in s]


def _uncached_correction(backend, text: str, viewer: Viewer, filters=None):
    """The correction as it was answered before any search of the block (outside reading(): every lookup made)."""
    return backend.correction(parse(text), filters or {}, viewer)


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
def test_a_word_the_page_searched_alone_is_corrected_without_a_lookup(backend, statements, viewer):
    with backend.reading():
        hits = backend.search(parse("extradition"), facets=("outcome",), page=(1, 10), viewer=viewer,
                              suggest=False)  # as the catalogue's page asks
        assert hits.total == 2
        statements.clear()
        assert backend.correction(parse("extradition"), {}, viewer) is None
    assert _lookups(statements) == []  # the word was looked up on its own
    assert _uncached_correction(backend, "extradition", viewer) is None


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
@pytest.mark.parametrize("text", ["extradtion", "yacht", "yatch", "zanzibr", "extraditions", LONG])
@pytest.mark.parametrize("filters", [{}, {"region": ["asia"]}, {"region": ["africa"]}], ids=["all", "asia", "africa"])
def test_a_search_first_never_changes_a_correction(backend, viewer, text, filters):
    """The correction after the page (what the catalogue does for one word) is the correction made alone: a typo is
    corrected, a word held only by members-only cases is never corrected for a visitor (nor revealed), and a page
    that finds nothing under filters says nothing of the word ("extraditions", stemmed, is not in search_words but
    finds cases)."""
    expected = _uncached_correction(backend, text, viewer)
    with backend.reading():
        backend.search(parse(text), filters, facets=("outcome",), page=(1, 10), viewer=viewer, suggest=False)
        fixed = backend.correction(parse(text), {}, viewer)
    assert (fixed.text if fixed else None) == (expected.text if expected else None)
    if text == "extradtion":
        assert fixed is not None and fixed.text == "extradition"
    if text in ("yacht", "extraditions", LONG):
        assert fixed is None


def test_the_typed_words_are_looked_up_in_one_statement(backend, statements):
    with backend.reading():
        statements.clear()
        fixed = backend.correction(parse("confiscaton zanzibar fugitive"), {}, ANONYMOUS)
    assert fixed is not None and fixed.text == "confiscation zanzibar fugitive"
    looked_up = _lookups(statements)
    assert len(looked_up) == 1, statements  # one for the three words (it was one each)
    assert _uncached_correction(backend, "confiscaton zanzibar fugitive", ANONYMOUS).text == fixed.text


@pytest.mark.parametrize("viewer", [ANONYMOUS, VETTED], ids=["anonymous", "vetted"])
def test_a_count_looks_the_word_up_in_its_own_statement(backend, statements, monkeypatch, viewer):
    """_count: 0 for a word search_words does not hold (even where the "simple" lexeme is indexed: a word longer than
    40 letters), else the rows holding it in the reader's scope up to the limit; one statement, and none for the
    lookup that follows."""
    monkeypatch.setattr(pb.PostgresBackend, "lexeme_shares", lambda self, column="rank_document": None)
    expected = {"zanzibar": 2, "yacht": 1 if viewer.vetted else 0, "fugitive": 1, LONG: 0, "nowhere": 0}
    with backend.reading():
        for word, count in expected.items():
            statements.clear()
            assert backend._count(word, viewer, 3) == count, word
            assert len(statements) == 1, statements
            assert backend._has_word(word) is (word not in (LONG, "nowhere"))
            assert len(statements) == 1  # known from the count
            assert backend._count(word, viewer, 3) == count
    for word, count in expected.items():  # outside reading() too
        assert backend._count(word, viewer, 3) == count


def test_a_small_table_never_analysed_is_read_without_the_planner_setting(backend, monkeypatch):
    """reltuples is -1 until a table is first analysed (autovacuum waits for 50 changed rows): its rows are counted
    then, up to SMALL_TABLE, so that a small catalogue is searched without the setting (it was made and restored on
    every search). An analysed table's reltuples still decide."""
    monkeypatch.setattr(pb, "_ROWS", {})
    session = backend.session
    savepoint = session.begin_nested()
    try:
        session.execute(sa.text("UPDATE pg_class SET reltuples = -1 WHERE oid = 'case_search'::regclass"))
        backend._seqscan_off()
        assert backend._small()
        session.execute(sa.text("UPDATE pg_class SET reltuples = :n WHERE oid = 'case_search'::regclass"),
                        {"n": pb.SMALL_TABLE})
        backend._seqscan_off()
        assert not backend._small()
    finally:
        savepoint.rollback()


def test_the_candidates_are_read_with_the_planner_free_to_scan(backend, statements, monkeypatch):
    """Inside reading(), once a statement has turned enable_seqscan off for the search, the correction's candidates
    (a scan of search_words is their best plan) are read with it on again, then off for the rest of the search; the
    search restores the setting at its end. The correction is the same."""
    monkeypatch.setattr(pb.PostgresBackend, "_small", lambda self: False)  # (a large table: the setting is made)
    session = backend.session
    with backend.reading():
        backend.search(parse("extradtion"), {}, facets=("outcome",), page=(1, 10), viewer=ANONYMOUS, suggest=False)
        assert session.scalar(sa.text("SHOW enable_seqscan")) == "off"
        statements.clear()
        fixed = backend.correction(parse("extradtion"), {}, ANONYMOUS)
        assert session.scalar(sa.text("SHOW enable_seqscan")) == "off"
    assert fixed is not None and fixed.text == "extradition"
    candidates = next(i for i, s in enumerate(statements) if s.startswith("SELECT search_words.word") and "length(" in s)
    assert "set_config('enable_seqscan', %(value)s" in statements[candidates - 1]
    assert "set_config('enable_seqscan', %(value)s" in statements[candidates + 1]
    assert session.scalar(sa.text("SHOW enable_seqscan")) == "on"


@pytest.mark.parametrize("word", ["extradtion", "zanzibr", "konfiscation", "ab"])
def test_the_candidates_are_read_from_the_words_indexes_by_letter(backend, word):
    """"Did you mean"'s candidates: the words of about the typed word's length (two letters more or fewer) sharing its
    first letter, or its second; read from migration b7d4e1f9a2c3's two indexes (letter, length), not a scan of
    every word (11 ms at 100,000 cases, 1 ms read so)."""
    session = backend.session
    words = session.scalars(sa.text("SELECT word FROM search_words")).all()
    n = len(word)
    expected = {w for w in words if n - 2 <= len(w) <= n + 2 and (w[:1] == word[:1] or w[1:2] == word[1:2])}
    assert set(backend._candidates(word)) == expected
    if word == "extradtion":
        assert "extradition" in expected
    captured: list[tuple[str, dict]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if "search_words" in statement and "length(" in statement:
            captured.append((statement, parameters))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        list(backend._candidates(word))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    (statement, parameters), = captured
    cursor = session.connection().connection.cursor()
    cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small is scanned: whether the indexes serve
    cursor.execute("EXPLAIN " + statement, parameters)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_search_words_first_letter" in plan and "ix_search_words_second_letter" in plan, plan
