"""The directory's pages for vetted members: browse by region and State, filters, authority pages, the finder and
the print-ready directory."""
from __future__ import annotations

import functools
import hashlib
import json
import math
from datetime import date
from typing import NamedTuple
from urllib.parse import urlencode

import pycountry
from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import Text, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from network.core.access import requires
from network.core.caching import cached_fragment, template_url_for
from network.core.clock import utcnow
from network.core.db import db
from network.core.i18n import current_language
from network.core.labels import label, reader_language
from network.core.reference import language_name as reference_language_name
from network.core.translations import gettext as _  # the request's catalogue, found once
from network.core.urls import link_url
from network.directory import queries
from network.directory.finder import ROUTES, FinderError, cooperation_forms, find_competent
from network.directory.hours import local_time
from network.directory.models import Authority, AuthorityDesignation, in_vocabulary_order
from network.directory.services import designation_basis, designation_labels, is_stale, stale_since
from network.directory.states import (
    NO_GROUP,
    REGIONAL_GROUPS,
    all_states,
    codes_by_name,
    get_state,
    name_order,
    state_codes,
    state_names,
)
from network.members.access import can_read_directory
from network.messaging.mailboxes import remember_states
from network.messaging.mailboxes import state as mailbox_state_of
from network.messaging.mailboxes import state_expression as mailbox_state

bp = Blueprint("directory", __name__, url_prefix="/directory")
# Every template that shows a stored address as a link asks this filter first: an address the URL rule refuses
# (stored before the rule, or straight into the database) is shown as text.
bp.add_app_template_filter(link_url, "link_url")

PER_PAGE = 50
BROWSE_BY = ("group", "region")
YES = ("1", "true", "yes", "on")
NO = ("", "0", "false", "no", "off")


# ---------------------------------------------------------------- labels for templates

def language_label(code: str) -> str:
    """A language's name: in English from ISO 639 (pycountry), e.g. "fr" -> "French", "pt-BR" -> "Portuguese (BR)";
    for a reader of another language, in that language (Babel's CLDR names: "français", "法语", "الفرنسية")."""
    base, _sep, variant = code.partition("-")
    if (reader := current_language()) != "en":
        name = reference_language_name(base, reader)
        return f"{name} ({variant})" if variant else name
    found = (pycountry.languages.get(alpha_2=base) if len(base) == 2 else pycountry.languages.get(alpha_3=base))
    name = found.name.removesuffix(" (macrolanguage)") if found else code
    return f"{name} ({variant})" if found and variant else name


def vocabulary_label(kind: str, code: str) -> str:
    """The label in the reader's language, from vocabulary_labels.yaml (the same as the catalogue's)."""
    return label(kind, code)


def region_name(code: str) -> str:
    return label("regions", code) if code else _("No region")


def instrument_label(code: str) -> str:
    return vocabulary_label("instruments", code)


def instrument_short_label(code: str) -> str:
    """The instrument's name as practitioners say it, for filters."""
    short = {"UNTOC": _("The Convention (UNTOC)"), "SOM": _("Smuggling of Migrants Protocol"),
             "FIREARMS": _("Firearms Protocol"), "DRUGS1988": _("1988 Drugs Convention")}
    return short.get(code) or instrument_label(code)


def group_label(code: str) -> str:
    return label("regional_groups", code) if code in REGIONAL_GROUPS else _("Not in a UN regional group")


@bp.context_processor
def directory_helpers() -> dict:
    return {
        "designation_label": lambda code: vocabulary_label("designations", code),
        "designation_basis": designation_basis,
        "channel_label": lambda code: vocabulary_label("channels", code),
        "form_label": lambda code: vocabulary_label("cooperation_forms", code),
        "language_label": language_label,
        "instrument_label": instrument_label,
        "instrument_short_label": instrument_short_label,
        "region_name": region_name,
        "group_label": group_label,
        "is_stale": is_stale,
        "stale_since": stale_since,
        "get_state": get_state,
    }


