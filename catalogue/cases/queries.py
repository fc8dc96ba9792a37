"""Filtering, facet counts, sorting and paging of catalogue cases: one implementation for the page, exports and API.

Every query starts from services.visible_cases(member), the one visibility filter. Filters follow the
GET /api/v1/cases contract (shared/ARCHITECTURE.md): a filter may repeat, values of one filter are OR-ed,
different filters AND-ed; facet counts are computed over the results of every filter except the facet's own,
so a reader can widen a choice.

Full-text search: `q` (the search box's query language, network/search/query.py) goes to the search backend
(Whoosh or PostgreSQL full-text search), which applies the reader's visibility inside its own query and gives
the ids of every matching case (unranked). Those ids are one more condition here, so filters and facet counts
stay this module's exact SQL; sorting by relevance asks the engine to rank only the first pages' worth.

A listing's facet counts and the engine's answer to a search by relevance are kept per process under the request and
the data generations they were computed at (_answers, network/core/generations.py): a repeated request reads its rows
with the current generations and skips the counting, or the engine, when they have not changed."""
from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from catalogue.cases import search as search
from catalogue.cases.models import Case, CaseFacet
from catalogue.cases.services import _vetted, search_viewer, visible_cases, visible_to
from network.core.db import db, kept_options
from network.core.generations import (
    CATALOGUE,
    KeptAnswers,
    generation_column,
    generation_columns,
    read_generations,
)
from network.core.reference import alpha3, vocabulary_labels
from network.members.models import Member
from network.search.backend import SUGGEST_BELOW
from network.search.documents import fold
from network.search.query import Query, parse

# Filter name -> CaseFacet kind (the list-like fields, derived on every save).
FACET_FILTERS = {
    "cooperation_form": "cooperation_form",
    "crime_type": "crime_type",
    "legal_basis": "legal_basis",
    "requesting_state": "requesting_state",
    "requested_state": "requested_state",
    "region": "region",
    "provision": "provision",  # an article or a paragraph also finds its paragraphs and points ("18" -> "18(13)(a)")
    "language": "language",  # a language the case can be read in: its own or a translation's
}
# Filter name -> Case column.
COLUMN_FILTERS = {"outcome": Case.outcome}
RANGE_FILTERS = ("year_from", "year_to")
FILTERS = (*FACET_FILTERS, *COLUMN_FILTERS, *RANGE_FILTERS)
# The facets counted for every result list (the API contract's, plus language for the page's select).
FACETS = ("cooperation_form", "crime_type", "requesting_state", "requested_state", "region", "legal_basis",
          "outcome", "year", "language")
SORTS = ("date", "title", "relevance")
MAX_PER_PAGE = 100
MAX_VALUES = 50  # values per filter: more is not a reader choosing, and keeps the SQL small


class QueryError(ValueError):
    """A filter value that cannot be understood (the API answers 400)."""


@dataclass(frozen=True)
class Filters:
    """Parsed filters: name -> values (only filters given), and the text query."""

    values: Mapping[str, tuple[str, ...]]
    q: str = ""
    verbatim: bool = False  # search the words exactly as typed: no automatic correction

    def get(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())

    def __bool__(self) -> bool:
        return bool(self.values or self.q)


def parse_filters(args: Mapping[str, list[str]], *, strict: bool = False) -> Filters:
    """Filters from a query string (name -> list of values, e.g. request.args.to_dict(flat=False)).
    Empty values are ignored; the others are spelt as the catalogue stores them (normal_value). A year that is not a
    number raises QueryError when strict, else is ignored."""
    values: dict[str, tuple[str, ...]] = {}
    for name in FILTERS:
        given = [str(v).replace("\x00", "").strip()[:100] for v in (args.get(name) or [])]
        given = [v for v in given if v]
        if name in RANGE_FILTERS:
            years = []
            for value in given[:1]:
                if value.isdigit() and 1 <= int(value) <= 9999:
                    years.append(str(int(value)))
                elif strict:
                    raise QueryError(f"{name}: {value!r} is not a year")
            given = years
        else:
            given = [normal_value(name, v) for v in given]
        if given:
            values[name] = tuple(dict.fromkeys(given[:MAX_VALUES]))
    q = " ".join(str(v).replace("\x00", " ") for v in (args.get("q") or []) if str(v).strip())[:500].strip()
    verbatim = str((args.get("verbatim") or [""])[0]).strip().lower() in ("1", "true", "yes", "on")
    return Filters(values, q, verbatim)


