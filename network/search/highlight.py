"""Highlighted snippets, the same for both engines: the passage of a case with the most query words, its text
escaped first and only then the matches wrapped in <mark>, so nothing a case contains can become markup."""
from __future__ import annotations

import functools
import hashlib

from markupsafe import Markup, escape

from network.search.documents import CJK_RE, WORD_RE, analysis_language, fold, stemmer
from network.search.query import Node, positive_terms, stop_words

LENGTH = 240
LEAD = 60  # characters shown before the first match


MEMO_LIMIT = 50_000  # answers a matcher remembers (word, language) -> matches


@functools.lru_cache(maxsize=200_000)
def _folded(word: str) -> str:
    return fold(word)


class Matcher:
    """Whether a word of a text in some language matches the query's positive words, prefixes or their stems.
    A page's snippets ask about the same words again and again (and the same query comes back): each answer is
    remembered, and the matcher of a query is shared by the requests that ask it (see matcher_for)."""

    def __init__(self, root: Node | None) -> None:
        words, prefixes = positive_terms(root)
        self._setup(frozenset(words), tuple(sorted(prefixes)))

    def _setup(self, words: frozenset[str], prefixes: tuple[str, ...]) -> None:
        self.prefixes = prefixes
        self.words = (words - stop_words()) or words  # a phrase's small words are found, not highlighted
        self.cjk = {w for w in self.words if CJK_RE.search(w)}  # bigrams: found inside a run of CJK characters
        self._stems: dict[str, set[str]] = {}
        self._answers: dict[tuple[str, str], bool] = {}

    @classmethod
    def of_terms(cls, words: frozenset[str], prefixes: tuple[str, ...]) -> Matcher:
        matcher = cls.__new__(cls)
        matcher._setup(words, prefixes)
        return matcher

    def __bool__(self) -> bool:
        return bool(self.words or self.prefixes)

    def stems(self, lang: str) -> set[str]:
        if lang not in self._stems:
            self._stems[lang] = {stemmer(lang)(w) for w in self.words}
        return self._stems[lang]

    def __call__(self, word: str, lang: str) -> bool:
        key = (word, lang)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._match(_folded(word), lang)
            if len(self._answers) < MEMO_LIMIT:
                self._answers[key] = answer
        return answer

    def _match(self, folded: str, lang: str) -> bool:
        if self.cjk and CJK_RE.search(folded):
            return any(piece in folded for piece in self.cjk)
        return (folded in self.words or any(folded.startswith(p) for p in self.prefixes)
                or stemmer(lang)(folded) in self.stems(lang))


@functools.lru_cache(maxsize=256)
def _shared_matcher(words: frozenset[str], prefixes: tuple[str, ...]) -> Matcher:
    return Matcher.of_terms(words, prefixes)


def matcher_for(root: Node | None) -> Matcher:
    """The matcher of a query, shared by the requests that ask the same words (its answers never change)."""
    words, prefixes = positive_terms(root)
    return _shared_matcher(frozenset(words), tuple(sorted(prefixes)))


def _cut(text: str, length: int) -> Markup:
    text = " ".join(text.split())
    if len(text) <= length:
        return escape(text)
    return escape(text[:length].rsplit(" ", 1)[0].rstrip(",;:.") + "…")


def highlight(text: str, lang: str, matcher: Matcher, length: int = LENGTH) -> tuple[int, Markup]:
    """(number of matches in the passage, the passage with its matches marked); (0, opening) without matches."""
    text = " ".join((text or "").split())
    lang = analysis_language(lang)
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text) if matcher(m.group(), lang)] if matcher else []
    if not spans:
        return 0, _cut(text, length)
    best_start, best_count = 0, 0
    for i, (start, _end) in enumerate(spans):  # the window holding the most matches
        count = sum(1 for s, e in spans[i:] if e - start <= length - LEAD)
        if count > best_count:
            best_start, best_count = i, count
    first = spans[best_start][0]
    begin = max(0, first - LEAD)
    if begin:
        space = text.find(" ", begin, first)
        begin = space + 1 if space != -1 else begin
    end = min(len(text), begin + length)
    if end < len(text):
        space = text.rfind(" ", spans[best_start][1], end)
        end = space if space != -1 else end
    out = Markup("…") if begin else Markup("")
    position = begin
    marked = 0
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        out += escape(text[position:start]) + Markup("<mark>") + escape(text[start:stop]) + Markup("</mark>")
        position = stop
        marked += 1
    out += escape(text[position:end])
    if end < len(text):
        out += Markup("…")
    return marked, out


SNIPPETS_KEPT = 5_000  # per process; a snippet is about 300 bytes
_snippets: dict[tuple, Markup] = {}


def case_snippet(case, root: Node | None, length: int = LENGTH, matcher: Matcher | None = None) -> Markup:
    """The best passage of a case for the query: of its summary, a translation's summary or its lessons.

    A snippet is a pure function of the query's terms and the texts, and a listing asks for the same ones again
    (the next reader of a popular search, the pages of one search): each is kept per process under the terms and
    a digest of the texts, so an edited case gives a new key and never an old snippet. `matcher`: the query's,
    when the caller has it (a page of results shares one)."""
    matcher = matcher if matcher is not None else matcher_for(root)
    if not matcher:
        return _cut(case.summary or "", length)
    texts = [(case.language, case.summary)]
    texts += [(lang, str(t.get("summary") or "")) for lang, t in sorted((case.translations or {}).items())
              if isinstance(t, dict)]
    texts += [(case.language, case.obstacles), (case.language, case.solutions),
              (case.language, case.lessons_learned)]
    digest = hashlib.blake2b(digest_size=20)
    for lang, text in texts:
        digest.update(f"{lang}\x00{len(text or '')}\x00{text or ''}\x00".encode())
    key = (matcher.words, matcher.prefixes, length, digest.digest())
    found = _snippets.get(key)
    if found is None:
        best = (0, _cut(case.summary or "", length))
        for lang, text in texts:
            candidate = highlight(text, lang, matcher, length)
            if candidate[0] > best[0]:
                best = candidate
        found = best[1]
        if len(_snippets) >= SNIPPETS_KEPT:
            _snippets.clear()  # all at once: no iteration that another thread's insertion could break
        _snippets[key] = found
    return found
