"""Case -> search document: plain values (no Flask, no session), one text version per language of the case.

A document carries what the engine needs to apply the reader's permissions inside its query (status,
visibility, submitter, reviewer), the facet tokens for filtering inside the engine, and the text of each
language version (the case's own language and each of its translations) split into weighted fields."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from network.core.reference import vocabulary, vocabulary_labels

# The weighted field groups, heaviest first: title > keywords > summary > obstacles/solutions/lessons.
FIELD_GROUPS = ("title", "keywords", "summary", "body")
WEIGHTS = {"title": 4.0, "keywords": 3.0, "summary": 2.0, "body": 1.0}
# Ranking beyond BM25F, the same in both engines (tuned on the evaluation set's tuning split, catalogue/search/evaluation): a case's score is
# multiplied by (concepts it holds / concepts typed) ** COORDINATION, so holding more of the query's concepts
# outranks holding one rare word many times, and by (1 + PROXIMITY * share of adjacent typed words it holds as a
# phrase), so words close together outrank the same words scattered.
COORDINATION = 0.7  # with the synonym groups weighed as concepts (SYNONYM_BOOST, SYNONYM_RANK), 2.0 over-rewarded
# concepts held literally: tuning split nDCG@10 0.733 -> 0.750 (Whoosh), 0.722 -> 0.735 (PostgreSQL); then 1.0 -> 0.7
# (a question's many words no longer sink a case holding its few key concepts): 0.812 -> 0.820 (Whoosh, questions
# 0.755 -> 0.792), 0.802 -> 0.811 (PostgreSQL, concepts weighed by their full idf; questions 0.716 -> 0.752);
# 0.5: Whoosh 0.820, misspellings lower
PROXIMITY = 0.5
# Languages with a stemmer in both engines; any other language is analysed without stemming ("simple"). Chinese
# (and Japanese and Korean) text has no spaces between words: it is cut into overlapping character bigrams
# (tokens()), the same in documents, queries and both engines, so that a word of two or more characters is found as
# a phrase of bigrams wherever it occurs.
STEMMED_LANGUAGES = ("en", "fr", "es", "ru", "ar")
PG_CONFIGS = {"en": "english", "fr": "french", "es": "spanish", "ru": "russian", "ar": "arabic", "simple": "simple"}
# Words: letters and digits; "_" and every other character separate them (in both engines and the query).
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# Scripts written without spaces between words: CJK ideographs, kana, Hangul.
CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff]+")
MAX_FIELD_CHARS = 100_000


FOLDING_KEPT = 65_536  # characters fold() keeps worked out (a few MB); any further one is worked out each time


class _Folding(dict):
    """fold()'s table for str.translate: each character folded on its own (case folded, decomposed by NFKD, its
    combining marks dropped), worked out the first time it is met and kept, up to FOLDING_KEPT characters (a text of
    a hundred thousand distinct characters, as anybody may send, would otherwise grow every process by a hundred
    MB). Folding each character alone is folding the text: case folding maps every character by itself, and NFKD
    decomposes every character by itself and then only reorders combining marks, which are dropped. (A loop over the
    characters took a fifth of a reindex's Python.)"""

    def __missing__(self, code: int) -> int | str | None:
        character = chr(code)
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", character.casefold())
                         if not unicodedata.combining(ch))
        value = code if folded == character else (folded or None)
        if len(self) < FOLDING_KEPT:
            self[code] = value
        return value


_FOLDING = _Folding()


def fold(text: str) -> str:
    """Lower case without accents ("Coopération" -> "cooperation"), the same in both engines and the query."""
    if text.isascii():  # (casefold is lower there, and nothing decomposes: most text)
        return text.lower()
    return text.translate(_FOLDING)


def _split_cjk(word: str) -> list[str]:
    """A folded word with its runs of CJK characters cut into overlapping bigrams (a lone character stays whole)."""
    if not CJK_RE.search(word):
        return [word]
    out: list[str] = []
    position = 0
    for match in CJK_RE.finditer(word):
        if match.start() > position:
            out.append(word[position:match.start()])
        run = match.group()
        out += [run] if len(run) < 2 else [run[i:i + 2] for i in range(len(run) - 1)]
        position = match.end()
    if position < len(word):
        out.append(word[position:])
    return out


