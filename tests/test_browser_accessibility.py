"""Accessibility as a test (issue 13): axe-core checks every kind of page each role uses, and the everyday journeys
work from the keyboard alone.

axe-core comes from the npm registry into tests/browser_assets/ (its package.json and package-lock.json are
committed, node_modules/ is not; the fixture below runs `npm ci` there when it is missing). It is injected into the
page by the test through the DevTools protocol, so the application never serves it and its Content Security Policy
stays as it is. One live server on the demonstration data (`flask demo load`) and one Chromium serve the whole
module; each role signs in once and visits its pages in one session.

Adding a language is one line: append its code to LANGUAGES (English and Arabic, right to left, today)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from network.core import clock as clock_module
from tests.browser_support import ARTIFACTS, chromium_session, code

ASSETS = Path(__file__).resolve().parent / "browser_assets"
AXE = ASSETS / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ["en", "ar"]  # English, and Arabic: right to left, with Bootstrap's RTL build
BLOCKING = ("critical", "serious")

# The pages of each role: (what it is, path). Paths name demonstration objects by placeholders the `world` fixture
# fills in ({case}, {topic}...). A path ending in SUBMITTED is audited after its form was sent empty (the browser's
# own checks switched off), to check the error summary and the fields' error messages too.
SUBMITTED = "#submitted-empty"
PAGES: dict[str, list[tuple[str, str]]] = {
    "visitor": [
        ("landing page", "/"),
        ("sign-in", "/sign-in"),
        ("sign-in with errors", "/sign-in" + SUBMITTED),
        ("apply", "/apply"),
        ("apply with errors", "/apply" + SUBMITTED),
        ("forgotten password", "/password/forgot"),
        ("public catalogue", "/cases"),
        ("public case", "/cases/{case}"),
        ("not found", "/no-such-page"),
    ],
    "member": [
        ("home", "/"),
        ("catalogue listing", "/cases?q=extradition"),
        ("a case", "/cases/{case}"),
        ("case history", "/cases/{case}/history"),
        ("case print view", "/cases/{case}/print"),
        ("case statistics", "/cases/statistics"),
        ("my cases", "/cases/mine"),
        ("search everything", "/search?q=bank+records"),
        ("forum index", "/forum/"),
        ("a space", "/forum/spaces/{space}"),
        ("a topic", "/forum/topics/{topic}"),
        ("new topic", "/forum/spaces/{space}/new"),
        ("new topic with errors", "/forum/spaces/{space}/new" + SUBMITTED),
        ("forum search", "/forum/search?q=witness"),
        ("new in the forum", "/forum/new"),
        ("notifications", "/forum/notifications"),
        ("notification preferences", "/forum/preferences"),
        ("directory", "/directory/"),
        ("finder", "/directory/finder?state={state}&form=mla"),
        ("an authority", "/directory/{authority}"),
        ("a State in the directory", "/directory/states/{state}"),
        ("inbox", "/messages/"),
        ("a conversation", "/messages/{conversation}"),
        ("compose", "/messages/new"),
        ("compose with errors", "/messages/new" + SUBMITTED),
        ("archived conversations", "/messages/archived"),
        ("requests register", "/requests/"),
        ("new request", "/requests/new"),
        ("account security", "/account/security"),
        ("access tokens", "/account/tokens"),
        ("change password", "/account/password"),
    ],
    "focal point": [
        ("vouching", "/vouching"),
        ("directory re-confirmations", "/reconfirmations"),
        ("my directory entries", "/directory/mine"),
        ("authority mailboxes", "/messages/mailboxes"),
    ],
    "moderator": [
        ("vetting queue", "/vetting"),
        ("an application under review", "/vetting/{application}"),
        ("case review queue", "/cases/review"),
        ("forum moderation queue", "/forum/moderation"),
        ("message reports", "/messages/reports"),
        ("a topic, with the moderation buttons", "/forum/topics/{topic}"),
        ("directory changes", "/directory/changes"),
    ],
    "admin": [
        ("audit log", "/audit"),
        ("members", "/members"),
        ("manage a member", "/members/{member}/manage"),
        ("forum groups", "/forum/groups"),
    ],
}
SCREENSHOTS = {"a topic", "a topic, with the moderation buttons", "compose with errors", "catalogue listing"}
ACCOUNTS = {"member": "member_bra", "focal point": "focal_aut", "moderator": "moderator", "admin": "admin"}


def axe_source() -> str:
    """axe-core's script, installed from the lock file on first use (a fresh clone has no node_modules/)."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("CI"):
                pytest.fail("npm is required in CI to install axe-core for the accessibility tests")
            pytest.skip("npm is not installed: axe-core cannot be installed into tests/browser_assets/")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ASSETS, check=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, smtp_server, sqlite_template):
    """The real app with the demonstration data, served on 127.0.0.1 for the whole module: (app, base, accounts,
    world), where world names one object of each kind the pages show."""
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from app import create_app
    from network.core.db import db
    from tests.conftest import _base_config

    clock_module.freeze(None)  # real time: the TOTP codes the browser types must match the wall clock
    folder = tmp_path_factory.mktemp("a11y")
    target = folder / "network.db"
    shutil.copyfile(sqlite_template, target)
    application = create_app({**_base_config(folder, f"sqlite:///{target}", smtp_server.port), "DEMO_MODE": True})
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        from catalogue.cases.models import Case
        from network.directory.models import Authority
        from network.forum.models import Space, Topic
        from network.members.models import Application, Member
        from network.messaging.models import ConversationParticipant as Participant

        accounts = json.loads((folder / "demo-accounts.json").read_text())
        ana = db.session.scalar(select(Member).where(Member.email == accounts["member_bra"]["email"]))
        world = {
            "case": db.session.scalar(select(Case.reference).where(Case.status == "published",
                                                                    Case.visibility == "public")
                                      .order_by(Case.id)),
            "space": "mla",
            "topic": db.session.scalar(select(Topic.id).join(Space).where(Space.slug == "mla").order_by(Topic.id)),
            "state": "FRA",
            "authority": db.session.scalar(select(Authority.key).where(Authority.state == "FRA").order_by(Authority.id)),
            "conversation": db.session.scalar(select(Participant.conversation_id)
                                              .where(Participant.member_id == ana.id).order_by(Participant.id)),
            "application": db.session.scalar(select(Application.id).where(Application.status == "submitted")
                                             .order_by(Application.id)),
            "member": ana.id,
        }
        db.session.remove()
    assert all(value is not None for value in world.values()), world
    server = make_server("127.0.0.1", 0, application, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    application.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, name="a11y-live-server", daemon=True)
    thread.start()
    try:
        yield application, base, accounts, world
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _real_time(clock):  # noqa: ARG001 (after the frozen test clock, which this releases)
    """The browser lives in real time: the TOTP codes it types and the demonstration data's dates need the wall
    clock, not the frozen test clock every test starts with."""
    clock_module.freeze(None)


