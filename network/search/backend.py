"""The SearchBackend interface both engines implement, and what they share: the reader's scope, results,
"did you mean". Backends know nothing of Flask requests: a benchmark builds one from plain SearchDocuments.

What a reader may find is decided inside the engine's query, never by filtering results afterwards: the scope
(Viewer) mirrors catalogue.cases.services.visible_cases exactly (published cases; public ones for anyone,
members-only ones too for vetted members), so a total, a facet count or a suggestion never reveals a case the
reader may not see. Encrypted messages are never indexed: only catalogue cases have documents."""
from __future__ import annotations

import abc
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from network.search.documents import SearchDocument, fold
from network.search.query import Query, parse, without_quotes

SUGGEST_BELOW = 3  # "did you mean" is looked for when a query finds fewer cases than this
SHORT_WORD = 6  # an unknown word shorter than this is corrected only when nothing else typed finds anything
RARE_AT_MOST = 2  # a known word in this few documents the reader may see may still be a typo ...
COMMONER = 10  # ... when a word one letter away is in this many times as many: both are searched
FREQUENCY_CAP = 50  # candidates' frequencies are counted up to this many documents
# Filters the engines apply themselves (facet tokens "kind:code"); year_from / year_to are a range.
ENGINE_FILTERS = ("cooperation_form", "crime_type", "legal_basis", "requesting_state", "requested_state",
                  "region", "provision", "outcome", "language")


@dataclass(frozen=True)
class Viewer:
    """Who searches, as far as visibility goes (built by catalogue.cases.services.search_viewer)."""

    member_id: int | None = None
    vetted: bool = False


ANONYMOUS = Viewer()


class SearchHits:
    """What a search found: every matching case id (in no particular order: ranking is only for what is shown),
    the total, the ids of the page asked for (best first, or newest first when sorted by date), facet counts
    asked for, and a suggestion when few were found. `ids` is read from the engine on first use only."""

    def __init__(self, ids: list[int] | Callable[[], list[int]], total: int, page_ids: list[int] | None = None,
                 facets: dict[str, dict[str, int]] | None = None, suggestion: str | None = None,
                 query: Query | None = None, corrected_from: str | None = None) -> None:
        self._ids = ids
        self.total = total
        self.page_ids = page_ids if page_ids is not None else []
        self.facets = facets if facets is not None else {}
        self.suggestion = suggestion
        self.query = query  # the query searched: the one typed, or its correction
        self.corrected_from = corrected_from  # the text typed, when a correction was searched instead
        # False when the facet counts are estimates from a sample of many matches (PostgreSQL above
        # postgres_backend.EXACT_FACETS): the total stays exact; a page shows such counts as approximate.
        self.facets_exact = True
        # False when the total is an estimate (PostgreSQL above postgres_backend.EXACT_TOTAL matches, as
        # Elasticsearch's track_total_hits): a page shows it as approximate ("about 85,000").
        self.total_exact = True

    @property
    def ids(self) -> list[int]:
        if callable(self._ids):
            self._ids = list(self._ids())
        return self._ids


@dataclass
class Matches:
    """The documents a query and filters select in a reader's scope, unranked: how many, and what the engine
    needs to list their ids or count their facets (Whoosh: a set of document numbers; PostgreSQL: conditions)."""

    total: int
    handle: object = None
    query: Query | None = None
    filters: Mapping[str, Iterable[str]] = field(default_factory=dict)
    viewer: Viewer = field(default_factory=Viewer)
    facets_exact: bool = True  # set by _facet_counts: False when it estimated the counts from a sample
    total_exact: bool = True  # False when the engine estimated the total (PostgreSQL above EXACT_TOTAL matches)


class IndexWriter(abc.ABC):
    """A batch of index changes: applied together when the `writer()` block ends without an error."""

    @abc.abstractmethod
    def index(self, docs: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by id); returns how many."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents; ids not in the index are ignored."""


