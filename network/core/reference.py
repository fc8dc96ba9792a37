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


REGIONS_PATH = Path(__file__).resolve().parent.parent / "reference" / "regions.csv"
REGION_CODES = ("africa", "americas", "asia", "europe", "oceania")


@functools.cache
def _regions() -> dict[str, tuple[str, str]]:
    import csv

    with REGIONS_PATH.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return {row["state"]: (row["region"].lower(), row["subregion"]) for row in csv.DictReader(lines)}


def region_of(state: str) -> str:
    """The UN M49 region of a State (africa, americas, asia, europe, oceania), or "" if unknown."""
    return _regions().get(state, ("", ""))[0]


def region_label(code: str) -> str:
    return {"africa": "Africa", "americas": "Americas", "asia": "Asia", "europe": "Europe",
            "oceania": "Oceania"}.get(code, code)


def vocabulary_labels(kind: str) -> dict[str, str]:
    """Code -> English label of a controlled vocabulary (cooperation_forms, crime_types, legal_bases, outcomes,
    channels, designations)."""
    return {entry["code"]: entry["label"] for entry in vocabulary()[kind]}


@functools.cache
def untoc_article_subjects() -> dict[str, str]:
    """"18" -> "Mutual legal assistance", "18(13)" -> "Designation of a central authority", ..."""
    subjects: dict[str, str] = {}
    for entry in vocabulary()["untoc_articles"]:
        subjects[str(entry["article"])] = entry["subject"]
        for para, subject in (entry.get("para") or {}).items():
            subjects[f"{entry['article']}({para})"] = subject
    return subjects


def provision_subject(provision: str) -> str:
    """The subject of a cited provision: its paragraph's own, else its article's."""
    subjects = untoc_article_subjects()
    if provision in subjects:
        return subjects[provision]
    article = provision.split("(")[0]
    return subjects.get(article, "")