# ---------------------------------------------------------------- browsing and filtering

def _filters() -> queries.DirectoryFilters:
    return queries.parse_filters(request.args.to_dict(flat=False))


def _page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1


def _query_pairs(drop: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.args.lists() if key not in drop
            for value in values if value.strip()]


def _url_with(endpoint: str, drop: tuple[str, ...] = ("page",), **changes: object) -> str:
    """The current query string (the filters) on another page or with some values changed."""
    pairs = _query_pairs(drop=(*drop, *changes)) + [(k, str(v)) for k, v in changes.items() if v is not None]
    return template_url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")  # the path built once


def state_index(entries: list[queries.Entry], browse: str,
                names: dict[str, str]) -> tuple[tuple[str, str, tuple[tuple[str, str, int, int], ...]], ...]:
    """((group or region code, its label, ((State code, its name, authorities, stale authorities), ...)), ...) for
    the States listed, each section in the reader's order of State names (tuples: the key of the rendered index)."""
    states = all_states()
    counts: dict[str, list[int]] = {}
    for entry in entries:
        found = counts.setdefault(entry.state, [0, 0])
        found[0] += 1
        found[1] += int(entry.stale)
    order = name_order()
    sections: dict[str, list[tuple[str, str, int, int]]] = {}
    for code in sorted((code for code in counts if code in states), key=order.__getitem__):
        state = states[code]
        key = state.regional_group if browse == "group" else (state.region or "")
        sections.setdefault(key, []).append((code, names[code], *counts[code]))
    if browse == "group":
        order_of_sections = [*REGIONAL_GROUPS, NO_GROUP]
        labels = {key: group_label(key) for key in order_of_sections}
    else:
        order_of_sections = [*queries.REGIONS, ""]
        labels = {key: region_name(key) for key in order_of_sections}
    return tuple((key, labels[key], tuple(sections[key])) for key in order_of_sections if key in sections)


def _options_in_directory(filters: queries.DirectoryFilters, every: tuple[queries.Entry, ...], names: dict[str, str],
                          ) -> tuple[list[tuple[str, str]], tuple[tuple[str, str, int], ...]]:
    """The filter's choices over the whole directory: (language code, name) and (State code, name, entries), each
    with what is chosen even if no entry has it."""
    languages = set(filters.get("language"))
    counts: dict[str, int] = dict.fromkeys(filters.get("state"), 0)
    for entry in every:
        languages.update(code.lower() for code in entry.languages)
        counts[entry.state] = counts.get(entry.state, 0) + 1
    order = name_order()
    return (sorted(((code, language_label(code)) for code in languages), key=lambda entry: entry[1]),
            tuple((code, names[code], counts[code]) for code in sorted(counts, key=lambda code: order.get(code, -1))
                  if code in names))


@bp.get("/")
@requires(can_read_directory)
def index():
    """The list page. Its content is kept per process under the directory as read (the version of one statement's
    rows, which holds the day that makes an entry stale), the address (filters, page, browse, the shared link) and the
    language (cached_fragment's key): the same for every reader, who are all vetted members (no entry is hidden from
    any of them). Only the empty directory's advice depends on the reader (an administrator is told how to import):
    it is never kept."""
    filters = _filters()
    kept = queries.read_listing(filters)
    if not kept.every and not filters:
        content = _index_content(filters, kept)
    else:
        content = cached_fragment(("directory_index", kept.version, request.url, request.query_string),  # as shown,
                                  _index_content, filters, kept)  # and as parsed
    return render_template("directory/index.html", content=content)


