"""The everyday pages in Arabic, Chinese and French, in a real browser at 1280 px (issue 13): right to left with
Bootstrap's RTL build in Arabic only, the visible text in the language served, nothing wider than the window, and a
screenshot of each page in tests/artifacts/i18n-<page>-<lang>.png for a person to look at.

The same live server on the demonstration data and the same signed-in session as the accessibility tests
(tests/test_browser_accessibility.py: Debian's Chromium under Playwright); the language is chosen as the language menu
does (its cookie; the demonstration members have none in their profiles)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests import test_browser_accessibility as accessibility
from tests.browser_support import ARTIFACTS

# The accessibility tests' fixtures: one live server on the demonstration data, one Chromium, one session per role.
demo_server, chrome, sessions = accessibility.demo_server, accessibility.chrome, accessibility.sessions
_real_time = accessibility._real_time

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ar", "zh", "fr")
RTL_SHEET = "bootstrap.rtl.min.css"
PAGES = {  # name in the screenshot's file: path, with the `world` fixture's placeholders
    "home": "/",
    "catalogue": "/cases",
    "case": "/cases/{case}",
    "finder": "/directory/finder?state={state}&form=mla",
    "topic": "/forum/topics/{topic}",
    "conversation": "/messages/{conversation}",
    "statistics": "/cases/statistics",
}
LAYOUT = """() => ({width: document.documentElement.scrollWidth, window: window.innerWidth,
  sheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.getAttribute('href')),
  overflowing: [...document.querySelectorAll('main button, main .btn, main .badge, nav .nav-link')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')
    .map(e => e.outerHTML.slice(0, 120))})"""


def translated(language: str, message: str) -> str:
    """`message` as the language's catalogue (translations/<lang>/LC_MESSAGES/messages.po) translates it."""
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        entry = read_po(handle, locale=language).get(message)
    assert entry is not None and entry.string and not entry.fuzzy, (language, message)
    return entry.string


@pytest.mark.browser
@pytest.mark.parametrize("language", LANGUAGES)
def test_everyday_pages_in_arabic_chinese_and_french(sessions, demo_server, language):
    app, base, _accounts, world = demo_server
    page = sessions("member")
    cookie = "__Host-language" if app.config["SESSION_COOKIE_SECURE"] else "language"
    page.context.add_cookies([{"name": cookie, "value": language, "url": base}])
    catalogue = translated(language, "Catalogue")
    assert catalogue != "Catalogue" or language == "fr"  # "Catalogue" is French too
    for name, path in PAGES.items():
        response = page.goto(base + path.format(**world))
        assert response.status == 200, (name, response.status)
        html = page.locator("html")
        assert html.get_attribute("lang") == language, name
        assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr"), name
        assert page.evaluate("() => getComputedStyle(document.body).direction") == html.get_attribute("dir"), name
        layout = page.evaluate(LAYOUT)
        rtl_sheets = [href for href in layout["sheets"] if RTL_SHEET in href]
        assert (len(rtl_sheets) == 1) == (language == "ar"), (name, layout["sheets"])
        assert page.locator("nav.navbar a.nav-link[href='/cases']").inner_text().strip() == catalogue, name
        assert layout["width"] <= layout["window"], (name, "wider than the window", layout["width"])
        assert not layout["overflowing"], (name, layout["overflowing"])
        if name == "statistics" and language == "fr":  # numbers in the locale's own format: "81,8 %"
            share = page.locator(".stat-big").first.inner_text().strip()
            assert re.fullmatch(r"\d+(,\d)?\s%", share), share
        page.screenshot(path=str(ARTIFACTS / f"i18n-{name}-{language}.png"), full_page=True)