# Coded filters -> their vocabulary (shared/reference/vocabulary.yaml): codes are lower case with underscores.
CODED_FILTERS = {"cooperation_form": "cooperation_forms", "crime_type": "crime_types", "legal_basis": "legal_bases",
                 "outcome": "outcomes"}
_SEPARATORS = re.compile(r"[\s_-]+")


@functools.cache
def _codes_by_spelling(kind: str) -> dict[str, str]:
    """A vocabulary's codes under the spellings a person or an API client may give: the code or its English label in
    any case, words separated by spaces, hyphens or underscores ("Partially granted", "MONEY-LAUNDERING", "MLA")."""
    spellings: dict[str, str] = {}
    for code, text in vocabulary_labels(kind).items():
        spellings[_SEPARATORS.sub("_", text.casefold())] = code
    for code in vocabulary_labels(kind):
        spellings[_SEPARATORS.sub("_", code.casefold())] = code
    return spellings


def normal_value(name: str, value: str) -> str:
    """A filter value as the catalogue stores it, whatever its case: a State's alpha-3 code (an alpha-2 code too),
    a vocabulary's code (or its English label), a region in lower case, a language tag's first part in lower case,
    a provision without spaces. A value it cannot place is kept (it then selects nothing). The listing's filters
    were compared as typed (but States upper-cased): "FR", "Refused" or "MLA" found no case, on every path."""
    value = value.strip()
    if name in ("requesting_state", "requested_state"):
        return alpha3(value)
    if name == "provision":
        return value.replace(" ", "")
    if name == "region":
        return value.lower()
    if name == "language":
        first, dash, rest = value.partition("-")
        return first.lower() + dash + rest
    if name in CODED_FILTERS:
        return _codes_by_spelling(CODED_FILTERS[name]).get(_SEPARATORS.sub("_", value.casefold()), value)
    return value


# ---------------------------------------------------------------- conditions

def _facet_condition(kind: str, codes: tuple[str, ...]) -> ColumnElement[bool]:
    return Case.id.in_(select(CaseFacet.case_id).where(CaseFacet.kind == kind, CaseFacet.code.in_(codes)))


def _year_condition(year_from: str | None, year_to: str | None) -> ColumnElement[bool]:
    """On the derived "year" facet; years compare as zero-padded strings, so no cast can fail on other rows."""
    parts = [CaseFacet.kind == "year"]
    if year_from:
        parts.append(CaseFacet.code >= f"{int(year_from):04d}")
    if year_to:
        parts.append(CaseFacet.code <= f"{int(year_to):04d}")
    return Case.id.in_(select(CaseFacet.case_id).where(*parts))


def _ids_condition(ids: list[int]) -> ColumnElement[bool]:
    """Case.id among the search engine's ids (whole numbers, rendered inline: no limit on bound parameters)."""
    if not ids:
        return false()
    return Case.id.in_(bindparam(None, [int(i) for i in ids], expanding=True, literal_execute=True))


def _conditions(filters: Filters, *, leave_out: str | None = None, text_ids: list[int] | None = None) \
        -> list[ColumnElement[bool]]:
    """One condition per filter (OR within it), except the one named `leave_out` (a facet counting itself);
    `text_ids` are the cases the text query found (None: no text query)."""
    conditions = []
    if text_ids is not None:
        conditions.append(_ids_condition(text_ids))
    for name, kind in FACET_FILTERS.items():
        if filters.get(name) and name != leave_out:
            conditions.append(_facet_condition(kind, filters.get(name)))
    for name, column in COLUMN_FILTERS.items():
        if filters.get(name) and name != leave_out:
            conditions.append(column.in_(filters.get(name)))
    if leave_out != "year" and (filters.get("year_from") or filters.get("year_to")):
        conditions.append(_year_condition(next(iter(filters.get("year_from")), None),
                                          next(iter(filters.get("year_to")), None)))
    return conditions


# ---------------------------------------------------------------- queries

def _ordering(sort: str) -> list:
    when = func.coalesce(Case.request_date, Case.decision_date, Case.completion_date)
    by_date = [when.is_(None), when.desc(), Case.published_at.desc(), Case.id.desc()]
    if sort == "title":
        return [func.lower(Case.title), Case.id]
    return by_date


@dataclass
class TextSearch:
    """The text query of a listing: parsed, and the ids it found in the reader's scope, best first."""

    query: Query  # the query searched: the one typed, or its correction
    ids: list[int] | None  # None: nothing searchable was typed (no text condition)
    corrected_from: str | None = None  # the text typed, when its correction was searched instead


