"""Case -> search document: plain values (no Flask, no session), one text version per language of the case.

A document carries what the engine needs to apply the reader's permissions inside its query (status,
visibility, submitter, reviewer), the facet tokens for filtering inside the engine, and the text of each
language version (the case's own language and each of its translations) split into weighted fields."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# The weighted field groups, heaviest first: title > keywords > summary > obstacles/solutions/lessons.
FIELD_GROUPS = ("title", "keywords", "summary", "body")
WEIGHTS = {"title": 4.0, "keywords": 3.0, "summary": 2.0, "body": 1.0}
# Languages with a stemmer in both engines; any other language is analysed without stemming ("simple").
STEMMED_LANGUAGES = ("en", "fr", "es", "ru")
PG_CONFIGS = {"en": "english", "fr": "french", "es": "spanish", "ru": "russian", "simple": "simple"}
WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_FIELD_CHARS = 100_000


def fold(text: str) -> str:
    """Lower case without accents ("Coopération" -> "cooperation"), the same in both engines and the query."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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
                found.update(w for w in WORD_RE.findall(fold(version.text(group))) if 2 < len(w) <= 40)
        return found


def case_document(case) -> SearchDocument:
    """The search document of a catalogue Case (its own language first, then each translation)."""
    body = "\n".join(t for t in (case.obstacles, case.solutions, case.lessons_learned, case.refusal_grounds) if t)
    versions = [Version(analysis_language(case.language), title=case.title or "",
                        keywords="\n".join(case.keywords or []), summary=case.summary or "", body=body)]
    for lang, translation in sorted((case.translations or {}).items()):
        if isinstance(translation, dict):
            versions.append(Version(analysis_language(lang), title=str(translation.get("title") or ""),
                                    summary=str(translation.get("summary") or "")))
    return SearchDocument(
        id=case.id, status=case.status, visibility=case.visibility, submitter_id=case.submitter_id,
        reviewer_id=case.reviewer_id,
        when=case.request_date or case.decision_date or case.completion_date,
        year=case.year,
        facets=sorted({f"{facet.kind}:{facet.code}" for facet in case.facets if facet.kind != "year"}
                      | {f"outcome:{case.outcome}", f"language:{case.language}"}),
        versions=versions,
    )
