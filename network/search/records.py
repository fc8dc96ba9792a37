"""The record index: one engine, on Whoosh and on PostgreSQL, for the kinds that need no engine of their own (forum
posts, authorities), with the same analysis and query language as cases.

A record is a document with a title, names (not stemmed: people, places, codes), a summary and a body, a time, and
the reader-scope tokens its kind gives it ("space:3", "hidden", "author:7"...). A kind states who may see what as a
Rule over those tokens (AnyToken, AllOf, AnyOf, Without), built from its own visibility filter for each reader; the
engine applies the rule inside its query, so a total or a snippet never comes from a record the reader may not
see. Text is analysed as cases are: accents folded, each Snowball stemmer (a record has no declared language, so all
of them) and unstemmed."""
from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup
from sqlalchemy import String, and_, bindparam, cast, delete, false, func, not_, or_, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import NUMERIC, Schema
from whoosh.writing import CLEAR

import network.search.query as ql
import network.search.whoosh_backend as wb
from network.core.clock import utcnow
from network.search.backend import SUGGEST_BELOW, IndexWriter, Matches, SearchBackend, SearchHits
from network.search.documents import STEMMED_LANGUAGES, segmented, tokens
from network.search.highlight import Matcher, highlight
from network.search.models import SearchRecord
from network.search.postgres_backend import (
    OWN_INPUT_CONFIGS,
    QUERY_CONFIGS,
    PostgresBackend,
    PostgresIndex,
    config_input,
    synonym_lexeme,
    words_only,
)

parse = ql.parse  # the search box's query language, for the kinds (they reach the engines only through here)
MAX_CHARS = 100_000
SNIPPET_LENGTH = 240


# ---------------------------------------------------------------- reader scope as rules over tokens

class Rule:
    """Which records a reader may see, as a formula over their scope tokens (compiled by each engine)."""


@dataclass(frozen=True)
class AnyToken(Rule):
    """Records holding at least one of these tokens (none given: no record)."""

    tokens: frozenset[str]


@dataclass(frozen=True)
class AllOf(Rule):
    """Records every rule admits (no rule: every record)."""

    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class AnyOf(Rule):
    """Records some rule admits (no rule: none)."""

    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Without(Rule):
    """Records the rule does not admit."""

    rule: Rule


EVERYONE = AllOf()
NOBODY = AnyOf()


def tokens_of(prefix: str, ids: Iterable[int]) -> AnyToken:
    return AnyToken(frozenset(f"{prefix}:{int(i)}" for i in ids))


def has(token: str) -> AnyToken:
    return AnyToken(frozenset({token}))


def admits_nobody(rule: Rule) -> bool:
    """Whether the rule plainly admits no record (so an engine need not look)."""
    if isinstance(rule, AnyToken):
        return not rule.tokens
    if isinstance(rule, AnyOf):
        return all(admits_nobody(r) for r in rule.rules)
    if isinstance(rule, AllOf):
        return any(admits_nobody(r) for r in rule.rules)
    return False


# ---------------------------------------------------------------- documents and snippets

@dataclass
class RecordDocument:
    """One record as the engines see it (plain values: no session, no Flask)."""

    id: int
    scope: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    title: str = ""
    names: str = ""  # names of people, bodies, places, codes: folded, not stemmed
    summary: str = ""
    body: str = ""

    def texts(self) -> list[str]:
        return [t[:MAX_CHARS] for t in (self.title, self.names, self.summary, self.body) if t]

    def synonyms(self) -> list[str]:
        words = [w for t in self.texts() for w in tokens(t)]
        found: set[str] = set()
        for lang in STEMMED_LANGUAGES:
            found |= ql.synonyms_in(words, lang)
        return sorted(found)


def snippet(body: str, root: ql.Node | None, length: int = SNIPPET_LENGTH) -> Markup:
    """The best passage of a record's text, escaped first and then the query's words wrapped in <mark>. A record
    has no declared language: the passage is the one with the most matches under any stemmer (or none)."""
    matcher = Matcher(root)
    best = highlight(body, "simple", Matcher(None), length)
    if matcher:
        for lang in ("simple", *STEMMED_LANGUAGES):
            passage = highlight(body, lang, matcher, length)
            if passage[0] > best[0]:
                best = passage
    return best[1]


