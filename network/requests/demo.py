"""Demonstration requests (part of `flask --app app demo load`): fictional requests between the Austrian ministry and
Nigeria's central authority, one in each status, with dates spread over the past months so the register shows ages
and overdue marks at once. Every event is signed by a demo officer, as in real use.

The demo requests carry no advance copy: the messaging demo's inboxes stay as that demo left them."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from network.core import clock
from network.core.clock import utcnow
from network.core.db import db
from network.directory.models import Authority
from network.members.demo import accounts_file
from network.members.models import Member
from network.messaging import lifecycle, mailboxes
from network.requests import definitions, services
from network.requests.models import CooperationRequest

REQUESTING, REQUESTED = "focal_aut", "focal_nga"

FIELDS = {
    "requesting_authority": "Federal Ministry of Justice, International Criminal Law Division, Vienna (fictional)",
    "proceeding_authority": "Public Prosecutor's Office for Economic Crime and Corruption, Vienna",
    "subject_matter": "Investigation of a fictional investment fraud and the laundering of its proceeds.",
    "facts": "Between 2024 and 2025, investors were persuaded to pay into a fictional fund; the money was moved "
             "within days to accounts abroad. This is a demonstration case: the persons and accounts do not exist.",
    "offences": "Aggravated fraud and money laundering under the Criminal Code (fictional citation), up to ten "
                "years' imprisonment.",
    "assistance_sought": "Records of the accounts named, and statements of the account officers.",
    "purpose": "Evidence for the prosecution of the organisers.",
    "persons": "The fictional directors of the fund; nationality unknown.",
    "evidence_questions": "Who opened the accounts, on whose instructions, and with which documents?",
    "financial_details": "Statements of the fictional accounts 0001 to 0004 for 2024 and 2025.",
    "electronic_data_details": "Subscriber data and logs of the fictional e-mail account used by the fund.",
    "person_sought": "A fictional director of the fund, believed to live in Lagos.",
    "warrant_or_judgment": "Arrest warrant of the Regional Court, Vienna (fictional reference).",
    "penalty_and_limitation": "Up to ten years; not time-barred before 2035.",
    "provisional_arrest_grounds": "The person is about to travel on; the extradition request follows in 60 days.",
    "urgency": "The trial opens in three months.",
    "confidentiality": "Do not inform the account holders.",
    "limitation_on_use": "Only for the fictional proceedings named above.",
    "legal_basis": "United Nations Convention against Transnational Organized Crime, articles 16 and 18.",
    "signatory": "Franz Fokus, Head of Unit",
}

# (reference, form, measures, urgent, status reached, the path of events: (side, status, note)), oldest first
STORIES = [
    ("AUT-DEMO-01", "mla", ("financial_records",), False, [
        ("requested", "received", ""), ("requested", "under_execution", ""),
        ("requested", "executed", "Records sent by courier (fictional)."), ("requesting", "closed", "")]),
    ("AUT-DEMO-02", "mla", ("evidence",), False, [
        ("requested", "received", ""),
        ("requested", "consultation", "Can the hearing wait until our own proceedings end?"),
        ("requested", "refused", "Our law would prohibit the hearing for a similar offence (art. 18 (21) (c))."),
    ]),
    ("AUT-DEMO-03", "mla", ("financial_records", "electronic_data"), False, [
        ("requested", "received", ""), ("requested", "under_execution", ""),
        ("requested", "partly_executed", "Bank records sent; the provider has not answered yet.")]),
    ("AUT-DEMO-04", "mla", ("evidence",), False, [
        ("requested", "received", ""), ("requested", "postponed", "A related domestic trial runs until June "
                                                                  "(art. 18 (25)).")]),
    ("AUT-DEMO-05", "mla", ("financial_records",), False, [
        ("requested", "received", ""),
        ("requested", "info_requested", "Please give the account numbers and the period."),
        ("requesting", "info_supplied", "Accounts 0001 to 0004, January 2024 to March 2025.")]),
    ("AUT-DEMO-06", "mla", ("financial_records",), False, [
        ("requested", "received", ""), ("requested", "info_requested", "Which court order authorises the request?")]),
    ("AUT-DEMO-07", "mla", ("electronic_data",), True, [("requested", "received", ""),
                                                        ("requested", "under_execution", "")]),
    ("AUT-DEMO-08", "extradition", ("provisional_arrest",), True, [("requested", "received", "")]),
    ("AUT-DEMO-09", "mla", ("evidence",), False, []),  # sent long ago, never acknowledged: overdue
    ("AUT-DEMO-10", "mla", ("evidence",), False, [("requesting", "withdrawn", "The suspect was arrested at home.")]),
    ("AUT-DEMO-11", "mla", ("financial_records",), False, [
        ("requested", "received", ""), ("requested", "under_execution", ""), ("requested", "executed", "")]),
    ("AUT-DEMO-12", "mla", ("evidence",), False, [
        ("requested", "received", ""),
        ("requested", "consultation", "Could the witness be heard by videoconference instead (art. 18 (26))?")]),
    ("AUT-DEMO-13", "mla", ("financial_records",), False, None),  # still a draft
]


def _privates() -> dict[str, tuple[Member, object]]:
    path = accounts_file()
    accounts = json.loads(path.read_text()) if path.exists() else {}
    found = {}
    for key in (REQUESTING, REQUESTED):
        entry = accounts.get(key)
        member = db.session.scalar(select(Member).where(Member.email == entry["email"])) if entry else None
        private = lifecycle.current_private_with_password(member, entry["password"]) if member else None
        if member is not None and private is not None:
            found[key] = (member, private)
    return found


def load_demo_requests() -> dict[str, int]:
    """Idempotent: only on a platform that has no request yet, and once the messaging demo gave the accounts keys."""
    created = {"requests": 0}
    if db.session.scalar(select(func.count()).select_from(CooperationRequest)):
        return created
    people = _privates()
    aut = db.session.scalar(select(Authority).where(Authority.key == "AUT-MOJ"))
    nga = db.session.scalar(select(Authority).where(Authority.key == "NGA-CA"))
    if len(people) < 2 or aut is None or nga is None:
        current_app.logger.info("demo requests: demo accounts or authorities missing; no requests made")
        return created
    (drafter, drafter_private), (answerer, answerer_private) = people[REQUESTING], people[REQUESTED]
    for member, private, authority in ((drafter, drafter_private, aut), (answerer, answerer_private, nga)):
        if mailboxes.state(authority) != "open" and mailboxes.can_open(member, authority):
            mailboxes.open_mailbox(member, authority, private=private)
    if not (mailboxes.is_holder(drafter, aut.id) and mailboxes.is_holder(answerer, nga.id)):
        current_app.logger.info("demo requests: the demo officers do not hold their mailboxes; no requests made")
        return created
    signer = {"requesting": (drafter, drafter_private), "requested": (answerer, answerer_private)}
    previous, start = clock._frozen, utcnow()
    try:
        for number, (reference, form, measures, urgent, path) in enumerate(STORIES):
            moment = start - timedelta(days=200 - 15 * number)
            clock.freeze(moment)
            item = services.create_draft(drafter, services.NewDraft(
                form=form, measures=measures, requested_state="NGA", requested_authority_key="NGA-CA",
                reference=reference, urgent=urgent, confidential=number % 3 == 0, limited_use=number % 2 == 0,
                language="en"), private=drafter_private)
            for step in definitions.steps_for(services.flags_of(item)):
                services.save_step(drafter, item, step.key, {k: FIELDS.get(k, "") for k, _rule in step.fields},
                                   private=drafter_private)
            if path is not None:
                services.send(drafter, item, channel="direct" if number % 2 else "diplomatic",
                              original_sent_on=moment.date(), private=drafter_private, advance_copy=False)
                for step_number, (side, status, note) in enumerate(path, start=1):
                    clock.freeze(moment + timedelta(days=6 * step_number))
                    member, private = signer[side]
                    services.change_status(member, item, status, note, private=private, notify=False,
                                           ground="domestic_prohibition" if status == "refused" else "")
            created["requests"] += 1
    finally:
        clock.freeze(previous)
    db.session.flush()
    return created
