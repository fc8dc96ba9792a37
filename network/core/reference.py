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
        return _rejoined(yaml.safe_load(handle))


def _rejoined(data: dict) -> dict:
    """The shared vocabulary writes a few labels with commas inside YAML flow mappings, unquoted
    (`{code: wildlife_crime, label: Wildlife, forest and fisheries crime}`), which YAML reads as a label "Wildlife"
    plus a key "forest and fisheries crime" with no value. The file is the shared reference and stays as it is:
    put each such text back together with the field it was cut from (the last one written before it)."""
    for entries in data.values():
        if not isinstance(entries, list):
            continue
        for number, entry in enumerate(entries):
            if not isinstance(entry, dict) or None not in entry.values():
                continue
            whole: dict = {}
            last = None
            for key, value in entry.items():
                if value is None and isinstance(key, str) and isinstance(whole.get(last), str):
                    whole[last] = f"{whole[last]}, {key}"
                else:
                    whole[key] = value
                    last = key
            entries[number] = whole
    return data


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


def provision_subject(provision: str, locale: object = None) -> str:
    """The subject of a cited provision: its paragraph's own, else its article's ("18(13)" -> "Designation of a
    central authority", "18(99)" -> "Mutual legal assistance"), "" for an article the vocabulary does not list. In a
    UN language (`untoc_provisions` in vocabulary_labels.yaml: the article titles of the Convention's official
    texts); locale None means the language of the page being served (English outside a request), like the helpers
    of network.core.labels. Search indexes keep English: they read untoc_article_subjects()."""
    subjects = untoc_article_subjects()
    code = provision if provision in subjects else provision.split("(")[0]
    if code not in subjects:
        return ""
    if locale is None:
        from network.core.labels import reader_language  # labels imports this module

        locale = reader_language()
    labels = _vocabulary_labels().get("untoc_provisions", {}).get(code) or {}
    return labels.get(un_language(locale)) or subjects[code]


# --- The six UN languages as data (issue 13): State names as the UN writes them, vocabulary labels. ---
# Only lookups live here; pages read them through network.core.labels, which adds the page's language
# (state_name()/states() keep their ISO behaviour for the search indexes and stored titles that use them).

UN_LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
UN_STATES_PATH = Path(__file__).resolve().parent.parent / "reference" / "un_states.csv"
TERRITORIES_PATH = Path(__file__).resolve().parent.parent / "reference" / "territories.csv"
VOCABULARY_LABELS_PATH = Path(__file__).resolve().parent.parent / "reference" / "vocabulary_labels.yaml"