def _timestamp(when: datetime | None) -> int:
    if when is None:
        return 0
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def filter_rules(filters: Mapping[str, Iterable]) -> list[Rule]:
    """Filters by scope token: {"author": [7]} keeps records holding "author:7" (values OR-ed, filters AND-ed)."""
    return [AnyToken(frozenset(f"{name}:{v}" for v in values)) for name, values in sorted(filters.items())
            if values]


# ---------------------------------------------------------------- Whoosh

WHOOSH_VERSION = f"records-1/{wb.SCHEMA_VERSION}"
SEPARATOR = "|"  # between the languages of a "stem" field: a token no query word can be, so no phrase spans two
GROUPS = (("title", "title"), ("names", "keywords"), ("summary", "summary"), ("body", "body"))


def record_schema() -> Schema:
    """The case schema's text fields (so the case compiler's queries apply as they are), "cid" holding the record
    id, "facets" the scope tokens and "filed" the record's time (seconds)."""
    fields = {name: kind for name, kind in wb.make_schema().items() if name != "filed"}
    fields["filed"] = NUMERIC(int, bits=64, sortable=True, signed=False)
    return Schema(**fields)


def _stemmed(value: str) -> str:
    value = segmented(value)
    return f" {SEPARATOR} ".join(" ".join(t.text for t in wb.ANALYZERS[lang](value)) for lang in STEMMED_LANGUAGES)


def whoosh_fields(doc: RecordDocument) -> dict:
    fields = {"cid": doc.id, "filed": _timestamp(doc.created_at), "facets": " ".join(doc.scope),
              "syn": " ".join(doc.synonyms())}
    for attribute, group in GROUPS:
        value = getattr(doc, attribute)[:MAX_CHARS]
        if value:
            fields[wb.text_field(group, "raw")] = segmented(value)
            if attribute != "names":
                fields[wb.text_field(group, "stem")] = _stemmed(value)
    return fields


def whoosh_rule(rule: Rule) -> wq.Query:
    if isinstance(rule, AnyToken):
        terms = [wq.Term("facets", t) for t in sorted(rule.tokens)]
        return wq.Or(terms) if terms else wq.NullQuery
    if isinstance(rule, AllOf):
        return wq.And([whoosh_rule(r) for r in rule.rules]) if rule.rules else wq.Every()
    if isinstance(rule, AnyOf):
        return wq.Or([whoosh_rule(r) for r in rule.rules]) if rule.rules else wq.NullQuery
    if isinstance(rule, Without):
        # And/Not rather than AndNot: Whoosh's AndNot misses documents of later segments.
        return wq.And([wq.Every(), wq.Not(whoosh_rule(rule.rule))])
    raise TypeError(f"not a scope rule: {rule!r}")


class _WhooshWriter(IndexWriter):
    def __init__(self, writer) -> None:
        self._writer = writer

    def index(self, docs: Iterable[RecordDocument]) -> int:
        n = 0
        for doc in docs:
            self._writer.update_document(**whoosh_fields(doc))
            n += 1
        return n

    def delete(self, ids: Iterable[int]) -> None:
        for record_id in ids:
            self._writer.delete_by_term("cid", int(record_id))


