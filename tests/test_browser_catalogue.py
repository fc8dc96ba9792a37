"""In a real browser: a member submits a case through the wizard's pages, a moderator reviews and publishes it.

Same approach as test_browser.py: Debian's Chromium driven by Playwright against the app served by werkzeug on
127.0.0.1, in real time, mail caught by the test SMTP server. Saves screenshots of the wizard, the published case
page and the statistics page to tests/artifacts/."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled, sign_in_with_code

MEMBER_EMAIL = "anna.berger@justiz.example.at"
MODERATOR_EMAIL = "moderator@network.example.org"
TITLE = "Extradition for drug trafficking granted under the Convention"


@pytest.mark.browser
def test_submit_a_case_through_the_wizard_and_publish_it_in_chromium(live_server, mailbox):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    from playwright.sync_api import expect

    from network.core.db import db

    app, base = live_server
    with app.app_context():
        authority = austrian_authority()
        member_secret = enrolled(MEMBER_EMAIL, "Anna Berger", ("member",), authority)
        moderator_secret = enrolled(MODERATOR_EMAIL, "Maria Moderator", ("member", "moderator"), None)
        db.session.commit()
        db.session.remove()

    with chromium_session() as chrome:
        context, page = chrome.page()

        # 1. The member starts a case from the navigation.
        sign_in_with_code(page, base, MEMBER_EMAIL, member_secret)
        page.locator("summary", has_text="My cases").click()  # the members' cases menu
        page.get_by_role("link", name="Submit a case").click()
        page.get_by_role("button", name="Start a new case").click()
        expect(page.get_by_role("heading", name="The essentials")).to_be_visible()
        reference = re.search(r"/cases/drafts/([A-Z0-9-]+)/step/1", page.url).group(1)

        # 2. Step 1: the essentials, filled by their labels.
        page.get_by_label("Title", exact=True).fill(TITLE)
        page.get_by_label("Requesting State", exact=True).select_option("AUT")
        page.get_by_label("Requested State", exact=True).select_option("NGA")
        page.get_by_label("Extradition", exact=True).check()
        page.get_by_label("The Convention as legal basis").check()
        page.get_by_label("Provisions of the Convention relied on").fill("16, 16(4)")
        page.get_by_label("Drug trafficking", exact=True).check()
        page.get_by_label("Outcome", exact=True).select_option("granted")
        page.get_by_label("Anyone, the public included").check()
        page.get_by_label("Summary", exact=True).fill("The requesting State asked for the extradition of a national of a "
                                          "third State, prosecuted for trafficking cocaine by sea.")
        page.get_by_role("button", name="Save and continue").click()

        # 3. Step 2: dates and the narrative.
        expect(page.get_by_role("heading", name="More detail")).to_be_visible()
        page.get_by_label("Date of the request").fill("2021-03-01")
        page.get_by_label("Date of completion").fill("2021-07-01")
        page.get_by_label("Main obstacles encountered").fill("No bilateral treaty between the two States.")
        page.get_by_label("Solutions found").fill("The Convention was used as the legal basis (article 16(4)).")
        page.get_by_label("Keywords", exact=True).fill("legal basis, extradition of nationals")
        page.get_by_role("button", name="Save and continue").click()

        # 4. Step 3: a French version.
        expect(page.get_by_role("heading", name="Translations", exact=True)).to_be_visible()
        page.locator("#translations-0-language").select_option("fr")
        page.locator("#translations-0-title").fill("Extradition pour trafic de drogues accordée")
        page.locator("#translations-0-summary").fill("L'État requérant a demandé l'extradition d'un ressortissant "
                                                     "d'un État tiers.")
        page.get_by_role("button", name="Save and continue").click()

        # 5. Step 4: the check, the confirmation, submission.
        expect(page.get_by_role("heading", name="Check and submit")).to_be_visible()
        expect(page.get_by_text("The privacy check found no e-mail address")).to_be_visible()
        expect(page.locator("#completeness-problems")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "case-wizard.png"), full_page=True)
        page.get_by_role("button", name="Submit the case for review").click()
        expect(page.locator("#anonymised-error")).to_have_text("Confirm that the case contains no personal data.")
        page.get_by_label("I confirm the case is anonymised").check()
        page.get_by_role("button", name="Submit the case for review").click()
        expect(page.get_by_text("Your case was submitted.")).to_be_visible()
        expect(page.get_by_text("Waiting for a reviewer")).to_be_visible()
        page.locator("summary", has_text="Account").click()  # the account menu
        page.get_by_role("button", name=re.compile("Sign out")).click()

        # 6. The moderator starts the review and publishes.
        sign_in_with_code(page, base, MODERATOR_EMAIL, moderator_secret)
        page.locator("summary", has_text="Moderation").click()  # the moderators' menu
        page.get_by_role("link", name="Case review").click()
        page.get_by_role("link", name=TITLE).click()
        expect(page.get_by_role("heading", name=re.compile(f"Review of {reference}"))).to_be_visible()
        page.get_by_role("button", name="Start the review").click()
        expect(page.get_by_text("You are reviewing this case.")).to_be_visible()
        page.get_by_label("Note on this revision (optional)").fill("First publication")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page).to_have_url(f"{base}/cases/{reference}")
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "case-page.png"), full_page=True)

        page.goto(f"{base}/cases/statistics")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "statistics.png"), full_page=True)
        context.close()

    assert mailbox.to(MEMBER_EMAIL), "the submitter was not told by e-mail"
    assert any(m["Subject"] == "Your case was published" for m in mailbox.to(MEMBER_EMAIL))
