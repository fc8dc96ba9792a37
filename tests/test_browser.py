"""In a real browser: apply, confirm the address, a moderator approves, the new member enrols a second factor.

Drives Debian's Chromium (never a downloaded browser) through Playwright against the app served by werkzeug
on 127.0.0.1, in real time (the frozen test clock is released), with mail caught by the test SMTP server."""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from network.core import clock as clock_module
from tests.conftest import TEST_PASSWORD, _base_config

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
APPLICANT_EMAIL = "anna.berger@justiz.example.at"
APPLICANT_PASSWORD = "a quiet river under seven bridges"
MODERATOR_EMAIL = "moderator@network.example.org"


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); no browser is downloaded")
    return path


@pytest.fixture
def live_server(tmp_path, smtp_server, sqlite_template):
    """The real app on a free port of 127.0.0.1, in a background thread, on a copy of the migrated database."""
    from werkzeug.serving import make_server

    from app import create_app
    from network.core.db import db

    target = tmp_path / "network.db"
    shutil.copyfile(sqlite_template, target)
    config = _base_config(tmp_path, f"sqlite:///{target}", smtp_server.port)
    application = create_app(config)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    application.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield application, base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def _wait_for_link(mailbox, address: str, contains: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.to(address):
            return mailbox.link(address, contains)
        time.sleep(0.1)
    return mailbox.link(address, contains)  # fails with the list of mail received


def _code(secret: str) -> str:
    from network.members import totp

    return totp.code_at(secret, totp.current_step())


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_apply_vet_and_first_sign_in_in_chromium(live_server, mailbox):
    clock_module.freeze(None)  # the browser lives in real time; TOTP codes must match the wall clock
    executable = _chromium()
    from playwright.sync_api import expect, sync_playwright

    from network.core.crypto import seal
    from network.core.db import db
    from network.directory.models import Authority
    from network.members import services, totp

    app, base = live_server
    with app.app_context():
        authority = Authority(key="AUT-MOJ", state="AUT", name="Federal Ministry of Justice",
                              email_domains=["justiz.example.at"])
        db.session.add(authority)
        db.session.flush()
        moderator = services.create_member(MODERATOR_EMAIL, "Maria Moderator", TEST_PASSWORD, "AUT", "prosecutor",
                                           None, roles=("member", "moderator"))
        moderator_secret = totp.new_secret()
        moderator.totp_secret = seal(moderator_secret.encode(), f"totp:{moderator.id}")
        moderator.mfa_enrolled_at = clock_module.utcnow()
        db.session.commit()
        db.session.remove()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("console", lambda message: console_errors.append(message.text)
                    if message.type == "error" else None)

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
            page.get_by_label("Working languages").select_option(label=["English", "German"])
            page.get_by_label("Why do you want to join?").fill(
                "I handle mutual legal assistance requests and want to reach counterparts directly.")
            page.screenshot(path=str(ARTIFACTS / "apply.png"), full_page=True)
            page.get_by_role("button", name="Apply").click()
            expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

            # 2. The verification link from the mail.
            link = _wait_for_link(mailbox, APPLICANT_EMAIL, "/apply/verify/")
            assert link.startswith(base), link
            page.goto(link)
            expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()

            # 3. The moderator approves.
            _sign_in(page, base, MODERATOR_EMAIL, TEST_PASSWORD)
            expect(page).to_have_url(f"{base}/sign-in/verify")
            page.get_by_label("Code").fill(_code(moderator_secret))
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
            page.get_by_role("button", name=re.compile("Sign out")).click()
            expect(page.get_by_text("You are signed out.")).to_be_visible()

            # 4. The new member's first sign-in: enrol the authenticator app, see the recovery codes.
            _sign_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD)
            expect(page).to_have_url(f"{base}/sign-in/enrol")
            qr = page.get_by_role("img", name="QR code holding your authentication secret")
            expect(qr).to_be_visible()
            assert qr.evaluate("image => image.complete && image.naturalWidth > 0"), "the QR code did not load"
            secret = page.locator("code#secret").inner_text().strip()
            assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
            page.get_by_label("Code").fill(_code(secret))
            page.get_by_role("button", name="Continue").click()
            expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
            expect(page.locator("#codes li")).to_have_count(10)
            page.screenshot(path=str(ARTIFACTS / "first-sign-in.png"), full_page=True)
            page.get_by_role("link", name="I have saved them: continue").click()
            expect(page.get_by_role("heading", name="Welcome, Anna Berger")).to_be_visible()
            assert "Welcome" in page.content()
            context.close()
        finally:
            browser.close()

    csp = [text for text in console_errors if "Content Security Policy" in text]
    assert not csp, csp