def _index_content(filters: queries.DirectoryFilters, kept: queries.Listing) -> str:
    browse = request.args.get("browse", "group")
    browse = browse if browse in BROWSE_BY else "group"
    found = queries.matching_entries(kept, filters)  # every match is counted, one page shown
    page = _page_number()
    total, shown = queries.paged(found, page, PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    names = state_names()
    language_options, state_options = _options_in_directory(filters, kept.every, names)
    return render_template(
        "directory/index_content.html", filters=filters, browse=browse, total=total,
        results=[(code, names.get(code, code), tuple(entries)) for code, entries in queries.by_state(shown)],
        state_count=len({a.state for a in found}), stale_total=sum(entry.stale for entry in found),
        index=state_index(found, browse, names), page=page, pages=pages,
        page_url=lambda n: _url_with("directory.index", page=n),
        browse_url=lambda b: _url_with("directory.index", browse=b),
        print_url=_url_with("directory.print_view", drop=("page", "browse")),
        share_url=request.url,
        designations=designation_labels(), instruments=queries.INSTRUMENTS, channels=queries.CHANNELS,
        regions=queries.REGIONS, groups=REGIONAL_GROUPS,
        language_options=language_options, state_options=state_options,
    )


@bp.get("/states/<code>")
@requires(can_read_directory)
def state(code: str):
    found = get_state(code)
    if found is None:
        abort(404)
    if code != found.code:
        return redirect(url_for("directory.state", code=found.code))
    authorities = queries.filtered_authorities(queries.DirectoryFilters(values={"state": (found.code,)}))
    return render_template("directory/state.html", state=found, authorities=authorities,
                           stale_total=queries.stale_count(authorities))


class _people_rows(FunctionElement):
    """An authority's people as one JSON text, `[[name, position, focal], ...]`, aggregated in SQL (PostgreSQL's
    json_agg, SQLite's json_group_array): read as a column of the authority's own statement, not a statement of its
    own (on PostgreSQL, a round trip)."""

    type = Text()
    inherit_cache = True


@compiles(_people_rows, "postgresql")
def _people_rows_postgresql(element, compiler, **kw):
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"  # text, not parsed


@compiles(_people_rows)
def _people_rows_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def _people_column():
    """An authority's active members, name, position and whether a focal point of it, as _people_rows' JSON (NULL
    when it has none on PostgreSQL, "[]" on SQLite)."""
    from network.members.models import Member, RoleGrant

    focal = (select(RoleGrant.id).where(RoleGrant.member_id == Member.id, RoleGrant.role == "focal_point",
                                        RoleGrant.authority_id == Authority.id)
             .correlate(Member, Authority).exists())  # this authority's focal point: not "FROM role_grants, authorities"
    return (select(_people_rows(Member.name, Member.position, focal))
            .where(Member.authority_id == Authority.id, Member.status == "active")
            .correlate(Authority).scalar_subquery())


class Person(NamedTuple):
    """A member of the authority as its page lists them."""

    name: str
    position: str | None


def _people(rows: str | None) -> list[tuple[Person, bool]]:
    """The authority's active members on the network, focal points first: (name and position, is focal point)."""
    people = ((Person(name, position), bool(focal)) for name, position, focal in json.loads(rows or "[]"))
    return sorted(people, key=lambda entry: (not entry[1], entry[0].name.lower()))


# ---------------------------------------------------------------- the finder

def _finder_question() -> tuple[str, str, bool, list[str]]:
    """The question in the query string: State code, form of cooperation, urgency, and what is wrong with it."""
    state_code = request.args.get("state", "").strip().upper()[:3]
    form = request.args.get("form", "").strip()[:40]
    urgent_value = request.args.get("urgent", "").strip().lower()
    problems = []
    if not state_code:
        problems.append(_("Choose the requested State."))
    elif get_state(state_code) is None:
        problems.append(_("%(code)s is not a State in the list. Choose the requested State from the list.",
                          code=state_code))
    if not form:
        problems.append(_("Choose the form of cooperation."))
    elif form not in ROUTES:
        problems.append(_("“%(form)s” is not a form of cooperation the finder knows. Choose one from the list.",
                          form=form))
    if urgent_value not in YES + NO:
        problems.append(_("Say whether the request is urgent: yes or no."))
    return state_code, form, urgent_value in YES, problems


_CARD_FIELDS = ("key", "name", "parent_body", "email", "phone", "time_zone", "office_hours", "available_24_7",
                "accepts_untoc_as_legal_basis", "urgent_requests", "last_verified")


def _card_key(authority: Authority, highlight: tuple[str, ...], form: str, urgent: bool) -> tuple:
    """Everything an answer card shows (templates/directory/finder.html): the authority's fields, designations,
    languages, channels and legal requirements (by digest), its staleness today, its mailbox's state, the marks the
    answer puts on it, and the minute (the card's local time and whether the office is open)."""
    requirements = _digest(authority.legal_requirements)
    return ("finder_card", authority.id, *(getattr(authority, name) for name in _CARD_FIELDS), requirements,
            tuple(authority.designations), tuple(authority.languages or ()), tuple(authority.channels or ()),
            is_stale(authority), mailbox_state_of(authority), tuple(highlight), form == "law_enforcement", urgent,
            utcnow().replace(second=0, microsecond=0))


_states_in_directory = functools.cache(lambda: select(Authority.state).distinct())  # built once per process


@bp.get("/finder")
@requires(can_read_directory)
def finder():
    asked = any(name in request.args for name in ("state", "form", "urgent"))
    state_code, form, urgent, problems = _finder_question() if asked else ("", "", False, [])
    answer = None
    if asked and not problems:
        try:
            answer = find_competent(state_code, form, urgent, entries=True)
        except FinderError:  # checked above; kept so a race with reference data never becomes a 500
            problems.append(_("The finder could not answer this question. Check the State and the form."))
    with_entries = answer.states_in_directory if answer and answer.states_in_directory is not None else frozenset(
        db.session.scalars(_states_in_directory()))  # read with the answer's authorities when there are some
    states_with_entries, states_without_entries = _finder_states(with_entries)
    return render_template(
        "directory/finder.html", answer=answer, problems=problems, chosen_form=form, urgent=urgent,
        chosen_state=state_code if state_code and state_code in state_names() else "",  # one of the options or none
        forms=cooperation_forms(), routes=ROUTES,
        states_with_entries=states_with_entries, states_without_entries=states_without_entries,
        local_time=local_time, card_key=_card_key,
    ), (400 if problems else 200)


FINDER_STATE_LISTS_KEPT = 32  # (language, States with entries) pairs kept per process
_finder_state_lists: dict[tuple[str, frozenset[str]], tuple[tuple[tuple[str, str], ...], ...]] = {}


def _finder_states(with_entries: frozenset[str]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The finder's choices of States: ((code, name) of the States with entries, of the States without), in the
    reader's language and order. The UN's names; a territory only if an authority of it is listed (Hong Kong SAR has
    its own central authority), never among the States without entries. Built once per process, language and set
    of States with entries (some 200 options), not per request."""
    key = (reader_language(), with_entries)
    found = _finder_state_lists.get(key)
    if found is None:
        names, listed = state_names(), state_codes() - with_entries
        found = (tuple((code, names[code]) for code in codes_by_name() if code in with_entries),
                 tuple((code, names[code]) for code in codes_by_name() if code in listed))
        if len(_finder_state_lists) >= FINDER_STATE_LISTS_KEPT:
            _finder_state_lists.clear()
        _finder_state_lists[key] = found
    return found


# ---------------------------------------------------------------- the print-ready directory

@bp.get("/print")
@requires(can_read_directory)
def print_view():
    filters = _filters()
    found = queries.filtered_authorities(filters)
    return render_template("directory/print.html", filters=filters, sections=queries.by_state(found),
                           total=len(found), generated=utcnow(), list_url=_url_with("directory.index"),
                           filter_summary=_filter_summary(filters))


def _filter_summary(filters: queries.DirectoryFilters) -> list[str]:
    """The filters in words, for the cover of the printed directory."""
    states = all_states()
    describe = {
        "state": lambda code: states[code].name if code in states else code,
        "region": region_name,
        "group": group_label,
        "designation": lambda code: vocabulary_label("designations", code),
        "instrument": instrument_label,
        "channel": lambda code: vocabulary_label("channels", code),
        "language": language_label,
    }
    headings = {"state": _("State"), "region": _("Region"), "group": _("Regional group"),
                "designation": _("Designation"), "instrument": _("Instrument"), "channel": _("Channel"),
                "language": _("Language")}
    lines = [f"{headings[name]}: " + ", ".join(describe[name](v) for v in filters.get(name)) for name in headings
             if filters.get(name)]
    if filters.q:
        lines.append(_("Name contains: %(words)s", words=filters.q))
    if filters.available_24_7:
        lines.append(_("Available 24/7"))
    if filters.stale is True:
        lines.append(_("Only entries not verified in the last 12 months"))
    elif filters.stale is False:
        lines.append(_("Only entries verified in the last 12 months"))
    return lines


# ---------------------------------------------------------------- one authority

class AuthorityPage(NamedTuple):
    """An authority as its page shows it (templates/directory/authority.html reads it as it reads an Authority):
    columns and its designation codes in one row, not a loaded Authority joined to its designations (a row per
    designation, each with the authority's columns, its JSON lists decoded again, its mailbox's state and its people
    computed again). A field the page starts to show is added here."""

    id: int
    key: str
    state: str
    name: str
    parent_body: str
    address: str
    phone: str
    email: str
    website: str
    languages: list[str]
    channels: list[str]
    accepts_untoc_as_legal_basis: bool | None
    urgent_requests: str
    available_24_7: bool
    time_zone: str
    office_hours: str
    legal_requirements: str
    national_laws: list[dict]
    treaties: list[str]
    last_verified: date | None
    designations: tuple[str, ...]  # in the vocabulary's order, as Authority.designations


@functools.cache
def _authority_statement():
    """The authority's columns with its designations (codes joined by commas), its mailbox's state (the page's "Write
    to this authority") and its people on the network: one statement object for the process, the key bound per
    request."""
    codes = (select(func.aggregate_strings(AuthorityDesignation.code, ","))
             .where(AuthorityDesignation.authority_id == Authority.id).scalar_subquery())
    return (select(*(getattr(Authority, name) for name in AuthorityPage._fields[:-1]), codes.label("designations"),
                   mailbox_state().label("mailbox"), _people_column().label("people"))
            .where(Authority.key == bindparam("key")))


def read_authority_page(key: str) -> tuple[AuthorityPage, str, str | None] | None:
    """(the authority as its page shows it, its mailbox's state, its people as _people_rows' JSON), or None."""
    row = db.session.execute(_authority_statement(), {"key": key}).first()
    if row is None:
        return None
    *columns, codes, mailbox, people = row
    return AuthorityPage(*columns, in_vocabulary_order(codes.split(",")) if codes else ()), mailbox, people


def _main_key(authority: AuthorityPage) -> tuple:
    """Everything the authority page's own column shows (designations, what a request needs, the legal
    requirements by digest, laws and treaties)."""
    return ("authority_main", authority.id, tuple(authority.designations), tuple(authority.languages or ()),
            tuple(authority.channels or ()), authority.accepts_untoc_as_legal_basis, authority.urgent_requests,
            authority.available_24_7, _digest(authority.legal_requirements),
            _digest(json.dumps(authority.national_laws or [], sort_keys=True)), tuple(authority.treaties or ()))


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


@bp.get("/<key>")
@requires(can_read_directory)
def authority(key: str):
    found = read_authority_page(key)
    if found is None:
        abort(404)
    found, mailbox, people = found
    remember_states({found.id: mailbox})
    return render_template("directory/authority.html", authority=found, people=_people(people),
                           main_key=_main_key(found),
                           state=get_state(found.state), clock=local_time(found.time_zone, found.office_hours))
