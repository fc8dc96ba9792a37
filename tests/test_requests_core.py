"""Requests between authorities, the core (issue 15): step checks of every form, sealing (who opens a request and who
does not), sending, the status transitions of each side, the signed event chain, reminders from the local SMTP server.
"""
from __future__ import annotations

import json

import pytest

from tests.requests_support import CANARY, MLA_FIELDS, change, draft_request, send_request, world  # noqa: F401

# Cheap Argon2 (the tests' own accounts and key wraps; the parameters production uses are tested in test_hardening)
pytestmark = pytest.mark.config(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)

# ---------------------------------------------------------------- the step checks of each form

# The essentials of each form with nothing filled in and no flag set, step by step: what the drafter is told is missing.
EXPECTED_ESSENTIALS = {
    "mla": {"authorities": ["requesting_authority", "proceeding_authority"],
            "case": ["subject_matter", "facts", "offences"], "assistance": ["assistance_sought", "purpose"],
            "measure_financial_records": ["financial_details"], "measure_evidence": ["evidence_questions"],
            "handling": ["legal_basis", "signatory"]},
    "extradition": {"authorities": ["requesting_authority", "proceeding_authority"], "person": ["person_sought"],
                    "case": ["facts", "offences", "warrant_or_judgment", "penalty_and_limitation"],
                    "measure_provisional_arrest": ["provisional_arrest_grounds"],
                    "handling": ["legal_basis", "signatory"]},
    "confiscation": {"authorities": ["requesting_authority", "proceeding_authority"], "case": ["facts", "offences"],
                     "order": ["confiscation_order", "property_details", "requested_measure"],
                     "handling": ["legal_basis", "signatory"]},
    "sentenced_persons": {"authorities": ["requesting_authority", "proceeding_authority"],
                          "person": ["sentenced_person", "sentence_details", "consent"],
                          "case": ["facts", "offences"], "handling": ["legal_basis", "signatory"]},
    "transfer_of_proceedings": {"authorities": ["requesting_authority", "proceeding_authority"],
                                "case": ["subject_matter", "facts", "offences"],
                                "proceedings": ["proceedings_file", "reasons_for_transfer"],
                                "handling": ["legal_basis", "signatory"]},
}
MEASURES = {"mla": ("evidence", "financial_records"), "extradition": ("provisional_arrest",)}


@pytest.mark.parametrize("form", sorted(EXPECTED_ESSENTIALS))
def test_each_form_names_the_essentials_missing_at_each_step(form):
    from network.requests import definitions

    flags = definitions.DraftFlags(form=form, measures=MEASURES.get(form, ()))
    assert definitions.all_missing(flags, {}) == EXPECTED_ESSENTIALS[form]
    filled = {key: "text" for keys in EXPECTED_ESSENTIALS[form].values() for key in keys}
    assert definitions.all_missing(flags, filled) == {}
    for step in definitions.steps_for(flags):  # a blank answer is not an answer
        missing = definitions.missing_essentials(step, flags, {k: "   " for k in filled})
        assert missing == EXPECTED_ESSENTIALS[form].get(step.key, [])


def test_flags_make_their_fields_essential_and_measures_add_their_steps():
    from network.requests import definitions

    flags = definitions.DraftFlags(form="mla", measures=("service",), urgent=True, confidential=True,
                                   limited_use=True)
    assert definitions.all_missing(flags, {})["handling"] == ["urgency", "confidentiality", "limitation_on_use",
                                                             "legal_basis", "signatory"]
    keys = [s.key for s in definitions.steps_for(flags)]
    assert "measure_service" in keys and "measure_financial_records" not in keys
    with pytest.raises(ValueError):
        definitions.valid_measures("mla", ["provisional_arrest"])


