"""Listing the directory: filters, name search and paging, one implementation for the pages, the print view and
the API (GET /api/v1/authorities), so they always agree.

The directory is small (a few hundred entries worldwide), so designations and the State's region and group are
filtered in SQL and the list-valued fields (languages, channels) in Python over that narrowed set."""
from __future__ import annotations

import functools
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple, TypeVar

from sqlalchemy import Text, and_, cast, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from network.core.clock import utcnow
from network.core.db import db
from network.core.text import single_line
from network.directory.models import Authority, AuthorityDesignation, in_vocabulary_order
from network.directory.services import (
    STALE_AFTER,
    designation_labels,
    instrument_of,
    is_stale,
    stale_condition,
)
from network.directory.states import REGIONAL_GROUPS, all_states, name_order

FILTERS = ("q", "state", "region", "group", "designation", "instrument", "channel", "language", "available_24_7",
           "stale")
INSTRUMENTS = ("UNTOC", "SOM", "FIREARMS", "DRUGS1988")
REGIONS = ("africa", "americas", "asia", "europe", "oceania")
CHANNELS = ("direct", "diplomatic", "interpol", "network")
MAX_PER_PAGE = 100
MAX_VALUES = 50
T = TypeVar("T")


class DirectoryQueryError(ValueError):
    """A filter value that cannot be understood (the API answers 400; the page ignores it)."""


@dataclass(frozen=True)
class DirectoryFilters:
    """Parsed filters: values of one filter are OR-ed, different filters AND-ed."""

    q: str = ""
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    available_24_7: bool = False
    stale: bool | None = None  # None: both; True: stale only; False: current only

    def get(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())

    def __bool__(self) -> bool:
        return bool(self.q or self.values or self.available_24_7 or self.stale is not None)


def _allowed(name: str) -> set[str] | None:
    if name == "state":
        return set(all_states())
    if name == "region":
        return set(REGIONS)
    if name == "group":
        return set(REGIONAL_GROUPS)
    if name == "designation":
        return set(designation_labels())
    if name == "instrument":
        return set(INSTRUMENTS)
    if name == "channel":
        return set(CHANNELS)
    return None  # language: any BCP 47-looking code


def parse_filters(args: Mapping[str, list[str]], *, strict: bool = False) -> DirectoryFilters:
    """Filters from a query string (name -> list of values). Unknown values raise DirectoryQueryError when strict,
    else are dropped."""
    values: dict[str, tuple[str, ...]] = {}
    for name in ("state", "region", "group", "designation", "instrument", "channel", "language"):
        given = [str(v).strip() for v in (args.get(name) or []) if str(v).strip()]
        if name in ("state", "instrument"):
            given = [v.upper() for v in given]
        elif name == "language":
            given = [v.lower() for v in given if len(v) <= 20]
        allowed = _allowed(name)
        if allowed is not None:
            unknown = [v for v in given if v not in allowed]
            if unknown and strict:
                raise DirectoryQueryError(f"{name}: {unknown[0]!r} is not a known value")
            given = [v for v in given if v in allowed]
        if given:
            values[name] = tuple(dict.fromkeys(given[:MAX_VALUES]))
    flag = _flag(args, "available_24_7", strict)
    stale = _flag(args, "stale", strict, tristate=True)
    # One line: a NUL cannot reach PostgreSQL (a string literal may not hold one: 500).
    q = single_line(" ".join(str(v) for v in (args.get("q") or [])), 200)
    return DirectoryFilters(q=q, values=values, available_24_7=bool(flag), stale=stale)


def _flag(args: Mapping[str, list[str]], name: str, strict: bool, tristate: bool = False) -> bool | None:
    given = [str(v).strip().lower() for v in (args.get(name) or []) if str(v).strip()]
    if not given:
        return None if tristate else False
    if given[0] in ("1", "true", "yes", "on"):
        return True
    if given[0] in ("0", "false", "no", "off"):
        return False if tristate else False
    if strict:
        raise DirectoryQueryError(f"{name}: {given[0]!r} is not true or false")
    return None if tristate else False


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: DirectoryFilters) -> list:
    """The filters SQL applies (State, region, group, designation, instrument, name, 24/7, staleness)."""
    conditions: list = []
    states = all_states()
    wanted_states = set(filters.get("state"))
    if filters.get("region"):
        in_region = {code for code, state in states.items() if state.region in filters.get("region")}
        wanted_states = (wanted_states & in_region) if filters.get("state") else in_region
    if filters.get("group"):
        in_group = {code for code, state in states.items() if state.regional_group in filters.get("group")}
        wanted_states = (wanted_states & in_group) if (filters.get("state") or filters.get("region")) else in_group
    if filters.get("state") or filters.get("region") or filters.get("group"):
        conditions.append(Authority.state.in_(sorted(wanted_states)))
    designations = set(filters.get("designation"))
    if filters.get("instrument"):
        by_instrument = {code for code in designation_labels() if instrument_of(code) in filters.get("instrument")}
        designations = (designations & by_instrument) if filters.get("designation") else by_instrument
    if filters.get("designation") or filters.get("instrument"):
        conditions.append(Authority.id.in_(
            select(AuthorityDesignation.authority_id).where(AuthorityDesignation.code.in_(sorted(designations)))))
    if filters.q:
        words = [w for w in filters.q.lower().split() if w][:10]
        for word in words:
            pattern = f"%{_like_escape(word)}%"
            conditions.append(or_(func.lower(Authority.name).like(pattern, escape="\\"),
                                  func.lower(Authority.parent_body).like(pattern, escape="\\"),
                                  func.lower(Authority.key).like(pattern, escape="\\")))
    if filters.available_24_7:
        conditions.append(Authority.available_24_7.is_(True))
    if filters.stale is True:
        conditions.append(stale_condition())
    elif filters.stale is False:
        conditions.append(~stale_condition())
    return conditions