def un_language(locale: object) -> str:
    """The UN language of a locale ("fr_CA", "zh-Hans-CN", a Babel Locale...): its language part if it is one
    of the six, else "en" (the source language every label has)."""
    language = str(locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in UN_LANGUAGES else "en"


def _read_names(path: Path) -> dict[str, dict[str, str]]:
    import csv

    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return {row["alpha3"]: row for row in rows}


@functools.cache
def _un_states() -> dict[str, dict[str, str]]:
    """alpha-3 -> row of un_states.csv: the 193 Member States and the 2 observer States."""
    return _read_names(UN_STATES_PATH)


@functools.cache
def _territories() -> dict[str, dict[str, str]]:
    """alpha-3 -> row of territories.csv: ISO 3166-1 entries that are not States at the UN."""
    return _read_names(TERRITORIES_PATH)


@functools.cache
def _by_code() -> dict[str, dict[str, str]]:
    """alpha-3 and alpha-2 -> row, States first (a code is in one file only; tests check it)."""
    index: dict[str, dict[str, str]] = {}
    for rows in (_territories(), _un_states()):
        for row in rows.values():
            index[row["alpha3"]] = row
            index[row["alpha2"]] = row
    return index


def un_state_name(code: str, locale: object = "en") -> str:
    """The UN short name of a State ("Viet Nam", "Türkiye", "Iran (Islamic Republic of)") in a UN language, or
    a territory's name, from alpha-3 or alpha-2; the code itself when unknown, so old data still shows something."""
    row = _by_code().get((code or "").strip().upper())
    if row is None:
        return code
    return row[un_language(locale)] or row["en"]


def alpha3(code: str) -> str:
    """The ISO 3166-1 alpha-3 code of an alpha-3 or alpha-2 code in any case ("es", "ESP" -> "ESP"); an unknown
    code upper-cased."""
    code = (code or "").strip().upper()
    row = _by_code().get(code)
    return row["alpha3"] if row is not None else code


def is_state(code: str) -> bool:
    """Whether a code (alpha-3 or alpha-2) names one of the 193 Member States or 2 observer States: what State
    pickers offer. Territories and unknown codes are not States."""
    row = _by_code().get((code or "").strip().upper())
    return row is not None and row["alpha3"] in _un_states()


@functools.cache
def _collator():  # -> pyuca.Collator (imported lazily: only sorting needs it)
    """The Unicode Collation Algorithm with its default table (DUCET): Latin, Cyrillic and Arabic in their
    alphabetical order, accents as secondary differences ("Émirats" among the E). Loaded once (~0.2 s)."""
    import pyuca

    return pyuca.Collator()


_ARABIC_ALEFS = str.maketrans({"\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627"})


def collation_key(name: str, locale: object = "en") -> tuple:
    """A sort key that orders names as a reader of the locale expects.

    Chinese sorts by Hanyu Pinyin (with tones, then the characters), as Chinese dictionaries and indexes do
    (pypinyin; the UN's own Chinese lists follow no alphabet we could reproduce). Arabic sorts as the UN's Arabic
    lists do: the definite article "ال" of the first word is ignored and the alef forms (آ أ إ ا) count as one
    letter. Every other language follows the Unicode Collation Algorithm."""
    language = un_language(locale)
    if language == "zh":
        from pypinyin import Style, lazy_pinyin

        return (tuple(lazy_pinyin(name, style=Style.TONE3)), name)
    key = name
    if language == "ar":
        key = key[2:] if key.startswith("\u0627\u0644") else key
        key = key.translate(_ARABIC_ALEFS)
    return (_collator().sort_key(key), name)


def un_states(locale: object = "en") -> tuple[tuple[str, str], ...]:
    """(alpha-3, UN short name) of the 195 States (193 Member States, Holy See, State of Palestine) in a UN
    language, sorted by that language's collation (see collation_key). Territories are left out: this is what a
    State picker offers."""
    return _sorted_states(un_language(locale))


@functools.cache
def _sorted_states(language: str) -> tuple[tuple[str, str], ...]:
    entries = [(code, row[language]) for code, row in _un_states().items()]
    return tuple(sorted(entries, key=lambda entry: collation_key(entry[1], language)))


@functools.cache
def _vocabulary_labels() -> dict[str, dict[str, dict[str, str]]]:
    with VOCABULARY_LABELS_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def vocabulary_label(kind: str, code: str, locale: object = "en") -> str:
    """The label of a controlled-vocabulary code in a UN language, in the Convention's official terminology
    (vocabulary_labels.yaml): kind is cooperation_forms, crime_types, legal_bases, outcomes, designations,
    channels, roles, practitioner_types, instruments, regions, regional_groups or untoc_provisions ("18",
    "18(13)"; provision_subject() also finds a paragraph's article). Falls back to English, then to
    the code itself, so an unknown code never breaks a page."""
    labels = _vocabulary_labels().get(kind, {}).get(code)
    if not labels:
        return code
    return labels.get(un_language(locale)) or labels.get("en") or code


def language_name(code: str, locale: object = "en") -> str:
    """A language's name in the reader's language, from Babel's CLDR data ("de" -> "German", "allemand",
    "德语"...); a code Babel does not know keeps its ISO 639 name (pycountry), else the code itself."""
    from babel import Locale, UnknownLocaleError

    key = str(code or "").replace("-", "_")
    try:
        name = Locale.parse(str(locale or "en").replace("-", "_")).languages.get(key)
    except (ValueError, UnknownLocaleError):
        name = None
    if name:
        return name
    found = pycountry.languages.get(alpha_2=key) if len(key) == 2 else None
    return found.name if found else str(code)