def test_a_step_saves_what_was_written_and_names_what_is_missing(app, world):  # noqa: F811
    from network.requests import services

    item = draft_request(world, fields={})
    result = services.save_step(world.drafter, item, "case", {"facts": "Transfers abroad.", "offences": ""},
                                private=world.private(world.drafter))
    assert result.missing == ["subject_matter", "offences"]
    fields = services.read_content(world.drafter, item, world.privates_of(world.drafter))["fields"]
    assert fields["facts"] == "Transfers abroad."  # saved, though incomplete ("save and continue later")
    with pytest.raises(services.RequestError, match="Summary of the relevant facts|Subject matter"):
        with app.test_request_context("/"):
            services.send(world.drafter, item, channel="direct", original_sent_on=None,
                          private=world.private(world.drafter))


# ---------------------------------------------------------------- sealed like messages

def _opens(world, member, item) -> bool:  # noqa: F811
    from network.requests import crypto

    try:
        crypto.open_sealed(item.content, item, member, world.privates_of(member))
    except Exception as error:  # noqa: BLE001 -- any refusal counts as "does not open"
        from network.messaging.formats import MessagingCryptoError

        assert isinstance(error, MessagingCryptoError), error
        return False
    return True


@pytest.mark.persistence
def test_the_content_opens_for_the_drafter_and_both_mailboxes_and_no_one_else(app, world):  # noqa: F811
    item = draft_request(world)
    assert item.content.count(CANARY.encode()) == 0
    readers = {"drafter": world.drafter, "aut_holder": world.aut_holder, "nga_holder": world.nga_holder,
               "fra_holder": world.fra_holder, "moderator": world.moderator, "admin": world.admin}
    assert {name for name, m in readers.items() if _opens(world, m, item)} == {"drafter", "aut_holder"}
    send_request(app, world, item)
    assert {name for name, m in readers.items() if _opens(world, m, item)} == {"drafter", "aut_holder", "nga_holder"}


def test_a_drafter_whose_authority_has_no_mailbox_seals_the_draft_for_themselves(
        app, world, authority_factory, member_factory):  # noqa: F811
    from network.core.clock import utcnow
    from network.messaging import lifecycle
    from network.requests import crypto, services

    bra = authority_factory("BRA", "Department of Asset Recovery", ("mj.example.br",), key="BRA-DRCI")
    drafter = member_factory(authority=bra, email="ana@mj.example.br", name="Ana Souza")
    keys, private, _recovery = lifecycle.create_key_set(drafter, drafter.password)
    keys.recovery_confirmed_at = utcnow()
    item = services.create_draft(drafter, services.NewDraft(form="mla", measures=("evidence",), requested_state="NGA",
                                                            requested_authority_key="NGA-CA"), private=private)
    assert crypto.open_sealed(item.content, item, drafter, {private.key_version: private})["fields"]["signatory"] \
        == "Ana Souza"
    assert not _opens(world, world.nga_holder, item) and not _opens(world, world.aut_holder, item)


def test_an_envelope_moved_to_another_request_does_not_open(app, world):  # noqa: F811
    from network.requests import crypto

    first, second = draft_request(world), draft_request(world, reference="AUT-2026-18")
    with pytest.raises(crypto.RequestCryptoError):
        crypto.open_sealed(first.content, second, world.drafter, world.privates_of(world.drafter))


# ---------------------------------------------------------------- sending

def test_sending_puts_the_advance_copy_with_the_document_in_the_requested_mailbox(app, world, mailbox):  # noqa: F811
    from network.messaging import services as messaging
    from network.messaging.models import Conversation

    item = draft_request(world, urgent=True, confidential=True, limited=True,
                         fields={**MLA_FIELDS, "urgency": "Trial on 1 June.", "confidentiality": "Do not tell the "
                                 "account holder.", "limitation_on_use": "Only for this case."})
    send_request(app, world, item, channel="diplomatic")
    assert (item.status, item.original_channel, item.event_count) == ("sent", "diplomatic", 1)
    conversation = app.extensions["sqlalchemy"].session.get(Conversation, item.advance_conversation_id)
    ring = messaging.keyring(world.nga_holder, conversation, privates=world.privates_of(world.nga_holder))
    opened = messaging.open_stored(conversation.messages[0], world.nga_holder, ring)
    header, body = opened.header, json.loads(opened.body)
    assert header["urgent"] is True and header["handling"] == {"confidential": True, "limited_use": True}
    assert "Call the duty officer at any hour." in body["text"]  # the 24/7 contact, from the directory
    assert [f["name"].rsplit(".", 1)[1] for f in body["files"]] == ["docx"]  # the document, as configured
    duty = mailbox.last("duty@justice.example.ng")  # urgent: the authority's 24/7 address hears of it
    assert CANARY not in duty.get_content() and "urgent request" in duty.get_content()
    assert CANARY not in mailbox.body(world.nga_holder.email)