def text_search(member: Member | None, filters: Filters) -> TextSearch | None:
    if not filters.q:
        return None
    with search.reading():
        query, hits = search.find(search_viewer(member), filters.q, correct=not filters.verbatim,
                                  filters=dict(filters.values))
        if hits is None:
            return TextSearch(query, None)
        return TextSearch(query, hits.ids, hits.corrected_from)


def filtered_query(member: Member | None, filters: Filters, sort: str = "date",
                   found: TextSearch | None = None) -> Select:
    """The visible cases matching every filter (a Select of Case), by date or title; relevance order is the
    engine's and is applied by matching_cases / search_cases."""
    found = found if found is not None else text_search(member, filters)
    ids = found.ids if found else None
    return visible_cases(member).where(*_conditions(filters, text_ids=ids)).order_by(*_ordering(sort))


def facet_counts(member: Member | None, filters: Filters, found: TextSearch | None = None) \
        -> dict[str, dict[str, int]]:
    """Facet -> {code: number of cases}, each over the results of every filter but its own, most frequent first."""
    return _facets_and_total(member, filters, found)[0]


def _facets_and_total(member: Member | None, filters: Filters, found: TextSearch | None = None) \
        -> tuple[dict[str, dict[str, int]], int]:
    """(facet_counts, how many cases match every filter), from one statement, a UNION ALL: the facets no filter
    restricts count over the same cases, so one GROUP BY (kind, code) counts those of case_facets and one each the
    columns; a restricted facet counts over the cases of the other filters, in a part of its own. The total is the
    sum of a column facet no filter restricts (every case has one value there, NULL included), or a part of its own
    when both are restricted. A statement's fixed cost (building it, its cache key, on PostgreSQL a round trip) is
    most of what a small count costs: nine statements cost more than one with three parts."""
    counted, total, _generation = _counted_facets(member, filters, found)
    return {name: dict(items) for name, items in counted}, total  # the caller's own dicts


def _counted_facets(member: Member | None, filters: Filters, found: TextSearch | None = None) \
        -> tuple[tuple[tuple[str, tuple[tuple[str, int], ...]], ...], int, int | None]:
    """_facets_and_total's counts as _counted gives them (tuples, kept as they are), the total, and the catalogue's
    generation the statement counted at (None: unknown)."""
    found = found if found is not None else text_search(member, filters)
    text_ids = found.ids if found else None
    if text_ids is None:  # the same statement for every reader of this scope and these filters
        statement = _kept_facet_statement(_vetted(member), _frozen(filters))
    else:
        statement = _facet_statement(_vetted(member), filters, text_ids)
    totalled = _totalled_by(filters)
    rows, generation = [], None
    for row in _rows(statement, kept=text_ids is None).all():
        if row[0] == GENERATION:
            generation = row[2]
        else:
            rows.append(tuple(row))  # plain tuples: a cheap key
    key = (totalled, tuple(rows))
    kept = _kept_facets.get(key)
    if kept is None:
        kept = _counted(*key)
        with _keeping:
            if len(_kept_facets) >= KEPT_FACETS:
                _kept_facets.clear()
            _kept_facets[key] = kept
    return (*kept, generation)


def _rows(statement, parameters: dict | None = None, *, kept: bool = False):
    """The rows of a statement of plain columns (no entity to load), run on the session's connection: without the
    ORM's execution and result layers, about 0.1 ms of CPU a statement (a listing runs one or two); anything pending
    is flushed first, as the session's own execute would. `kept`: a statement built once per process, whose compiled
    form is then found by identity rather than by hashing its cache key (network.core.db.kept_options). Read the
    rows with .all(): iterating the result fetches them one at a time."""
    db.session.flush()
    return db.session.connection().execute(statement, parameters,
                                           execution_options=kept_options(statement) if kept else None)


KEPT_FACETS = 256  # the counts of a few hundred listings' rows (a hundred small tuples each), per process
_kept_facets: dict[tuple, tuple[tuple[tuple[str, tuple[tuple[str, int], ...]], ...], int]] = {}
_keeping = threading.Lock()
_NAMED_AS = {FACET_FILTERS.get(name, name): name for name in FACETS}  # a kind of case_facets -> its facet


def _counted(totalled: str, rows: tuple[tuple[str, str | None, int], ...]) \
        -> tuple[tuple[tuple[str, tuple[tuple[str, int], ...]], ...], int]:
    """The facet statement's rows as ((facet, ((code, count), ...) in the facet's order), ...) and the total: a pure
    function of the rows, so a listing whose rows did not change (most requests) finds it kept rather than sorted
    again."""
    counted: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    total = 0
    for kind, code, count in rows:
        if kind == totalled:
            total += count
        if code:
            counted[_NAMED_AS.get(kind, kind)].append((code, count))
    for name, items in counted.items():
        if name == "year":
            items.sort(key=lambda item: item[0], reverse=True)
        else:
            items.sort(key=lambda item: (-item[1], item[0]))
    return tuple((name, tuple(items)) for name, items in counted.items()), total


