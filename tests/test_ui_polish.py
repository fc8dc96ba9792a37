"""The interface polish list of issue 13, over HTTP: the token page's header example, the vetting page's labels and
its decision chosen on purpose, the empty directory, heading levels in legal requirements, sessions named by browser
and system, replies that keep the handling instructions, and reference links that show what they point to (to the
readers who may see it). The layout items (navigation bar at 1280 px, catalogue on a phone, heading sizes) are
checked in a browser: test_browser_ui_polish.py."""
# ruff: noqa: F811 -- the `ready` fixture is imported from test_messaging_flow and requested by name
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from network.core.clock import utcnow
from network.core.db import db
from tests.conftest import submit
from tests.test_messaging_flow import ready  # noqa: F401 (a fixture)

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def html(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- 1. the access-token page

def test_the_token_page_shows_the_authorization_header_with_its_placeholder(auth, member):
    page = html(auth.client_for(member).get("/account/tokens"))
    assert "Authorization: Bearer &lt;token&gt;" in page  # shown as text, not swallowed as a <token> tag
    assert "<token>" not in page and "Bearer ." not in page


# ---------------------------------------------------------------- 2. the vetting page

@pytest.fixture
def application(member_factory):
    from network.members.models import Application

    applicant = member_factory(status="pending", enrolled=False, name="Ada Lovelace",
                               email="ada.lovelace@justiz.example.at")
    applicant.languages = ["en", "fr", "de"]
    found = Application(member_id=applicant.id, status="submitted", reason="Requests with West Africa.",
                        submitted_at=utcnow())
    db.session.add(found)
    db.session.commit()
    return found


def _dd(page: str, term: str) -> str:
    return re.search(rf"<dt[^>]*>{term}</dt><dd[^>]*>(.*?)</dd>", page, re.S).group(1).strip()


def test_the_application_page_names_the_practitioner_type_and_languages(auth, moderator, application):
    client = auth.client_for(moderator)
    page = html(client.get(f"/vetting/{application.id}"))
    assert _dd(page, "Practitioner") == "Prosecutor"
    assert _dd(page, "Languages") == "English, French, German"
    french = html(client.get(f"/vetting/{application.id}?lang=fr"))
    assert "Procureur" in french and "anglais, français, allemand" in french
    assert "en, fr, de" not in page + french


def test_the_application_status_badge_sits_under_the_heading_not_inside_it(auth, moderator, application):
    page = html(auth.client_for(moderator).get(f"/vetting/{application.id}"))
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert "badge" not in heading and re.sub(r"<[^>]+>", "", heading).strip() == "Ada Lovelace"
    assert "Waiting for a decision" in page


def test_no_decision_is_chosen_beforehand_and_sending_none_is_refused_clearly(auth, moderator, application, mailbox):
    from network.members.models import Application

    client = auth.client_for(moderator)
    page = html(client.get(f"/vetting/{application.id}"))
    select = re.search(r'<select[^>]*id="decision"[^>]*>(.*?)</select>', page, re.S).group(1)
    first = re.search(r"<option([^>]*)>", select).group(1)
    assert 'value=""' in first  # what a browser shows chosen: nothing, not "Approve"
    assert "selected" not in select.split('value="approve"')[0].rsplit("<option", 1)[-1]
    response = submit(client, f"/vetting/{application.id}/decide", {"decision": "", "note": ""},
                      page=f"/vetting/{application.id}")
    assert response.status_code == 400
    assert "Choose a decision: approve, reject or ask for more information." in html(response)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "submitted"
    assert mailbox.to("ada.lovelace@justiz.example.at") == []


# ---------------------------------------------------------------- 3. the empty directory

@pytest.fixture
def empty_directory(authority):
    """A fresh installation: no authority in the directory (the members below belong to none)."""
    db.session.delete(authority)
    db.session.commit()


def test_an_empty_directory_says_nothing_is_listed_yet_and_what_to_do(auth, member_factory, admin, empty_directory):
    reader = member_factory(authority=None, email="reader@network.example.org")
    for who, told in ((reader, "administrators import"), (admin, "flask --app app directory import")):
        page = html(auth.client_for(who).get("/directory/"))
        assert "No authority is listed yet" in page and told in page
        assert "No authority matches these filters" not in page
        assert 'id="h-browse"' not in page and 'id="results-heading"' not in page  # no empty headings
        assert 'id="f-q"' not in page  # nothing to filter yet


def test_a_filter_matching_nothing_still_says_so_with_a_way_back(auth, member, authority):
    page = html(auth.client_for(member).get("/directory/?q=nothing-like-this"))
    assert "No authority matches these filters." in page and "Clear all filters" in page
    assert "No authority is listed yet" not in page
    assert 'id="h-browse"' not in page  # no States to browse: no heading over nothing


# ---------------------------------------------------------------- 4. headings inside legal requirements

def test_headings_in_legal_requirements_sit_below_the_section_heading(auth, member, authority):
    authority.legal_requirements = "## Mutual legal assistance\n\nText.\n\n### A request must state\n\n1. who asks."
    db.session.commit()
    page = html(auth.client_for(member).get(f"/directory/{authority.key}"))
    section = re.search(r'id="h-requirements".*?<div class="markdown-text"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "<h3>Mutual legal assistance</h3>" in section and "<h4>A request must state</h4>" in section
    assert not re.search(r"<h[12][ >]", section)


def test_headings_from_moves_headings_down_keeping_their_order():
    from network.core.markdown import headings_from, render_markdown

    rendered = render_markdown("# One\n\n## Two\n\n#### Four\n\n`<h1>` stays text")
    moved = str(headings_from(rendered, 3))
    assert "<h3>One</h3>" in moved and "<h4>Two</h4>" in moved and "<h6>Four</h6>" in moved
    assert "&lt;h1&gt;" in moved
    assert str(headings_from(render_markdown("#### Deep"), 3)) == str(render_markdown("#### Deep"))
    assert "<h6>Six</h6>" in str(headings_from(render_markdown("###### Six"), 5))


# ---------------------------------------------------------------- 5. sessions

@pytest.mark.parametrize(("agent", "summary"), [
    (FIREFOX_WINDOWS, "Firefox on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
     "Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1", "Chrome on iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 "
     "Safari/537.36 Edg/122.0.2365.66", "Edge on Windows"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.90 "
     "Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0", "Firefox on Linux"),
    ("curl/8.5.0", "curl"),
    ("", "Unknown device"),
    ("something else entirely", "Unknown device"),
])
def test_a_browser_string_is_told_as_browser_on_system(app, agent, summary):
    from network.members.devices import device_summary

    with app.test_request_context():
        assert device_summary(agent) == summary


def test_the_security_page_names_sessions_by_browser_and_system_with_the_full_string_at_hand(app, auth, member):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    auth.sign_in(client, member)
    page = html(client.get("/account/security"))
    assert "Firefox on Windows" in page
    assert f'title="{FIREFOX_WINDOWS}"' in page  # the whole string, not cut at 80 characters
    assert page.count(FIREFOX_WINDOWS) == 2  # in the title and in the details


# ---------------------------------------------------------------- 6. replies keep the handling instructions



def _checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)
    return " checked" in tag


def test_a_reply_to_a_confidential_message_starts_with_its_markings_ticked(app, ready, member_factory,
                                                                          other_authority):
    from tests.test_messaging_flow import send

    alice = member_factory(name="Alice Prosecutor")
    bob = member_factory(authority=other_authority, name="Bob Officer", email="bob@justice.example.ng")
    a, b = ready(alice), ready(bob)
    marked = send(a, [bob], confidential=True, limited_use=True)
    page = html(b.get(f"/messages/{marked}"))
    assert _checked(page, "confidential") and _checked(page, "limited_use")
    assert not _checked(page, "urgent")
    assert 'id="handling-carried"' in page

    # The member may still untick them: the reply goes out as sent, and the next form follows it.
    submit(b, f"/messages/{marked}/reply", {"text": "Received, nothing confidential in this answer."},
           page=f"/messages/{marked}")
    page = html(a.get(f"/messages/{marked}"))
    assert not _checked(page, "confidential") and not _checked(page, "limited_use")

    plain = send(a, [bob], subject="Plain", text="Nothing special.")
    page = html(b.get(f"/messages/{plain}"))
    assert not _checked(page, "confidential") and 'id="handling-carried"' not in page


# ---------------------------------------------------------------- 7. reference links show titles

@pytest.fixture
def referenced(forum, case, authority, member):
    from network.forum import services
    from network.forum.render import post_html

    case("REF-OPEN-1", title="Freezing orders recognised across borders")
    case("REF-DRAFT-1", status="draft", title="Undisclosed draft about a witness")  # member's own draft
    topic = services.create_topic(member, forum["general"], "Precedents for freezing orders",
                                  "See [[case:REF-OPEN-1]], [[case:REF-DRAFT-1]], [[case:REF-NONE-1]] and "
                                  "[[authority:AUT-MOJ]]. In code: `[[case:REF-OPEN-1]]`.")
    for text in ("Also [[case:REF-OPEN-1]].", "And [[case:REF-DRAFT-1]] again."):
        post_html(services.reply(member, topic, text))
    db.session.commit()
    return topic


def _count_case_queries(app, client, url: str) -> tuple[str, int]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = html(client.get(url))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return page, sum(1 for s in statements if re.search(r"\bFROM cases\b", s))


def test_reference_links_show_the_titles_the_reader_may_see_in_one_query(app, auth, forum, referenced):
    reader = auth.client_for(forum["outsider"])
    page, case_queries = _count_case_queries(app, reader, f"/forum/topics/{referenced.id}")
    assert ">Freezing orders recognised across borders</a>" in page
    assert 'title="REF-OPEN-1"' in page
    assert ">Federal Ministry of Justice</a>" in page
    assert "Undisclosed draft about a witness" not in page  # another member's draft: no title leaks
    assert ">REF-DRAFT-1</a>" in page and ">REF-NONE-1</a>" in page  # bare codes where nothing may be shown
    assert "<code>[[case:REF-OPEN-1]]</code>" in page  # code spans stay as written
    assert case_queries == 1  # every post's case links on the page, resolved at once


def test_the_stored_html_keeps_bare_codes_and_each_reader_gets_their_own_titles(app, auth, forum, referenced):
    from network.forum.models import Post

    author_page = html(auth.client_for(forum["member"]).get(f"/forum/topics/{referenced.id}"))
    assert ">Undisclosed draft about a witness</a>" in author_page  # the author may read their own draft
    stored = " ".join(p.body_html or "" for p in db.session.scalars(sa.select(Post)))
    assert "Undisclosed draft" not in stored and "Freezing orders" not in stored
    outsider_page = html(auth.client_for(forum["outsider"]).get(f"/forum/topics/{referenced.id}"))
    assert "Undisclosed draft about a witness" not in outsider_page


def test_references_in_a_message_are_links_with_the_titles_the_reader_may_see(app, ready, member_factory, case,
                                                                               other_authority, authority):
    from tests.test_messaging_flow import send

    case("REF-OPEN-2", title="Joint investigation team on migrant smuggling")
    alice = member_factory(name="Alice Prosecutor")
    bob = member_factory(authority=other_authority, name="Bob Officer", email="bob@justice.example.ng")
    a, b = ready(alice), ready(bob)
    conversation = send(a, [bob], subject="Precedent",
                        text="See [[case:REF-OPEN-2]] and write to [[authority:AUT-MOJ]].\n<b>not bold</b>")
    page = html(b.get(f"/messages/{conversation}"))
    assert ">Joint investigation team on migrant smuggling</a>" in page
    assert ">Federal Ministry of Justice</a>" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page  # the rest of the message stays text