def test_sending_needs_the_requested_mailbox_open(app, world):  # noqa: F811
    from network.core.db import db
    from network.requests import services

    item = draft_request(world)
    item.requested_authority_id = world.fra.id  # a draft retargeted at an authority ...
    db.session.flush()
    from network.messaging.models import AuthorityKeyGrant

    for grant in db.session.query(AuthorityKeyGrant).filter_by(authority_id=world.fra.id):
        db.session.delete(grant)  # ... whose mailbox no officer reads
    db.session.commit()
    with app.test_request_context("/"), pytest.raises(services.RequestError, match="does not read a mailbox"):
        services.send(world.drafter, item, channel="direct", original_sent_on=None,
                      private=world.private(world.drafter))


# ---------------------------------------------------------------- transitions per side

def test_each_side_moves_the_request_only_as_its_role_allows(app, world):  # noqa: F811
    from network.requests import services

    item = draft_request(world)
    send_request(app, world, item)
    with pytest.raises(services.RequestError):
        change(app, world, world.aut_holder, item, "received")  # the requesting side does not acknowledge
    with pytest.raises(services.RequestError):
        change(app, world, world.fra_holder, item, "received")  # a third authority does nothing
    change(app, world, world.nga_holder, item, "received")
    with pytest.raises(services.RequestError, match="reasons for refusal"):
        change(app, world, world.nga_holder, item, "refused")  # refusal needs reasons (art. 18 (23))
    change(app, world, world.nga_holder, item, "info_requested", "The account numbers, please.")
    with pytest.raises(services.RequestError):
        change(app, world, world.nga_holder, item, "info_supplied", "x")  # only the requesting side supplies it
    change(app, world, world.aut_holder, item, "info_supplied", "Numbers 4471 and 4472.")
    change(app, world, world.nga_holder, item, "under_execution")
    change(app, world, world.nga_holder, item, "executed")
    change(app, world, world.aut_holder, item, "closed")
    assert [e.status for e in item.events] == ["sent", "received", "info_requested", "info_supplied",
                                               "under_execution", "executed", "closed"]
    assert item.acknowledged_at is not None and item.completed_at is not None


# ---------------------------------------------------------------- the signed event chain

def _finished(app, world):  # noqa: F811
    item = draft_request(world)
    send_request(app, world, item)
    change(app, world, world.nga_holder, item, "received")
    change(app, world, world.nga_holder, item, "postponed", "Pending a domestic trial (art. 18 (25)).")
    change(app, world, world.nga_holder, item, "under_execution")
    return item


@pytest.mark.persistence
def test_the_event_chain_verifies_and_detects_a_changed_or_removed_event(app, world):  # noqa: F811
    from network.core.db import db
    from network.requests import crypto
    from network.requests.models import RequestEvent

    item = _finished(app, world)
    assert crypto.verify_chain(item).ok and crypto.verify_chain(item).verified == 4

    second = item.events[1]
    second.status = "executed"  # changed in the database, outside the platform
    db.session.commit()
    assert not crypto.verify_chain(item).ok
    second.status = "received"
    record = json.loads(second.record)
    record["status"] = "executed"
    second.record, second.status = json.dumps(record), "executed"  # changed record: the signature breaks
    db.session.commit()
    assert any("signature does not verify" in p for p in crypto.verify_chain(item).problems)
    record["status"] = "received"
    second.record, second.status = json.dumps(record), "received"
    db.session.commit()
    assert crypto.verify_chain(item).ok

    db.session.delete(db.session.get(RequestEvent, item.events[2].id))  # a removed event in the middle
    db.session.commit()
    db.session.expire_all()
    assert not crypto.verify_chain(item).ok


