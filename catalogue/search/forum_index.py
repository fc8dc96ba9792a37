"""Forum posts in the search layer: the post document, the reader's scope, and the two engines (Whoosh and
PostgreSQL full-text search) with the same analysis and query language as cases.

A post document carries what the engine needs to apply network.forum.access.visible_posts inside its query: the
space, the topic, the author, whether the post or its topic is hidden and whether the topic was merged. The reader
passes a ForumScope (the spaces they may see and those they moderate, from the forum's visibility filter), so a
total or a snippet never comes from a post they may not read. Text is analysed as cases are: accents folded, each
Snowball stemmer (en, fr, es, ru; a post has no declared language, so all four) and unstemmed; queries are parsed by
catalogue.search.query and compiled by the case engines' own compilers."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup
from sqlalchemy import and_, delete, false, func, or_, select, text
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import NUMERIC, Schema
from whoosh.writing import CLEAR

from catalogue.search import query as ql
from catalogue.search import whoosh_backend as wb
from catalogue.search.backend import IndexWriter, Matches, SearchBackend
from catalogue.search.documents import STEMMED_LANGUAGES, segmented, tokens
from catalogue.search.forum_models import ForumPostSearch
from catalogue.search.highlight import Matcher, highlight
from catalogue.search.postgres_backend import (
    QUERY_CONFIGS,
    PostgresBackend,
    PostgresIndex,
    synonym_lexeme,
    words_only,
)
from network.core.clock import utcnow

MAX_CHARS = 100_000
SNIPPET_LENGTH = 240


@dataclass(frozen=True)
class ForumScope:
    """What a reader may find, as network.forum.access.visible_posts says: posts of the spaces they see, not of
    merged topics; of hidden topics only in spaces they moderate; hidden posts only their own or in spaces they
    moderate."""

    member_id: int | None = None
    space_ids: frozenset[int] = frozenset()
    moderated_space_ids: frozenset[int] = frozenset()


@dataclass
class ForumDocument:
    """One forum post as the engines see it (plain values: no session, no Flask)."""

    id: int
    topic_id: int
    space_id: int
    author_id: int | None = None
    hidden: bool = False
    topic_hidden: bool = False
    merged: bool = False
    created_at: datetime | None = None
    title: str = ""  # the topic's title, on the topic's first post only (a title word finds the topic once)
    body: str = ""  # the post's text, its Markdown rendered and stripped of markup
    author_name: str = ""

    def texts(self) -> list[str]:
        return [t[:MAX_CHARS] for t in (self.title, self.author_name, self.body) if t]

    def synonyms(self) -> list[str]:
        words = [w for t in self.texts() for w in tokens(t)]
        found: set[str] = set()
        for lang in STEMMED_LANGUAGES:
            found |= ql.synonyms_in(words, lang)
        return sorted(found)


def plain_text(markdown: str) -> str:
    """A post's Markdown as the reader sees it, without markup (links as their text, "@[Name]" mentions as the
    name in brackets); rendered without the forum's links, which need a request to build."""
    from network.core.markdown import render_markdown

    return render_markdown(markdown).striptags()


def post_document(post, first_post_id: int | None) -> ForumDocument:
    topic = post.topic
    return ForumDocument(
        id=post.id, topic_id=post.topic_id, space_id=topic.space_id, author_id=post.author_id,
        hidden=bool(post.hidden), topic_hidden=bool(topic.hidden), merged=topic.merged_into_id is not None,
        created_at=post.created_at, title=topic.title if post.id == first_post_id else "",
        body=plain_text(post.body_markdown or ""), author_name=post.author.name if post.author else "")


def snippet(body: str, root: ql.Node | None, length: int = SNIPPET_LENGTH) -> Markup:
    """The best passage of a post's text, escaped first and then the query's words wrapped in <mark>. A post has
    no declared language: the passage is the one with the most matches under any stemmer (or none)."""
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


# ---------------------------------------------------------------- Whoosh

WHOOSH_VERSION = f"forum-1/{wb.SCHEMA_VERSION}"
SEPARATOR = "|"  # between the languages of a "stem" field: a token no query word can be, so no phrase spans two


def forum_schema() -> Schema:
    """The case schema's text fields (so the case compiler's queries apply as they are), "cid" holding the post id,
    "facets" the scope tokens and "filed" the time the post was written (seconds)."""
    fields = {name: kind for name, kind in wb.make_schema().items() if name != "filed"}
    fields["filed"] = NUMERIC(int, bits=64, sortable=True, signed=False)
    return Schema(**fields)


def scope_tokens(doc: ForumDocument) -> list[str]:
    tokens = [f"space:{doc.space_id}", f"topic:{doc.topic_id}"]
    if doc.author_id:
        tokens.append(f"author:{doc.author_id}")
    tokens += [name for name, flag in (("hidden", doc.hidden), ("topic_hidden", doc.topic_hidden),
                                       ("merged", doc.merged)) if flag]
    return tokens