TOTAL = "total"  # the part of the facets' statement that counts the cases, when no column facet can
GENERATION = "~generation"  # the part that reads the catalogue's generation, in the counts' own snapshot


def _totalled_by(filters: Filters) -> str:
    """The part of the facets' statement whose counts add up to the cases matching every filter: a column facet
    (one value per case) no filter restricts, else the TOTAL part."""
    return next((name for name in COLUMN_FILTERS if not filters.get(name)), TOTAL)


# Listing statements without a text query, kept per process under the reader's scope and the filters (and the page):
# a statement's building and its cache key (a walk SQLAlchemy remembers on the statement object) cost more than
# running it; the values are in the key, so a kept statement is exactly the one that would be built.
KEPT_STATEMENTS = 256


def _frozen(filters: Filters) -> tuple:
    return tuple(sorted(filters.values.items())), filters.q, filters.verbatim


def _thawed(frozen: tuple) -> Filters:
    values, q, verbatim = frozen
    return Filters(dict(values), q, verbatim)


@functools.lru_cache(maxsize=KEPT_STATEMENTS)
def _kept_facet_statement(vetted: bool, frozen: tuple):
    return _facet_statement(vetted, _thawed(frozen), None)


@functools.lru_cache(maxsize=KEPT_STATEMENTS)
def _kept_listing_page(vetted: bool, frozen: tuple, sort: str, limit: int, offset: int, listing: bool):
    """The page of a listing without a text query (its total comes with the facets), each row followed by the
    catalogue's generation (_listing_rows)."""
    query = visible_to(vetted).where(*_conditions(_thawed(frozen))).order_by(*_ordering(sort))
    return _paged(query, limit, offset, listing).add_columns(generation_column(CATALOGUE).label("generation"))


def _listing_rows(statement: Select, listing: bool) -> tuple[list, int | None]:
    """The cases of a _kept_listing_page statement (whole, or ListedCase for a listing) and the catalogue's
    generation they were read at (None: no row, or no generation)."""
    if listing:
        rows = _rows(statement, kept=True).all()
        return [ListedCase(*row[:-1]) for row in rows], (rows[0][-1] if rows else None)
    rows = db.session.execute(statement).all()
    return [row[0] for row in rows], (rows[0][-1] if rows else None)


def _facet_statement(vetted: bool, filters: Filters, text_ids: list[int] | None):
    """facet_counts' statement."""
    def cases_without(leave_out: str | None) -> Select:
        return visible_to(vetted).where(*_conditions(filters, leave_out=leave_out, text_ids=text_ids)) \
            .with_only_columns(Case.id)

    def restricted(name: str) -> bool:
        return bool(filters.get("year_from") or filters.get("year_to")) if name == "year" else bool(filters.get(name))

    parts = []
    shared = cases_without(None)  # the cases of every filter: what each unrestricted facet counts over
    kinds = [FACET_FILTERS.get(name, name) for name in FACETS if name not in COLUMN_FILTERS and not restricted(name)]
    if kinds:
        parts.append(select(CaseFacet.kind.label("facet"), CaseFacet.code.label("code"), func.count().label("n"))
                     .where(CaseFacet.kind.in_(kinds), CaseFacet.case_id.in_(shared))
                     .group_by(CaseFacet.kind, CaseFacet.code))
    for name in FACETS:
        named = literal_column(f"'{name}'").label("facet")  # a name of FACETS, never a reader's text
        if name in COLUMN_FILTERS:
            column = COLUMN_FILTERS[name]
            ids = cases_without(name) if restricted(name) else shared
            parts.append(select(named, column.label("code"), func.count().label("n")).where(Case.id.in_(ids))
                         .group_by(column))
        elif restricted(name):
            parts.append(select(named, CaseFacet.code.label("code"), func.count().label("n"))
                         .where(CaseFacet.kind == FACET_FILTERS.get(name, name), CaseFacet.case_id.in_(
                             cases_without(name))).group_by(CaseFacet.code))
    if _totalled_by(filters) == TOTAL:
        parts.append(select(literal_column(f"'{TOTAL}'").label("facet"), null().label("code"),
                            func.count().label("n")).where(Case.id.in_(shared)))
    parts.append(select(literal_column(f"'{GENERATION}'").label("facet"), null().label("code"),
                        generation_column(CATALOGUE).label("n")))
    return union_all(*parts)