class SearchBackend(abc.ABC):
    name: str = ""

    # ------------------------------------------------------------ writing

    @abc.abstractmethod
    def writer(self) -> AbstractContextManager[IndexWriter]:
        """Exclusive access for writing (Whoosh: the index's writer lock, with a timeout; PostgreSQL: an
        advisory lock in the current transaction). Changes are applied when the block ends without an error and
        dropped when it raises, so a batch is never half applied."""

    def index(self, docs: Iterable[SearchDocument]) -> int:
        with self.writer() as writer:
            return writer.index(docs)

    def delete(self, ids: Iterable[int]) -> None:
        with self.writer() as writer:
            writer.delete(ids)

    @abc.abstractmethod
    def rebuild(self, docs: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index by `docs` in one step (readers see the old index until it is done)."""

    @abc.abstractmethod
    def count(self) -> int:
        """Documents in the index."""

    # ------------------------------------------------------------ what an answer depends on

    # The data generations (network.core.generations) of the database tables the engine reads: a search's answer
    # kept under them (and generation()) is current while they are unchanged.
    generation_names: tuple[str, ...] = ()

    def generation(self) -> Hashable:
        """What identifies the state of an index kept outside the database (Whoosh: the commit this thread's searcher
        reads, opened or refreshed first), read before a search whose answer is kept under it; () for an index in
        the database (generation_names say which)."""
        return ()

    def with_session(self, session) -> SearchBackend:  # noqa: ARG002 (PostgreSQL uses it)
        """This backend, reading and writing through `session` (PostgreSQL keeps the index and the outbox in
        one transaction); Whoosh has no database session and returns itself."""
        return self

    # ------------------------------------------------------------ reading

    # A facet kind every document holds exactly once (cases: their outcome), so that a search asking for facet
    # counts gets its total from the same pass; None: the total is counted by _select.
    total_facet: str | None = None

    @abc.abstractmethod
    def _select(self, query: Query, filters: Mapping[str, Iterable[str]], viewer: Viewer, count: bool = True) \
            -> Matches:
        """The documents in the viewer's scope matching the query and filters, unscored (the engine's index
        only: Whoosh without a scorer, PostgreSQL `document @@ query` on the GIN index, no ts_rank). Without
        `count` the total may be left 0 (the caller counts through total_facet)."""

    @abc.abstractmethod
    def _ids(self, matches: Matches) -> list[int]:
        """Every case id of `matches`, in no particular order."""

    @abc.abstractmethod
    def _top(self, matches: Matches, sort: str, limit: int | None) -> list[int]:
        """The first `limit` ids of `matches` (None: all) by relevance, or newest first when `sort` is "date"
        or there are no words: only these are ranked."""

    @abc.abstractmethod
    def _facet_counts(self, matches: Matches, kinds: Iterable[str]) -> dict[str, dict[str, int]]:
        """Facet kind -> {code: count} over `matches`, most frequent first."""

    @abc.abstractmethod
    def _has_word(self, word: str) -> bool:
        """Whether a folded word occurs anywhere in the index (one lookup: the cheap gate of a correction)."""

    @abc.abstractmethod
    def _candidates(self, word: str) -> Iterator[str]:
        """Indexed words that could be what `word` was meant to be (the engine's cheap pre-selection)."""

    def _matches(self, query: Query, filters: Mapping[str, Iterable[str]], viewer: Viewer, sort: str) \
            -> list[int]:
        """Every id in the viewer's scope matching the query and filters, in `sort` order (all ranked)."""
        return self._top(self._select(query, filters, viewer), sort, None)

    def search(self, query: str | Query, filters: Mapping[str, Iterable[str]] | None = None,
               facets: Iterable[str] = (), page: tuple[int, int] | None = None, viewer: Viewer = ANONYMOUS,
               sort: str = "relevance", suggest: bool = True, correct: bool = False) -> SearchHits:
        """Cases in the viewer's scope matching the query (the search box's language) and the filters
        (facet kind -> codes, OR-ed within a kind, AND-ed across kinds; year_from / year_to as a range).
        `page` is (number, size), 1-based: only that page is ranked; `facets` names the facet kinds to count
        over the matches. `ids` lists every match, unranked, when read. With `correct`, typed words that find
        nothing the viewer may see are replaced by their correction first (`corrected_from` then says what was
        typed), and no "did you mean" is offered."""
        parsed = query if isinstance(query, Query) else parse(query)
        typed = None
        if correct and parsed:
            fixed = self.correction(parsed, filters or {}, viewer)
            if fixed is not None:
                typed, parsed = parsed.text, fixed
                suggest = False
        kinds = tuple(facets)
        counted = None
        if kinds and self.total_facet:  # one pass counts the facets and, by a facet every document has once, all
            matches = self._select(parsed, filters or {}, viewer, count=False)
            counted = self._facet_counts(matches, (*kinds, self.total_facet))
            # an engine that counted the matches in that pass set the total (exact even when the facets are not)
            matches.total = matches.total or sum(counted.get(self.total_facet, {}).values())
        else:
            matches = self._select(parsed, filters or {}, viewer)
        hits = SearchHits(ids=lambda: self._ids(matches), total=matches.total, query=parsed, corrected_from=typed)
        if page is not None and matches.total:
            number, size = max(1, page[0]), max(1, page[1])
            if (number - 1) * size < matches.total:
                hits.page_ids = self._top(matches, sort, number * size)[(number - 1) * size: number * size]
        if counted is not None:
            hits.facets = {kind: counted.get(kind, {}) for kind in kinds}
        elif kinds:
            hits.facets = self._facet_counts(matches, kinds) if matches.total else {kind: {} for kind in kinds}
        hits.facets_exact = matches.facets_exact
        hits.total_exact = matches.total_exact
        if suggest and parsed and matches.total < SUGGEST_BELOW:
            hits.suggestion = self.suggestion(parsed, filters or {}, viewer, found=matches.total)
        return hits

    def reading(self) -> AbstractContextManager[None]:
        """A block of searches for one reader's request: an engine may share per-statement work across them
        (PostgreSQL: its planner setting, word lookups). Nothing is kept beyond the block."""
        return nullcontext()

    def ranked(self, query: str | Query, filters: Mapping[str, Iterable[str]] | None = None,
               viewer: Viewer = ANONYMOUS, limit: int | None = None, sort: str = "relevance") -> list[int]:
        """The first `limit` matching ids (None: every one), best first; only those are ranked."""
        parsed = query if isinstance(query, Query) else parse(query)
        return self._top(self._select(parsed, filters or {}, viewer), sort, limit)

    def ids(self, query: str | Query, viewer: Viewer = ANONYMOUS) -> list[int]:
        """Every case id in the viewer's scope matching the query, best first."""
        return self.ranked(query, viewer=viewer)

    # ------------------------------------------------------------ did you mean

    def _finds_nothing(self, word: str, viewer: Viewer) -> bool:
        """Whether a folded typed word (with its synonyms and stems) finds no document the viewer may see. A word
        the index holds is taken to find something (one lookup, not a search, for every typed word of every
        search); should it be only in cases the viewer may not see, it is left uncorrected, which reveals nothing."""
        if self._has_word(word):
            return False
        single = parse(word)
        return not single or self._select(single, {}, viewer).total == 0

    def _count(self, word: str, viewer: Viewer, limit: int) -> int:
        """How many documents the viewer may see hold a folded word as written (unstemmed), counted up to `limit`
        (PostgreSQL stops reading there: never a full count)."""
        single = parse(word, synonyms=False)
        return min(self._select(single, {}, viewer).total, limit) if single else 0

    def _by_frequency(self, word: str, viewer: Viewer, candidates: Iterable[str]) -> list[str]:
        """The closest candidates first (at most five); among equally close ones, those that only add the letters
        the typed word lacks first (a letter left out is the commonest typo: "nationls" is "nationals" rather than
        "nations"), then the more frequent in the viewer's scope (engines list candidates in no useful order)."""
        closest = _closest_first(word, candidates)[:5]
        if len(closest) < 2:
            return closest
        limit = 1 if len(word) < 6 else 2
        distance = {c: edit_distance(word, c, limit) for c in closest}
        counts = {c: self._count(c, viewer, FREQUENCY_CAP) for c in closest}
        return sorted(closest, key=lambda c: (distance[c], not _omits(word, c), -counts[c]))

    def _corrected_text(self, query: Query, viewer: Viewer) -> str | None:
        """The typed text with each word that finds nothing the viewer may see replaced by the closest indexed
        word that finds something they may see (so a correction never names a word of a case they cannot see);
        a short word (under SHORT_WORD letters: many words are one letter apart) only when nothing else typed
        finds anything. A word found in very few documents (RARE_AT_MOST) next to a word one letter away found
        in COMMONER times as many is likely a typo too, as cases have them ("extradtion"): both are searched
        ("extradtion OR extradition"), or the correction alone when it completes a thesaurus term. A rare word
        longer than the common one stays as typed: "statues" is no misspelt "states"."""
        import re

        text, changed = query.text, False
        rare: list[tuple[str, str, str]] = []  # (pattern, typed word, its commoner neighbour)
        words = query.plain_words[:8]
        unknown = {word: self._finds_nothing(fold(word), viewer) for word in words
                   if len(fold(word)) >= 4 and not fold(word).isdigit()}
        others_find = len(query.concepts) > len(query.plain_words) or any(
            not unknown.get(word, False) for word in query.plain_words)
        for word in words:
            folded = fold(word)
            if word not in unknown:
                continue
            pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
            if unknown[word]:
                if len(folded) < SHORT_WORD and others_find:
                    continue
                for candidate in self._by_frequency(folded, viewer, self._candidates(folded)):
                    if not self._finds_nothing(candidate, viewer):
                        text = re.sub(pattern, candidate, text)
                        changed = True
                        break
                continue
            if len(folded) < SHORT_WORD:
                continue
            typed = self._count(folded, viewer, RARE_AT_MOST + 1)
            if not typed or typed > RARE_AT_MOST:
                continue
            wanted = COMMONER * typed
            for candidate in [c for c in _closest_first(folded, self._candidates(folded))
                              if len(c) >= len(folded) and edit_distance(folded, c, 1) == 1][:5]:
                if self._count(candidate, viewer, wanted) >= wanted:
                    rare.append((pattern, word, candidate))
                    break
        for pattern, word, candidate in rare:  # once every unknown word is corrected
            both = re.sub(pattern, f"{word} OR {candidate}", text)
            replaced = re.sub(pattern, candidate, text)
            # the correction completing a thesaurus term ("extradition of nationals") is that term
            text = replaced if len(parse(replaced).concepts) < len(parse(both).concepts) else both
            changed = True
        return " ".join(text.split()) if changed else None

    def correction(self, query: Query, filters: Mapping[str, Iterable[str]], viewer: Viewer) -> Query | None:
        """The query with its misspelt words corrected ("confiscaton" -> "confiscation"), searched instead of
        the one typed; None when every word finds something, or nothing closer does. A quoted phrase that finds
        nothing (with the rest of the query) gives way to its words, optional and ranked closer together first."""
        text = self._corrected_text(query, viewer)
        corrected = parse(text) if text is not None else None
        if corrected and self._select(corrected, filters, viewer).total:
            return corrected
        loose = without_quotes(text if text is not None else query.text)
        if loose is None or self._select(query, filters, viewer).total:
            return None
        unquoted = parse(loose)
        return unquoted if unquoted and self._select(unquoted, filters, viewer).total else None

    def suggestion(self, query: Query, filters: Mapping[str, Iterable[str]], viewer: Viewer, found: int) \
            -> str | None:
        """"Did you mean": the corrected query, offered only when it finds more cases in the viewer's scope than
        the query did (when a reader asked for exactly what they typed)."""
        text = self._corrected_text(query, viewer)
        if text is None or self._select(parse(text), filters, viewer).total <= found:
            return None
        return text


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """The Damerau-Levenshtein distance in its restricted form (optimal string alignment: an adjacent transposition
    counts one, the commonest typo after a letter left out), or `limit` + 1 when it is above `limit`. RapidFuzz's,
    in C: the Python loop it replaces (the same distance, tests/test_search_edit_distance.py) took 7 ms for the 556
    candidates of "laundring" at 100,000 cases, twice in a correction."""
    return OSA.distance(a, b, score_cutoff=limit)


def _omits(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with letters left out (its letters appear in `word`, in order)."""
    letters = iter(word)
    return len(typed) < len(word) and all(ch in letters for ch in typed)


def _closest_first(word: str, candidates: Iterable[str]) -> list[str]:
    """Candidates within the edit distance a word of that length allows (1 below 6 letters, else 2), closest
    first; among equals, in the engine's order (Whoosh: the more frequent first)."""
    limit = 1 if len(word) < 6 else 2
    scored = [(edit_distance(word, candidate, limit), i, candidate)
              for i, candidate in enumerate(dict.fromkeys(candidates)) if candidate != word]
    return [candidate for distance, _i, candidate in sorted(scored) if distance <= limit]

