"""Controlled vocabularies (a copy of shared/reference/vocabulary.yaml) and the list of States (ISO 3166-1)."""
from __future__ import annotations

import functools
from pathlib import Path

import pycountry
import yaml

VOCABULARY_PATH = Path(__file__).resolve().parent.parent / "reference" / "vocabulary.yaml"

PRACTITIONER_TYPE_LABELS = {
    "central_authority_officer": "Officer of a central authority",
    "prosecutor": "Prosecutor",
    "judge": "Judge",
    "liaison_magistrate": "Liaison magistrate",
    "law_enforcement_officer": "Law enforcement officer",
    "ministry_official": "Ministry official",
    "other": "Other",
}


@functools.cache
def vocabulary() -> dict:
    with VOCABULARY_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def states() -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 entry as (alpha-3 code, common name), sorted by name."""
    entries = [(c.alpha_3, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    return tuple(sorted(entries, key=lambda entry: entry[1]))


def state_name(code: str) -> str:
    return dict(states()).get(code, code)


def practitioner_types() -> list[tuple[str, str]]:
    return [(code, PRACTITIONER_TYPE_LABELS.get(code, code)) for code in vocabulary()["practitioner_types"]]


@functools.cache
def languages() -> tuple[tuple[str, str], ...]:
    """Working languages offered on the application form: the six UN languages first, then the
    other ISO 639-1 languages, by name."""
    un = vocabulary()["un_languages"]
    entries = [(lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")]
    first = sorted((e for e in entries if e[0] in un), key=lambda entry: entry[1])
    rest = sorted((e for e in entries if e[0] not in un), key=lambda entry: entry[1])
    return tuple(first + rest)