@dataclass
class SearchPage:
    """One page of a listing: the total, the page's cases, facet counts, and for a text query the highlighted
    snippets (escaped HTML with <mark>) and a "did you mean" suggestion."""

    total: int
    cases: list  # Case, or ListedCase for a listing
    facets: dict[str, dict[str, int]]
    sort: str
    snippets: dict[int, Markup] = field(default_factory=dict)
    suggestion: str | None = None
    corrected_query: str | None = None  # the corrected query searched instead of the one typed
    typed_query: str | None = None  # what was typed, when corrected
    facets_exact: bool = True  # False: the search engine estimated the facet counts (very many matches)
    total_exact: bool = True  # False: the search engine estimated the total (more than it counts exactly)


def _ranked(member: Member | None, filters: Filters, found: TextSearch, limit: int | None = None) \
        -> tuple[list[int], int]:
    """(The first `limit` ids in the engine's order that pass every filter and visible_cases once more, how many
    pass in all). The engine applies the same filters itself and ranks only the first `limit`; should it ever
    disagree with the SQL, every match is ranked instead."""
    passing = set(db.session.scalars(filtered_query(member, filters, found=found).with_only_columns(Case.id)
                                     .order_by(None)))
    viewer = search_viewer(member)
    ranked = [i for i in search.rank(viewer, found.query, dict(filters.values), limit) if i in passing]
    if limit is not None and len(ranked) < min(limit, len(passing)):
        ranked = [i for i in search.rank(viewer, found.query, {}, None) if i in passing][:limit]
    return ranked, len(passing)


class ListedCase(NamedTuple):
    """What a listing's entry shows of a case (`case_result` in catalogue/list.html, views.result_key, the one
    box's item), read as plain columns: twenty ORM instances (each tracked by the session, expired at the request's
    commit, their JSON lists decoded) cost a third of the listing page. The texts a search snippet reads come last,
    read only for a text query (None otherwise): a template that starts showing another field adds it here."""

    id: int
    reference: str
    title: str
    summary: str
    requesting_state: str
    requested_state: str
    cooperation_forms: list[str]
    crime_types: list[str]
    request_date: date | None
    decision_date: date | None
    completion_date: date | None
    outcome: str | None
    visibility: str
    language: str | None = None
    translations: dict | None = None
    obstacles: str | None = None
    solutions: str | None = None
    lessons_learned: str | None = None

    year = property(Case.year.fget)  # the same rule as a Case's


SNIPPET_FIELDS = ("language", "translations", "obstacles", "solutions", "lessons_learned")


def _listed_columns(snippets: bool) -> list:
    names = ListedCase._fields if snippets else ListedCase._fields[:-len(SNIPPET_FIELDS)]
    return [getattr(Case, name) for name in names]


def _paged(query: Select, limit: int, offset: int, listing: bool, snippets: bool = False) -> Select:
    """A page of `query` (a Select of Case): whole cases, or for a listing (`listing`) the columns of ListedCase
    (with the snippets' texts when `snippets`)."""
    paged = query.limit(limit).offset(offset)
    return paged.with_only_columns(*_listed_columns(snippets)) if listing else paged


def _cases(statement: Select, listing: bool, parameters: dict | None = None, *, kept: bool = False) -> list:
    """The cases of a statement: whole (the session's), or for a listing its rows as ListedCase (`kept`: a statement
    built once per process, see _rows)."""
    if listing:
        return [ListedCase(*row) for row in _rows(statement, parameters, kept=kept).all()]
    return list(db.session.scalars(statement, parameters))


@functools.lru_cache(maxsize=4)
def _load_statement(listing: bool, snippets: bool) -> Select:
    """_load's statement, built once per process: the ids are bound at each execution (rendered inline, as
    _ids_condition renders them: whole numbers, no limit on bound parameters)."""
    ids = bindparam("ids", expanding=True, literal_execute=True)
    return (select(*_listed_columns(snippets)) if listing else select(Case)).where(Case.id.in_(ids))


def _load(ids: list[int], listing: bool = False, snippets: bool = False) -> list:
    """The cases of `ids` in that order (whole, or as ListedCase for a listing)."""
    if not ids:
        return []
    by_id = {case.id: case for case in _cases(_load_statement(listing, snippets), listing,
                                              {"ids": [int(i) for i in ids]}, kept=True)}
    return [by_id[i] for i in ids if i in by_id]


