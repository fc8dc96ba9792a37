"""tantivy (the Rust search engine, through its Python package) as the search benchmark's REFERENCE engine: the
same SearchDocuments and the same query mix as the project's backends, so that their figures can be read as
ratios to what a native engine does on this machine. Benchmark only: `pip install -r benchmarks/requirements.txt`.

The setup, kept comparable with catalogue/search (and where it differs, said so):
- Text: for each field group (title, keywords, summary, body), every language version's text goes into two fields:
  "<group>_stem", analysed by tantivy's own "en_stem" tokenizer (words, lower case, English Snowball stems; every
  language is stemmed as English), and "<group>_raw", folded but not stemmed (tantivy's simple tokenizer, lower
  case, ASCII folding: "extradicion" finds "extradición"). The project stems each version in its own language.
- Facet tokens ("crime_type:fraud") in one raw-tokenized, multi-valued text field that is both indexed (filters)
  and a fast field (columnar: facet counts); status and visibility in raw-tokenized fields (the reader's scope);
  the year for the year range; the case id and yyyymmdd date as fast fields (the page's ids; newest first).
- Queries: the search box's language as the project is moving to it, parsed here (parse() below) rather than by
  network/search/query.py, which is being rewritten: bare words are optional, with ANY-WORD (OR) semantics
  (SHOULD clauses: at least one must match), ranked by BM25 with field boosts title 4 > keywords 3 > summary 2 >
  body 1 (a word is looked up in the stem and the raw field of each group, the scores summed, as Whoosh does);
  bare stop words (tantivy's English, French, Spanish and Russian lists) are dropped unless nothing else was
  typed; quoted phrases (phrase queries), "+word" and "a AND b" are required, "extradi*" is a prefix over the raw
  fields (constant score), "-word" / "NOT word" a MUST_NOT. No synonyms: tantivy gets no synonym tokens at index
  time and queries are not expanded (the project's engines do both). The scope (published; public unless
  vetted) and the filters (OR within a kind, AND across kinds; the year range) are MUST clauses of constant
  score 0, so they restrict without changing the ranking. No "did you mean" (the project's engines look for one
  when a query finds fewer than 3 cases).
- One search call gives the page (20 hits by BM25, or newest first when there are no words) and the total (tantivy's
  Count collector beside its TopDocs collector, over the whole match set). Facet counts are one terms aggregation
  over the facet field's column for the same query, in Rust: every matching document's tokens are counted (exact,
  as the size asked for exceeds the number of distinct tokens), then split by kind in Python.
- Indexing: one indexing thread (Whoosh indexes on one; tantivy's merges run in its own background threads), a
  writer heap of 128 MB, documents built in Python one `Document` at a time. Timings include waiting for the
  merges and reloading the reader."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import tantivy

from network.search.backend import ANONYMOUS, ENGINE_FILTERS, SearchHits, Viewer
from network.search.documents import FIELD_GROUPS, WEIGHTS, SearchDocument

STEMMED = "en_stem"  # tantivy's built-in English analyzer: simple tokenizer, remove long, lower case, stemmer
FOLDED = "folded"  # registered here: the same without the stemmer, with ASCII folding
KINDS = {"stem": STEMMED, "raw": FOLDED}
INDEX_THREADS = 1
WRITER_HEAP_BYTES = 128_000_000
FACET_TERMS = 10_000  # terms aggregation size: above the number of distinct facet tokens, so counts are exact
MUST, SHOULD, MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot


STOP_LANGUAGES = ("english", "french", "spanish", "russian")  # tantivy's own stop word lists
WORD_RE = re.compile(r"[^\W_]+")  # words: letters and digits, as network.search.documents.WORD_RE
TOKEN_RE = re.compile(r'(?P<sign>[-!+])?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
MAX_CLAUSES = 24
Item = tuple[str, tuple[str, ...]]  # ("term" | "prefix" | "phrase", words)


@dataclass
class Clause:
    items: list[Item]  # alternatives (OR)
    occur: str = "should"  # should (optional, ranked), must (required) or not (excluded)
    free: bool = True  # a bare typed word: dropped when it is a stop word


def parse(text: str, is_stop: Callable[[str], bool] = lambda _word: False) -> list[Clause]:
    """The search box's language, as the project is moving to (network/search/query.py, parsed here on its own
    so that the reference does not follow that file's changes): bare words are optional (ANY-WORD, ranked),
    "+word", quoted phrases and "a AND b" required, "-word" / "NOT word" excluded, "a OR b" one clause,
    "word*" a prefix; bare stop words are dropped unless nothing else was typed. Never raises."""
    clauses: list[Clause] = []
    pending_or = pending_and = pending_not = False
    for match in TOKEN_RE.finditer((text or "")[:1000]):
        raw, sign = match.group("word"), match.group("sign") or ""
        if raw is not None:
            if raw in ("OR", "|", "||"):
                pending_or = bool(clauses)
                continue
            if raw in ("AND", "&", "&&"):
                if clauses and clauses[-1].occur == "should":
                    clauses[-1].occur = "must"
                pending_and = bool(clauses)
                continue
            if raw == "NOT":
                pending_not = True
                continue
            if raw[0] in "-!+" and len(raw) > 1:
                sign, raw = raw[0], raw[1:]
            words = tuple(WORD_RE.findall(raw))
            prefix = raw.endswith("*") and len(words) == 1
            kind = "prefix" if prefix else "term" if len(words) == 1 else "phrase"
            occur = "must" if sign == "+" or pending_and else "should"
            free = kind == "term" and not (sign or pending_not or pending_and or pending_or)
        else:
            words = tuple(WORD_RE.findall(match.group("phrase")))
            kind, occur, free = ("term" if len(words) == 1 else "phrase"), "must", False
        if not words:
            continue
        if sign in ("-", "!") or pending_not:
            occur = "not"
        last = clauses[-1] if clauses else None
        if pending_or and last is not None and occur != "not" and last.occur != "not":
            last.items.append((kind, words))
            last.free = False
        else:
            clauses.append(Clause([(kind, words)], occur, free))
        pending_or = pending_and = pending_not = False
        if len(clauses) >= MAX_CLAUSES:
            break
    kept = [c for c in clauses if not (c.free and c.occur == "should" and is_stop(c.items[0][1][0]))]
    return kept if any(c.occur != "not" for c in kept) else clauses


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("tantivy")
    except PackageNotFoundError:
        return str(getattr(tantivy, "__version__", "?"))


def field(group: str, kind: str) -> str:
    return f"{group}_{kind}"


def make_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("cid", indexed=True, fast=True)  # indexed: updates replace by case id
    builder.add_unsigned_field("filed", fast=True)  # yyyymmdd, 0 when unknown: newest first
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_text_field("status", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("visibility", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("facets", tokenizer_name="raw", index_option="basic", fast=True)
    for group in FIELD_GROUPS:
        for kind, tokenizer in KINDS.items():
            builder.add_text_field(field(group, kind), tokenizer_name=tokenizer)  # freqs and positions
    return builder.build()


def folded_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


def stemmed_analyzer() -> tantivy.TextAnalyzer:
    """What tantivy registers as "en_stem", rebuilt to analyse query words the way the field was analysed."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("english")).build())


