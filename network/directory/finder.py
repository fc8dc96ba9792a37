"""The finder: from a requested State, a form of cooperation and its urgency to the competent authority or
authorities, and what a request to them needs.

Which designation answers which form of cooperation is data (ROUTES), shown as a table on the finder page so a
practitioner can check the reasoning. The Convention designates authorities for mutual legal assistance
(art. 18 (13)), and States notify those for extradition (art. 16), transfer of sentenced persons (art. 17) and
confiscation (art. 13); the 1988 Convention's designations are offered as alternatives for drug cases. Law
enforcement cooperation (art. 27) goes from police to police and has no designation under the Convention."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.orm import aliased, joinedload

from network.core.db import db
from network.core.reference import vocabulary_labels
from network.directory.models import Authority, AuthorityDesignation, in_vocabulary_order
from network.directory.states import State, get_state

MLA_CENTRAL = "untoc_mla_central"


class FinderError(ValueError):
    """The question cannot be answered as asked (unknown State or form of cooperation)."""


@dataclass(frozen=True)
class Route:
    """Where requests for one form of cooperation go."""

    designations: tuple[str, ...]  # the competent designation(s); empty when the Convention designates none
    article: str  # the Convention's provision on the form of cooperation
    alternatives: tuple[str, ...] = ()  # designations competent in some cases instead
    alternatives_note: str = ""
    note: str = ""


_DRUG_MLA = _l("In drug trafficking cases, the central authority designated under article 7 (8) of the 1988 "
               "Convention may be competent instead.")
_MLA_NOTE = _l("Requests are made as mutual legal assistance (article 18), through the central authority.")

ROUTES: dict[str, Route] = {
    "extradition": Route(
        ("untoc_extradition",), "UNTOC art. 16", ("drugs_extradition",),
        _l("In drug trafficking cases, the authority designated under article 6 of the 1988 Convention may be "
           "competent instead.")),
    "mla": Route((MLA_CENTRAL,), "UNTOC art. 18", ("drugs_mla_central",), _DRUG_MLA),
    "videoconference": Route(
        (MLA_CENTRAL,), "UNTOC art. 18 (18)", ("drugs_mla_central",), _DRUG_MLA,
        _l("A hearing by videoconference is requested as mutual legal assistance (article 18 (18)).")),
    "spontaneous_information": Route(
        (MLA_CENTRAL,), "UNTOC art. 18 (4)", ("drugs_mla_central",), _DRUG_MLA,
        _l("Information may be transmitted without a prior request (article 18 (4)); the central authority is the "
           "usual addressee.")),
    "joint_investigation": Route(
        (MLA_CENTRAL,), "UNTOC art. 19", ("drugs_mla_central",), _DRUG_MLA,
        _l("Joint investigations rest on agreements or case-by-case arrangements (article 19); the central "
           "authority for mutual legal assistance is the usual first contact.")),
    "special_techniques": Route(
        (MLA_CENTRAL,), "UNTOC art. 20", ("drugs_mla_central",), _DRUG_MLA,
        _l("Controlled delivery, electronic surveillance and undercover operations across borders are agreed case "
           "by case (article 20); the central authority is the usual first contact.")),
    "transfer_of_proceedings": Route(
        (MLA_CENTRAL,), "UNTOC art. 21", ("drugs_mla_central",), _DRUG_MLA,
        _l("The Convention designates no authority for transfer of proceedings (article 21); States usually "
           "receive such requests through the central authority for mutual legal assistance.")),
    "confiscation": Route(
        ("untoc_confiscation",), "UNTOC art. 13", note=_l(
            "Article 18 applies to requests for confiscation (article 13 (3)); where no separate authority is "
            "designated, the central authority for mutual legal assistance receives them.")),
    "asset_sharing": Route(
        ("untoc_confiscation",), "UNTOC art. 14", note=_l(
            "Disposal and sharing of confiscated proceeds (article 14) is agreed with the authority competent for "
            "confiscation.")),
    "sentenced_persons": Route(("untoc_sentenced_persons",), "UNTOC art. 17"),
    "law_enforcement": Route(
        (), "UNTOC art. 27", note=_l(
            "Law enforcement cooperation (article 27) goes from police to police and has no designated authority "
            "under the Convention. Use the INTERPOL channel (the State's National Central Bureau); when the "
            "information must serve as evidence in court, request mutual legal assistance from the central "
            "authority.")),
}


class FinderEntry(NamedTuple):
    """An authority as the finder's page shows it (the answer card of templates/directory/finder.html reads it as it
    reads an Authority): columns, designations and lists read once per authority, not a loaded Authority with every
    JSON list decoded once per designation row. A field the card starts to show is added here."""

    id: int
    key: str
    name: str
    parent_body: str
    email: str
    phone: str
    time_zone: str
    office_hours: str
    available_24_7: bool
    accepts_untoc_as_legal_basis: bool | None
    urgent_requests: str
    legal_requirements: str
    last_verified: date | None
    languages: list[str]
    channels: list[str]
    designations: tuple[str, ...]  # in the vocabulary's order, as Authority.designations


@dataclass
class FinderAnswer:
    """The finder's answer: who is competent, who else may be, and whom to ask when nobody is designated."""

    state: State
    form: str
    urgent: bool
    route: Route
    # Authorities, or FinderEntry rows when asked for (the finder's page)
    competent: list[Authority] = field(default_factory=list)
    alternatives: list[Authority] = field(default_factory=list)  # hold one of route.alternatives
    suggestions: list[Authority] = field(default_factory=list)  # when no authority is competent
    suggestion_kind: str = ""  # "mla_central", "other" or "none" when there are no competent authorities
    states_in_directory: frozenset[str] | None = None  # the codes of the States with entries (None: not read)

    @property
    def found(self) -> bool:
        return bool(self.competent)

    @property
    def designated_under_convention(self) -> bool:
        """False for forms of cooperation (law enforcement) for which the Convention designates nobody."""
        return bool(self.route.designations)

    @property
    def none_round_the_clock(self) -> bool:
        """Urgent, and none of the authorities to write to is reachable 24/7."""
        shown = self.competent or self.suggestions
        return self.urgent and bool(shown) and not any(a.available_24_7 for a in shown)