# Where the first and the last character of an element's text are drawn: left to right, the first stands left of the
# last (bidi reordering of "2026-11-05 11:00 UTC" or "+33 1 55 55 01 00" in a right-to-left line puts them the other
# way round). For each element matching the selector: [first character's left, last character's right].
EDGES = r"""selector => [...document.querySelectorAll(selector)].slice(0, 3).map(element => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT,
                                             {acceptNode: n => n.data.trim() ? 1 : 3});
    const nodes = []; while (walker.nextNode()) nodes.push(walker.currentNode);
    const first = nodes[0], last = nodes[nodes.length - 1];
    const at = (node, offset) => { const r = document.createRange(); r.setStart(node, offset);
                                   r.setEnd(node, offset + 1); return r.getBoundingClientRect(); };
    const start = first.data.search(/\S/), stop = last.data.trimEnd().length - 1;
    return {text: element.textContent.trim().slice(0, 40), first: at(first, start).left, last: at(last, stop).right,
            top: at(first, start).top, bottom: at(last, stop).top};
  })"""


def reads_left_to_right(page, selector: str) -> None:
    found = page.evaluate(EDGES, selector)
    assert found, f"nothing matches {selector}"
    for edges in found:
        if abs(edges["top"] - edges["bottom"]) < 5:  # on one line (a wrapped text goes on below)
            assert edges["first"] < edges["last"], (selector, edges)


@pytest.mark.browser
def test_user_written_text_and_numbers_keep_their_own_direction_in_arabic(sessions, demo_server):
    """In the Arabic interface, English user-written text reads left to right (dir="auto": a case's title, its
    summary in the listing, messages, an authority's requirements), and so do telephone numbers, dates written with
    digits and the Convention's article references beside Arabic designations; a case's States read right to left,
    with the arrow pointing from the requesting to the requested State."""
    app, base, _accounts, world = demo_server
    page = sessions("member")
    cookie = "__Host-language" if app.config["SESSION_COOKIE_SECURE"] else "language"
    page.context.add_cookies([{"name": cookie, "value": "ar", "url": base}])

    def direction(selector: str) -> set[str]:
        found = page.evaluate("s => [...document.querySelectorAll(s)].map(e => getComputedStyle(e).direction)",
                              selector)
        assert found, f"nothing matches {selector}"
        return set(found)

    page.goto(f"{base}/cases/{world['case']}")
    assert direction("#case-title") == {"ltr"}
    page.goto(f"{base}/cases")
    assert direction(".case-result .snippet") == {"ltr"}  # the demonstration's summaries are in English or Spanish
    states = page.locator(".case-result .fw-semibold").first.inner_text()
    assert "\u2190" in states and "\u2192" not in states, states  # ←: from the first State (right) to the second
    page.goto(f"{base}/messages/{world['conversation']}")
    assert direction(".message-text") == {"ltr"}
    page.goto(f"{base}/forum/topics/{world['topic']}")
    reads_left_to_right(page, ".card-header time")
    page.goto(f"{base}/directory/finder?state={world['state']}&form=mla")
    assert direction(".finder-authority .markdown-text") == {"ltr"}
    reads_left_to_right(page, ".finder-authority .markdown-text li")
    reads_left_to_right(page, ".finder-authority .designation-list bdi")
    phone = page.get_by_text("+33", exact=False).first
    assert phone.evaluate("e => getComputedStyle(e).direction") == "ltr"
    reads_left_to_right(page, ".finder-authority p > span[dir=ltr]")


def test_an_arabic_chart_label_is_written_right_to_left_and_still_ends_at_the_bar():
    """Inside the charts' left-to-right layout, an Arabic label gets its own direction (its brackets pair, a shortened
    label's "…" falls at its end) and stays anchored on the bar's side; a Latin label is unchanged."""
    from catalogue.cases.charts import bar_chart

    svg = str(bar_chart([("جريمة خطيرة أخرى (المادة 2 (ب))", 3), ("Extradition", 1)], "title"))
    labels = dict((text, tag) for tag, text in re.findall(r"(<text [^>]*>)([^<]+)</text>", svg))
    arabic, latin = labels["جريمة خطيرة أخرى (المادة 2 (ب))"], labels["Extradition"]
    assert 'direction="rtl"' in arabic and 'text-anchor="start"' in arabic  # its start is its right edge
    assert 'direction="rtl"' not in latin and 'text-anchor="end"' in latin
    assert 'x="322"' in arabic and 'x="322"' in latin  # both end 8 px before the bars