def matching_cases(member: Member | None, filters: Filters, sort: str = "date") -> list[Case]:
    """Every visible case matching the filters, in the order asked for (exports)."""
    found = text_search(member, filters)
    if sort == "relevance" and found and found.ids is not None:
        return _load(_ranked(member, filters, found)[0])
    return list(db.session.scalars(filtered_query(member, filters, "title" if sort == "title" else "date", found)))


def search_cases(member: Member | None, filters: Filters | Mapping[str, list[str]], sort: str = "date",
                 page: int = 1, per_page: int = 20, *, listing: bool = False) -> SearchPage:
    """One page of the visible cases matching the text query and the filters, with facet counts. `listing`: the
    cases are for the listing page or the one box, which show only some of their fields: ListedCase rows."""
    if not isinstance(filters, Filters):
        filters = parse_filters(filters, strict=True)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    if filters.q and (sort == "relevance" or sort not in SORTS):  # by relevance: the engine's page
        fast = _engine_page(member, filters, page, per_page, listing)
        if fast is not None:
            return fast
    # By date or title (or nothing searchable was typed): SQL over the text query's matches.
    sort = sort if sort in ("date", "title") else "date"
    if not filters.q:
        return _listing_page(member, filters, sort, page, per_page, listing)
    found = text_search(member, filters)
    searching = found is not None and found.ids is not None
    paging = _paged(filtered_query(member, filters, sort, found), per_page, (page - 1) * per_page, listing,
                    snippets=searching)
    facets, total = _facets_and_total(member, filters, found)
    cases = _cases(paging, listing)
    result = SearchPage(total, cases, facets, sort)
    if searching:
        result.snippets = search.snippets(cases, found.query)
        if found.corrected_from is not None:
            result.corrected_query, result.typed_query = found.query.text, found.corrected_from
        elif filters.verbatim and total < SUGGEST_BELOW:
            result.suggestion = search.suggestion(found.query, dict(filters.values), search_viewer(member), total)
    return result


# ---------------------------------------------------------------- answers kept per data generation

# The answers of the listing (its facet counts and total) and of the engine (a search's page, total, facets,
# correction and suggestion), kept per process under the request (the reader's scope, the filters and the text, the
# page) with the data generations they were computed at (network/core/generations.py): a repeated request reads its
# page's rows and the current generations in one statement, and is answered without the facets' statement or the
# engine's when they are the same. The scope is the reader's as visible_to and the engines apply it: vetted or not
# (search_viewer's member id takes no part in a case's visibility), so a member's answer never reaches a visitor.
# No label, text or snippet is kept here: they are made for each request in its language (snippets and rendered
# entries are kept by their own content: highlight.case_snippet, cached_fragment). An engine answer weighs a few KB.
ANSWERS_KEPT = 512
_answers = KeptAnswers(ANSWERS_KEPT)


def forget_answers() -> None:
    """Drop every kept answer (a test that changes an engine's settings in the process, not its data)."""
    _answers.clear()


def _listing_page(member: Member | None, filters: Filters, sort: str, page: int, per_page: int, listing: bool) \
        -> SearchPage:
    """A listing without a text query: the page's rows with the catalogue's generation first, then the facet counts
    and total kept for this scope and these filters (whatever the page and order) if they were counted at that
    generation, else counted again (their statement reads the generation it counts at, which keeps them)."""
    vetted, frozen = _vetted(member), _frozen(filters)
    cases, generation = _listing_rows(_kept_listing_page(vetted, frozen, sort, per_page, (page - 1) * per_page,
                                                         listing), listing)
    key = ("listing", vetted, frozen)
    kept = _answers.get(key) if generation is not None else None
    if kept is not None and kept[0] == (generation,):
        counted, total = kept[1]
    else:
        counted, total, counted_at = _counted_facets(member, filters, None)
        _answers.put(key, (counted_at,), (counted, total))
    return SearchPage(total, cases, {name: dict(items) for name, items in counted}, sort)


class EngineAnswer(NamedTuple):
    """What the engine answered for a text query by relevance (_engine_page), kept as it is: the rows are read again."""

    total: int
    page_ids: tuple[int, ...]
    facets: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # (facet, ((code, count), ...)) in FACETS order
    facets_exact: bool
    total_exact: bool
    query: Query  # the query searched (its snippets' terms)
    corrected_query: str | None
    typed_query: str | None
    suggestion: str | None