@pytest.fixture(scope="module")
def chrome():
    with chromium_session() as launched:
        yield launched


def run_axe(page, source: str) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, impact, help, nodes: [target...]}]."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    return page.evaluate("""async () => {
        const results = await window.axe.run(document, {resultTypes: ['violations']});
        return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""")


def sign_in_by_form(page, base: str, entry: dict) -> None:
    """Sign a demonstration account in through the forms (password, then the current code), in whatever language
    the page is served: the fields are found by their ids, the buttons as the form's submit button."""
    page.goto(f"{base}/sign-in")
    page.locator("#email").fill(entry["email"])
    page.locator("#password").fill(entry["password"])
    page.locator("main form[method=post] [type=submit]").click()
    page.wait_for_url(f"{base}/sign-in/verify")
    page.locator("#code").fill(code(entry["totp_secret"]))
    page.locator("main form[method=post] [type=submit]").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def check_error_summary(page, name: str) -> None:
    """The summary above a refused form lists each error as a link to its field, not only how many there are."""
    targets = page.locator(".error-summary li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    invalid = page.locator("[aria-invalid=true]").evaluate_all("fields => fields.map(f => '#' + f.id)")
    assert targets and set(invalid) <= set(targets), (name, "the error summary does not link each field", targets)
    for target in targets:
        assert page.locator(target).count() == 1, (name, target)


@pytest.fixture(scope="module")
def sessions(chrome, demo_server):
    """sessions(role): the role's page, signed in once for the whole module and every language (a second sign-in
    within the same 30 seconds would replay the authentication code, which is refused)."""
    _app, base, accounts, _world = demo_server
    opened: dict[str, tuple] = {}

    def page_of(role: str):
        if role not in opened:
            context, page = chrome.page()
            if role in ACCOUNTS:
                sign_in_by_form(page, base, accounts[ACCOUNTS[role]])
            opened[role] = (context, page)
        return opened[role][1]

    yield page_of
    for context, _page in opened.values():
        context.close()


def check_pages(sessions, demo_server, role: str, language: str) -> None:
    """Visit the role's pages in its signed-in session, in `language` (chosen as the language menu does: its cookie;
    the demonstration members have chosen none in their profiles), and run axe-core on each; fail on any critical or
    serious violation, listing them per page; print the counts of all violations by impact and rule."""
    app, base, _accounts, world = demo_server
    source = axe_source()
    page = sessions(role)
    cookie = "__Host-language" if app.config["SESSION_COOKIE_SECURE"] else "language"
    page.context.add_cookies([{"name": cookie, "value": language, "url": base}])
    found: dict[str, list[dict]] = {}
    counts: Counter = Counter()
    for name, path in PAGES[role]:
        url = base + path.format(**world).removesuffix(SUBMITTED)
        response = page.goto(url)
        assert response.status == (404 if name == "not found" else 200), (name, url, response.status)
        assert page.url.split("#")[0] == url, (name, url, page.url)  # not sent elsewhere (to sign in...)
        if path.endswith(SUBMITTED):
            with page.expect_navigation():
                page.evaluate("""() => { const form = document.querySelector('main form[method=post]');
                                         form.noValidate = true; form.requestSubmit(); }""")
            assert page.locator("[aria-invalid=true]").count(), (name, "the empty form was not refused")
            if name != "sign-in with errors":  # two fields: their messages stand beside them, without a summary
                check_error_summary(page, name)
        assert page.locator("html").get_attribute("lang").startswith(language), (name, url)
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr"), (name, url)
        if name in SCREENSHOTS:
            slug = re.sub(r"\W+", "-", f"{name}-{language}").strip("-")
            page.screenshot(path=str(ARTIFACTS / f"a11y-{slug}.png"), full_page=True)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")  # menus too
        violations = run_axe(page, source)
        for violation in violations:
            counts[(violation["impact"], violation["id"])] += len(violation["nodes"])
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        if blocking:
            found[f"{name} ({path})"] = blocking
    print(f"\naxe, {role}, {language}: {len(PAGES[role])} pages; violations by impact and rule: {dict(counts)}")
    assert not found, json.dumps(found, indent=1)


@pytest.mark.browser
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(PAGES))
def test_pages_have_no_critical_or_serious_accessibility_violation(sessions, demo_server, role, language):
    check_pages(sessions, demo_server, role, language)


def test_the_accessibility_check_covers_at_least_25_pages_of_every_role():
    assert sum(len(pages) for pages in PAGES.values()) >= 25
    assert {"visitor", "member", "moderator", "admin"} <= set(PAGES)


def test_the_error_summary_lists_each_error_as_a_link_to_its_field(app):
    """Without a browser: the summary above the refused application form names each field, links to it, and says
    what is wrong, instead of only counting the fields."""
    from tests.conftest import submit

    html = submit(app.test_client(), "/apply", {"name": "", "email": "not an address"}).get_data(as_text=True)
    summary = html[html.index('class="alert alert-danger error-summary"'):]
    summary = summary[:summary.index("</div>")]
    assert '<a class="alert-link" href="#name">Full name</a>: Enter your full name.' in summary
    assert 'href="#email">Official e-mail address</a>:' in summary
    links = re.findall(r'href="#([\w-]+)"', summary)
    assert len(links) == len(set(links)) >= 5
    for target in links:
        assert f'id="{target}"' in html, target


# ---------------------------------------------------------------- keyboard-only journeys

FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
    const style = getComputedStyle(e);
    return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name'), text: (e.innerText || e.value || '').trim(),
            href: e.getAttribute('href'), visible: e.matches(':focus-visible') && style.outlineStyle !== 'none'
                                                   && parseFloat(style.outlineWidth) >= 2}; }"""


def focused(page) -> dict:
    """What has the keyboard focus, and whether the focus is drawn (a visible outline of at least 2 px)."""
    element = page.evaluate(FOCUSED)
    assert element is not None, "nothing has the focus"
    return element


def tab_to(page, selector: str, limit: int = 30) -> int:
    """Press Tab until the focused element matches `selector` (at most `limit` times), checking that every element
    the focus passes is drawn as focused; returns the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        element = focused(page)
        assert element["visible"], f"the focus on {element} is not visible"
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab; the focus is on {focused(page)}")


