"""The embedded search backend on Whoosh: a folder of files in the instance folder, written only by the indexer.

Whoosh allows one writer at a time and its multi-file commits are not crash-safe, so the index is a cache of the
database that can always be rebuilt: only the indexer writes (with a writer timeout), and a health check compares
its document count with the database. The index stores its schema with pickle: its folder is private (0700)."""
from __future__ import annotations

import os
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
from catalogue.search.backend import ENGINE_FILTERS, IndexWriter, Matches, SearchBackend, Viewer
from catalogue.search.documents import FIELD_GROUPS, STEMMED_LANGUAGES, WEIGHTS, WORD_RE, SearchDocument, fold

SCHEMA_VERSION = "2"  # 2: coded labels, index-time synonyms ("syn"), no "spell" field
LANGS = (*STEMMED_LANGUAGES, "raw")  # "raw": every version, folded but not stemmed (prefixes, other languages)
BATCH = 500
WRITER_LIMIT_MB = 256  # the rebuild's in-memory pool: fewer, larger runs to merge
# BM25F; keywords are short lists, and many cases have none, so their length says nothing: no normalisation.
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2, **{f"keywords_{lang}_B": 0.0 for lang in LANGS})


def analyzer(lang: str):
    """Words, lower case, accents folded; then, for a stemmed language, its stop words out and its stems."""
    chain = RegexTokenizer(WORD_RE.pattern) | LowercaseFilter() | CharsetFilter(accent_map)
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
        # Canonical tokens of the synonym groups the case names (query.document_synonyms), at keyword weight.
        "syn": KEYWORD(lowercase=False, commas=False, scorable=True),
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
        syn=" ".join(ql.document_synonyms(doc)),
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
        writer = self._open().writer(timeout=self.writer_timeout, limitmb=WRITER_LIMIT_MB)
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

    def compile(self, node: ql.Node, ranking: bool = False) -> wq.Query:
        """The Whoosh query of a node. Unquoted words spelling a synonym term come as (Phrase OR Synonym): every
        document holding that phrase also holds the group's token (the indexer found it with the same analysis),
        so matching needs the token only. `ranking` (scoring documents already selected) turns phrases into
        their words, which weigh the same fields without reading positions."""
        if isinstance(node, ql.Term):
            return self._term(node)
        if isinstance(node, ql.Phrase):
            if ranking:
                return wq.Or([self._term(ql.Term(word)) for word in node.words])
            return self._phrase(node)
        if isinstance(node, ql.Synonym):
            return wq.Term("syn", node.group, boost=WEIGHTS["keywords"])
        if isinstance(node, ql.Or):
            if not ranking and len(node.items) == 2 and isinstance(node.items[0], ql.Phrase) \
                    and isinstance(node.items[1], ql.Synonym):
                return self.compile(node.items[1])
            return wq.Or([self.compile(item, ranking) for item in node.items])
        if isinstance(node, ql.Not):
            return wq.AndNot(wq.Every(), self.compile(node.item))
        positives = [self.compile(i, ranking) for i in node.items if not isinstance(i, ql.Not)]
        if ranking:  # the documents are already selected: what is left out plays no part in their scores
            return wq.And(positives) if positives else wq.Every()
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

    def _reader_cache(self, searcher) -> dict:
        """Per index generation: case id of each document number, and a bit set per facet token (counting a
        facet is then one AND and a bit count per token, whatever the number of matches)."""
        reader = searcher.reader()
        key = (reader.generation(), reader.doc_count_all(), reader.doc_count())
        cache = getattr(self, "_cache", None)
        if cache is not None and cache["key"] == key:
            return cache
        cids = list(reader.column_reader("cid")) if reader.doc_count_all() else []
        facet_bits: dict[str, dict[str, int]] = {}
        for token in reader.lexicon("facets"):
            text = token.decode("utf-8") if isinstance(token, bytes) else token
            kind, _sep, code = text.partition(":")
            bits = bytearray((len(cids) + 8) // 8)
            for docnum in reader.postings("facets", text).all_ids():
                bits[docnum >> 3] |= 1 << (docnum & 7)
            facet_bits.setdefault(kind, {})[code] = int.from_bytes(bits, "little")
        self._cache = {"key": key, "cids": cids, "facets": facet_bits}
        return self._cache

    def _select(self, query: ql.Query, filters, viewer: Viewer) -> Matches:
        index = self._open()
        restriction = [self.scope(viewer), *self.filter_query(filters)]
        compiled = wq.And([self.compile(query.root), *restriction]) if query else wq.And(restriction)
        with index.searcher() as searcher:
            docnums = set(searcher.docs_for_query(compiled))  # unscored: no weighting, no sorting
        return Matches(total=len(docnums), handle=docnums, query=query, filters=filters, viewer=viewer)

    def _ids(self, matches: Matches) -> list[int]:
        if not matches.total:
            return []
        with self._open().searcher() as searcher:
            cids = self._reader_cache(searcher)["cids"]
            return [cids[docnum] for docnum in sorted(matches.handle)]

    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        if not matches.total:
            return []
        query = matches.query
        docnums = matches.handle
        with self._open().searcher(weighting=WEIGHTING) as searcher:
            if sort == "date" or not query:
                results = searcher.search(wq.Every(), filter=docnums, limit=limit, sortedby="filed", reverse=True)
            else:  # scored by WEIGHTING, only among the matches, and only the best `limit` are kept
                ranking = self.compile(query.root, ranking=True)
                if isinstance(ranking, wq.Every) or ql.only_negative(query.root):
                    ranking = wq.Every()
                results = searcher.search(ranking, filter=docnums, limit=limit, optimize=False)
            cids = self._reader_cache(searcher)["cids"]
            return [cids[docnum] for _key, docnum in results.top_n]

    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        kinds = tuple(kinds)
        with self._open().searcher() as searcher:
            cache = self._reader_cache(searcher)
            bits = bytearray((len(cache["cids"]) + 8) // 8)
            for docnum in matches.handle:
                bits[docnum >> 3] |= 1 << (docnum & 7)
            wanted = int.from_bytes(bits, "little")
        out: dict[str, dict[str, int]] = {}
        for kind in kinds:
            counted = [(code, (wanted & mask).bit_count()) for code, mask in cache["facets"].get(kind, {}).items()]
            out[kind] = dict(sorted(((c, n) for c, n in counted if n), key=lambda item: (-item[1], item[0])))
        return out

    def _has_word(self, word: str) -> bool:
        with self._open().searcher() as searcher:
            reader = searcher.reader()
            return any(reader.doc_frequency(text_field(g, "raw"), word) > 0 for g in FIELD_GROUPS)

    def _candidates(self, word: str) -> Iterator[str]:
        if not self.count():
            return
        with self._open().searcher() as searcher:
            found: list[str] = []
            for group in FIELD_GROUPS:
                corrector = searcher.corrector(text_field(group, "raw"))
                found += [w for w in corrector.suggest(word, limit=5, maxdist=2, prefix=1) if w not in found]
        yield from found
