"""The PostgreSQL search backend: a weighted tsvector per case in case_search (GIN-indexed), queried with tsquery
built from bound parameters only (never text pasted into SQL), ranked by ts_rank.

Each language version of a case is analysed with its own text search configuration (english, french, spanish,
russian) and with "simple" (no stemming: prefixes, names, other languages); a query word is looked up under every
configuration. Accents are folded in Python before PostgreSQL sees the text, exactly as the Whoosh backend folds
them, so both engines agree and no extension (unaccent) is needed. The index lives in the database: changes are
transactional, and any number of app servers and writers share it."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import reduce

from sqlalchemy import String, and_, bindparam, cast, delete, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG, insert

from catalogue.search import query as ql
from catalogue.search.backend import ENGINE_FILTERS, IndexWriter, SearchBackend, Viewer
from catalogue.search.documents import FIELD_GROUPS, PG_CONFIGS, STEMMED_LANGUAGES, SearchDocument, fold
from catalogue.search.models import CaseSearch, SearchWord
from network.core.clock import utcnow

# setweight's second argument is of type "char": constant SQL literals from this table, never user input.
WEIGHT_LETTERS = {"title": literal_column("'A'"), "keywords": literal_column("'B'"),
                  "summary": literal_column("'C'"), "body": literal_column("'D'")}
QUERY_CONFIGS = tuple(PG_CONFIGS[lang] for lang in (*STEMMED_LANGUAGES, "simple"))
LOCK_KEY = 0x5EA4C4  # pg_advisory_xact_lock key of the indexer: one writer at a time
BATCH = 200


def _config(name: str):
    return cast(literal(name, String), REGCONFIG)


def _vector(doc: SearchDocument):
    """setweight(to_tsvector(config, folded text), letter) || ... for every version, field group and config."""
    parts = []
    for version in doc.versions:
        configs = ["simple"] if version.language not in STEMMED_LANGUAGES else [PG_CONFIGS[version.language],
                                                                                "simple"]
        for group in FIELD_GROUPS:
            text = fold(version.text(group))
            if not text.strip():
                continue
            for config in configs:
                parts.append(func.setweight(func.to_tsvector(_config(config), literal(text, String)),
                                            WEIGHT_LETTERS[group]))
    if not parts:
        return func.to_tsvector(_config("simple"), literal("", String))
    return reduce(lambda a, b: a.op("||")(b), parts)


class _Writer(IndexWriter):
    def __init__(self, session) -> None:
        self.session = session

    def index(self, docs: Iterable[SearchDocument]) -> int:
        n = 0
        words: set[str] = set()
        for doc in docs:
            values = dict(status=doc.status, visibility=doc.visibility, submitter_id=doc.submitter_id,
                          reviewer_id=doc.reviewer_id, filed_on=doc.when, year=doc.year, facets=list(doc.facets),
                          document=_vector(doc), indexed_at=utcnow())
            statement = insert(CaseSearch).values(case_id=doc.id, **values)
            self.session.execute(statement.on_conflict_do_update(index_elements=[CaseSearch.case_id], set_=values))
            words |= {w for w in doc.words() if len(w) <= 60}
            n += 1
        if words:
            self.session.execute(insert(SearchWord).on_conflict_do_nothing(), [{"word": w} for w in sorted(words)])
        return n

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.session.execute(delete(CaseSearch).where(CaseSearch.case_id.in_(ids)))


class PostgresBackend(SearchBackend):
    name = "postgres"

    def __init__(self, session_factory: Callable[[], object]) -> None:
        """`session_factory` gives the SQLAlchemy session to use (the request's, by default)."""
        self._session_factory = session_factory

    @property
    def session(self):
        return self._session_factory()

    def with_session(self, session) -> PostgresBackend:
        return PostgresBackend(lambda: session)

    # ------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        """Within the session's transaction: the caller commits (with the outbox rows it drained)."""
        session = self.session
        session.execute(select(func.pg_advisory_xact_lock(literal(LOCK_KEY))))
        savepoint = session.begin_nested()
        try:
            yield _Writer(session)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    def rebuild(self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        n = 0
        with self.writer() as writer:
            self.session.execute(delete(CaseSearch))
            batch: list[SearchDocument] = []
            for doc in docs:
                batch.append(doc)
                if len(batch) >= BATCH:
                    n += writer.index(batch)
                    if progress:
                        progress(len(batch))
                    batch = []
            n += writer.index(batch)
            if progress and batch:
                progress(len(batch))
        return n

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(CaseSearch)) or 0

    # ------------------------------------------------------------ compiling queries

    def _term(self, node: ql.Term):
        word = fold(node.word)
        if node.prefix:  # word is \w+ only: nothing in it can be tsquery syntax; quote_literal makes sure
            return func.to_tsquery(_config("simple"), func.quote_literal(literal(word, String)).op("||")(":*"))
        return reduce(func.tsquery_or, [func.plainto_tsquery(_config(c), literal(word, String))
                                        for c in QUERY_CONFIGS])

    def _phrase(self, node: ql.Phrase):
        text = " ".join(fold(w) for w in node.words)
        return reduce(func.tsquery_or, [func.phraseto_tsquery(_config(c), literal(text, String))
                                        for c in QUERY_CONFIGS])

    def compile(self, node: ql.Node):
        if isinstance(node, ql.Term):
            return self._term(node)
        if isinstance(node, ql.Phrase):
            return self._phrase(node)
        if isinstance(node, ql.Not):
            return func.tsquery_not(self.compile(node.item))
        combine = func.tsquery_or if isinstance(node, ql.Or) else func.tsquery_and
        return reduce(combine, [self.compile(item) for item in node.items])

    @staticmethod
    def scope(viewer: Viewer):
        """Mirrors services.visible_cases: published; public unless the viewer is a vetted member."""
        condition = CaseSearch.status == "published"
        if not viewer.vetted:
            condition = and_(condition, CaseSearch.visibility == "public")
        return condition

    @staticmethod
    def filter_conditions(filters: Mapping[str, Iterable[str]]) -> list:
        conditions = []
        for kind in ENGINE_FILTERS:
            codes = [f"{kind}:{c}" for c in filters.get(kind) or ()]
            if codes:
                conditions.append(CaseSearch.facets.op("&&")(cast(bindparam(None, codes, type_=ARRAY(String)),
                                                                  ARRAY(String))))
        low = next(iter(filters.get("year_from") or ()), None)
        high = next(iter(filters.get("year_to") or ()), None)
        if low:
            conditions.append(CaseSearch.year >= int(low))
        if high:
            conditions.append(CaseSearch.year <= int(high))
        return conditions

    # ------------------------------------------------------------ reading

    def _matches(self, query: ql.Query, filters, viewer: Viewer, sort: str) -> list[int]:
        where = [self.scope(viewer), *self.filter_conditions(filters)]
        by_date = [CaseSearch.filed_on.desc().nulls_last(), CaseSearch.case_id.desc()]
        if not query:
            statement = select(CaseSearch.case_id).where(*where).order_by(*by_date)
        else:
            tsquery = self.compile(query.root)
            where.append(CaseSearch.document.op("@@")(tsquery))
            if sort == "date":
                statement = select(CaseSearch.case_id).where(*where).order_by(*by_date)
            else:
                rank = func.ts_rank(CaseSearch.document, tsquery)
                statement = select(CaseSearch.case_id).where(*where).order_by(rank.desc(), *by_date)
        return list(self.session.scalars(statement))

    def _facet_counts(self, ids: list[int], kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        if not ids:
            return counts
        token = func.unnest(CaseSearch.facets).label("token")
        tokens = select(token).where(CaseSearch.case_id.in_(
            bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True))).subquery()
        rows = self.session.execute(select(tokens.c.token, func.count()).group_by(tokens.c.token))
        for text, n in sorted(rows, key=lambda row: (-row[1], row[0])):
            kind, _sep, code = text.partition(":")
            if kind in counts:
                counts[kind][code] = n
        return counts

    def _has_word(self, word: str) -> bool:
        return self.session.scalar(select(SearchWord.word).where(SearchWord.word == word[:60])) is not None

    def _candidates(self, word: str) -> Iterator[str]:
        """Words of a similar length sharing the first letter, or the second (a typo in the first letter)."""
        n = len(word)
        statement = select(SearchWord.word).where(
            func.length(SearchWord.word).between(n - 2, n + 2),
            or_(SearchWord.word.startswith(word[0], autoescape=True),
                func.substr(SearchWord.word, 2, 1) == word[1:2]),
        ).limit(20000)
        yield from self.session.scalars(statement)
