"""Listing the directory: filters, name search and paging, one implementation for the pages, the print view and
the API (GET /api/v1/authorities), so they always agree.

The directory is small (a few hundred entries worldwide), so designations and the State's region and group are
filtered in SQL and the list-valued fields (languages, channels) in Python over that narrowed set."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import lazyload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from network.core.db import db
from network.core.labels import sort_key
from network.core.text import single_line
from network.directory.models import Authority, AuthorityDesignation
from network.directory.services import designation_labels, instrument_of, is_stale, stale_condition
from network.directory.states import REGIONAL_GROUPS, all_states

FILTERS = ("q", "state", "region", "group", "designation", "instrument", "channel", "language", "available_24_7",
           "stale")
INSTRUMENTS = ("UNTOC", "SOM", "FIREARMS", "DRUGS1988")
REGIONS = ("africa", "americas", "asia", "europe", "oceania")
CHANNELS = ("direct", "diplomatic", "interpol", "network")
MAX_PER_PAGE = 100
MAX_VALUES = 50


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


LISTED_COLUMNS = (Authority.id, Authority.key, Authority.state, Authority.name, Authority.last_verified,
                  Authority.languages, Authority.channels)  # what sorting, filtering and counting read


def filtered_authorities(filters: DirectoryFilters | None = None, whole: bool = True) -> list[Authority]:
    """Every entry matching the filters, by State name then authority name. Readers are vetted members (the
    directory has no per-entry visibility: the route and API scope decide who reads it at all).

    With whole=False the entries come with only the columns that sorting, filtering and counting read, and without
    their designation rows: the directory page counts every match but shows one page of them, which it completes
    with `load_entries`."""
    filters = filters or DirectoryFilters()
    query = select(Authority)
    if not whole:
        query = query.options(load_only(*LISTED_COLUMNS), lazyload(Authority.designation_rows))
    states = all_states()
    wanted_states = set(filters.get("state"))
    if filters.get("region"):
        in_region = {code for code, state in states.items() if state.region in filters.get("region")}
        wanted_states = (wanted_states & in_region) if filters.get("state") else in_region
    if filters.get("group"):
        in_group = {code for code, state in states.items() if state.regional_group in filters.get("group")}
        wanted_states = (wanted_states & in_group) if (filters.get("state") or filters.get("region")) else in_group
    if filters.get("state") or filters.get("region") or filters.get("group"):
        query = query.where(Authority.state.in_(sorted(wanted_states)))
    designations = set(filters.get("designation"))
    if filters.get("instrument"):
        by_instrument = {code for code in designation_labels() if instrument_of(code) in filters.get("instrument")}
        designations = (designations & by_instrument) if filters.get("designation") else by_instrument
    if filters.get("designation") or filters.get("instrument"):
        query = query.where(Authority.id.in_(
            select(AuthorityDesignation.authority_id).where(AuthorityDesignation.code.in_(sorted(designations)))))
    if filters.q:
        words = [w for w in filters.q.lower().split() if w][:10]
        for word in words:
            pattern = f"%{_like_escape(word)}%"
            query = query.where(or_(func.lower(Authority.name).like(pattern, escape="\\"),
                                    func.lower(Authority.parent_body).like(pattern, escape="\\"),
                                    func.lower(Authority.key).like(pattern, escape="\\")))
    if filters.available_24_7:
        query = query.where(Authority.available_24_7.is_(True))
    if filters.stale is True:
        query = query.where(stale_condition())
    elif filters.stale is False:
        query = query.where(~stale_condition())
    found = list(db.session.scalars(query))
    if filters.get("channel"):
        found = [a for a in found if set(a.channels or ()) & set(filters.get("channel"))]
    if filters.get("language"):
        wanted = set(filters.get("language"))
        found = [a for a in found if {lang.lower().split("-")[0] for lang in a.languages or ()}
                 & {lang.split("-")[0] for lang in wanted}]
    # By the State's name as the reader's language writes and sorts it ("Viet Nam", "Türkiye"...), one key a State.
    state_keys = {code: sort_key(states[code].name if code in states else code) for code in {a.state for a in found}}
    found.sort(key=lambda a: (state_keys[a.state], a.name.lower(), a.key))
    return found


def load_entries(authorities: list[Authority]) -> None:
    """Complete entries loaded with whole=False: their other columns in one statement, their designation rows in
    another (not one of each per entry)."""
    if not authorities:
        return
    # Both statements run for every entry shown, loaded or not: the page's count of statements stays the same.
    ids = [a.id for a in authorities]
    db.session.execute(select(Authority).where(Authority.id.in_(ids))  # rows fill in only what an object lacks
                       .options(lazyload(Authority.designation_rows))).all()
    missing = [a for a in authorities if "designation_rows" in inspect(a).unloaded]
    rows: dict[int, list[AuthorityDesignation]] = {authority_id: [] for authority_id in ids}
    for row in db.session.scalars(select(AuthorityDesignation).where(AuthorityDesignation.authority_id.in_(list(rows)))
                                  .order_by(AuthorityDesignation.code)):
        rows[row.authority_id].append(row)
    for authority in missing:
        set_committed_value(authority, "designation_rows", rows[authority.id])


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