def stop_analyzer(language: str) -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword(language)).build())


def boosted(query: tantivy.Query, weight: float) -> tantivy.Query:
    return query if weight == 1.0 else tantivy.Query.boost_query(query, weight)


def constant(query: tantivy.Query) -> tantivy.Query:
    """A restriction that adds nothing to the score."""
    return tantivy.Query.const_score_query(query, 0.0)


def any_of(queries: list[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    return queries[0] if len(queries) == 1 else tantivy.Query.boolean_query([(SHOULD, q) for q in queries])


class TantivyReference:
    """The reference engine, driven like a SearchBackend by the benchmark: rebuild, index (replace by id), search."""

    name = "tantivy"

    def __init__(self, path: str | os.PathLike, any_word: bool = True) -> None:
        """`any_word` False: every positive clause is required (the project's engines up to commit 7037f0c), for
        cross-checks against them only: the benchmark runs with ANY-WORD."""
        self.path = Path(path)
        self.any_word = any_word
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = make_schema()
        self.index_ = tantivy.Index(self.schema, path=str(self.path))
        self.index_.register_tokenizer(FOLDED, folded_analyzer())
        self.analyzers = {"stem": stemmed_analyzer(), "raw": folded_analyzer()}
        stop_lists = [stop_analyzer(language) for language in STOP_LANGUAGES]
        self.stop_words = lambda word: any(not analyzer.analyze(word) for analyzer in stop_lists)

    # ------------------------------------------------------------ writing

    @staticmethod
    def document(doc: SearchDocument) -> tantivy.Document:
        out = tantivy.Document()
        out.add_unsigned("cid", doc.id)
        out.add_unsigned("filed", int(doc.when.strftime("%Y%m%d")) if doc.when else 0)
        out.add_integer("year", doc.year or 0)
        out.add_text("status", doc.status)
        out.add_text("visibility", doc.visibility)
        for token in doc.facets:
            out.add_text("facets", token)
        for version in doc.versions:
            for group in FIELD_GROUPS:
                text = version.text(group)
                if text:
                    for kind in KINDS:
                        out.add_text(field(group, kind), text)
        return out

    def _write(self, docs: Iterable[SearchDocument], *, replace_all: bool,
               progress: Callable[[int], None] | None = None) -> int:
        writer = self.index_.writer(heap_size=WRITER_HEAP_BYTES, num_threads=INDEX_THREADS)
        n = 0
        try:
            if replace_all:
                writer.delete_all_documents()
            for doc in docs:
                if not replace_all:
                    writer.delete_documents_by_term("cid", doc.id)
                writer.add_document(self.document(doc))
                n += 1
                if progress:
                    progress(1)
        except BaseException:
            writer.rollback()
            raise
        writer.commit()  # readers see the old documents until here
        writer.wait_merging_threads()
        self.index_.reload()
        return n

    def rebuild(self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        return self._write(docs, replace_all=True, progress=progress)

    def index(self, docs: Iterable[SearchDocument]) -> int:
        return self._write(docs, replace_all=False)

    def count(self) -> int:
        return self.index_.searcher().num_docs

    # ------------------------------------------------------------ compiling queries

    def _words(self, kind: str, text: str, group: str) -> tantivy.Query | None:
        tokens = self.analyzers[kind].analyze(text)
        if not tokens:
            return None
        name = field(group, kind)
        if len(tokens) == 1:
            query = tantivy.Query.term_query(self.schema, name, tokens[0])
        else:
            query = tantivy.Query.phrase_query(self.schema, name, tokens)
        return boosted(query, WEIGHTS[group])

    def _text(self, text: str) -> tantivy.Query:
        """A word or phrase in the stem and raw field of every group: the scores of the fields it is in add up."""
        found = [self._words(kind, text, group) for group in FIELD_GROUPS for kind in KINDS]
        return any_of([q for q in found if q is not None])

    def _prefix(self, word: str) -> tantivy.Query:
        tokens = self.analyzers["raw"].analyze(word)
        if len(tokens) != 1:
            return self._text(word)
        pattern = re.escape(tokens[0]) + ".*"
        return any_of([boosted(tantivy.Query.regex_query(self.schema, field(group, "raw"), pattern), WEIGHTS[group])
                       for group in FIELD_GROUPS])

    def item(self, item: Item) -> tantivy.Query:
        kind, words = item
        if kind == "prefix":
            return self._prefix(words[0])
        return self._text(" ".join(words))  # a term, or a phrase (a phrase query in each field)

    def positive(self, clauses: list[Clause]) -> tantivy.Query | None:
        """What a case must satisfy among the positive clauses: every required one and, when none is, any optional
        one (ANY-WORD); the optional ones are scored either way. None when there is no positive clause."""
        alternatives = [(clause.occur, any_of([self.item(i) for i in clause.items]))
                        for clause in clauses if clause.occur != "not"]
        if not self.any_word:
            alternatives = [("must", query) for _occur, query in alternatives]
        if not alternatives:
            return None
        if len(alternatives) == 1:
            return alternatives[0][1]
        if not any(occur == "must" for occur, _query in alternatives):
            return any_of([query for _occur, query in alternatives])
        return tantivy.Query.boolean_query([(MUST if occur == "must" else SHOULD, query)
                                            for occur, query in alternatives])

    def negatives(self, clauses: list[Clause]) -> list[tantivy.Query]:
        return [any_of([self.item(i) for i in clause.items]) for clause in clauses if clause.occur == "not"]

    def restriction(self, filters: Mapping[str, Iterable[str]], viewer: Viewer) -> list[tantivy.Query]:
        """Scope (published; public unless vetted) and filters, as constant-score MUST clauses."""
        parts = [tantivy.Query.term_query(self.schema, "status", "published")]
        if not viewer.vetted:
            parts.append(tantivy.Query.term_query(self.schema, "visibility", "public"))
        for kind in ENGINE_FILTERS:
            codes = [f"{kind}:{code}" for code in filters.get(kind) or ()]
            if codes:
                parts.append(tantivy.Query.term_set_query(self.schema, "facets", codes))
        low = next(iter(filters.get("year_from") or ()), None)
        high = next(iter(filters.get("year_to") or ()), None)
        if low or high:
            parts.append(tantivy.Query.range_query(self.schema, "year", tantivy.FieldType.Integer,
                                                   int(low) if low else None, int(high) if high else None))
        return [constant(part) for part in parts]

    # ------------------------------------------------------------ reading

    def search(self, query: str, filters: Mapping[str, Iterable[str]] | None = None,
               facets: Iterable[str] = (), page: tuple[int, int] | None = None, viewer: Viewer = ANONYMOUS,
               sort: str = "relevance") -> SearchHits:
        """The SearchBackend.search contract, with ANY-WORD semantics: the page of `page`, the total and the facet
        counts of `facets` over every match."""
        clauses = parse(query, self.stop_words)
        positive, negatives = self.positive(clauses), self.negatives(clauses)
        parts = [(MUST, q) for q in self.restriction(filters or {}, viewer)]
        if positive is not None:
            parts.append((MUST, positive))
        parts += [(MUST_NOT, q) for q in negatives]
        compiled = tantivy.Query.boolean_query(parts)
        searcher = self.index_.searcher()
        number, size = (max(1, page[0]), max(1, page[1])) if page else (1, 1)
        if positive is not None and sort != "date":  # BM25, best first
            result = searcher.search(compiled, limit=size, offset=(number - 1) * size, count=True)
        else:  # no words (or only words left out): newest first
            result = searcher.search(compiled, limit=size, offset=(number - 1) * size, count=True,
                                     order_by_field="filed", order=tantivy.Order.Desc)
        total = result.count
        page_ids = [int(cid) for cid in searcher.fast_field_values("cid", [a for _k, a in result.hits])] \
            if page and result.hits else []

        def every_id() -> list[int]:
            if not total:
                return []
            hits = searcher.search(compiled, limit=total, count=False).hits
            return [int(cid) for cid in searcher.fast_field_values("cid", [a for _k, a in hits])]

        hits = SearchHits(ids=every_id, total=total, page_ids=page_ids)
        kinds = tuple(facets)
        if kinds:
            hits.facets = self.facet_counts(searcher, compiled, kinds) if total else {kind: {} for kind in kinds}
        return hits

    @staticmethod
    def facet_counts(searcher, compiled: tantivy.Query, kinds: tuple[str, ...]) -> dict[str, dict[str, int]]:
        """One terms aggregation over the facet column of every matching document, split by kind."""
        result = searcher.aggregate(compiled, {"facets": {"terms": {"field": "facets", "size": FACET_TERMS}}})
        out: dict[str, dict[str, int]] = {kind: {} for kind in kinds}
        for bucket in result["facets"]["buckets"]:
            kind, _sep, code = str(bucket["key"]).partition(":")
            if kind in out:
                out[kind][code] = int(bucket["doc_count"])
        return {kind: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
                for kind, counts in out.items()}
