"""The embedded search backend on Whoosh: a folder of files in the instance folder, written only by the indexer.

Whoosh allows one writer at a time and its multi-file commits are not crash-safe, so the index is a cache of the
database that can always be rebuilt: only the indexer writes (with a writer timeout), and a health check compares
its document count with the database. The index stores its schema with pickle: its folder is private (0700)."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.support.charset import accent_map
from whoosh.writing import CLEAR

from catalogue.search import query as ql
from catalogue.search.backend import ENGINE_FILTERS, IndexWriter, SearchBackend, Viewer
from catalogue.search.documents import FIELD_GROUPS, STEMMED_LANGUAGES, WEIGHTS, SearchDocument, fold

SCHEMA_VERSION = "1"
LANGS = (*STEMMED_LANGUAGES, "raw")  # "raw": every version, folded but not stemmed (prefixes, other languages)
BATCH = 500
# BM25F; keywords are short lists, and many cases have none, so their length says nothing: no normalisation.
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2, **{f"keywords_{lang}_B": 0.0 for lang in LANGS})


def analyzer(lang: str):
    """Words, lower case, accents folded; then, for a stemmed language, its stop words out and its stems."""
    chain = RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)
    if lang == "raw":
        return chain
    return chain | StopFilter(lang=lang, minsize=1) | StemFilter(lang=lang)


ANALYZERS = {lang: analyzer(lang) for lang in LANGS}


def text_field(group: str, lang: str) -> str:
    return f"{group}_{lang}"


def make_schema() -> Schema:
    fields = {
        "cid": NUMERIC(int, bits=64, stored=True, unique=True, sortable=True, signed=False),
        "status": ID(), "visibility": ID(), "submitter": ID(), "reviewer": ID(),
        "filed": NUMERIC(int, sortable=True, signed=False),  # yyyymmdd, 0 when unknown: sort by date
        "year": NUMERIC(int, signed=False),
        "facets": KEYWORD(lowercase=False, commas=False, scorable=False),
        "spell": TEXT(analyzer=ANALYZERS["raw"], phrase=False),
    }
    for group in FIELD_GROUPS:
        for lang in LANGS:
            fields[text_field(group, lang)] = TEXT(analyzer=ANALYZERS[lang], phrase=True)
    return Schema(**fields)


def _fields_of(doc: SearchDocument) -> dict:
    texts: dict[str, list[str]] = {}
    for version in doc.versions:
        for group in FIELD_GROUPS:
            value = version.text(group)
            if not value:
                continue
            texts.setdefault(text_field(group, "raw"), []).append(value)
            if version.language in STEMMED_LANGUAGES:
                texts.setdefault(text_field(group, version.language), []).append(value)
    fields = {name: "\n".join(values) for name, values in texts.items()}
    fields.update(
        cid=doc.id, status=doc.status, visibility=doc.visibility,
        submitter=str(doc.submitter_id or ""), reviewer=str(doc.reviewer_id or ""),
        filed=int(doc.when.strftime("%Y%m%d")) if doc.when else 0, year=doc.year or 0,
        facets=" ".join(t.replace(" ", "_") for t in doc.facets),
        spell=" ".join(sorted(doc.words())),
    )
    return fields


class _Writer(IndexWriter):
    def __init__(self, writer) -> None:
        self._writer = writer

    def index(self, docs: Iterable[SearchDocument]) -> int:
        n = 0
        for doc in docs:
            self._writer.update_document(**_fields_of(doc))
            n += 1
        return n

    def delete(self, ids: Iterable[int]) -> None:
        for case_id in ids:
            self._writer.delete_by_term("cid", int(case_id))


def _analysed(lang: str, text: str) -> list[str]:
    return [token.text for token in ANALYZERS[lang](text)]


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, path: str | os.PathLike, writer_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.writer_timeout = writer_timeout
        self._index = None

    # ------------------------------------------------------------ the folder

    def _open(self):
        if self._index is not None:
            return self._index
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)  # the schema is a pickle: nobody else may write (or read) it
        marker = self.path / "schema-version"
        current = marker.exists() and marker.read_text().strip() == SCHEMA_VERSION
        if current and whoosh_index.exists_in(str(self.path)):
            self._index = whoosh_index.open_dir(str(self.path))
        else:  # new, or made by an older schema: start empty (the count check then rebuilds it)
            self._index = whoosh_index.create_in(str(self.path), make_schema())
            marker.write_text(SCHEMA_VERSION)
        return self._index

    # ------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        writer = self._open().writer(timeout=self.writer_timeout)  # LockError when another writer holds it
        try:
            yield _Writer(writer)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        writer = self._open().writer(timeout=self.writer_timeout)
        n = 0
        try:
            for doc in docs:
                writer.add_document(**_fields_of(doc))
                n += 1
                if progress:
                    progress(1)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)  # the old segments go only now: readers never see a half-built index
        return n

    def count(self) -> int:
        return self._open().doc_count()

    # ------------------------------------------------------------ compiling queries

    def _term(self, node: ql.Term) -> wq.Query:
        if node.prefix:
            prefix = fold(node.word)
            return wq.Or([wq.Prefix(text_field(g, "raw"), prefix, boost=WEIGHTS[g]) for g in FIELD_GROUPS])
        alternatives = []
        for lang in LANGS:
            tokens = _analysed(lang, node.word)
            if tokens:
                alternatives += [wq.Term(text_field(g, lang), tokens[0], boost=WEIGHTS[g]) for g in FIELD_GROUPS]
        return wq.Or(alternatives) if alternatives else wq.NullQuery

    def _phrase(self, node: ql.Phrase) -> wq.Query:
        text = " ".join(node.words)
        alternatives = []
        for lang in LANGS:
            tokens = _analysed(lang, text)
            for group in FIELD_GROUPS:
                name = text_field(group, lang)
                if len(tokens) == 1:
                    alternatives.append(wq.Term(name, tokens[0], boost=WEIGHTS[group]))
                elif tokens:
                    alternatives.append(wq.Phrase(name, tokens, boost=WEIGHTS[group]))
        return wq.Or(alternatives) if alternatives else wq.NullQuery

    def compile(self, node: ql.Node) -> wq.Query:
        if isinstance(node, ql.Term):
            return self._term(node)
        if isinstance(node, ql.Phrase):
            return self._phrase(node)
        if isinstance(node, ql.Or):
            return wq.Or([self.compile(item) for item in node.items])
        if isinstance(node, ql.Not):
            return wq.AndNot(wq.Every(), self.compile(node.item))
        positives = [self.compile(i) for i in node.items if not isinstance(i, ql.Not)]
        negatives = [self.compile(i.item) for i in node.items if isinstance(i, ql.Not)]
        positive = wq.And(positives) if positives else wq.Every()
        return wq.AndNot(positive, wq.Or(negatives)) if negatives else positive

    @staticmethod
    def scope(viewer: Viewer) -> wq.Query:
        """Mirrors services.visible_cases: published; public unless the viewer is a vetted member."""
        parts: list[wq.Query] = [wq.Term("status", "published")]
        if not viewer.vetted:
            parts.append(wq.Term("visibility", "public"))
        return wq.And(parts)

    @staticmethod
    def filter_query(filters: Mapping[str, Iterable[str]]) -> list[wq.Query]:
        parts: list[wq.Query] = []
        for kind in ENGINE_FILTERS:
            codes = [str(c) for c in filters.get(kind) or ()]
            if codes:
                parts.append(wq.Or([wq.Term("facets", f"{kind}:{c}".replace(" ", "_")) for c in codes]))
        low = next(iter(filters.get("year_from") or ()), None)
        high = next(iter(filters.get("year_to") or ()), None)
        if low or high:
            parts.append(wq.NumericRange("year", int(low) if low else 1, int(high) if high else 9999))
        return parts

    # ------------------------------------------------------------ reading

    def _matches(self, query: ql.Query, filters, viewer: Viewer, sort: str) -> list[int]:
        compiled = self.compile(query.root) if query else wq.Every()
        restriction = wq.And([self.scope(viewer), *self.filter_query(filters)])
        by_date = sort == "date" or not query
        with self._open().searcher(weighting=WEIGHTING) as searcher:
            if by_date:
                results = searcher.search(compiled, filter=restriction, limit=None, sortedby="filed", reverse=True)
            else:
                results = searcher.search(compiled, filter=restriction, limit=None)  # scored by WEIGHTING
            if not results.top_n:
                return []  # (an empty index has no columns to read)
            column = searcher.reader().column_reader("cid")
            return [column[docnum] for _key, docnum in results.top_n]

    def _facet_counts(self, ids: list[int], kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter] = {kind: Counter() for kind in kinds}
        if not ids or not self.count():
            return {kind: {} for kind in counts}
        with self._open().searcher() as searcher:
            reader = searcher.reader()
            column = reader.column_reader("cid")
            wanted = set(ids)
            docnums = {docnum for docnum in reader.all_doc_ids() if column[docnum] in wanted}
            for token in reader.lexicon("facets"):  # one pass over the facet tokens' postings
                text = token.decode("utf-8") if isinstance(token, bytes) else token
                kind, _sep, code = text.partition(":")
                if kind in counts:
                    n = sum(1 for docnum in reader.postings("facets", text).all_ids() if docnum in docnums)
                    if n:
                        counts[kind][code] = n
        return {kind: dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
                for kind, counter in counts.items()}

    def _has_word(self, word: str) -> bool:
        with self._open().searcher() as searcher:
            return searcher.reader().doc_frequency("spell", word) > 0

    def _candidates(self, word: str) -> Iterator[str]:
        if not self.count():
            return
        with self._open().searcher() as searcher:
            corrector = searcher.corrector("spell")
            found = list(corrector.suggest(word, limit=5, maxdist=2, prefix=1))
        yield from found