def _engine_page(member: Member | None, filters: Filters, page: int, per_page: int, listing: bool = False) \
        -> SearchPage | None:
    """A text query sorted by relevance, served by the search engine alone: it selects once, ranks only the page
    and counts the facets over the same selection (each without its own filter), under the reader's scope; None
    when nothing searchable was typed (the listing then shows every case).

    The answer is kept (_answers) under the generations of the catalogue and of what the engine reads (its tables'
    generations; Whoosh: the commit its searcher reads): a kept answer's page is read with the current generations in
    one statement and served when they are the ones it was computed at. Otherwise the generations are read first
    (with that page's rows, or alone) and the engine answers again, kept under them."""
    viewer = search_viewer(member)
    typed_query = parse(filters.q)
    if not typed_query:
        return None
    engine = search.backend()
    names = (CATALOGUE, *engine.generation_names)
    key = ("engine", engine.name, viewer.vetted, _frozen(filters), page, per_page)
    kept = _answers.get(key)
    cases = None
    if kept is not None:
        local = engine.generation()
        cases, read = _load_current(kept[1].page_ids, names, listing)
        generation = (*read, local)
        if generation == kept[0]:
            return _engine_result(kept[1], cases)
    else:
        generation = (*read_generations(names), engine.generation())
    answer = _engine_answer(viewer, typed_query, filters, page, per_page)
    _answers.put(key, generation, answer)
    if cases is None or answer.page_ids != kept[1].page_ids:
        cases = _load(list(answer.page_ids), listing, snippets=True)
    return _engine_result(answer, cases)


def _engine_result(answer: EngineAnswer, cases: list) -> SearchPage:
    """The page of an engine answer and its cases (the caller's own dicts)."""
    result = SearchPage(answer.total, cases, {name: dict(items) for name, items in answer.facets}, "relevance",
                        facets_exact=answer.facets_exact, total_exact=answer.total_exact)
    result.snippets = search.snippets(cases, answer.query)
    result.corrected_query, result.typed_query = answer.corrected_query, answer.typed_query
    result.suggestion = answer.suggestion
    return result


@functools.lru_cache(maxsize=8)
def _load_current_statement(listing: bool, names: tuple[str, ...]) -> Select:
    """_load's statement (with the snippets' texts), each row followed by the generations of `names`."""
    return _load_statement(listing, True).add_columns(*generation_columns(names))


def _load_current(ids: tuple[int, ...], names: tuple[str, ...], listing: bool) -> tuple[list, tuple]:
    """The cases of `ids` in that order (as _load), and the generations of `names` read with them (alone when no
    case was found)."""
    rows = []
    if ids:
        statement = _load_current_statement(listing, names)
        parameters = {"ids": list(ids)}
        rows = _rows(statement, parameters, kept=True).all() if listing \
            else db.session.execute(statement, parameters).all()
    if not rows:
        return [], read_generations(names)
    width = len(names)
    by_id = {case.id: case for case in (ListedCase(*row[:-width]) if listing else row[0] for row in rows)}
    return [by_id[i] for i in ids if i in by_id], tuple(rows[0][-width:])


def _engine_answer(viewer, typed_query: Query, filters: Filters, page: int, per_page: int) -> EngineAnswer:
    """_engine_page's answer, from the engine."""
    with search.reading():  # the correction, the page and its facets: one planner setting, each word looked up once
        found = None
        if not filters.verbatim and _one_word(typed_query):
            # The page first: its total answers what the correction asks of the word (whether it finds anything the
            # reader may see), and a word that needs no correction is then searched once, with no lookup of its own.
            found = search.page(viewer, typed_query, dict(filters.values), FACETS, page, per_page)
        query, typed = search.corrected(viewer, typed_query, correct=not filters.verbatim,
                                        filters=dict(filters.values))
        if found is None or typed is not None:
            found = search.page(viewer, query, dict(filters.values), FACETS, page, per_page)
    facets = {name: found.facets.get(name, {}) for name in FACETS}
    facets["year"] = dict(sorted(facets["year"].items(), reverse=True))
    suggestion = None
    if typed is None and filters.verbatim and found.total < SUGGEST_BELOW:
        suggestion = search.suggestion(query, dict(filters.values), viewer, found.total)
    return EngineAnswer(found.total, tuple(found.page_ids), tuple((name, tuple(counts.items()))
                                                                  for name, counts in facets.items()),
                        found.facets_exact, found.total_exact, query, query.text if typed is not None else None,
                        typed, suggestion)


def _one_word(query: Query) -> bool:
    """Whether the query is one typed word, the text a correction searches when it asks whether that word finds
    anything (SearchBackend._finds_nothing)."""
    return len(query.plain_words) == 1 and fold(query.plain_words[0]) == query.text


