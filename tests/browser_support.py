"""What the browser tests share: Debian's Chromium (never a downloaded browser), sign-in helpers, artifacts."""
from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from network.core import clock as clock_module
from tests.conftest import TEST_PASSWORD

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); no browser is downloaded")
    return path


class Chromium:
    """A launched browser whose pages record console errors (a Content Security Policy violation shows there)."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.console_errors: list[str] = []

    def page(self, **options):
        """A new context (1280x900, en-GB unless `locale` says otherwise, 15 s timeouts) and its page: (context, page)."""
        options = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB", **options}
        context = self.browser.new_context(**options)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("console", lambda message: self.console_errors.append(message.text)
                if message.type == "error" else None)
        return context, page

    def signed_in(self, base: str, email: str, secret: str, **options):
        """A page of a member who signed in with the password and a second-factor code."""
        context, page = self.page(**options)
        sign_in_with_code(page, base, email, secret)
        return context, page


@contextmanager
def chromium_session() -> Iterator[Chromium]:
    """Debian's Chromium under Playwright, headless with the project's flags; closed on the way out, which then fails
    the test on any Content Security Policy violation a page reported."""
    executable = chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = Chromium(playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True))
        try:
            yield launched
        finally:
            launched.browser.close()
    csp = [text for text in launched.console_errors if "Content Security Policy" in text]
    assert not csp, csp


def wait_for_link(mailbox, address: str, contains: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.to(address):
            return mailbox.link(address, contains)
        time.sleep(0.1)
    return mailbox.link(address, contains)  # fails with the list of mail received


def code(secret: str) -> str:
    from network.members import totp

    return totp.code_at(secret, totp.current_step())


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_with_code(page, base: str, email: str, secret: str) -> None:
    """Password, then the current second-factor code, until the welcome page."""
    from playwright.sync_api import expect

    sign_in(page, base, email, TEST_PASSWORD)
    expect(page).to_have_url(f"{base}/sign-in/verify")
    page.get_by_label("Code").fill(code(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def enrolled(email: str, name: str, roles: tuple[str, ...], authority) -> str:
    """An active member with a second factor; returns the TOTP secret."""
    from network.core.crypto import seal
    from network.members import services, totp

    member = services.create_member(email, name, TEST_PASSWORD, "AUT", "prosecutor", authority, roles=roles)
    member.status = "active"
    secret = totp.new_secret()
    member.totp_secret = seal(secret.encode(), f"totp:{member.id}")
    member.mfa_enrolled_at = clock_module.utcnow()
    return secret


def austrian_authority():
    """The authority the browser tests' people belong to (in the current app context, flushed)."""
    from network.core.db import db
    from network.directory.models import Authority

    authority = Authority(key="AUT-MOJ", state="AUT", name="Federal Ministry of Justice",
                          email_domains=["justiz.example.at"])
    db.session.add(authority)
    db.session.flush()
    return authority