def tokens(text: str) -> list[str]:
    """The folded words of a text, CJK runs as bigrams: what both engines index and look up."""
    folded = fold(text)
    words = WORD_RE.findall(folded)
    if folded.isascii() or not CJK_RE.search(folded):  # (most text: no word to cut, each word looked at once)
        return words
    return [piece for word in words for piece in _split_cjk(word)]


def segmented(text: str) -> str:
    """tokens() joined by spaces: text an engine's own word splitter cuts exactly as tokens() does."""
    return " ".join(tokens(text))


# Snowball's Spanish and French rules are written for accented words, and the stemmers are given folded ones, so a
# rule whose suffix has an accent never applied: "incautación" kept its suffix while "incautaciones" lost it (Spanish
# step 1 lists "ación" but "aciones"), "première" stemmed to "premier" but "premières" to "premi". Before stemming,
# a suffix that is spelt with an accent wherever it ends a word gets it back (no word of any of the six languages ends
# in "acion", "ucion" or "logia" but Spanish ones, nor in "iere" but French ones), so a word stems alike however it
# was typed; the stem is folded again. Every word meets every
# stemmer (a query word, a thesaurus term), so a suffix shared with another language is left alone: French "-ée"
# ("refusée") restored also turned the English "refugee" into the French stem of "réfugié" (tuning split: Whoosh
# 0.8315 -> 0.8295, PostgreSQL 0.8266 -> 0.8254, "rejected asylum claims" 0.99 -> 0.69). Engines that stem
# themselves (PostgreSQL) are given the words so restored (stemming_input). Russian: folding turns "й" into "и", and
# the adjective endings "-ой" and "-ый" lost to it kept "организованной" (stem "организованно") and "незаконный"
# ("незаконны") apart from "организованная" and "незаконного" ("организова", "незакон"); a word ending in "ои" or
# "ыи" gets its "й" back (no Russian word ends in "ыи"; those in "ои" are plurals of nouns in "-ой", "бои", "герои",
# which stem alike either way). "-ий" needs nothing ("ии" is itself an ending the stemmer removes), and "-ей" is left
# alone ("идеи", "Кореи" end in "еи").
STEMMING_ACCENTS = {
    "es": ((re.compile(r"acion$"), "ación"), (re.compile(r"ucion$"), "ución"), (re.compile(r"logia(s?)$"), r"logía\1")),
    "fr": ((re.compile(r"iere(s?)$"), r"ière\1"),),
    "ru": ((re.compile("([оы])и$"), "\\1й"),),
}


def accented_suffix(word: str, lang: str) -> str:
    """A folded word with the accent of its suffix restored for `lang`'s stemmer ("incautacion" -> "incautación")."""
    for pattern, replacement in STEMMING_ACCENTS.get(lang, ()):
        restored = pattern.sub(replacement, word)
        if restored != word:
            return restored
    return word


def stemming_input(words: str, lang: str) -> str:
    """Folded words separated by spaces as `lang`'s Snowball stemmer needs them (accented_suffix on each word)."""
    if lang not in STEMMING_ACCENTS:
        return words
    return " ".join(accented_suffix(word, lang) for word in words.split(" "))


@functools.cache
def stemmer(lang: str) -> Callable[[str], str]:
    """The Snowball stemmer of an analysed language, cached: Whoosh's for en, fr, es and ru; for Arabic the Snowball
    project's own (the package snowballstemmer), which PostgreSQL's "arabic" configuration also uses (Whoosh's
    Arabic stemmer, ISRI, reduces words to roots and merges unrelated ones: المصادرة "confiscation" with أصدرت
    "issued"). Any other language: the word unchanged."""
    if lang == "ar":
        import snowballstemmer

        stem = snowballstemmer.stemmer("arabic").stemWord
    elif lang in STEMMED_LANGUAGES:
        from whoosh.lang import stemmer_for_language

        stem = stemmer_for_language(lang)
        if lang in STEMMING_ACCENTS:
            snowball = stem

            def stem(word: str) -> str:
                restored = accented_suffix(word, lang)
                return snowball(word) if restored == word else fold(snowball(restored))
    else:
        return str
    return functools.lru_cache(maxsize=200_000)(stem)


