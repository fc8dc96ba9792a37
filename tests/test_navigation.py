"""Issue 14: a member's navigation bar is kept rendered per process (network/core/navigation.py). Kept, it must stay
exactly what a fresh rendering gives: every rule it asks is in its key, a change of role, name, language or badge
shows at once, one member's bar never reaches another, and the forms on it carry this page's CSRF token and
address."""
from __future__ import annotations

import re
from pathlib import Path

from lxml import html as lxml_html

from network.core import navigation
from tests.conftest import csrf_token

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "navigation.html"


def header_of(response) -> str:
    assert response.status_code == 200, response.status_code
    text = response.get_data(as_text=True)
    return text[text.index("<header>"):text.index("</header>")]


def test_every_rule_the_bar_asks_is_in_its_key():
    asked = set(re.findall(r"\brules\.(\w+)\(", TEMPLATE.read_text()))
    asked |= {f"forum.{name}" for name in re.findall(r"\bforum_rules\.(\w+)\(", TEMPLATE.read_text())}
    keyed = {name for name, _rule in navigation._nav_rules()}
    assert asked and asked <= keyed, asked - keyed


def test_a_kept_bar_is_the_bar_rendered_afresh(app, auth, member):
    client = auth.client_for(member)
    kept_before = len(navigation._bars)
    first = header_of(client.get("/cases"))
    assert len(navigation._bars) == kept_before + 1
    second = header_of(client.get("/cases?q=extradition&lang=en"))
    assert len(navigation._bars) == kept_before + 1  # the same bar, with this page's token and address
    app.debug = True  # nothing kept: rendered for this page
    try:
        fresh = header_of(client.get("/cases?q=extradition&lang=en"))
    finally:
        app.debug = False
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    assert token.sub("", second) == token.sub("", fresh)
    assert navigation._MARK not in first + second
    back = lxml_html.fromstring(second).xpath('//input[@name="next"]/@value')
    assert back == ["/cases?q=extradition"]


def test_the_forms_on_a_kept_bar_work(app, auth, member):
    client = auth.client_for(member)
    english = header_of(client.get("/cases"))
    page = client.get("/cases").get_data(as_text=True)  # the kept bar
    token = csrf_token(page[page.index("<header>"):])
    response = client.post("/language", data={"csrf_token": token, "language": "fr", "next": "/cases"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    french = client.get("/cases")
    assert '<html lang="fr"' in french.get_data(as_text=True)
    assert header_of(french) != english and 'aria-current="true">Français' in header_of(french)
    response = client.post("/sign-out", data={"csrf_token": csrf_token(header_of(french))})
    assert response.status_code == 302 and "/sign-in" in client.get("/messages/").headers.get("Location", "")


def test_a_new_role_a_new_name_and_another_member(app, auth, member, member_factory):
    from network.core.db import db
    from network.members.models import RoleGrant

    client = auth.client_for(member)
    before = header_of(client.get("/cases"))
    assert "/vetting" not in before and member.name in before
    db.session.add(RoleGrant(member_id=member.id, role="moderator"))
    member.name = "Renamed Member"
    db.session.commit()
    after = header_of(client.get("/cases"))
    assert "/vetting" in after and "Renamed Member" in after

    other = member_factory(name="Someone Else")
    theirs = header_of(auth.client_for(other).get("/cases"))
    assert "Someone Else" in theirs and "Renamed Member" not in theirs and "/vetting" not in theirs


def test_a_visitor_s_kept_bar_brings_them_back_to_this_page(app, client):
    from urllib.parse import parse_qs, urlsplit

    def backs(header: str) -> list[str]:
        links = lxml_html.fromstring(header).xpath('//a[@hreflang]/@href')
        assert len(links) == 6
        return [parse_qs(urlsplit(link).query)["next"][0] for link in links]

    first = header_of(client.get("/cases"))
    kept = header_of(client.get("/cases?q=extradición&cooperation_form=mla&lang=en"))
    assert navigation._MARK not in first + kept
    assert backs(first) == ["/cases"] * 6
    assert backs(kept) == ["/cases?q=extradici%C3%B3n&cooperation_form=mla"] * 6
    app.debug = True
    try:
        fresh = header_of(client.get("/cases?q=extradición&cooperation_form=mla&lang=en"))
    finally:
        app.debug = False
    assert backs(fresh) == backs(kept)
    link = re.compile(r'href="/language/[^"]*"')
    assert link.sub("", fresh) == link.sub("", kept)
    french = header_of(client.get("/cases?lang=fr"))
    assert french != first and 'aria-current="true">Français' in french