def cooperation_forms() -> dict[str, str]:
    """Code -> English label of every form of cooperation the finder answers for."""
    return {code: label for code, label in vocabulary_labels("cooperation_forms").items() if code in ROUTES}


def _holding(authorities: list[Authority], codes: tuple[str, ...]) -> list[Authority]:
    return [a for a in authorities if set(a.designations) & set(codes)]


@functools.cache
def _authorities_statement():
    """The State's authorities with their designations, each row with the codes of every State with entries (the
    finder's list of States) and the authority's mailbox state (its "Write to this authority"): one statement
    object for the process, the State bound per request."""
    from network.messaging.mailboxes import state_expression

    listed = aliased(Authority)
    states = select(listed.state).distinct().subquery()
    in_directory = select(func.aggregate_strings(states.c.state, ",")).scalar_subquery()
    return (select(Authority, in_directory.label("in_directory"), state_expression().label("mailbox"))
            .where(Authority.state == bindparam("state")).options(joinedload(Authority.designation_rows)))


@functools.cache
def _entries_statement():
    """_authorities_statement's rows as FinderEntry columns: the designations aggregated, the lists as their text."""
    from network.messaging.mailboxes import state_expression

    listed = aliased(Authority)
    states = select(listed.state).distinct().subquery()
    in_directory = select(func.aggregate_strings(states.c.state, ",")).scalar_subquery()
    codes = (select(func.aggregate_strings(AuthorityDesignation.code, ","))
             .where(AuthorityDesignation.authority_id == Authority.id).scalar_subquery())
    columns = [getattr(Authority, name) for name in FinderEntry._fields[:-3]]
    return (select(*columns, cast(Authority.languages, Text), cast(Authority.channels, Text), codes,
                   in_directory.label("in_directory"), state_expression().label("mailbox"))
            .where(Authority.state == bindparam("state")))


def _entry(row) -> FinderEntry:
    *columns, languages, channels, codes, _in_directory, _mailbox = row
    return FinderEntry(*columns, json.loads(languages or "null") or [], json.loads(channels or "null") or [],
                       in_vocabulary_order(codes.split(",")) if codes else ())


def authorities_of(state: str, entries: bool = False) -> tuple[list, frozenset[str] | None]:
    """The State's authorities (designations loaded, mailbox states remembered for the request) and the codes of
    the States with entries, in one statement; None for the codes when the State has no entry (no row to carry
    them). `entries`: FinderEntry rows rather than Authorities."""
    from network.messaging.mailboxes import remember_states

    if entries:
        rows = db.session.execute(_entries_statement(), {"state": state}).all()
        remember_states({row.id: row.mailbox for row in rows})
        return [_entry(row) for row in rows], frozenset(rows[0].in_directory.split(",")) if rows else None
    rows = db.session.execute(_authorities_statement(), {"state": state}).unique().all()
    remember_states({authority.id: mailbox for authority, _codes, mailbox in rows})
    return ([authority for authority, _codes, _mailbox in rows],
            frozenset(rows[0].in_directory.split(",")) if rows else None)


def find_competent(state: str | State, form: str, urgent: bool = False, *, entries: bool = False) -> FinderAnswer:
    """The competent authorities of the State for the form of cooperation. Raises FinderError for an unknown
    State or form. When urgent, authorities reachable 24/7 come first. `entries`: the answer holds FinderEntry rows
    (what the finder's page shows), not Authorities."""
    found_state = state if isinstance(state, State) else get_state(state)
    if found_state is None:
        raise FinderError(f"unknown State {state!r}")
    if form not in ROUTES:
        raise FinderError(f"unknown form of cooperation {form!r}")
    route = ROUTES[form]
    authorities, in_directory = authorities_of(found_state.code, entries)
    authorities.sort(key=lambda a: ((not a.available_24_7) if urgent else False, a.name.lower(), a.key))

    answer = FinderAnswer(state=found_state, form=form, urgent=urgent, route=route, states_in_directory=in_directory)
    answer.competent = _holding(authorities, route.designations) if route.designations else []
    answer.alternatives = [a for a in _holding(authorities, route.alternatives) if a not in answer.competent]
    if answer.competent:
        return answer
    central = [a for a in _holding(authorities, (MLA_CENTRAL,)) if a not in answer.alternatives]
    others = [a for a in authorities if a not in answer.alternatives]
    if central:
        answer.suggestions, answer.suggestion_kind = central, "mla_central"
    elif others:
        answer.suggestions, answer.suggestion_kind = others, "other"
    else:
        answer.suggestion_kind = "none"
    return answer