class WhooshRecordIndex(wb.WhooshBackend):
    """The case Whoosh backend's query compiler, reading and ranking over a folder of records of one kind."""

    def _open(self):
        if self._index is not None:
            return self._index
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)  # the schema is a pickle: nobody else may write (or read) it
        marker = self.path / "schema-version"
        current = marker.exists() and marker.read_text().strip() == WHOOSH_VERSION
        if current and whoosh_index.exists_in(str(self.path)):
            self._index = whoosh_index.open_dir(str(self.path))
        else:  # new, or made by an older schema: start empty (the count check then rebuilds it)
            self._index = whoosh_index.create_in(str(self.path), record_schema())
            marker.write_text(WHOOSH_VERSION)
        return self._index

    @contextmanager
    def writer(self) -> Iterator[_WhooshWriter]:
        writer = self._open().writer(timeout=self.writer_timeout)
        try:
            yield _WhooshWriter(writer)
        except BaseException:
            writer.cancel()
            raise
        wb.commit_or_release(writer)

    def rebuild(self, docs: Iterable[RecordDocument], progress: Callable[[int], None] | None = None) -> int:
        writer = self._open().writer(timeout=self.writer_timeout, limitmb=wb.WRITER_LIMIT_MB)
        n = 0
        try:
            for doc in docs:
                writer.add_document(**whoosh_fields(doc))
                n += 1
                if progress:
                    progress(1)
        except BaseException:
            writer.cancel()
            raise
        wb.commit_or_release(writer, mergetype=CLEAR)
        return n

    @staticmethod
    def scope(viewer: Rule) -> wq.Query:
        return whoosh_rule(viewer)

    @staticmethod
    def filter_query(filters: Mapping[str, Iterable]) -> list[wq.Query]:
        return [whoosh_rule(rule) for rule in filter_rules(filters)]

    def _reader_cache(self, searcher) -> dict:
        """The record id of each document number, per index generation (no facet bit sets: nothing is counted)."""
        reader = searcher.reader()
        key = (reader.generation(), reader.doc_count_all(), reader.doc_count())
        cache = getattr(self, "_cache", None)
        if cache is None or cache["key"] != key:
            cids = list(reader.column_reader("cid")) if reader.doc_count_all() else []
            self._cache = cache = {"key": key, "cids": cids, "facets": {}}
        return cache

    def _select(self, query: ql.Query, filters, viewer: Rule, count: bool = True) -> Matches:  # noqa: ARG002
        if admits_nobody(viewer):
            return Matches(total=0, handle=set(), query=query, filters=filters, viewer=viewer)
        return super()._select(query, filters, viewer)


# ---------------------------------------------------------------- PostgreSQL

BATCH = 500
# Each configuration is given the words as its stemmer needs them (postgres_backend.config_input): a parameter per
# configuration whose input differs from the folded words ("title_spanish"), the folded words for the others.
def _param(field: str, config: str) -> str:
    return f"{field}_{config}" if config in OWN_INPUT_CONFIGS else field


_TITLE_SQL = " || ".join(f"setweight(to_tsvector('{c}'::regconfig, :{_param('title', c)}), 'A')" for c in QUERY_CONFIGS)
_SUMMARY_SQL = " || ".join(f"setweight(to_tsvector('{c}'::regconfig, :{_param('summary', c)}), 'B')"
                           for c in QUERY_CONFIGS)
_BODY_SQL = " || ".join(f"setweight(to_tsvector('{c}'::regconfig, :{_param('body', c)}), 'C')" for c in QUERY_CONFIGS)
UPSERT = text(f"""
INSERT INTO search_records (kind, object_id, scope, created_at, document, indexed_at)
VALUES (:kind, :object_id, CAST(:scope AS varchar(80)[]), :created_at,
        {_TITLE_SQL} || setweight(to_tsvector('simple'::regconfig, :names), 'B') || {_SUMMARY_SQL} || {_BODY_SQL}
        || setweight(array_to_tsvector(CAST(:synonyms AS text[])), 'B'),
        :indexed_at)
ON CONFLICT (kind, object_id) DO UPDATE SET scope = excluded.scope, created_at = excluded.created_at,
    document = excluded.document, indexed_at = excluded.indexed_at
""")  # noqa: S608 (only this module's constants are formatted in: the configurations)


def lock_key(kind: str) -> int:
    """The kind's pg_advisory_xact_lock key: one indexer writes a kind at a time, kinds in parallel."""
    return 0x5EA400000 + zlib.crc32(kind.encode())


def _row(kind: str, doc: RecordDocument, now: datetime) -> dict:
    row = {"kind": kind, "object_id": doc.id, "scope": list(doc.scope), "created_at": doc.created_at or now,
           "title": words_only(doc.title[:MAX_CHARS]), "names": words_only(doc.names[:MAX_CHARS]),
           "summary": words_only(doc.summary[:MAX_CHARS]), "body": words_only(doc.body[:MAX_CHARS]),
           "synonyms": [synonym_lexeme(g) for g in doc.synonyms()], "indexed_at": now}
    for name in ("title", "summary", "body"):
        for config in OWN_INPUT_CONFIGS:
            row[_param(name, config)] = config_input(row[name], config)
    return row


