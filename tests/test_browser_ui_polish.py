"""In a real browser, the layout fixes of issue 13's polish list: a moderator's navigation bar fits 1280 px in English
and French, the catalogue's search box is near the top of a 390 px phone, and headings inside an authority's legal
requirements are no larger than the section's own heading.

Same approach as test_browser.py: Debian's Chromium driven by Playwright against the app served by werkzeug on
127.0.0.1, in real time."""
from __future__ import annotations

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, austrian_authority, chromium_session, enrolled, sign_in_with_code

MODERATOR_EMAIL = "moderator@network.example.org"
MEMBER_EMAIL = "anna.berger@justiz.example.at"
OVERFLOW = """() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  nav: (() => { const n = document.querySelector('nav.navbar .container');
                return n ? n.scrollWidth - n.clientWidth : 0; })()})"""


def _people(app, *, requirements: str | None = None):
    """A moderator and a member of the Austrian authority (with these legal requirements); their TOTP secrets."""
    from network.core.db import db

    with app.app_context():
        authority = austrian_authority()
        if requirements is not None:
            authority.legal_requirements = requirements
        secrets = (enrolled(MODERATOR_EMAIL, "Maria Moderator", ("member", "moderator"), None),
                   enrolled(MEMBER_EMAIL, "Anna Berger", ("member",), authority))
        db.session.commit()
        db.session.remove()
    return secrets


@pytest.mark.browser
def test_a_moderators_navigation_bar_fits_1280_pixels_in_english_and_french(live_server):
    clock_module.freeze(None)  # real time: TOTP codes must match the wall clock
    app, base = live_server
    moderator_secret, _member_secret = _people(app)
    with chromium_session() as chrome:
        context, page = chrome.signed_in(base, MODERATOR_EMAIL, moderator_secret)
        for language in ("en", "fr"):
            for path in ("/", "/cases", "/forum/"):
                page.goto(f"{base}{path}?lang={language}")
                assert page.locator("html").get_attribute("lang") == language
                sizes = page.evaluate(OVERFLOW)
                assert sizes["scroll"] <= sizes["inner"], (language, path, sizes)
                assert sizes["nav"] <= 0, (language, path, sizes)  # nothing of the bar is cut off either
                # One row: the bar is no taller than a single line of links (no wrapping under the brand).
                assert page.locator("nav.navbar").bounding_box()["height"] < 80, (language, path)
            page.screenshot(path=str(ARTIFACTS / f"navigation-moderator-1280-{language}.png"))
        context.close()


@pytest.mark.browser
def test_the_catalogue_search_box_comes_first_on_a_phone(live_server):
    clock_module.freeze(None)
    app, base = live_server
    _people(app)
    with chromium_session() as chrome:
        context, page = chrome.page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page.goto(f"{base}/cases")
        box = page.locator("#f-q").bounding_box()
        assert box is not None and box["y"] < 400, box
        filters = page.locator("#catalogue-filter-panel")
        assert filters.get_attribute("open") is None  # the filters wait behind their toggle
        assert not page.get_by_text("Form of cooperation").first.is_visible()
        page.locator("#catalogue-filter-panel > summary").click()
        assert page.get_by_text("Form of cooperation").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "catalogue-phone-390.png"), full_page=True)
        context.close()

        context, page = chrome.page()  # 1280 px: the filters stand open beside the results, no toggle
        page.goto(f"{base}/cases")
        assert page.get_by_text("Form of cooperation").first.is_visible()
        assert not page.locator("#catalogue-filter-panel > summary").is_visible()
        search, panel = page.locator("#f-q").bounding_box(), page.locator("#catalogue-filters").bounding_box()
        assert panel["x"] + panel["width"] <= search["x"]  # a column on the left (in a left-to-right page)
        context.close()


@pytest.mark.browser
def test_headings_inside_legal_requirements_are_smaller_than_the_section_heading(live_server):
    clock_module.freeze(None)
    app, base = live_server
    _moderator, member_secret = _people(app, requirements="# Extradition\n\nText.\n\n## Mutual legal assistance\n\n"
                                                          "### A request must state\n\n1. who asks.")
    with chromium_session() as chrome:
        context, page = chrome.page()
        sign_in_with_code(page, base, MEMBER_EMAIL, member_secret)
        page.goto(f"{base}/directory/AUT-MOJ")
        size = "(element) => parseFloat(getComputedStyle(element).fontSize)"
        section = page.locator("#h-requirements").evaluate(size)
        inner = page.locator("#h-requirements ~ .markdown-text :is(h1, h2, h3, h4, h5, h6)")
        assert inner.count() == 3
        assert all(inner.nth(n).evaluate(size) < section for n in range(3))
        context.close()