def _narrowed_and_sorted(found: list[T], filters: DirectoryFilters) -> list[T]:
    """The list-valued filters (channels, languages), then the directory's order: by the State's name as the
    reader's language writes and sorts it ("Viet Nam", "Türkiye"...), then the authority's name. A State code the
    lists do not know comes last."""
    if filters.get("channel"):
        found = [a for a in found if set(a.channels or ()) & set(filters.get("channel"))]
    if filters.get("language"):
        wanted = set(filters.get("language"))
        found = [a for a in found if {lang.lower().split("-")[0] for lang in a.languages or ()}
                 & {lang.split("-")[0] for lang in wanted}]
    order = name_order()
    last = len(order)
    return sorted(found, key=lambda a: (order.get(a.state, last), a.state, a.name.lower(), a.key))


def filtered_authorities(filters: DirectoryFilters | None = None) -> list[Authority]:
    """Every entry matching the filters, in the directory's order. Readers are vetted members (the directory has
    no per-entry visibility: the route and API scope decide who reads it at all)."""
    filters = filters or DirectoryFilters()
    return _narrowed_and_sorted(list(db.session.scalars(select(Authority).where(*_conditions(filters)))), filters)


class Entry(NamedTuple):
    """An entry as the directory's list shows and counts it (`authority_item` in directory/macros.html reads it
    as it reads an Authority): columns, not a loaded object with its relationships (a tuple: a few hundred are
    made each time the directory changes)."""

    id: int
    key: str
    state: str
    name: str
    parent_body: str
    email: str
    available_24_7: bool
    last_verified: date | None
    languages: tuple[str, ...]
    channels: tuple[str, ...]
    designations: tuple[str, ...]  # in the vocabulary's order, as Authority.designations
    stale: bool


class Listing(NamedTuple):
    """The directory as one request read it: `version` numbers what was read (every entry's columns and designations,
    and the day that makes an entry stale) in this process, so that pieces rendered from it can be kept under that
    number; `every` is every entry, `matching` the ids the SQL filters keep."""

    version: int
    every: tuple[Entry, ...]
    matching: frozenset[int]


KEPT_LISTINGS = 16  # versions kept per process (the directory's entries as read, a few hundred tuples each)
_kept_listings: dict[tuple, tuple[int, tuple[Entry, ...], frozenset[int]]] = {}
_versions = itertools.count(1)
_keeping = threading.Lock()
_LIST_COLUMNS = (Authority.id, Authority.key, Authority.state, Authority.name, Authority.parent_body, Authority.email,
                 Authority.available_24_7, Authority.last_verified,
                 # as stored (text): parsed only when the directory changed
                 cast(Authority.languages, Text), cast(Authority.channels, Text))


class _entries_text(FunctionElement):
    """Every entry's columns as one JSON text, `[[id, key, ..., designation codes], ...]` in the order of the ids,
    aggregated in SQL (PostgreSQL's json_agg, SQLite's json_group_array over rows given in that order): one value
    read, a key of its own, parsed only when it changed, rather than a row per entry made into a key each time."""

    type = Text()
    inherit_cache = True


@compiles(_entries_text, "postgresql")
def _entries_text_postgresql(element, compiler, **kw):
    return (f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)}) ORDER BY authorities.id) "
            "AS TEXT)")


