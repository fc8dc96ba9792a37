"""The embedded search backend on Whoosh: a folder of files in the instance folder, written only by the indexer.

Whoosh allows one writer at a time and its multi-file commits are not crash-safe, so the index is a cache of the
database that can always be rebuilt: only the indexer writes (with a writer timeout), and a health check compares
its document count with the database. The index stores its schema with pickle: its folder is private (0700)."""
from __future__ import annotations

import functools
import heapq
import itertools
import os
import threading
import time
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from whoosh import query as wq
from whoosh import scoring
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.lang import has_stopwords
from whoosh.matching import FilterMatcher
from whoosh.support.charset import accent_map
from whoosh.writing import CLEAR

from network.search import query as ql
from network.search.backend import ENGINE_FILTERS, IndexWriter, Matches, SearchBackend, Viewer
from network.search.documents import (
    COORDINATION,
    FIELD_GROUPS,
    PROXIMITY,
    STEMMED_LANGUAGES,
    WEIGHTS,
    WORD_RE,
    SearchDocument,
    fold,
    segmented,
    stemmer,
)

SCHEMA_VERSION = "16"  # 2: coded labels, index-time synonyms ("syn"), no "spell" field; 3: "stem" + "raw" fields;
# 4: Arabic stemmed, CJK bigrams, the six-language thesaurus; 5: Snowball's Arabic stemmer;
# 6: year facet tokens (facet counts of a text search come from the engine); 7: State groups, terms without their
# inner stop words, more thesaurus groups (migration 5e4c0b0a1d13 empties the PostgreSQL tables alike); 8: the engine
# moved from catalogue.search to network.search (the pickled schema names its analysers' module); 9: thesaurus groups
# for everyday words of the field (species, kinds of assets, seized assets' sale and upkeep, ransom, forced labour);
# 10: thesaurus groups for terms of the Conventions on their own (migrants, torture, consent, ...; 5e4c0b0a1d16)
# 11: thesaurus groups for the court and the judgment, States' adjectives, broader concepts (5e4c0b0a1d18)
# 12: thesaurus groups for the account holder, confidentiality, serving a sentence; a penalty's words (5e4c0b0a1d19)
# 13: Spanish and French suffixes stemmed with their accents (documents.accented_suffix; c3a8d1e5f702)
# 14: the thesaurus covers the vocabulary's labels in six languages; Russian "-ой"/"-ый" stemmed with their "й"
# (d5e1f0a2b314); 15: State names matched as written with their inflected forms, not stemmed (e7c4a2f9b318)
# 16: facet tokens of a provision's paragraph ("14(3)" for "14(3)(b)") and of each translation's language (a1f6c3e8d527)
LANGS = (*STEMMED_LANGUAGES, "raw")  # the analyses: a Snowball stemmer, or "raw" (folded but not stemmed)
# Two fields per field group, so that a query word is looked up in 8 fields rather than 20 (each one a postings
# list to read and score in Python, for every matching document): "stem" holds each version stemmed with its own
# language's analyzer (so a query word becomes up to 4 alternative terms of that one field, one per stemmer), and
# "raw" every version folded but not stemmed (prefixes, names, languages without a stemmer).
KINDS = ("stem", "raw")
BATCH = 500
# The rebuild's in-memory pool (by Whoosh's reckoning; the Python objects take about twice that). 256 MB rebuilt
# 10,000 cases no faster than 64 MB (back to back on a busy machine: 47 and 66 s against 45 and 56 s) for twice the
# peak RSS (454 MB against 224 MB; the target is 300 MB); 64, 32, 16 and 8 MB rebuilt 2,500 cases in the same CPU
# time (17.2, 16.8, 16.3, 16.3 s) with peak RSS 191, 153, 134 and 125 MB. The pool's memory is freed but mostly
# stays with the process (the allocator's arenas are pinned by the objects that outlive it), so it is kept small.
WRITER_LIMIT_MB = 16
# BM25F; keywords are short lists, and many cases have none, so their length says nothing: no normalisation.
K1, B = 1.2, 0.75
FIELD_B = {f"keywords_{kind}": 0.0 for kind in KINDS}
WEIGHTING = scoring.BM25F(B=B, K1=K1, **{f"{name}_B": b for name, b in FIELD_B.items()})
# A concept held through its synonym group (the case names it in any language, in any words of the thesaurus) weighs
# about as much as the concept itself, not as one more keyword: otherwise a case in the query's own language, which
# also holds the literal words, always outranks a case that says the same thing in another language or other words.
# Tuned on the evaluation set's tuning split (nDCG@10 with COORDINATION 2: keyword weight 3 -> 0.639, 10 -> 0.665,
# 40 -> 0.686; with the rest of issue 11's analysis and COORDINATION 1: 20 -> 0.724, 40 -> 0.733, 80 -> 0.750,
# 200 -> 0.735).
SYNONYM_BOOST = 80.0
NEAR_GROUPS = ("title", "keywords", "summary")  # where closeness counts (phrases in the long body cost most)
NEAR_CANDIDATES = 100  # the best this many (or twice the page) are re-ranked by closeness
QUIET_NS = 2_000_000_000  # a folder unchanged this long (ns) is trusted unchanged while its modification time stays


