"""One box for everything (/search): cases, forum posts and authorities at once, each group with its count and a
link to its full results, each under its own reader's scope; on both backends."""
from __future__ import annotations

import pytest

from tests.forum_support import RESTRICTED_TITLE
from tests.search_support import make_case

pytestmark = pytest.mark.persistence


def page(client, q: str) -> str:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_visitor_finds_public_cases_only(app, client, member, moderator):
    make_case(member, moderator, "C-PUB", title="Extradition of a fugitive accountant")
    make_case(member, moderator, "C-MEM", title="Extradition of a fugitive pilot", visibility="members")
    html = page(client, "extradition fugitive")
    assert "Catalogue cases" in html and "accountant" in html and "pilot" not in html
    assert "Forum posts" not in html and "Competent national authorities" not in html
    assert "Signed-in members also find" in html


def test_a_member_finds_cases_posts_and_authorities_with_counts_and_links(app, auth, forum, authority):
    from network.core.db import db
    from network.forum import services

    make_case(forum["member"], forum["moderator"], "C-MOJ", title="Extradition handled by a ministry of justice")
    services.reply(forum["member"], forum["open_topic"], "The ministry of justice answered our extradition request.")
    db.session.commit()
    html = page(auth.client_for(forum["member"]), "ministry of justice extradition")
    assert "Catalogue cases" in html and "Extradition handled by a ministry of justice" in html
    assert "Forum posts" in html and "How do I reach a central authority fast?" in html
    assert "Competent national authorities" in html and "Federal Ministry of Justice" in html
    assert "/cases?q=ministry" in html and "/forum/search?q=ministry" in html


def test_nothing_of_a_restricted_space_reaches_an_outsider(app, auth, forum):
    outsider, insider = forum["outsider"], forum["insider"]
    html = page(auth.client_for(outsider), "confidential plan")
    assert RESTRICTED_TITLE not in html
    assert "<mark>Confidential</mark>" not in html and "for the route" not in html
    html = page(auth.client_for(insider), "confidential plan")
    assert RESTRICTED_TITLE in html


def test_a_misspelt_query_is_corrected_for_every_group(app, client, member, moderator):
    make_case(member, moderator, "C-A", title="Extradition of a fugitive")
    html = page(client, "extradtion")
    assert "Showing results for" in html and "<strong>extradition</strong>" in html
    assert "Extradition of a fugitive" in html


def test_hostile_queries_never_fail(app, client):
    for q in ["", "\x00", '"', "+", "-", "NOT", "a" * 5000, "<script>alert(1)</script>", "司" * 600, "%00"]:
        response = client.get("/search", query_string={"q": q})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
