"""In a real browser (issue 15's acceptance): an Austrian officer drafts a mutual legal assistance request for bank
records to Nigeria's central authority step by step and sends it; the Nigerian officer acknowledges it and marks it
executed; the Austrian side sees each status. Screenshots go to tests/artifacts/ (requests-*.png)."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled
from tests.conftest import TEST_PASSWORD

AUT_EMAIL, NGA_EMAIL = "anna.berger@justiz.example.at", "ngozi.okafor@justice.example.ng"
STEPS = {
    "authorities": {"Requesting authority": "Federal Ministry of Justice, Museumstrasse 7, 1070 Vienna",
                    "Authority conducting the proceeding": "Public Prosecutor's Office Vienna"},
    "case": {"Subject matter and nature of the proceeding": "Investigation of laundering through shell companies.",
             "Summary of the relevant facts": "EUR 2.4 million moved from Alpha Holdings (fictional) to Lagos.",
             "Offences and applicable law": "Money laundering, section 165 of the Criminal Code."},
    "assistance": {"Assistance sought": "Statements of the accounts named, 2024-2025.",
                   "Purpose of the request": "Evidence for the trial."},
    "measure_financial_records": {"Bank and financial records": "Accounts of Alpha Holdings at First Lagos Bank."},
    "handling": {"Legal basis": "UNTOC, article 18.", "Signatory": "Dr. Anna Berger, Senior Prosecutor"},
}


def _world(app) -> tuple[str, str]:
    from network.core.db import db
    from network.directory.models import Authority
    from network.members.models import Member
    from network.messaging import lifecycle, mailboxes

    with app.app_context():
        aut = austrian_authority()
        nga = Authority(key="NGA-CA", state="NGA", name="Central Authority Unit", email_domains=["justice.example.ng"],
                        languages=["en"], channels=["direct", "diplomatic"])
        db.session.add(nga)
        db.session.flush()
        secrets = (enrolled(AUT_EMAIL, "Anna Berger", ("member", "focal_point"), aut),
                   enrolled(NGA_EMAIL, "Ngozi Okafor", ("member", "focal_point"), nga))
        for email, authority in ((AUT_EMAIL, aut), (NGA_EMAIL, nga)):
            officer = db.session.query(Member).filter_by(email=email).one()
            keys, private, _recovery = lifecycle.create_key_set(officer, TEST_PASSWORD)
            keys.recovery_confirmed_at = clock_module.utcnow()
            mailboxes.open_mailbox(officer, authority, private=private)
        db.session.commit()
        db.session.remove()
    return secrets


def _status(page, expect, label: str) -> None:
    page.get_by_label("New status").select_option(label=label)
    page.get_by_role("button", name="Sign and record").click()
    expect(page.get_by_text(f"Recorded and signed: {label}.")).to_be_visible()


@pytest.mark.browser
def test_a_request_for_bank_records_is_drafted_sent_acknowledged_and_executed(live_server):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    from playwright.sync_api import expect

    app, base = live_server
    app.config["REQUESTS_ADVANCE_COPY_FORMAT"] = "docx"
    aut_secret, nga_secret = _world(app)

    with chromium_session() as chrome:
        _context, aut = chrome.signed_in(base, AUT_EMAIL, aut_secret)
        aut.goto(f"{base}/requests/new")
        aut.get_by_label("Form of request").select_option("mla")
        aut.get_by_label("Mutual legal assistance: Bank and financial records").check()
        aut.get_by_label("Requested State").select_option("NGA")
        aut.get_by_label("Requested authority").select_option("NGA-CA")
        aut.get_by_label("Your reference").fill("AUT-2026-17")
        aut.screenshot(path=str(ARTIFACTS / "requests-new.png"), full_page=True)
        aut.get_by_role("button", name="Start the draft").click()

        for number, (step, fields) in enumerate(STEPS.items()):
            expect(aut).to_have_url(re.compile(f"/draft/{step}$"))
            if number == 1:  # moving on with an essential missing: it is named, and the step stays
                aut.get_by_role("button", name="Save and continue", exact=True).click()
                expect(aut.get_by_text("Before you move on, this step still needs")).to_be_visible()
                aut.screenshot(path=str(ARTIFACTS / "requests-missing-essentials.png"), full_page=True)
            for label, text in fields.items():
                aut.get_by_label(label, exact=True).fill(text)
            aut.get_by_role("button", name="Save and continue", exact=True).click()

        expect(aut).to_have_url(re.compile("/review$"))
        expect(aut.get_by_text("Essential information is missing")).to_have_count(0)
        aut.screenshot(path=str(ARTIFACTS / "requests-review.png"), full_page=True)
        aut.get_by_label("Channel of the formal original").select_option("diplomatic")
        aut.get_by_role("button", name="Send the advance copy").click()
        expect(aut.get_by_text("The advance copy is in Central Authority Unit's mailbox")).to_be_visible()
        record = aut.url

        _context, nga = chrome.signed_in(base, NGA_EMAIL, nga_secret)
        nga.goto(f"{base}/requests/?direction=incoming")
        expect(nga.get_by_text("AUT-2026-17")).to_be_visible()
        nga.get_by_role("link", name="Mutual legal assistance").first.click()
        expect(nga.get_by_text("EUR 2.4 million moved from Alpha Holdings")).to_be_visible()  # decrypted for her
        _status(nga, expect, "Received (acknowledged)")
        _status(nga, expect, "Executed")
        nga.screenshot(path=str(ARTIFACTS / "requests-incoming.png"), full_page=True)

        aut.goto(record)
        for label in ("Sent", "Received (acknowledged)", "Executed"):
            expect(aut.locator(".list-group-item strong", has_text=re.compile(f"^{re.escape(label)}$"))).to_be_visible()
        expect(aut.get_by_text("3 verified")).to_be_visible()
        aut.screenshot(path=str(ARTIFACTS / "requests-outgoing.png"), full_page=True)