def analyzer(lang: str):
    """Words, lower case, accents folded; then, for a stemmed language, its stop words out and its stems."""
    chain = RegexTokenizer(WORD_RE.pattern) | LowercaseFilter() | CharsetFilter(accent_map)
    if lang == "raw":
        return chain
    stop = StopFilter(lang=lang, minsize=1) if has_stopwords(lang) else \
        StopFilter(stoplist=frozenset(fold(w) for w in ql.QUESTION_WORDS.get(lang, "").split()), minsize=1)
    return chain | stop | StemFilter(stemfn=stemmer(lang), cachesize=None)  # stemmer() has its own cache


ANALYZERS = {lang: analyzer(lang) for lang in LANGS}
# The "stem" fields are given text already analysed in Python (each version in its own language: one Whoosh field
# has one analyzer), as its terms separated by spaces; positions stay those of the language's analyzer.
PRE_ANALYSED = RegexTokenizer(r"\S+")


def text_field(group: str, kind: str) -> str:
    return f"{group}_{kind}"


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
        fields[text_field(group, "stem")] = TEXT(analyzer=PRE_ANALYSED, phrase=True)
        fields[text_field(group, "raw")] = TEXT(analyzer=ANALYZERS["raw"], phrase=True)
    return Schema(**fields)


def commit_or_release(writer, **options) -> None:
    """writer.commit(**options); when the commit fails (a full disk, a segment name already taken), the writer is
    cancelled or at least its lock released before the error goes on: otherwise the process would keep the index's
    write lock, and every later write would wait its timeout and give up until a restart."""
    try:
        writer.commit(**options)
    except BaseException:
        try:
            writer.cancel()
        except Exception:  # noqa: BLE001 (the commit's error is the one to raise)
            if getattr(writer, "writelock", None) is not None:
                with suppress(Exception):
                    writer.writelock.release()
        raise


def _fields_of(doc: SearchDocument) -> dict:
    texts: dict[str, list[str]] = {}
    for version in doc.versions:
        for group in FIELD_GROUPS:
            value = version.text(group)
            if not value:
                continue
            texts.setdefault(text_field(group, "raw"), []).append(segmented(value))
            if version.language in STEMMED_LANGUAGES:
                texts.setdefault(text_field(group, "stem"), []).append(
                    " ".join(_analysed(version.language, value)))
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
    return [token.text for token in ANALYZERS[lang](segmented(text))]


@functools.lru_cache(maxsize=4096)
def _query_analyses(text: str) -> dict[str, list[tuple[str, ...]]]:
    """WhooshBackend._analyses, kept per process: the analysers are fixed, so the answer for a text never changes."""
    stems = dict.fromkeys(tuple(_analysed(lang, text)) for lang in STEMMED_LANGUAGES)
    raw = tuple(_analysed("raw", text))
    return {"stem": [t for t in stems if t], "raw": [raw] if raw else []}


def _leaves(query: wq.Query) -> list[wq.Query] | None:
    """The terms and prefixes of a ranking query, each as often as it occurs: Whoosh scores an And or an Or as the
    sum of its parts that match, and every document ranked matches the query, so a document's score is the sum of
    its leaves' scores. None when the query holds anything else (ranked by Whoosh's matchers then)."""
    if isinstance(query, (wq.Term, wq.Prefix)):
        return [query]
    if isinstance(query, (wq.And, wq.Or)) and query.boost == 1.0:
        found: list[wq.Query] = []
        for sub in query.subqueries:
            leaves = _leaves(sub)
            if leaves is None:
                return None
            found += leaves
        return found
    return [] if query is wq.NullQuery else None


