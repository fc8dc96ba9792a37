"""What the browser tests share: Debian's Chromium (never a downloaded browser), sign-in helpers, artifacts."""
from __future__ import annotations

import os
import shutil
import time
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
