"""PostgreSQL: a query's tsquery as one text (PostgresBackend.compile_text, bound once and cast) where each part and
each operator was a node of the statement (tsquery_or / tsquery_and / tsquery_not of the parts' tsqueries): the same
matches and the same ranks, for every shape of query (words, synonyms, phrases, prefixes, required and excluded
words, OR, questions). The reference is the former composition, rebuilt here from the parts' texts. PostgreSQL only:
run on the migrated test database, inside a transaction rolled back at the end."""
# ruff: noqa: F811 -- the engine fixture comes from tests/search_postgres_support.py
from __future__ import annotations

from datetime import date
from functools import reduce

import pytest
from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import TSQUERY

from network.search import postgres_backend as pb
from network.search import query as ql
from network.search.documents import SearchDocument, Version
from network.search.engine_models import CaseSearch
from tests.search_postgres_support import engine, indexed  # noqa: F401 (fixtures)

TEXTS = (
    ("en", "Extradition of a fugitive for money laundering", "The central authority sent a letter rogatory."),
    ("fr", "Entraide judiciaire et blanchiment d'argent", "Une commission rogatoire a été exécutée."),
    ("es", "Extradición por trata de personas", "La autoridad central pidió el decomiso."),
    ("ru", "Экстрадиция за отмывание денег", "Центральный орган направил запрос."),
    ("en", "Confiscation of a yacht bought with laundered money", "Bank records of a shell company were produced."),
    ("en", "Mutual legal assistance on cryptocurrency fraud", "Witnesses heard by videoconference."),
)


def _document(n: int) -> SearchDocument:
    language, title, summary = TEXTS[n % len(TEXTS)]
    return SearchDocument(id=n, when=date(2010 + n % 10, 1 + n % 12, 1), year=2010 + n % 10,
                          facets=["region:europe"], versions=[Version(language, title=title, summary=summary)])


@pytest.fixture(scope="module")
def backend(engine):
    with indexed(engine, (_document(n) for n in range(1, 61))) as backend:
        yield backend


def _reference(backend, node, ranking: bool = False):
    """The tsquery as compile built it before: each part's text cast on its own, combined by PostgreSQL's
    functions (left to right), NOT by tsquery_not; a prefix through to_tsquery."""
    def part(text_):
        return cast(literal(text_, String), TSQUERY)

    if isinstance(node, ql.Term):
        if node.prefix:
            word = pb.words_only(node.word)
            return func.to_tsquery(pb._config("simple"), func.quote_literal(literal(word, String)).op("||")(":*"))
        return part(backend._analysed_text("plain", pb.words_only(node.word)))
    if isinstance(node, ql.Phrase):
        if ranking:
            return reduce(func.tsquery_and, [part(backend._analysed_text("plain", pb.words_only(w)))
                                             for w in node.words])
        return part(backend._analysed_text("phrase", " ".join(pb.words_only(w) for w in node.words)))
    if isinstance(node, ql.Synonym):
        return part("'" + pb.synonym_lexeme(node.group) + "'")
    if isinstance(node, ql.Not):
        return func.tsquery_not(_reference(backend, node.item))
    if isinstance(node, ql.Or):
        items = ql.without_redundant_phrase(node, ranking)
        if len(items) == 1:
            return _reference(backend, items[0], ranking)
    else:
        items = node.items
    items = [item for item in items if not (ranking and isinstance(item, ql.Not))]
    compiled = [c for c in (_reference(backend, item, ranking) for item in items) if c is not None]
    if not compiled:
        return None
    return reduce(func.tsquery_or if isinstance(node, ql.Or) else func.tsquery_and, compiled)


FIND_NOTHING = ("yacht NOT bank",)  # (the yacht's case names a bank)


@pytest.mark.parametrize("text", [
    "extradition", "money laundering", "blanchiment", "entraide judiciaire", "mutual legal assistance",
    '"letter rogatory"', '"central authority" yacht', "launder*", "extradi* fraud", "crypto*", "+yacht money",
    "laundering -yacht", "yacht NOT bank", "fugitive OR yacht", "yacht AND bank", "экстрадиция", "decomiso",
    "Has a State refused to extradite a fugitive for money laundering?", "+\"shell company\" records -crypto*",
])
def test_the_text_matches_and_ranks_as_the_composed_parts(backend, text):
    query = ql.parse(text)
    assert query
    backend.prepare(query)
    session = backend.session
    vector = CaseSearch.rank_document
    for node, ranking in [(query.root, False), *((concept, True) for concept in query.concepts)]:
        compiled, reference = backend.compile(node, ranking), _reference(backend, node, ranking)
        assert (compiled is None) == (reference is None)
        if compiled is None:
            continue
        column = CaseSearch.document if not ranking else vector
        rows = session.execute(select(CaseSearch.case_id, column.op("@@")(compiled), column.op("@@")(reference),
                                      func.ts_rank(vector, compiled), func.ts_rank(vector, reference))
                               .order_by(CaseSearch.case_id)).all()
        assert [r[1] for r in rows] == [r[2] for r in rows], (text, node)
        assert [r[3] for r in rows] == [r[4] for r in rows], (text, node)
        assert any(r[1] for r in rows) or ranking or text in FIND_NOTHING  # (never a comparison of nothing)