POSTINGS_CACHE = 200_000  # postings kept decoded per segment reader (1.6 MB), most recently read terms


def _postings(reader, field: str, term: bytes) -> list[tuple[Sequence[int], Sequence[float]]]:
    """The (document numbers, weights) blocks of a term, decoded once per segment reader (which lives as long as
    the index is unchanged) for the most recently read terms: the words people search for are few. Kept as
    arrays of C numbers (8 bytes a posting; Python lists of ints and floats took about 70): Whoosh stores weights
    as 32-bit floats, so nothing is rounded."""
    cache = reader.__dict__.setdefault("_postings_cache", {})
    key = (field, term)
    blocks = cache.pop(key, None)
    if blocks is None:
        blocks = [(array("I", ids), array("f", weights)) for ids, weights in _read_postings(reader, field, term)]
        size = sum(len(ids) for ids, _weights in blocks)
        total = reader.__dict__.get("_postings_cached", 0) + size
        while cache and total > POSTINGS_CACHE:  # the least recently read go first
            dropped = cache.pop(next(iter(cache)))
            total -= sum(len(ids) for ids, _weights in dropped)
        reader.__dict__["_postings_cached"] = total
    cache[key] = blocks
    return blocks


def _read_postings(reader, field: str, term: bytes) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """The (document numbers, weights) of a term, a block at a time. Whoosh's own leaf matcher decodes each block
    into two arrays; reading them whole spares three Python calls a posting (id(), weight(), next()). Deleted
    documents are left in: the caller keeps only the documents it selected."""
    matcher = reader.postings(field, term)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not (hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block")):  # another codec: step through
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights
        return
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        yield matcher._ids, matcher._weights
        matcher._next_block()


def _adjacent(reader, field: str, first: str, second: str, docnums: list[int]) -> Iterator[int]:
    """Those of `docnums` (ascending, of this segment) where `second` comes right after `first` in `field`."""
    one, two = reader.postings(field, first), reader.postings(field, second)
    for docnum in docnums:
        for matcher in (one, two):
            if matcher.is_active() and matcher.id() < docnum:
                matcher.skip_to(docnum)
        if not (one.is_active() and two.is_active()):
            return
        if one.id() == docnum and two.id() == docnum:
            before = {p + 1 for p in one.value_as("positions")}
            if any(p in before for p in two.value_as("positions")):
                yield docnum


# Fields whose terms restrict most searches (the reader's scope, filters): their document sets are kept with the
# searcher, which lives as long as the index is unchanged.
CACHED_FIELDS = frozenset({"status", "visibility", "facets"})
# Document numbers kept in those sets per searcher (about 85 bytes each), the most recently used sets first: a
# count of sets did not bound them, as year ranges are the reader's to choose (2,000 sets of 10,000 documents).
DOCSETS_CACHE = 200_000


def _cached(searcher, key: tuple, compute: Callable[[], set[int]]) -> frozenset[int]:
    cache = searcher.__dict__.setdefault("_docsets", {})
    found = cache.pop(key, None)
    if found is None:
        found = frozenset(compute())
        total = searcher.__dict__.get("_docsets_held", 0) + len(found)
        while cache and total > DOCSETS_CACHE:  # the least recently used go first
            total -= len(cache.pop(next(iter(cache))))
        searcher.__dict__["_docsets_held"] = total
    cache[key] = found
    return found


TERMS_CACHE = 100_000  # answers kept per reader: whether it holds a term, how many documents do


def _kept(owner, name: str, key: tuple, compute):
    """compute(), kept in the owner's (a reader's or a searcher's) table `name` under key: owners live as long as the
    index is unchanged, and a table holds at most TERMS_CACHE answers (emptied when full)."""
    cache = owner.__dict__.get(name)
    if cache is None:
        cache = owner.__dict__[name] = {}
    found = cache.get(key)
    if found is None:
        found = compute()
        if len(cache) >= TERMS_CACHE:
            cache.clear()
        cache[key] = found
    return found


def _holds(reader, field: str, term) -> bool:
    """Whether a reader (a segment's, or the searcher's over all of them) holds a term, looked up in its term file once
    per reader, which lives as long as the index is unchanged: a search asked about the same few terms some forty
    times, each a hash lookup read from the file (a deleted document leaves its terms in the segment)."""
    return _kept(reader, "_holds", (field, term), lambda: (field, term) in reader)


def _frequency(reader, field: str, term) -> int:
    """reader.doc_frequency, once per reader and term (as _holds)."""
    return _kept(reader, "_frequencies", (field, term), lambda: reader.doc_frequency(field, term))


def _idf(searcher, field: str, term) -> float:
    """WEIGHTING's idf of a term, once per searcher (its statistics are the searcher's index generation's)."""
    return _kept(searcher, "_idfs", (field, term), lambda: WEIGHTING.idf(searcher, field, term))


def _all_docs(searcher) -> frozenset[int]:
    """The numbers of the documents not deleted, once per searcher (a reader's scope without some token starts from
    them: Whoosh's all_doc_ids asks each document number whether it is deleted)."""
    found = searcher.__dict__.get("_all_docs")
    if found is None:
        found = searcher.__dict__["_all_docs"] = frozenset(searcher.reader().all_doc_ids())
    return found


def _term_docs(searcher, field: str, text) -> set[int] | frozenset[int]:
    """Document numbers (deleted ones included) holding a term, from whole postings blocks."""
    if field in CACHED_FIELDS:
        return _cached(searcher, ("term", field, text), lambda: _read_term_docs(searcher, field, text))
    return _read_term_docs(searcher, field, text)


def _read_term_docs(searcher, field: str, text) -> set[int]:
    found: set[int] = set()
    if field not in searcher.schema:
        return found
    term = searcher.schema[field].to_bytes(text) if not isinstance(text, bytes) else text
    for leaf_searcher, offset in searcher.leaf_searchers():
        reader = leaf_searcher.reader()
        if not _holds(reader, field, term):
            continue
        for ids, _weights in _postings(reader, field, term):
            if offset:
                found.update(docnum + offset for docnum in ids)
            else:
                found.update(ids)
    return found


def _range_docs(searcher, field: str, low: int | None, high: int | None) -> set[int]:
    """Document numbers whose value of a numeric field lies in [low, high] (None: unbounded), read from the field's
    full-precision terms (a few dozen years). Whoosh's own NumericRange on an unsigned field matches documents outside
    a range that spans several of its trie tiers: year 2020 to 9999 matched every year, 1 to 2019 too, so a year_from
    or a year_to alone selected nothing out."""
    schema_field = searcher.schema[field]
    found: set[int] = set()
    for term in schema_field.sortable_terms(searcher.reader(), field):
        value = schema_field.from_bytes(term)
        if (low is None or value >= low) and (high is None or value <= high):
            found |= _read_term_docs(searcher, field, term)
    return found


def _docset(searcher, query: wq.Query) -> set[int]:
    """The document numbers a query matches (deleted ones may be included: the caller keeps live ones), with set
    operations over postings instead of Whoosh's tree of matchers, which steps every matcher in Python for every
    document of a union: an any-word query over eight fields and five stemmers spent most of its time there."""
    if isinstance(query, wq.Term):
        return _term_docs(searcher, query.fieldname, query.text)
    if isinstance(query, wq.Prefix):
        found: set[int] = set()
        for term in set(searcher.reader().expand_prefix(query.fieldname, query.text)):
            found |= _term_docs(searcher, query.fieldname, term)
        return found
    if isinstance(query, wq.Or):
        found = set()
        for sub in query.subqueries:
            found |= _docset(searcher, sub)
        return found
    if isinstance(query, wq.And):
        positives = [sub for sub in query.subqueries if not isinstance(sub, wq.Not)]
        negatives = [sub.query for sub in query.subqueries if isinstance(sub, wq.Not)]
        sets = sorted((_docset(searcher, sub) for sub in positives), key=len) if positives else []
        found = set(sets[0]) if sets else set(_all_docs(searcher))
        for other in sets[1:]:
            found &= other
        for sub in negatives:
            if found:
                found -= _docset(searcher, sub)
        return found
    if isinstance(query, wq.Every):
        return _all_docs(searcher)  # (callers combine sets into new ones: never changed in place)
    if isinstance(query, wq.Not):
        return _all_docs(searcher) - _docset(searcher, query.query)
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return set()
    if isinstance(query, wq.NumericRange):  # a year filter
        return _cached(searcher, ("range", query.fieldname, query.start, query.end),
                       lambda: _range_docs(searcher, query.fieldname, query.start, query.end))
    return set(searcher.docs_for_query(query))  # phrases: Whoosh's own matchers


class _Storage(FileStorage):
    """The index folder, read through open files rather than mmap (see WhooshBackend._open). A file is closed when
    the object reading it goes: a searcher kept by a thread that ended, or by a backend that was dropped, is never
    closed, and a map went quietly with its last reference where an open file warns (ResourceWarning)."""

    def open_file(self, name, **kwargs):
        opened = super().open_file(name, **kwargs)
        weakref.finalize(opened, opened.file.close)  # runs before the file's own finalizer, even in a cycle
        return opened


class IncompleteRebuild(RuntimeError):
    """A rebuild in several processes whose committed index holds fewer documents than it was given (a process's
    segment lost): the caller rebuilds again in one process (indexer.rebuild)."""


class WhooshBackend(SearchBackend):
    name = "whoosh"
    # Processes a full rebuild indexes in (`flask search reindex --processes N`, the benchmark: 2). Above 1, Whoosh's
    # multi-process writer forks that many: each indexes its share of the documents into a segment of its own, and the
    # segments are kept as written (merged by later writes), not merged once more at the end. 3,000 synthetic cases
    # on two cores: 22.2 s in one process, 19.1 s in two merged at the end, 11.6 s in two kept apart (a process's
    # memory each: 134 MB). Never from a web worker (a fork of a threaded server): the default stays 1.
    rebuild_processes = 1

    def __init__(self, path: str | os.PathLike, writer_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.writer_timeout = writer_timeout
        self._index = None
        self._local = threading.local()  # each thread's searcher, kept open while the index is unchanged

    # ------------------------------------------------------------ the folder

    def _open(self):
        if self._index is not None:
            return self._index
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)  # the schema is a pickle: nobody else may write (or read) it
        marker = self.path / "schema-version"
        current = marker.exists() and marker.read_text().strip() == SCHEMA_VERSION
        # Read through file reads, not mmap: Whoosh copies each file of an mmapped segment into a BytesIO when a
        # reader opens it, so every searcher held the whole index (37 MB at 10,000 cases) twice, as its own heap
        # copy and as the mapped pages.
        storage = _Storage(str(self.path), supports_mmap=False)
        if current and storage.index_exists():
            self._index = storage.open_index()
        else:  # new, or made by an older schema: start empty (the count check then rebuilds it)
            self._index = storage.create_index(make_schema())
            marker.write_text(SCHEMA_VERSION)
        return self._index

    @contextmanager
    def _searching(self):
        """This thread's searcher, opened once and refreshed when the index has changed: opening one reads every
        segment's term index again, a few milliseconds a search."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and not self._current(searcher):
            searcher.close()  # (not Searcher.refresh(): reusing an empty index's reader fails in Whoosh 2.7)
            searcher = None
        if searcher is None:
            changed = self._folder_time()  # before opening: a commit after this time changes it
            searcher = self._open().searcher(weighting=WEIGHTING)
            self._local.quiet_since = changed if changed is not None and time.time_ns() - changed > QUIET_NS \
                else None
        self._local.searcher = searcher
        yield searcher

    def generation(self) -> tuple:
        """The commit this thread's searcher reads (refreshed first, as a search would): the folder, the generation of
        its table of contents, its segments (random ids) and its documents, live and in all. Kept on the searcher,
        which reads one commit for its life."""
        with self._searching() as searcher:
            token = searcher.__dict__.get("_generation")
            if token is None:
                reader = searcher.reader()
                segments = tuple(str(getattr(leaf.segment(), "segment_id", lambda: None)())
                                 for leaf, _offset in reader.leaf_readers()
                                 if hasattr(leaf, "segment") and leaf.segment() is not None)
                token = searcher.__dict__["_generation"] = (str(self.path), reader.generation(), segments,
                                                            reader.doc_count_all(), reader.doc_count())
            return token

    def _current(self, searcher) -> bool:
        """Whether this thread's searcher reads the latest commit. Whoosh's up_to_date lists the folder for the newest
        table of contents (a search asked five times); a commit writes its files into the folder, which changes the
        folder's modification time, so the listing is skipped while that time is the one of a listing that found the
        searcher current, made when the folder had been unchanged for QUIET_NS (a commit within the same tick of
        the filesystem's clock as the one before would leave the time as it was: a recent time is never trusted)."""
        changed = self._folder_time()
        if changed is None:
            return searcher.up_to_date()
        if changed == getattr(self._local, "quiet_since", None):
            return True
        current = searcher.up_to_date()
        if current and time.time_ns() - changed > QUIET_NS:
            self._local.quiet_since = changed
        return current

    def _folder_time(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    # ------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[IndexWriter]:
        writer = self._open().writer(timeout=self.writer_timeout)  # LockError when another writer holds it
        try:
            yield _Writer(writer)
        except BaseException:
            writer.cancel()
            raise
        commit_or_release(writer)

    def rebuild(self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        processes = max(1, int(self.rebuild_processes))
        options = {"procs": processes, "multisegment": True} if processes > 1 else {}
        writer = self._open().writer(timeout=self.writer_timeout, limitmb=WRITER_LIMIT_MB, **options)
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
        commit_or_release(writer, mergetype=CLEAR)  # the old segments go only now: readers never see a half-built index
        if processes > 1 and (indexed := self.count()) != n:  # a process's segment lost (Whoosh waits 1 s for each)
            raise IncompleteRebuild(f"the rebuild in {processes} processes indexed {indexed} of {n} documents")
        return n

    def count(self) -> int:
        return self._open().doc_count()

    # ------------------------------------------------------------ compiling queries

    @staticmethod
    def _analyses(text: str) -> dict[str, list[tuple[str, ...]]]:
        """The token lists of a query word or phrase by field kind: under each of the stemmers (distinct ones
        only: most words stem alike in several languages) for "stem", folded for "raw". Read only: the answer is
        shared by the searches of the same words (five analyses a word, each a pass of Whoosh's filters)."""
        return _query_analyses(text)

    def _term(self, node: ql.Term) -> wq.Query:
        if node.prefix:
            prefix = fold(node.word)
            return wq.Or([wq.Prefix(text_field(g, "raw"), prefix, boost=WEIGHTS[g]) for g in FIELD_GROUPS])
        alternatives = [wq.Term(text_field(g, kind), tokens[0], boost=WEIGHTS[g])
                        for kind, analyses in self._analyses(node.word).items() for tokens in analyses
                        for g in FIELD_GROUPS]
        return wq.Or(alternatives) if alternatives else wq.NullQuery

    def _phrase(self, node: ql.Phrase) -> wq.Query:
        alternatives = []
        for kind, analyses in self._analyses(" ".join(node.words)).items():
            for tokens in analyses:
                for group in FIELD_GROUPS:
                    name = text_field(group, kind)
                    if len(tokens) == 1:
                        alternatives.append(wq.Term(name, tokens[0], boost=WEIGHTS[group]))
                    else:
                        alternatives.append(wq.Phrase(name, list(tokens), boost=WEIGHTS[group]))
        return wq.Or(alternatives) if alternatives else wq.NullQuery

    def compile(self, node: ql.Node, ranking: bool = False) -> wq.Query:
        """The Whoosh query of a node. Words spelling a synonym term come as (Phrase OR Synonym [OR each word]; see query.without_redundant_phrase): every
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
            return wq.Term("syn", node.group, boost=SYNONYM_BOOST)
        if isinstance(node, ql.Or):
            items = ql.without_redundant_phrase(node, ranking)
            if len(items) == 1:
                return self.compile(items[0], ranking)
            return wq.Or([self.compile(item, ranking) for item in items])
        # And/Not, never AndNot: Whoosh's AndNot keeps documents it should leave out once updates have spread a
        # document's versions over several segments (tests/test_search_contract.py has the case).
        if isinstance(node, ql.Not):
            return wq.And([wq.Every(), wq.Not(self.compile(node.item))])
        positives = [self.compile(i, ranking) for i in node.items if not isinstance(i, ql.Not)]
        if ranking:  # the documents are already selected: what is left out plays no part in their scores
            return wq.And(positives) if positives else wq.Every()
        negatives = [self.compile(i.item) for i in node.items if isinstance(i, ql.Not)]
        positive = wq.And(positives) if positives else wq.Every()
        return wq.And([positive, wq.Not(wq.Or(negatives))]) if negatives else positive

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

    def _date_order(self, searcher) -> list[int]:
        """Every document number, newest first (then the higher id first), once per searcher."""
        order = searcher.__dict__.get("_date_order")
        if order is None:
            reader = searcher.reader()
            filed = list(reader.column_reader("filed")) if reader.doc_count_all() else []
            cids = self._reader_cache(searcher)["cids"]
            order = searcher.__dict__["_date_order"] = sorted(range(len(filed)),
                                                              key=lambda d: (-filed[d], -cids[d]))
        return order

    def _live(self, searcher) -> set[int]:
        """The numbers of the documents not deleted, once per index generation."""
        reader = searcher.reader()
        key = (reader.generation(), reader.doc_count_all(), reader.doc_count())
        cached = getattr(self, "_live_cache", None)
        if cached is None or cached[0] != key:
            cached = self._live_cache = (key, set(reader.all_doc_ids()))
        return cached[1]

    def _select(self, query: ql.Query, filters, viewer: Viewer, count: bool = True) -> Matches:  # noqa: ARG002
        restriction = [self.scope(viewer), *self.filter_query(filters)]
        compiled = wq.And([self.compile(query.root), *restriction]) if query else wq.And(restriction)
        with self._searching() as searcher:
            # unscored: no weighting, no sorting; sets of document numbers read from whole postings blocks
            docnums = _docset(searcher, compiled) & self._live(searcher)
        return Matches(total=len(docnums), handle=docnums, query=query, filters=filters, viewer=viewer)

    def _ids(self, matches: Matches) -> list[int]:
        if not matches.total:
            return []
        with self._searching() as searcher:
            cids = self._reader_cache(searcher)["cids"]
            return [cids[docnum] for docnum in sorted(matches.handle)]

    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        if not matches.total:
            return []
        query = matches.query
        docnums = matches.handle
        with self._searching() as searcher:
            if sort == "date" or not query:
                cids = self._reader_cache(searcher)["cids"]
                newest = (docnum for docnum in self._date_order(searcher) if docnum in docnums)
                return [cids[docnum] for docnum in itertools.islice(newest, limit)]
            else:  # scored by WEIGHTING, only among the matches, and only the best `limit` are kept
                concepts = [_leaves(self.compile(c, ranking=True)) for c in query.concepts]
                if concepts and not ql.only_negative(query.root) and all(c is not None for c in concepts):
                    return self._bm25f_top(searcher, concepts, docnums, limit, query)
                ranking = wq.Or([self.compile(c, ranking=True) for c in query.concepts]) \
                    if query.concepts and not ql.only_negative(query.root) else wq.Every()
                results = searcher.search(ranking, filter=docnums, limit=limit, optimize=False)
            cids = self._reader_cache(searcher)["cids"]
            return [cids[docnum] for _key, docnum in results.top_n]

    def _near(self, searcher, query: ql.Query, candidates: Iterable[int]) -> dict[int, int]:
        """Document number -> how many of the query's adjacent typed words it holds next to each other in its title,
        keywords or summary (stemmed: the stop words between them may differ), for the candidates only: positions
        are read by skipping through the two words' postings to each candidate, not by matching phrases over the
        whole index."""
        near: dict[int, int] = {}
        wanted = sorted(set(candidates))
        leaves = [(leaf.reader(), offset) for leaf, offset in searcher.leaf_searchers()]
        for pair in query.pairs:
            variants = {tuple(t) for t in self._analyses(" ".join(pair))["stem"] if len(t) == 2}
            held: set[int] = set()
            for field in (text_field(group, "stem") for group in NEAR_GROUPS):
                for first, second in variants:
                    for reader, offset in leaves:
                        if not (_holds(reader, field, first) and _holds(reader, field, second)):
                            continue
                        end = offset + reader.doc_count_all()
                        local = [d - offset for d in wanted if offset <= d < end and d not in held]
                        if local:
                            held |= {d + offset for d in _adjacent(reader, field, first, second, local)}
            for docnum in held:
                near[docnum] = near.get(docnum, 0) + 1
        return near

    def _bm25f_top(self, searcher, concepts: list[list[wq.Query]], docnums: set[int], limit: int | None,
                   query: ql.Query | None = None) -> list[int]:
        """The best `limit` of `docnums`: each concept's BM25F score by WEIGHTING (the same formula, statistics and
        boosts as Whoosh's collector), summed, times the share of concepts held to the power COORDINATION and the
        closeness bonus; ties by document number. Scores are summed term by term over whole postings blocks instead
        of through a tree of matchers: for words found in half the catalogue, Whoosh stepped every matcher of the
        tree for every document. A prefix counts its boost once per document, as Whoosh's constant-score prefix
        query does."""
        cache = self._reader_cache(searcher)
        scores = dict.fromkeys(docnums, 0.0)
        held = dict.fromkeys(docnums, 0)
        k1 = K1
        for leaves in concepts:
            concept: dict[int, float] = {}
            for leaf in leaves:
                field, boost = leaf.fieldname, leaf.boost
                if isinstance(leaf, wq.Prefix):  # each word it expands to, scored as a term
                    terms = sorted(set(searcher.reader().expand_prefix(field, leaf.text)))
                elif field in searcher.schema:
                    terms = [searcher.schema[field].to_bytes(leaf.text)]
                else:
                    continue
                norms = self._norms(searcher, cache, field)
                for term in terms:
                    if not _holds(searcher.reader(), field, term):
                        continue
                    idf = boost * _idf(searcher, field, term)
                    for leaf_searcher, offset in searcher.leaf_searchers():
                        reader = leaf_searcher.reader()
                        if not _holds(reader, field, term):
                            continue
                        for ids, weights in _postings(reader, field, term):
                            for docnum, tf in zip(ids, weights, strict=True):
                                docnum += offset
                                if docnum in scores:
                                    concept[docnum] = concept.get(docnum, 0.0) + idf * tf * (k1 + 1) / (
                                        tf + norms(docnum))
            for docnum, value in concept.items():
                scores[docnum] += value
                held[docnum] += 1
        n = len(concepts) or 1
        if n > 1:
            for docnum, value in scores.items():
                scores[docnum] = value * (held[docnum] / n) ** COORDINATION
        order = (lambda item: (-item[1], item[0]))  # noqa: E731
        pairs = len(query.pairs) if query is not None else 0
        if pairs:  # closeness re-ranks the best candidates (it can raise a score by PROXIMITY at most)
            count = len(scores) if limit is None else max(limit * 2, NEAR_CANDIDATES)
            candidates = heapq.nsmallest(count, scores.items(), key=order)
            near = self._near(searcher, query, [docnum for docnum, _score in candidates])
            scores = {docnum: score * (1 + PROXIMITY * near.get(docnum, 0) / pairs) for docnum, score in candidates}
        if limit is None:
            best = sorted(scores.items(), key=order)
        else:
            best = heapq.nsmallest(limit, scores.items(), key=order)
        cids = cache["cids"]
        return [cids[docnum] for docnum, _score in best]

    @staticmethod
    def _norms(searcher, cache: dict, field: str) -> Callable[[int], float]:
        """BM25's length normalisation K1 * (1 - B + B * length / average length) of a field by document number,
        computed once per index generation as documents are met, into an array of doubles (0: not computed yet; a
        norm is at least K1 * (1 - B)): a dict of them held about 11 MB at 10,000 cases (nine fields), an array
        holds 80 KB a field."""
        norms = cache.setdefault("norms", {})
        values = norms.get(field)
        if values is None:
            values = norms[field] = array("d", bytes(8 * searcher.doc_count_all()))
        b, k1 = FIELD_B.get(field, B), K1
        average = searcher.avg_field_length(field) or 1
        leaves = [(offset, leaf.reader()) for leaf, offset in searcher.leaf_searchers()]

        def norm(docnum: int) -> float:
            value = values[docnum]
            if not value:
                offset, reader = next((o, r) for o, r in reversed(leaves) if o <= docnum)
                value = values[docnum] = k1 * (1 - b + b * reader.doc_field_length(docnum - offset, field) / average)
            return value
        return norm

    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        kinds = tuple(kinds)
        with self._searching() as searcher:
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
        with self._searching() as searcher:
            reader = searcher.reader()
            return any(_frequency(reader, text_field(g, "raw"), word) > 0 for g in FIELD_GROUPS)

    def _count(self, word: str, viewer: Viewer, limit: int) -> int:
        with self._searching() as searcher:
            reader = searcher.reader()
            fields = [text_field(g, "raw") for g in FIELD_GROUPS]
            if not any(_frequency(reader, field, word) for field in fields):
                return 0
            docs: set[int] = set()
            for field in fields:
                docs |= _term_docs(searcher, field, word)
            docs &= _docset(searcher, self.scope(viewer))
            docs &= self._live(searcher)
            return min(len(docs), limit)

    def _candidates(self, word: str) -> Iterator[str]:
        if not self.count():
            return
        with self._searching() as searcher:
            found: list[str] = []
            for group in FIELD_GROUPS:
                corrector = searcher.corrector(text_field(group, "raw"))
                found += [w for w in corrector.suggest(word, limit=5, maxdist=2, prefix=1) if w not in found]
        yield from found