def skip_to_content(page) -> None:
    """The first Tab of a page reaches the skip link; Enter moves the focus into the main content."""
    page.keyboard.press("Tab")
    element = focused(page)
    assert element["href"] == "#main" and element["visible"], element
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


@pytest.fixture(scope="module")
def keyboard_member(chrome, demo_server):
    """Ngozi Okafor (focal point, Nigeria) signed in, for the search and message journeys."""
    _app, base, accounts, _world = demo_server
    context, page = chrome.page()
    sign_in_by_form(page, base, accounts["focal_nga"])
    yield page
    context.close()


@pytest.mark.browser
def test_signing_in_with_the_keyboard_alone(chrome, demo_server):
    """E-mail, password and code, with Tab, typing and Enter: each field is reached in order, drawn as focused."""
    _app, base, accounts, _world = demo_server
    entry = accounts["member_phl"]
    context, page = chrome.page()
    page.goto(f"{base}/sign-in")
    skip_to_content(page)
    assert tab_to(page, "#email", limit=3) == 1  # the first field of the main content
    page.keyboard.type(entry["email"])
    assert tab_to(page, "#password", limit=1) == 1
    page.keyboard.type(entry["password"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("#")[0] == f"{base}/sign-in/verify"
    assert focused(page)["id"] == "code"  # the code field waits, focused, for the code
    page.keyboard.type(code(entry["totp_secret"]))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/"
    assert page.get_by_role("heading", name="Welcome, José Reyes").is_visible()
    context.close()


@pytest.mark.browser
def test_searching_the_catalogue_and_opening_a_result_with_the_keyboard(keyboard_member, demo_server):
    _app, base, _accounts, _world = demo_server
    page = keyboard_member
    page.goto(f"{base}/cases")
    skip_to_content(page)
    tab_to(page, "#f-q", limit=3)  # the search box comes first, before the filters
    page.keyboard.type("extradition")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=extradition" in page.url
    skip_to_content(page)
    tab_to(page, "a[href='#catalogue-results']", limit=4)  # past the search box, a link skips the filters
    page.keyboard.press("Enter")
    tab_to(page, ".case-result h3 a", limit=25)  # past the search button, the active filter, sorting, downloads
    title = focused(page)["text"]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/cases/[A-Z0-9-]+$", page.url), page.url
    assert page.locator("h1").inner_text().strip() == title


@pytest.mark.browser
def test_writing_and_sending_a_message_with_the_keyboard(keyboard_member, demo_server):
    """Compose, choose a recipient by typing the start of the name, write, send: Tab, typing and Enter only."""
    _app, base, _accounts, _world = demo_server
    page = keyboard_member
    page.goto(f"{base}/messages/new")
    skip_to_content(page)
    tab_to(page, "#recipients", limit=5)  # the "To" list's filter box (static/js/multiselect.js)
    page.keyboard.type("Ana Souza")  # narrows the list to the names that contain it
    page.keyboard.press("Enter")  # chooses the first one shown
    chosen = page.evaluate("() => [...document.querySelector('select[name=recipients]').selectedOptions]"
                           ".map(o => o.text)")
    assert len(chosen) == 1 and chosen[0].startswith("Ana Souza"), chosen
    tab_to(page, "#subject", limit=3)  # past the list and the chosen recipient's "Remove" button
    page.keyboard.type("Keyboard-only test: videoconference hearing")
    tab_to(page, "#text", limit=1)
    page.keyboard.type("Written and sent without a mouse.")
    tab_to(page, "button[type=submit], input[type=submit]", limit=15)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Your message was encrypted and sent.").is_visible()
    assert page.get_by_text("Written and sent without a mouse.").is_visible()
