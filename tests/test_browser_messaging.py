"""In a real browser: two members confirm their recovery keys, one sends an encrypted message with an attachment,
the other reads it, downloads the attachment and answers, and the sender sees the signed receipts.

Same approach as test_browser_forum.py: Debian's Chromium driven by Playwright against the app served by werkzeug on
127.0.0.1, in real time. Screenshots of the inbox, the conversation and the receipts are saved to tests/artifacts/."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled

SENDER_EMAIL = "anna.berger@justiz.example.at"
RECEIVER_EMAIL = "karl.huber@justiz.example.at"
SUBJECT = "Bank records of Alpha Holdings: request for expedited execution"
ATTACHMENT = b"Annex 1: account numbers and the court order of 3 March.\n"


def _confirm_recovery_key(page, base: str, expect, screenshot: str | None = None) -> None:
    page.goto(f"{base}/messages/")
    expect(page.get_by_role("heading", name="Your messaging recovery key")).to_be_visible()
    key = page.locator("#recovery-key").inner_text().strip()
    if screenshot:
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    page.get_by_label("Type the last group of your recovery key").fill(key.split("-")[-1])
    page.get_by_label(re.compile("I have written down")).check()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()


@pytest.mark.browser
def test_two_members_exchange_an_encrypted_message_with_an_attachment_and_receipts(live_server, tmp_path):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    from playwright.sync_api import expect

    from network.core.db import db

    app, base = live_server
    with app.app_context():
        authority = austrian_authority()
        sender_secret = enrolled(SENDER_EMAIL, "Anna Berger", ("member",), authority)
        receiver_secret = enrolled(RECEIVER_EMAIL, "Karl Huber", ("member",), authority)
        db.session.commit()
        db.session.remove()
    annex = tmp_path / "annex-1.txt"
    annex.write_bytes(ATTACHMENT)

    with chromium_session() as chrome:
        # 1. Both sign in: their keys are made, and each confirms the recovery key shown once.
        receiver_context, receiver = chrome.signed_in(base, RECEIVER_EMAIL, receiver_secret, accept_downloads=True)
        _confirm_recovery_key(receiver, base, expect)
        sender_context, sender = chrome.signed_in(base, SENDER_EMAIL, sender_secret, accept_downloads=True)
        _confirm_recovery_key(sender, base, expect, screenshot="messaging-recovery-key.png")

        # 2. The sender writes with handling instructions and an attachment.
        sender.get_by_role("link", name="Write a message").click()
        sender.locator("#recipients").fill("Karl Huber")  # the "To" list's filter box (static/js/multiselect.js)
        sender.locator("#recipients").press("Enter")  # chooses the first name shown
        chosen = sender.evaluate("() => [...document.querySelector('select[name=recipients]').selectedOptions]"
                                 ".map(o => o.text)")
        assert len(chosen) == 1 and chosen[0].startswith("Karl Huber"), chosen
        sender.get_by_label("Subject", exact=True).fill(SUBJECT)
        sender.get_by_label("Message", exact=True).fill("Please find the request attached. The account holder must not "
                                            "be informed.")
        sender.get_by_label(re.compile("^Confidential")).check()
        sender.get_by_label("Attach files (optional)").set_input_files(str(annex))
        sender.screenshot(path=str(ARTIFACTS / "messaging-compose.png"), full_page=True)
        sender.get_by_role("button", name="Encrypt and send").click()
        expect(sender.get_by_text("Your message was encrypted and sent.")).to_be_visible()
        conversation_url = sender.url

        # 3. The receiver finds it in the inbox, reads it, downloads the attachment and answers.
        receiver.goto(f"{base}/messages/")
        expect(receiver.get_by_role("link", name=SUBJECT)).to_be_visible()
        receiver.screenshot(path=str(ARTIFACTS / "messaging-inbox.png"), full_page=True)
        receiver.get_by_role("link", name=SUBJECT).click()
        expect(receiver.get_by_text("The account holder must not be informed.")).to_be_visible()
        expect(receiver.get_by_text("CONFIDENTIAL", exact=True)).to_be_visible()
        expect(receiver.get_by_text("Signature verified.").first).to_be_visible()
        with receiver.expect_download() as download_info:
            receiver.get_by_role("link", name="annex-1.txt").click()
        downloaded = tmp_path / "downloaded.txt"
        download_info.value.save_as(str(downloaded))
        assert downloaded.read_bytes() == ATTACHMENT
        receiver.get_by_label("Reply", exact=True).fill("Received. We will execute it this week.")
        receiver.get_by_role("button", name="Encrypt and send").click()
        expect(receiver.get_by_text("Your reply was encrypted and sent.")).to_be_visible()
        receiver.screenshot(path=str(ARTIFACTS / "messaging-conversation.png"), full_page=True)
        receiver_context.close()

        # 4. The sender sees the answer and the receipts Karl's own key signed.
        sender.goto(conversation_url)
        expect(sender.get_by_text("Received. We will execute it this week.")).to_be_visible()
        expect(sender.get_by_text("(signed receipt verified)")).to_have_count(2)
        sender.locator("table.receipts").scroll_into_view_if_needed()
        sender.screenshot(path=str(ARTIFACTS / "messaging-receipts.png"), full_page=True)
        sender_context.close()