def _tokens_param(values: Iterable[str]):
    return cast(bindparam(None, sorted(values), type_=ARRAY(String)), ARRAY(String))


def postgres_rule(rule: Rule):
    """The SQL condition of a rule over search_records.scope (bound parameters only)."""
    if isinstance(rule, AnyToken):
        return SearchRecord.scope.op("&&")(_tokens_param(rule.tokens)) if rule.tokens else false()
    if isinstance(rule, AllOf):
        return and_(*[postgres_rule(r) for r in rule.rules]) if rule.rules else true()
    if isinstance(rule, AnyOf):
        return or_(*[postgres_rule(r) for r in rule.rules]) if rule.rules else false()
    if isinstance(rule, Without):
        return not_(postgres_rule(rule.rule))
    raise TypeError(f"not a scope rule: {rule!r}")


class _PostgresWriter(IndexWriter):
    def __init__(self, session, kind: str) -> None:
        self.session, self.kind = session, kind

    def index(self, docs: Iterable[RecordDocument]) -> int:
        now = utcnow()
        rows = [_row(self.kind, doc, now) for doc in docs]
        for start in range(0, len(rows), BATCH):
            self.session.execute(UPSERT, rows[start:start + BATCH])
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.session.execute(delete(SearchRecord).where(SearchRecord.kind == self.kind,
                                                            SearchRecord.object_id.in_(ids)))


PAGE_STATEMENTS = 500  # pages' statements kept per process (PostgresRecordIndex._page_statement)
_page_statements: dict[tuple, object] = {}


