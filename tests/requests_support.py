"""The requests tests' world: three authorities with open mailboxes, their officers with messaging keys, a drafter who
holds no mailbox, a moderator and an administrator; helpers to draft, fill and send a request."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import submit

CANARY = "CANARY-5d81e2-Ferrovia-Holdings-account-4471"  # the free text no table, file, log or mail may hold

MLA_FIELDS = {
    "requesting_authority": "Federal Ministry of Justice, Museumstrasse 7, Vienna",
    "proceeding_authority": "Public Prosecutor's Office Vienna",
    "subject_matter": "Investigation of laundering through shell companies, " + CANARY,
    "facts": "Transfers of EUR 2.4 million from " + CANARY + " between 2024 and 2025.",
    "offences": "Money laundering, section 165 of the Criminal Code; up to ten years.",
    "assistance_sought": "Bank records of the accounts named.",
    "purpose": "Evidence for the trial.",
    "financial_details": "Account statements of " + CANARY + " at First Lagos Bank, 2024-2025.",
    "legal_basis": "United Nations Convention against Transnational Organized Crime, article 18.",
    "signatory": "Dr. Anna Example, Senior Prosecutor",
}


@dataclass
class World:
    aut: object
    nga: object
    fra: object
    drafter: object  # AUT officer, holds no mailbox
    aut_holder: object  # AUT focal point, holds AUT's mailbox
    nga_holder: object  # NGA focal point, holds NGA's mailbox
    fra_holder: object  # a third authority's officer, holds FRA's mailbox
    moderator: object
    admin: object
    privates: dict = field(default_factory=dict)  # member id -> current private keys

    def private(self, member):
        return self.privates[member.id]

    def privates_of(self, member):
        private = self.privates[member.id]
        return {private.key_version: private}


def make_world(app, authority_factory, member_factory, authority, other_authority, moderator, admin) -> World:
    from network.core.clock import utcnow
    from network.core.db import db
    from network.messaging import lifecycle, mailboxes

    app.config["REQUESTS_ADVANCE_COPY_FORMAT"] = "docx"  # the PDF (fonts for six scripts) is H5's tests' to time
    fra = authority_factory("FRA", "Bureau de l'entraide pénale internationale", ("justice.example.fr",),
                            key="FRA-BEPI")
    other_authority.available_24_7 = True
    other_authority.email = "duty@justice.example.ng"
    other_authority.urgent_requests = "Call the duty officer at any hour."
    world = World(
        aut=authority, nga=other_authority, fra=fra,
        drafter=member_factory(authority=authority, email="drafter@justiz.example.at", name="Dora Drafter"),
        aut_holder=member_factory(roles=("focal_point",), authority=authority, email="holder@justiz.example.at",
                                  name="Hanna Holder"),
        nga_holder=member_factory(roles=("focal_point",), authority=other_authority,
                                  email="holder@justice.example.ng", name="Ngozi Holder"),
        fra_holder=member_factory(roles=("focal_point",), authority=fra, email="holder@justice.example.fr",
                                  name="Fabien Holder"),
        moderator=moderator, admin=admin)
    for person in (world.drafter, world.aut_holder, world.nga_holder, world.fra_holder, moderator, admin):
        keys, world.privates[person.id], _recovery = lifecycle.create_key_set(person, person.password)
        keys.recovery_confirmed_at = utcnow()
    for holder, where in ((world.aut_holder, authority), (world.nga_holder, other_authority), (world.fra_holder, fra)):
        mailboxes.open_mailbox(holder, where, private=world.private(holder))
    db.session.commit()
    return world


@pytest.fixture
def world(app, authority_factory, member_factory, authority, other_authority, moderator, admin):
    return make_world(app, authority_factory, member_factory, authority, other_authority, moderator, admin)


def draft_request(world, *, fields=None, urgent=False, confidential=False, limited=False, form="mla",
                  measures=("financial_records",), reference="AUT-2026-17"):
    """A draft by world.drafter to NGA-CA with the given fields saved (through the services)."""
    from network.core.db import db
    from network.requests import definitions, services

    item = services.create_draft(world.drafter, services.NewDraft(
        form=form, measures=measures, requested_state="NGA", requested_authority_key="NGA-CA", reference=reference,
        urgent=urgent, confidential=confidential, limited_use=limited), private=world.private(world.drafter))
    values = MLA_FIELDS if fields is None else fields
    for step in definitions.steps_for(services.flags_of(item)):
        services.save_step(world.drafter, item, step.key, {k: v for k, v in values.items()
                                                             if k in dict(step.fields)},
                           private=world.private(world.drafter))
    db.session.commit()
    return item


def send_request(app, world, item, channel="direct"):
    from network.core.db import db
    from network.core.mail import deliver_queued
    from network.requests import services

    with app.test_request_context("/"):
        services.send(world.drafter, item, channel=channel, original_sent_on=None,
                      private=world.private(world.drafter))
        db.session.commit()
        deliver_queued()
    return item


def change(app, world, member, item, status, note="", ground=""):
    from network.core.db import db
    from network.core.mail import deliver_queued
    from network.requests import services

    with app.test_request_context("/"):
        event = services.change_status(member, item, status, note, private=world.private(member), ground=ground)
        db.session.commit()
        deliver_queued()
    return event


def post_form(client, url, data, page):
    return submit(client, url, data, page=page)