def analysis_language(language: str) -> str:
    """The stemming language of a BCP 47 tag: en, fr, es, ru, or "simple"."""
    base = (language or "").split("-")[0].lower()
    return base if base in STEMMED_LANGUAGES else "simple"


@dataclass
class Version:
    """The text of one language version of a case, by field group."""

    language: str  # en, fr, es, ru or simple
    title: str = ""
    keywords: str = ""
    summary: str = ""
    body: str = ""

    def text(self, group: str) -> str:
        return getattr(self, group)[:MAX_FIELD_CHARS]


@dataclass
class SearchDocument:
    """One case as the engines see it. Permission fields mirror catalogue.cases.services.visible_cases."""

    id: int
    status: str = "published"
    visibility: str = "public"
    submitter_id: int | None = None
    reviewer_id: int | None = None
    when: date | None = None
    year: int | None = None
    facets: list[str] = field(default_factory=list)  # "cooperation_form:mla", "year:2019", ...
    versions: list[Version] = field(default_factory=list)

    def words(self) -> set[str]:
        """Every folded word of every version (the vocabulary "did you mean" suggests from)."""
        found: set[str] = set()
        for version in self.versions:
            for group in FIELD_GROUPS:
                found.update(w for w in tokens(version.text(group)) if 2 < len(w) <= 40)
        return found


def _instrument_names() -> dict[str, str]:
    return {str(entry["code"]).casefold(): str(entry["label"]) for entry in vocabulary().get("instruments") or []}


def coded_labels(cooperation_forms=(), crime_types=(), legal_bases=(), other_instruments=()) -> str:
    """The English labels of a case's coded fields, one per line: what "mutual legal assistance", "money
    laundering" or "UNTOC" find (they are indexed at keyword weight, and their synonyms with them). A legal
    basis that is an instrument of the vocabulary also gives the instrument's full name."""
    lines: list[str] = []
    for kind, codes in (("cooperation_forms", cooperation_forms), ("crime_types", crime_types),
                        ("legal_bases", legal_bases)):
        labels = vocabulary_labels(kind)
        lines += [labels.get(code, "") for code in codes or ()]
    instruments = _instrument_names()
    for code in legal_bases or ():
        if code in instruments:
            lines += [code.upper(), instruments[code]]
    lines += [str(name) for name in other_instruments or ()]
    return "\n".join(line for line in lines if line)


def case_document(case) -> SearchDocument:
    """The search document of a catalogue Case (its own language first, then each translation)."""
    body = "\n".join(t for t in (case.obstacles, case.solutions, case.lessons_learned, case.refusal_grounds) if t)
    versions = [Version(analysis_language(case.language), title=case.title or "",
                        keywords="\n".join(case.keywords or []), summary=case.summary or "", body=body)]
    for lang, translation in sorted((case.translations or {}).items()):
        if isinstance(translation, dict):
            versions.append(Version(analysis_language(lang), title=str(translation.get("title") or ""),
                                    summary=str(translation.get("summary") or "")))
    labels = coded_labels(case.cooperation_forms, case.crime_types, case.legal_bases, case.other_instruments)
    if labels:
        versions.append(Version("en", keywords=labels))
    return SearchDocument(
        id=case.id, status=case.status, visibility=case.visibility, submitter_id=case.submitter_id,
        reviewer_id=case.reviewer_id,
        when=case.request_date or case.decision_date or case.completion_date,
        year=case.year,
        facets=sorted({f"{facet.kind}:{facet.code}" for facet in case.facets}
                      | {f"outcome:{case.outcome}", f"language:{case.language}"}),
        versions=versions,
    )