def test_removing_the_newest_event_is_detected(app, world):  # noqa: F811
    from network.core.db import db
    from network.requests import crypto

    item = _finished(app, world)
    db.session.delete(item.events[-1])
    db.session.commit()
    db.session.expire_all()
    report = crypto.verify_chain(item)
    assert not report.ok and any("newest events are missing" in p for p in report.problems)


def test_an_event_cannot_be_signed_by_someone_else(app, world):  # noqa: F811
    from network.core.db import db
    from network.messaging.formats import member_slot
    from network.requests import crypto

    item = _finished(app, world)
    event = item.events[1]
    record = json.loads(event.record)
    record["actor"] = member_slot(world.fra_holder.id)  # claims another signer
    event.record, event.actor_id = json.dumps(record), world.fra_holder.id
    db.session.commit()
    assert any("signature does not verify" in p for p in crypto.verify_chain(item).problems)


# ---------------------------------------------------------------- reminders and the status question

def test_reminders_reach_both_sides_once_per_period_without_content(app, world, mailbox, clock):  # noqa: F811
    item = draft_request(world)
    send_request(app, world, item)
    mailbox.clear()
    runner = app.test_cli_runner()
    clock.advance(days=9)
    assert "0 request(s)" in runner.invoke(args=["requests", "remind"]).output
    clock.advance(days=1, hours=1)  # ten days: the default acknowledgement period
    assert "1 request(s)" in runner.invoke(args=["requests", "remind"]).output
    for person in (world.drafter, world.aut_holder):
        reminder = mailbox.last(person.email)
        assert "no acknowledgement" in reminder["Subject"] and "18 (24)" in reminder.get_content()
        assert CANARY not in reminder.get_content()
    assert "awaits your acknowledgement" in mailbox.last(world.nga_holder.email)["Subject"]
    mailbox.clear()
    assert "0 request(s)" in runner.invoke(args=["requests", "remind"]).output  # once per period
    change(app, world, world.nga_holder, item, "received")
    clock.advance(days=29)
    assert "0 request(s)" in runner.invoke(args=["requests", "remind"]).output
    clock.advance(days=1)
    assert "1 request(s)" in runner.invoke(args=["requests", "remind"]).output
    assert "no status" in mailbox.last(world.aut_holder.email)["Subject"]


def test_each_authority_sets_its_own_periods(app, world, clock):  # noqa: F811
    from network.requests import register, services

    item = draft_request(world)
    send_request(app, world, item)
    services.update_settings(world.aut_holder, world.aut, acknowledge_days=3, status_days=7)
    with pytest.raises(services.RequestError):
        services.update_settings(world.drafter, world.aut, acknowledge_days=3, status_days=7)  # not a holder
    with pytest.raises(services.RequestError):
        services.update_settings(world.aut_holder, world.aut, acknowledge_days=0, status_days=7)
    clock.advance(days=3)
    rows = register.rows(world.aut_holder)
    assert [(r.direction, r.overdue, r.age_days) for r in rows] == [("outgoing", "acknowledgement", 3)]
    assert [(r.direction, r.overdue) for r in register.rows(world.nga_holder)] == [("incoming", "acknowledgement")]
    assert register.rows(world.fra_holder) == [] and register.rows(world.moderator) == []


def test_the_status_question_is_a_signed_event_and_a_mail(app, world, mailbox):  # noqa: F811
    from network.core.db import db
    from network.core.mail import deliver_queued
    from network.requests import crypto, services

    item = draft_request(world)
    send_request(app, world, item)
    mailbox.clear()
    with app.test_request_context("/"):
        services.ask_status(world.aut_holder, item, private=world.private(world.aut_holder))
        db.session.commit()
        deliver_queued()
    assert (item.events[-1].kind, item.status) == ("status_query", "sent")
    assert "status of request" in mailbox.last(world.nga_holder.email)["Subject"]
    assert crypto.verify_chain(item).ok
    with app.test_request_context("/"), pytest.raises(services.RequestError):
        services.ask_status(world.nga_holder, item, private=world.private(world.nga_holder))
