"""In a real browser: apply, confirm the address, a moderator approves, the new member enrols a second factor.

Drives Debian's Chromium (never a downloaded browser) through Playwright against the app served by werkzeug
on 127.0.0.1, in real time (the frozen test clock is released), with mail caught by the test SMTP server."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import (
    ARTIFACTS,
    austrian_authority,
    chromium_session,
    code,
    enrolled,
    sign_in,
    wait_for_link,
)
from tests.conftest import TEST_PASSWORD

APPLICANT_EMAIL = "anna.berger@justiz.example.at"
APPLICANT_PASSWORD = "a quiet river under seven bridges"
MODERATOR_EMAIL = "moderator@network.example.org"


@pytest.mark.browser
def test_apply_vet_and_first_sign_in_in_chromium(live_server, mailbox):
    clock_module.freeze(None)  # the browser lives in real time; TOTP codes must match the wall clock
    from playwright.sync_api import expect

    from network.core.db import db

    app, base = live_server
    with app.app_context():
        austrian_authority()  # the applicant chooses it on the form
        moderator_secret = enrolled(MODERATOR_EMAIL, "Maria Moderator", ("member", "moderator"), None)
        db.session.commit()
        db.session.remove()

    with chromium_session() as chrome:
        context, page = chrome.page()

        # 1. The application form, filled by its labels.
        page.goto(f"{base}/apply")
        page.get_by_label("Full name").fill("Anna Berger")
        page.get_by_label("Official e-mail address").fill(APPLICANT_EMAIL)
        page.get_by_label("Password").fill(APPLICANT_PASSWORD)
        page.get_by_label("State").select_option("AUT")
        expect(page.get_by_label("State")).to_have_value("AUT")
        page.get_by_label("Authority", exact=True).select_option(label="Federal Ministry of Justice")
        expect(page.get_by_label("Authority name, if not listed")).to_be_hidden()  # app.js hides it
        page.get_by_label("Position").fill("Senior prosecutor, international cooperation unit")
        page.get_by_label("You are").select_option(label="Prosecutor")
        # The long list of languages has a filter box (static/js/multiselect.js), used by the keyboard alone:
        # type, Enter chooses the first match; type, Down arrow into the list, Space chooses.
        languages = page.get_by_role("searchbox", name="Working languages")
        languages.fill("engl")
        expect(page.locator("#languages-count")).to_contain_text(" of ")
        languages.press("Enter")
        languages.fill("germ")
        languages.press("ArrowDown")
        expect(page.get_by_role("listbox", name="Working languages")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.get_by_role("button", name="Remove German")).to_be_visible()  # the chosen items, as chips
        expect(page.locator("select[name=languages]")).to_have_values(["en", "de"])  # what the form submits
        page.get_by_label("Why do you want to join?").fill(
            "I handle mutual legal assistance requests and want to reach counterparts directly.")
        page.screenshot(path=str(ARTIFACTS / "apply.png"), full_page=True)
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

        # 2. The verification link from the mail.
        link = wait_for_link(mailbox, APPLICANT_EMAIL, "/apply/verify/")
        assert link.startswith(base), link
        page.goto(link)
        expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()

        # 3. The moderator approves.
        sign_in(page, base, MODERATOR_EMAIL, TEST_PASSWORD)
        expect(page).to_have_url(f"{base}/sign-in/verify")
        page.get_by_label("Code").fill(code(moderator_secret))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
        page.locator("summary", has_text="Moderation").click()  # the moderators' menu
        page.get_by_role("link", name="Vetting", exact=True).click()
        page.get_by_role("link", name="Anna Berger").click()
        expect(page.get_by_role("heading", name=re.compile("Anna Berger"))).to_be_visible()
        page.get_by_label("Decision").select_option("approve")
        page.get_by_role("button", name="Record the decision").click()
        expect(page.get_by_text("Application approved.")).to_be_visible()
        expect(page.get_by_text("No application is waiting.")).to_be_visible()
        page.locator("summary", has_text="Account").click()  # the account menu
        page.get_by_role("button", name=re.compile("Sign out")).click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()

        # 4. The new member's first sign-in: enrol the authenticator app, see the recovery codes.
        sign_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD)
        expect(page).to_have_url(f"{base}/sign-in/enrol")
        qr = page.get_by_role("img", name="QR code holding your authentication secret")
        expect(qr).to_be_visible()
        assert qr.evaluate("image => image.complete && image.naturalWidth > 0"), "the QR code did not load"
        secret = page.locator("code#secret").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
        page.get_by_label("Code").fill(code(secret))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
        expect(page.locator("#codes li")).to_have_count(10)
        page.screenshot(path=str(ARTIFACTS / "first-sign-in.png"), full_page=True)
        page.get_by_role("link", name="I have saved them: continue").click()
        expect(page.get_by_role("heading", name="Welcome, Anna Berger")).to_be_visible()
        assert "Welcome" in page.content()
        context.close()

