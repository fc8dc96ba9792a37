"""In a real browser: a member opens the finder from the Directory menu, picks a State, a form of cooperation and
urgency, and reads the answer; then the authority page and the print-ready directory.

Same approach as test_browser.py: Debian's Chromium driven by Playwright against the app served by werkzeug on
127.0.0.1, in real time. Saves screenshots of the finder's answer, the authority page and the print view to
tests/artifacts/."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, code, enrolled, sign_in
from tests.conftest import TEST_PASSWORD

MEMBER_EMAIL = "anna.berger@justiz.example.at"


def _directory() -> None:
    """Two French authorities (extradition; central authority for MLA), in the current app context."""
    from network.directory.services import create_authority

    common = {"state": "FRA", "languages": ["fr", "en"], "channels": ["direct", "interpol"],
              "accepts_untoc_as_legal_basis": True, "time_zone": "Europe/Paris",
              "office_hours": "Mon-Fri 09:00-17:00", "last_verified": "2025-12-01",
              "address": "13 place Vendôme, 75001 Paris", "email": "entraide@justice.example.fr"}
    create_authority({**common, "key": "FRA-EXT", "name": "Bureau de l'extradition",
                      "designations": ["untoc_extradition"], "available_24_7": True,
                      "urgent_requests": "Provisional arrest: INTERPOL diffusion, then the request by e-mail.",
                      "legal_requirements": "- **Dual criminality** is required\n- Requests in *French*, or with a "
                                            "French translation"}, source="import")
    create_authority({**common, "key": "FRA-CA", "name": "Bureau de l'entraide pénale internationale",
                      "designations": ["untoc_mla_central"], "website": "https://justice.example.fr/"},
                     source="import")


@pytest.mark.browser
def test_find_the_competent_authority_in_chromium(live_server):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    from playwright.sync_api import expect

    from network.core.db import db

    app, base = live_server
    with app.app_context():
        authority = austrian_authority()
        secret = enrolled(MEMBER_EMAIL, "Anna Berger", ("member",), authority)
        _directory()
        db.session.commit()
        db.session.remove()

    with chromium_session() as chrome:
        context, page = chrome.page()

        sign_in(page, base, MEMBER_EMAIL, TEST_PASSWORD)
        expect(page).to_have_url(f"{base}/sign-in/verify")
        page.get_by_label("Code").fill(code(secret))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()

        # 1. The finder, from the Directory menu.
        page.locator("summary", has_text="Directory").click()
        page.get_by_role("link", name="Finder").click()
        expect(page.get_by_role("heading", name="Find the competent authority")).to_be_visible()

        # 2. The question: France, extradition, urgent.
        page.get_by_label("Requested State").select_option("FRA")
        page.get_by_label("Form of cooperation").select_option("extradition")
        page.get_by_label("Yes", exact=True).check()
        page.get_by_role("button", name="Find", exact=True).click()

        # 3. The answer, at an address that reproduces it.
        expect(page).to_have_url(re.compile(r"/directory/finder\?state=FRA&form=extradition&urgent=1$"))
        expect(page.get_by_role("heading", name=re.compile(r"Extradition · France"))).to_be_visible()
        expect(page.get_by_role("heading", name="The competent authority", exact=True)).to_be_visible()
        card = page.locator(".finder-authority").first
        expect(card.get_by_role("link", name="Bureau de l'extradition")).to_be_visible()
        expect(card.get_by_text("Provisional arrest: INTERPOL diffusion")).to_be_visible()
        expect(card.get_by_text("Yes, around the clock")).to_be_visible()
        expect(card.locator(".markdown-text strong")).to_have_text("Dual criminality")
        # No one at this authority has opened its messaging mailbox yet: the answer says so instead of a button.
        expect(card.get_by_role("link", name="Write to this authority")).to_have_count(0)
        expect(card.get_by_text("This authority has not opened its mailbox yet")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "directory-finder.png"), full_page=True)

        # 4. The authority page, with its local time.
        card.get_by_role("link", name="Bureau de l'extradition").click()
        expect(page.get_by_role("heading", name="Bureau de l'extradition", level=1)).to_be_visible()
        expect(page.locator(".local-time")).to_contain_text("(Europe/Paris)")
        page.screenshot(path=str(ARTIFACTS / "directory-authority.png"), full_page=True)

        # 5. Browsing the directory.
        page.goto(f"{base}/directory/")
        expect(page.get_by_role("heading", name="France")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "directory-browse.png"), full_page=True)

        # 6. The print-ready directory: its button appears once app.js runs (no inline script).
        page.goto(f"{base}/directory/print?state=FRA")
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
        expect(page.get_by_text("For official use by network members").first).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator("nav.navbar")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "directory-print.png"), full_page=True)
        context.close()

