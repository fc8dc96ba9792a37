"""State names and controlled-vocabulary labels in the reader's language (issue 13).

Every page that shows or offers a State or a vocabulary code goes through these functions, so the catalogue facet,
the case page, the directory, the finder and every picker say the same thing: the UN's short name of the State
("Viet Nam", "Türkiye") and the Convention's terminology for the label, in the language the page is served in
(Flask-Babel's locale; English outside a request). The data and its caches are in `network.core.reference`; here
the language is read and the per-language lists (choices, sorted for the reader) are kept, so a page pays one
dictionary look-up per row.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

from network.core.reference import (
    collation_key,
    is_state,
    languages,
    un_language,
    un_state_name,
    un_states,
    vocabulary,
    vocabulary_label,
)

T = TypeVar("T")


@functools.lru_cache(maxsize=64)
def _language_of(locale: object) -> str:
    return un_language(locale)


def reader_language() -> str:
    """The UN language of the page being served ("en", "fr", "ar"...): Flask-Babel's locale (which follows
    `in_language` for e-mails); English outside a request. Asked once per label or State name shown: the locale is
    looked up once per request."""
    from network.core.translations import request_locale

    try:
        locale = request_locale()
    except RuntimeError:  # no application context
        locale = None
    return _language_of(locale) if locale is not None else "en"


def state_label(code: str | None) -> str:
    """The UN short name of a State (or a territory's name) in the reader's language; the code if unknown."""
    return un_state_name(code or "", reader_language()) if code else ""


def state_choices() -> list[tuple[str, str]]:
    """(alpha-3, name) of the 195 States in the reader's language, sorted for that language: what a State picker
    offers (territories are not States)."""
    return list(un_states(reader_language()))


@functools.lru_cache(maxsize=4096)
def _key(name: str, language: str) -> tuple:
    return collation_key(name, language)


def sort_key(name: str) -> tuple:
    """A sort key that orders names as a reader of the page's language expects (kept per name and language)."""
    return _key(name, reader_language())


def sorted_by_name(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """`items` sorted by `name(item)` for the reader's language."""
    language = reader_language()
    return sorted(items, key=lambda item: _key(name(item), language))


def label(kind: str, code: str) -> str:
    """A controlled-vocabulary label (kind: cooperation_forms, crime_types, legal_bases, outcomes, designations,
    channels, roles, practitioner_types, instruments, regions, regional_groups) in the reader's language."""
    return vocabulary_label(kind, code, reader_language())


@functools.cache
def _vocabulary_choices(kind: str, language: str) -> tuple[tuple[str, str], ...]:
    data = vocabulary().get(kind)
    codes = [entry["code"] if isinstance(entry, dict) else entry for entry in data] if isinstance(data, list) else []
    return tuple((code, vocabulary_label(kind, code, language)) for code in codes)


def vocabulary_choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) of a vocabulary in the order of vocabulary.yaml, labels in the reader's language."""
    return list(_vocabulary_choices(kind, reader_language()))


@functools.cache
def _working_languages(language: str) -> tuple[tuple[str, str, dict[str, str]], ...]:
    from babel import Locale

    names = Locale.parse(language).languages
    un = set(vocabulary()["un_languages"])
    entries = [(code, names.get(code) or english, {} if names.get(code) else {"lang": "en"})
               for code, english in languages()]
    return tuple(sorted(entries, key=lambda entry: (entry[0] not in un, _key(entry[1], language))))


def working_language_choices() -> list[tuple[str, str, dict[str, str]]]:
    """(ISO 639-1 code, name, option attributes) of the working languages a form offers (a case's language, an
    applicant's languages): the six UN languages first, then the others, named and sorted in the reader's
    language (Babel's CLDR names); a language CLDR does not name in it keeps its English ISO name, marked
    lang="en" so that it is read (and checked) as English, not as the page's language."""
    return list(_working_languages(reader_language()))


__all__ = ["is_state", "label", "reader_language", "sort_key", "sorted_by_name", "state_choices", "state_label",
           "vocabulary_choices", "working_language_choices"]
