"""In a real browser: a member asks a question in the forum, another member answers it, the asker marks the answer.

Same approach as test_browser_catalogue.py: Debian's Chromium driven by Playwright against the app served by
werkzeug on 127.0.0.1, in real time. Two browser contexts, one per member, each signed in once (a second-factor
code is accepted once). Saves screenshots of the forum, the question and the solved topic to tests/artifacts/."""
from __future__ import annotations

import re

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled

ASKER_EMAIL = "anna.berger@justiz.example.at"
HELPER_EMAIL = "karl.huber@justiz.example.at"
TITLE = "Witness hearing by videoconference: what does the requested State need?"


@pytest.mark.browser
def test_ask_answer_and_mark_the_answer_in_chromium(live_server):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    from playwright.sync_api import expect

    from network.core.db import db
    from network.forum.models import Space

    app, base = live_server
    with app.app_context():
        authority = austrian_authority()
        asker_secret = enrolled(ASKER_EMAIL, "Anna Berger", ("member",), authority)
        helper_secret = enrolled(HELPER_EMAIL, "Karl Huber", ("member",), authority)
        db.session.add(Space(slug="mla", name="Mutual legal assistance", position=1,
                             description="Requests for evidence, hearings, bank records (UNTOC art. 18)."))
        db.session.commit()
        db.session.remove()

    with chromium_session() as chrome:
        # 1. The asker opens the forum from the navigation and asks a question.
        asker_context, asker = chrome.signed_in(base, ASKER_EMAIL, asker_secret)
        asker.get_by_role("link", name="Forum", exact=True).click()
        expect(asker.get_by_role("heading", name="Forum", exact=True)).to_be_visible()
        asker.get_by_role("link", name="Mutual legal assistance").click()
        asker.get_by_role("link", name="New topic").click()
        asker.get_by_label("Title").fill(TITLE)
        asker.get_by_label("Message").fill("Our court wants to hear a witness abroad by videoconference "
                                           "(UNTOC art. 18 (18)). What should the request contain?")
        asker.get_by_label(re.compile("This is a question")).check()
        asker.get_by_role("button", name="Publish the topic").click()
        expect(asker.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(asker.get_by_text("Question", exact=True)).to_be_visible()
        topic_url = asker.url.split("#")[0]
        asker.screenshot(path=str(ARTIFACTS / "forum-question.png"), full_page=True)

        # 2. Another member sees it as new and answers.
        helper_context, helper = chrome.signed_in(base, HELPER_EMAIL, helper_secret)
        helper.goto(f"{base}/forum/new")
        helper.get_by_role("link", name=TITLE).click()
        helper.get_by_label("Your reply").fill("Give the **date and time** with an alternative, who attends on "
                                               "each side, the language and interpreter, and plan a test call a "
                                               "week before. Ask @[Anna Berger] for the court's details.")
        helper.get_by_role("button", name="Post the reply").click()
        expect(helper.get_by_text("Your reply is published.")).to_be_visible()
        expect(helper.locator("strong", has_text="date and time")).to_be_visible()
        helper_context.close()

        # 3. The asker marks the reply as the answer: it is shown first, the topic is solved.
        asker.goto(topic_url)
        expect(asker.get_by_text("New", exact=True).first).to_be_visible()
        asker.get_by_role("button", name="Mark as the answer").click()
        expect(asker.get_by_text("Marked as the answer")).to_be_visible()
        expect(asker.get_by_text("Accepted answer")).to_be_visible()
        expect(asker.get_by_text("Solved", exact=True)).to_be_visible()
        asker.screenshot(path=str(ARTIFACTS / "forum-solved-topic.png"), full_page=True)
        asker.goto(f"{base}/forum/spaces/mla")
        expect(asker.get_by_text("Solved", exact=True)).to_be_visible()
        asker.goto(f"{base}/forum/")
        asker.screenshot(path=str(ARTIFACTS / "forum-spaces.png"), full_page=True)
        asker_context.close()