def filtered_cases(member: Member | None, filters: Filters | Mapping[str, list[str]], sort: str = "date",
                   page: int = 1, per_page: int = 20) -> tuple[int, list[Case], dict[str, dict[str, int]]]:
    """One page of the visible cases matching the filters: (total, cases of the page, facet counts)."""
    result = search_cases(member, filters, sort, page, per_page)
    return result.total, result.cases, result.facets


# ---------------------------------------------------------------- statistics

class CaseFigures(NamedTuple):
    """What the statistics read of a case (statistics.CaseLike): eight columns, not the whole row with its texts
    and nine JSON lists."""

    requesting_state: str
    requested_state: str
    cooperation_forms: list[str]
    crime_types: list[str]
    legal_bases: list[str]
    request_date: date | None
    decision_date: date | None
    completion_date: date | None

    year = property(Case.year.fget)  # the same rules as a Case's
    duration_days = property(Case.duration_days.fget)


def case_figures(member: Member | None) -> list[CaseFigures]:
    """The visible cases as the statistics read them."""
    return figures_of(case_figure_rows(member))


FIGURE_LISTS = (Case.cooperation_forms, Case.crime_types, Case.legal_bases)  # JSON lists, read as their text


def case_figure_rows(member: Member | None) -> tuple[tuple, ...]:
    """The visible cases' CaseFigures columns as plain values, the JSON lists as their text (undecoded): the same
    rows give the same figures, so the statistics page keeps its figures under these rows (views.statistics)
    rather than decoding three lists a case and counting again on every request."""
    return tuple(tuple(row) for row in db.session.execute(_figure_statement(_vetted(member))))


@functools.lru_cache(maxsize=2)
def _figure_statement(vetted: bool) -> Select:
    columns = (Case.requesting_state, Case.requested_state, *(cast(c, Text) for c in FIGURE_LISTS),
               Case.request_date, Case.decision_date, Case.completion_date)
    return visible_to(vetted).with_only_columns(*columns).order_by(Case.id)


def figures_of(rows: tuple[tuple, ...]) -> list[CaseFigures]:
    """case_figure_rows as CaseFigures (the lists decoded)."""
    return [CaseFigures(a, b, json.loads(forms or "[]"), json.loads(crimes or "[]"), json.loads(bases or "[]"), *dates)
            for a, b, forms, crimes, bases, *dates in rows]


# ---------------------------------------------------------------- related cases

RELATED_KINDS = ("cooperation_form", "crime_type", "requesting_state", "requested_state")


class RelatedCase(NamedTuple):
    """What the case page shows of a related case: a line, not the whole row with its texts and JSON lists."""

    reference: str
    title: str
    requesting_state: str
    requested_state: str
    cooperation_forms: list[str]
    request_date: date | None
    decision_date: date | None
    completion_date: date | None

    year = property(Case.year.fget)  # the same rule as a Case's


def related_cases(member: Member | None, case: Case, limit: int = 5) -> list[RelatedCase]:
    """Visible cases sharing forms of cooperation, crime types or States with `case`, most shared values first.
    A State counts as shared whether it requests or is requested in either case."""
    states = [s for s in (case.requesting_state, case.requested_state) if s]
    values = {"case_id": case.id, "forms": list(case.cooperation_forms or ()),
              "crimes": list(case.crime_types or ()), "states": states}
    return [RelatedCase(*row) for row in db.session.execute(_related_statement(_vetted(member), limit), values)]


@functools.lru_cache(maxsize=8)
def _related_statement(vetted: bool, limit: int) -> Select:
    """related_cases' statement, built once per process for a scope (the case's values bound): building it and its
    cache key cost more than running it."""
    wanted = [
        and_(CaseFacet.kind == "cooperation_form", CaseFacet.code.in_(bindparam("forms", expanding=True))),
        and_(CaseFacet.kind == "crime_type", CaseFacet.code.in_(bindparam("crimes", expanding=True))),
        and_(CaseFacet.kind.in_(("requesting_state", "requested_state")),
             CaseFacet.code.in_(bindparam("states", expanding=True))),
    ]
    ids = visible_to(vetted).where(Case.id != bindparam("case_id")).with_only_columns(Case.id)
    shared = func.count().label("shared")
    scores = (select(CaseFacet.case_id, shared).where(or_(*wanted), CaseFacet.case_id.in_(ids))
              .group_by(CaseFacet.case_id).subquery())
    return (select(*(getattr(Case, name) for name in RelatedCase._fields)).join(scores, scores.c.case_id == Case.id)
            .order_by(scores.c.shared.desc(), Case.published_at.desc(), Case.id.desc()).limit(limit))