def _stemmed(text: str) -> str:
    text = segmented(text)
    return f" {SEPARATOR} ".join(" ".join(t.text for t in wb.ANALYZERS[lang](text)) for lang in STEMMED_LANGUAGES)


def whoosh_fields(doc: ForumDocument) -> dict:
    fields = {"cid": doc.id, "filed": _timestamp(doc.created_at), "facets": " ".join(scope_tokens(doc)),
              "syn": " ".join(doc.synonyms())}
    for group, value in (("title", doc.title), ("keywords", doc.author_name), ("body", doc.body)):
        value = value[:MAX_CHARS]
        if value:
            fields[wb.text_field(group, "raw")] = segmented(value)
            if group != "keywords":  # names are not stemmed
                fields[wb.text_field(group, "stem")] = _stemmed(value)
    return fields


class _WhooshWriter(IndexWriter):
    def __init__(self, writer) -> None:
        self._writer = writer

    def index(self, docs: Iterable[ForumDocument]) -> int:
        n = 0
        for doc in docs:
            self._writer.update_document(**whoosh_fields(doc))
            n += 1
        return n

    def delete(self, ids: Iterable[int]) -> None:
        for post_id in ids:
            self._writer.delete_by_term("cid", int(post_id))

    def delete_topics(self, topic_ids: Iterable[int]) -> None:
        for topic_id in topic_ids:
            self._writer.delete_by_term("facets", f"topic:{int(topic_id)}")


def _any(prefix: str, ids: Iterable[int]) -> wq.Query:
    terms = [wq.Term("facets", f"{prefix}:{int(i)}") for i in sorted(ids)]
    return wq.Or(terms) if terms else wq.NullQuery


class WhooshForumIndex(wb.WhooshBackend):
    """The case Whoosh backend's query compiler, reading and ranking over a folder of forum posts."""

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
            self._index = whoosh_index.create_in(str(self.path), forum_schema())
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
        writer.commit()

    def rebuild(self, docs: Iterable[ForumDocument], progress: Callable[[int], None] | None = None) -> int:
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
        writer.commit(mergetype=CLEAR)
        return n

    @staticmethod
    def scope(viewer: ForumScope) -> wq.Query:
        """Mirrors network.forum.access.visible_posts (see ForumScope)."""
        moderated = _any("space", viewer.moderated_space_ids)
        mine = wq.Term("facets", f"author:{viewer.member_id}") if viewer.member_id else wq.NullQuery
        # And/Not rather than AndNot: Whoosh's AndNot with an Or to leave out missed documents of later segments.
        excluded = wq.Or([wq.Term("facets", "merged"),
                          wq.And([wq.Term("facets", "topic_hidden"), wq.Not(moderated)]),
                          wq.And([wq.Term("facets", "hidden"), wq.Not(wq.Or([mine, moderated]))])])
        return wq.And([_any("space", viewer.space_ids), wq.Not(excluded)])

    @staticmethod
    def filter_query(filters: Mapping[str, Iterable[str]]) -> list[wq.Query]:
        authors = [int(a) for a in filters.get("author") or ()]
        return [_any("author", authors)] if authors else []

    def _reader_cache(self, searcher) -> dict:
        """The post id of each document number, per index generation (no facet bit sets: nothing is counted)."""
        reader = searcher.reader()
        key = (reader.generation(), reader.doc_count_all(), reader.doc_count())
        cache = getattr(self, "_cache", None)
        if cache is None or cache["key"] != key:
            cids = list(reader.column_reader("cid")) if reader.doc_count_all() else []
            self._cache = cache = {"key": key, "cids": cids, "facets": {}}
        return cache

    def _select(self, query: ql.Query, filters, viewer, count: bool = True) -> Matches:  # noqa: ARG002
        if not viewer.space_ids:
            return Matches(total=0, handle=set(), query=query, filters=filters, viewer=viewer)
        return super()._select(query, filters, viewer)


# ---------------------------------------------------------------- PostgreSQL

FORUM_LOCK_KEY = 0x5EA4F0  # pg_advisory_xact_lock key of the forum indexer
BATCH = 500
_TITLE_SQL = " || ".join(f"setweight(to_tsvector('{c}'::regconfig, :title), 'A')" for c in QUERY_CONFIGS)
_BODY_SQL = " || ".join(f"setweight(to_tsvector('{c}'::regconfig, :body), 'C')" for c in QUERY_CONFIGS)
UPSERT = text(f"""
INSERT INTO forum_post_search (post_id, topic_id, space_id, author_id, hidden, topic_hidden, merged, created_at,
                               document, indexed_at)
VALUES (:post_id, :topic_id, :space_id, :author_id, :hidden, :topic_hidden, :merged, :created_at,
        {_TITLE_SQL} || setweight(to_tsvector('simple'::regconfig, :author_name), 'B') || {_BODY_SQL}
        || setweight(array_to_tsvector(CAST(:synonyms AS text[])), 'B'),
        :indexed_at)
ON CONFLICT (post_id) DO UPDATE SET topic_id = excluded.topic_id, space_id = excluded.space_id,
    author_id = excluded.author_id, hidden = excluded.hidden, topic_hidden = excluded.topic_hidden,
    merged = excluded.merged, created_at = excluded.created_at, document = excluded.document,
    indexed_at = excluded.indexed_at
""")  # noqa: S608 (only this module's constants are formatted in: the configurations)