@compiles(_entries_text)
def _entries_text_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def _listing_statement(conditions: list, postgresql: bool):
    """One row: every entry as _entries_text (its columns and designation codes, joined by commas), and the ids of
    the entries matching the conditions, joined by commas (no column without conditions: every entry matches).
    On PostgreSQL the codes are aggregated once for the whole statement and joined to their authorities: a subquery
    per authority scans the designations again for each one (its planner keeps to a sequential scan for a table this
    small: 0.45 ms of the server for the demonstration's 56 entries, 0.15 ms joined). SQLite reads each authority's
    codes from the (authority_id, code) index, faster than the aggregate joined (for which it builds an index each
    time), and aggregates the rows of a subquery in the order of the ids (it has no ORDER BY in an aggregate)."""
    if postgresql:
        codes = (select(AuthorityDesignation.authority_id,
                        func.aggregate_strings(AuthorityDesignation.code, ",").label("codes"))
                 .group_by(AuthorityDesignation.authority_id).subquery("designation_codes"))
        matching = [func.aggregate_strings(cast(Authority.id, Text), ",").filter(and_(*conditions))] if conditions else []
        return (select(_entries_text(*_LIST_COLUMNS, codes.c.codes), *matching)
                .select_from(Authority).outerjoin(codes, codes.c.authority_id == Authority.id))
    codes = (select(func.aggregate_strings(AuthorityDesignation.code, ","))
             .where(AuthorityDesignation.authority_id == Authority.id).scalar_subquery())
    rows = (select(*_LIST_COLUMNS, codes.label("codes"), (and_(*conditions) if conditions else true()).label("matches"))
            .order_by(Authority.id).subquery("entries"))
    matching = [func.aggregate_strings(cast(rows.c.id, Text), ",").filter(rows.c.matches)] if conditions else []
    return select(_entries_text(*list(rows.c)[:-1]), *matching)


_every_entry = functools.cache(lambda postgresql: _listing_statement([], postgresql))  # built once per process


def _as_tuple(stored: str | None) -> tuple[str, ...]:
    return tuple(json.loads(stored) or ()) if stored else ()


def _entries(text: str | None, cutoff: date) -> tuple[Entry, ...]:
    """The entries of _entries_text (booleans are 0 and 1 in SQLite's JSON, dates ISO text in both), by id."""
    entries = []
    for *columns, available, verified, languages, channels, designations in json.loads(text or "[]"):
        verified = date.fromisoformat(verified) if verified else None
        entries.append(Entry(*columns, bool(available), verified, _as_tuple(languages), _as_tuple(channels),
                             in_vocabulary_order(designations.split(",")) if designations else (),
                             verified is None or verified < cutoff))
    return tuple(sorted(entries, key=lambda entry: entry.id))


def read_listing(filters: DirectoryFilters) -> Listing:
    """Every entry of the directory, and which match the SQL filters, in one statement of one row. The entries are
    made again only when what was read changed (or the day did): the same entries on the same day give the same
    version, and any change (in this process, another one, or straight in the database) a new one."""
    conditions = _conditions(filters)
    postgresql = db.engine.dialect.name == "postgresql"
    row = db.session.execute(_listing_statement(conditions, postgresql) if conditions
                             else _every_entry(postgresql)).one()
    cutoff = utcnow().date() - STALE_AFTER  # is_stale's rule
    key = (cutoff, row[0])
    found = _kept_listings.get(key)
    if found is None:
        entries = _entries(row[0], cutoff)
        found = (next(_versions), entries, frozenset(entry.id for entry in entries))
        with _keeping:
            while len(_kept_listings) >= KEPT_LISTINGS:
                _kept_listings.pop(next(iter(_kept_listings)))
            _kept_listings[key] = found
    if not conditions:
        return Listing(found[0], found[1], found[2])
    return Listing(found[0], found[1], frozenset(int(id_) for id_ in row[1].split(",")) if row[1] else frozenset())


def matching_entries(kept: Listing, filters: DirectoryFilters) -> list[Entry]:
    """The entries matching every filter, in the directory's order."""
    return _narrowed_and_sorted([entry for entry in kept.every if entry.id in kept.matching], filters)


def listing(filters: DirectoryFilters) -> tuple[list[Entry], list[Entry]]:
    """(the entries matching the filters in the directory's order, every entry of the directory), read in one
    statement: the directory is small, and its page counts every match and offers filter choices over the whole
    directory."""
    kept = read_listing(filters)
    return matching_entries(kept, filters), list(kept.every)


def paged(items: list, page: int, per_page: int) -> tuple[int, list]:
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    return len(items), items[(page - 1) * per_page: page * per_page]


def by_state(authorities: list[Authority]) -> list[tuple[str, list[Authority]]]:
    """[(State code, its authorities)] in the order given (State name order from filtered_authorities)."""
    grouped: dict[str, list[Authority]] = {}
    for authority in authorities:
        grouped.setdefault(authority.state, []).append(authority)
    return list(grouped.items())


def stale_count(authorities: list[Authority]) -> int:
    return sum(1 for authority in authorities if is_stale(authority))