class PostgresRecordIndex(PostgresIndex):
    """Records of one kind in search_records (a weighted tsvector with a GIN index, scope tokens in a text array
    with another), queried with the case backend's tsquery compiler (bound parameters only), ranked by ts_rank."""

    table = SearchRecord

    def __init__(self, kind: str, session_factory: Callable[[], object]) -> None:
        super().__init__(session_factory)
        self.kind = kind
        self.lock_key = lock_key(kind)
        self._compiler = PostgresBackend(session_factory)

    def with_session(self, session):
        return type(self)(self.kind, lambda: session)

    @property
    def writer_class(self):  # the shared writer() builds writer_class(session)
        return lambda session: _PostgresWriter(session, self.kind)

    def rebuild(self, docs: Iterable[RecordDocument], progress: Callable[[int], None] | None = None) -> int:
        n = 0
        with self.writer() as writer:
            self.session.execute(delete(SearchRecord).where(SearchRecord.kind == self.kind))
            batch: list = []
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
        return self.session.scalar(select(func.count()).select_from(SearchRecord)
                                   .where(SearchRecord.kind == self.kind)) or 0

    def _select(self, query: ql.Query, filters, viewer: Rule, count: bool = True) -> Matches:  # noqa: ARG002
        where = [SearchRecord.kind == self.kind, postgres_rule(viewer),
                 *[postgres_rule(rule) for rule in filter_rules(filters)]]
        tsquery = None
        if admits_nobody(viewer):
            return Matches(total=0, handle=([false()], None), query=query, filters=filters, viewer=viewer)
        if query:
            self._compiler.prepare(query)
            tsquery = self._compiler.compile(query.root)
            where.append(SearchRecord.document.op("@@")(tsquery))
        total = (self.session.scalar(select(func.count()).select_from(SearchRecord).where(*where)) or 0) if count else 0
        return Matches(total=total, handle=(where, tsquery), query=query, filters=filters, viewer=viewer)

    def search(self, query, filters=None, facets=(), page=None, viewer=NOBODY, sort="relevance", suggest=True,
               correct=False) -> SearchHits:
        """A page without facets or correction (the forum's search): its ids and the total in one statement, the
        total as a count over every match (a window, computed before the limit); otherwise as every engine."""
        if page is None or tuple(facets) or correct:
            return super().search(query, filters, facets, page, viewer, sort, suggest, correct)
        parsed = query if isinstance(query, ql.Query) else parse(query)
        filters = filters or {}
        number, size = max(1, page[0]), max(1, page[1])
        rows = [] if admits_nobody(viewer) else list(self.session.execute(
            self._page_statement(parsed, filters, viewer, sort, number * size)))
        total = rows[0][1] if rows else 0
        if not rows and number > 1 and not admits_nobody(viewer):  # past the last page: counted on its own
            total = self._select(parsed, filters, viewer).total
        hits = SearchHits(ids=lambda: self._ids(self._select(parsed, filters, viewer, count=False)), total=total,
                          query=parsed)
        hits.page_ids = [row[0] for row in rows[(number - 1) * size:]]
        if suggest and parsed and total < SUGGEST_BELOW:
            hits.suggestion = self.suggestion(parsed, filters, viewer, found=total)
        return hits

    def _page_statement(self, query: ql.Query, filters: Mapping[str, Iterable], viewer: Rule, sort: str, limit: int):
        """The first `limit` ids best first, each with the total, kept per process under everything it is made of
        (the kind, the query, the reader's rule, the filters, the order, the limit): building it again (the rule's
        conditions, the rank) and working out its cache key cost about a millisecond. It holds no result, only the
        conditions of that rule, so a reader with another rule never gets it."""
        key = (self.kind, query, viewer, tuple(sorted((k, tuple(v)) for k, v in filters.items())), sort, limit)
        statement = _page_statements.get(key)
        if statement is None:
            matches = self._select(query, filters, viewer, count=False)
            statement = self._statement(matches, sort).add_columns(func.count().over()).limit(limit)
            if len(_page_statements) >= PAGE_STATEMENTS:
                _page_statements.clear()  # all at once: no iteration that another thread's insertion could break
            _page_statements[key] = statement
        return statement

    def _ids(self, matches: Matches) -> list[int]:
        where, _tsquery = matches.handle
        return list(self.session.scalars(select(SearchRecord.object_id).where(*where)))

    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        statement = self._statement(matches, sort)
        if limit is not None:
            statement = statement.limit(limit)
        return list(self.session.scalars(statement))

    def _statement(self, matches: Matches, sort: str):
        """The ids of `matches`, best first (or newest first)."""
        where, tsquery = matches.handle
        by_date = [SearchRecord.created_at.desc(), SearchRecord.object_id.desc()]
        ranking = None
        if tsquery is not None and sort != "date" and not ql.only_negative(matches.query.root):
            ranking = self._compiler.rank_expression(matches.query, SearchRecord.document, weighted=False)
        order = by_date if ranking is None else [ranking.desc(), *by_date]
        return select(SearchRecord.object_id).where(*where).order_by(*order)

    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:  # noqa: ARG002
        return {kind: {} for kind in kinds}

    def _has_word(self, word: str) -> bool:  # noqa: ARG002 (no "did you mean" over records)
        return True

    def _candidates(self, word: str) -> Iterator[str]:  # noqa: ARG002
        return iter(())

    def _count(self, word: str, viewer, limit: int) -> int:  # noqa: ARG002 (every word is taken as common)
        return limit


def make_record_index(kind: str, engine: str, path: str | os.PathLike | None, session_factory,
                      writer_timeout: float) -> SearchBackend:
    """A kind's record index: its rows of search_records on PostgreSQL, or its own Whoosh folder."""
    if engine == "postgres":
        return PostgresRecordIndex(kind, session_factory)
    return WhooshRecordIndex(Path(path), writer_timeout=writer_timeout)


def record_index_for(kind: str):
    """A kind's make_index: the record index of that kind for an app, chosen as the case engine is."""
    def make(app) -> SearchBackend:
        from network.core.db import db
        from network.search.services import engine_choice, whoosh_path

        return make_record_index(kind, engine_choice(app), whoosh_path(app, kind), lambda: db.session,
                                 float(app.config["SEARCH_WRITER_TIMEOUT"]))

    return make