def _row(doc: ForumDocument, now: datetime) -> dict:
    return {"post_id": doc.id, "topic_id": doc.topic_id, "space_id": doc.space_id, "author_id": doc.author_id,
            "hidden": doc.hidden, "topic_hidden": doc.topic_hidden, "merged": doc.merged,
            "created_at": doc.created_at or now, "title": words_only(doc.title[:MAX_CHARS]),
            "author_name": words_only(doc.author_name), "body": words_only(doc.body[:MAX_CHARS]),
            "synonyms": [synonym_lexeme(g) for g in doc.synonyms()], "indexed_at": now}


class _PostgresWriter(IndexWriter):
    def __init__(self, session) -> None:
        self.session = session

    def index(self, docs: Iterable[ForumDocument]) -> int:
        now = utcnow()
        rows = [_row(doc, now) for doc in docs]
        for start in range(0, len(rows), BATCH):
            self.session.execute(UPSERT, rows[start:start + BATCH])
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.session.execute(delete(ForumPostSearch).where(ForumPostSearch.post_id.in_(ids)))

    def delete_topics(self, topic_ids: Iterable[int]) -> None:
        ids = [int(i) for i in topic_ids]
        if ids:
            self.session.execute(delete(ForumPostSearch).where(ForumPostSearch.topic_id.in_(ids)))


class PostgresForumIndex(PostgresIndex):
    """Forum posts in forum_post_search (a weighted tsvector with a GIN index), queried with the case backend's
    tsquery compiler (bound parameters only) and ranked by ts_rank."""

    table, lock_key, writer_class = ForumPostSearch, FORUM_LOCK_KEY, _PostgresWriter

    def __init__(self, session_factory: Callable[[], object]) -> None:
        super().__init__(session_factory)
        self._compiler = PostgresBackend(session_factory)

    @staticmethod
    def scope(viewer: ForumScope):
        """Mirrors network.forum.access.visible_posts (see ForumScope)."""
        if not viewer.space_ids:
            return false()
        table = ForumPostSearch
        moderated = table.space_id.in_(sorted(viewer.moderated_space_ids)) if viewer.moderated_space_ids \
            else false()
        mine = table.author_id == viewer.member_id if viewer.member_id else false()
        return and_(table.space_id.in_(sorted(viewer.space_ids)), table.merged.is_(False),
                    or_(table.topic_hidden.is_(False), moderated),
                    or_(table.hidden.is_(False), mine, moderated))

    def _select(self, query: ql.Query, filters, viewer, count: bool = True) -> Matches:  # noqa: ARG002
        where = [self.scope(viewer)]
        authors = [int(a) for a in filters.get("author") or ()]
        if authors:
            where.append(ForumPostSearch.author_id.in_(authors))
        tsquery = None
        if query:
            self._compiler.prepare(query)
            tsquery = self._compiler.compile(query.root)
            where.append(ForumPostSearch.document.op("@@")(tsquery))
        total = self.session.scalar(select(func.count()).select_from(ForumPostSearch).where(*where)) or 0
        return Matches(total=total, handle=(where, tsquery), query=query, filters=filters, viewer=viewer)

    def _ids(self, matches: Matches) -> list[int]:
        where, _tsquery = matches.handle
        return list(self.session.scalars(select(ForumPostSearch.post_id).where(*where)))

    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        where, tsquery = matches.handle
        by_date = [ForumPostSearch.created_at.desc(), ForumPostSearch.post_id.desc()]
        ranking = None
        if tsquery is not None and sort != "date" and not ql.only_negative(matches.query.root):
            ranking = self._compiler.rank_expression(matches.query, ForumPostSearch.document)
        order = by_date if ranking is None else [ranking.desc(), *by_date]
        statement = select(ForumPostSearch.post_id).where(*where).order_by(*order)
        if limit is not None:
            statement = statement.limit(limit)
        return list(self.session.scalars(statement))

    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        return {kind: {} for kind in kinds}

    def _has_word(self, word: str) -> bool:  # noqa: ARG002 (no "did you mean" in the forum)
        return True

    def _candidates(self, word: str) -> Iterator[str]:  # noqa: ARG002
        return iter(())


def make_forum_index(kind: str, path: str | os.PathLike | None, session_factory, writer_timeout: float) \
        -> SearchBackend:
    if kind == "postgres":
        return PostgresForumIndex(session_factory)
    return WhooshForumIndex(Path(path), writer_timeout=writer_timeout)


