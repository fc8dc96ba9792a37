"""PostgreSQL: the vectors an indexed case gets (`document`, `rank_document`) are those of analysing every slot on its
own and joining them in order, as the insert did before it analysed each stemming configuration's title, keywords and
summary once for both vectors (postgres_backend._RANKED_SLOTS). The reference is that former statement, rebuilt here
from the module's slots. PostgreSQL only: run on the migrated test database, inside a transaction rolled back at the
end."""
# ruff: noqa: F811 -- the engine fixture comes from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from network.search import postgres_backend as pb
from network.search.documents import SearchDocument, Version
from tests.search_postgres_support import engine, indexed  # noqa: F401 (fixtures)

LONG_BODY = " ".join(f"witness{i % 50} heard" for i in range(9000))  # positions beyond 16,383: clamped
DOCUMENTS = (
    SearchDocument(id=1, when=date(2019, 3, 1), year=2019, facets=["region:europe", "outcome:granted"],
                   versions=[Version("en", title="Extradition of a fugitive", keywords="extradition; fugitive",
                                     summary="The central authority sent a letter rogatory.",
                                     body="Witnesses were heard by videoconference.")]),
    SearchDocument(id=2, status="draft", visibility="members", submitter_id=7, reviewer_id=None,
                   versions=[Version("fr", title="Entraide judiciaire et blanchiment d'argent",
                                     summary="Une commission rogatoire a été exécutée."),
                             Version("es", title="Asistencia judicial recíproca", body="Decomiso de bienes."),
                             Version("zh", title="司法协助 洗钱", summary="中央机关 提出 请求"),
                             Version("ar", title="المساعدة القانونية المتبادلة", keywords="غسل الأموال")]),
    SearchDocument(id=3, facets=["crime_type:cybercrime"],
                   versions=[Version("ru", title="Экстрадиция за отмывание денег", body=LONG_BODY),
                             Version("en", title="", keywords="", summary="", body="")]),
    SearchDocument(id=4, versions=[]),
    SearchDocument(id=5, facets=["region:asia"],
                   versions=[Version("en", title="Yacht yacht confiscation", summary="A yacht was confiscated."),
                             Version("simple", title="Yacht", body="Harbour master")]),
)


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, DOCUMENTS) as backend:
        yield backend


def _former(row: dict) -> tuple[str, str]:
    """`document` and `rank_document` as the former insert made them: every slot analysed on its own, joined in order."""
    def slot(config: str, group: str, param: str) -> str:
        return f"setweight(to_tsvector('{config}'::regconfig, :{param}), '{pb.LETTERS[group]}')"

    document = " || ".join(slot(config, group, f"{config}_{group}") for config, group in pb.SLOTS)
    rank = " || ".join(slot(config, group, f"{'own_' if config == 'simple' else ''}{config}_{group}")
                       for config in pb.QUERY_CONFIGS for group in pb.RANK_GROUPS)
    return (f"({document} || {pb._SYNONYMS_SQL} || {pb._SELECTORS_SQL})::text",
            f"({rank} || {pb._RANK_SYNONYMS_SQL})::text")


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: f"case-{d.id}")
def test_each_vector_is_the_one_analysing_every_slot_on_its_own_gave(backend, doc):
    session = backend.session
    row = pb._row(doc, None)
    document, rank = _former(row)
    expected = session.execute(sa.text(f"SELECT {document}, {rank}"), row).one()
    stored = session.execute(sa.text("SELECT document::text, rank_document::text FROM case_search "
                                     "WHERE case_id = :id"), {"id": doc.id}).one()
    assert tuple(stored) == tuple(expected)
    assert stored[0]  # (every case holds its selector lexemes at least)


def test_an_update_writes_the_same_vectors_and_the_row_s_other_columns(backend):
    """Indexed again (ON CONFLICT): the new text's vectors, and the reader-scope columns typed as the table's."""
    session = backend.session
    changed = SearchDocument(id=1, status="published", visibility="members", submitter_id=3, reviewer_id=4,
                             when=date(2020, 5, 6), year=2020, facets=["region:africa"],
                             versions=[Version("en", title="Confiscation of a villa")])
    with backend.writer() as writer:
        writer.index([changed])
    row = pb._row(changed, None)
    document, rank = _former(row)
    expected = session.execute(sa.text(f"SELECT {document}, {rank}"), row).one()
    stored = session.execute(sa.text(
        "SELECT document::text, rank_document::text, status, visibility, submitter_id, reviewer_id, filed_on, year, "
        "facets FROM case_search WHERE case_id = 1")).one()
    assert tuple(stored[:2]) == tuple(expected)
    assert tuple(stored[2:]) == ("published", "members", 3, 4, date(2020, 5, 6), 2020, ["region:africa"])
