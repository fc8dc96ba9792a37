"""The search on the catalogue page and in the API: one box, chips, count, sort, pages, a URL that reproduces the
search, snippets, "did you mean", a helpful empty state; the API answers the same results, facets and counts;
no input makes either fail."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.search_support import make_case

pytestmark = pytest.mark.persistence


@pytest.fixture
def cases(app, member, moderator):
    make_case(member, moderator, "C-EXT", title="Extradition of a fugitive", requested_state="FRA",
              summary="The requested State extradited the fugitive <quickly>.")
    make_case(member, moderator, "C-MLA", title="Letter rogatory on bank records", cooperation_forms=["mla"])
    make_case(member, moderator, "C-JIT", title="Extradition after a joint investigation",
              cooperation_forms=["joint_investigation", "extradition"], request_date="2015-01-01",
              completion_date=None)
    make_case(member, moderator, "C-MEM", title="Extradition shared with members", visibility="members")


def refs(html: str) -> list[str]:
    return re.findall(r'href="/cases/(C-[A-Z]+)"', html)


def test_the_page_has_one_search_box_and_marks_the_words_found(client, cases):
    html = client.get("/cases?q=extradited").get_data(as_text=True)
    assert html.count('name="q"') == 1
    assert set(refs(html)) == {"C-EXT", "C-JIT"}
    assert "C-MEM" not in html
    assert "<mark>extradited</mark>" in html and "&lt;quickly&gt;" in html
    assert "2 cases" in html


def test_active_filters_are_chips_that_remove_themselves(client, cases):
    html = client.get("/cases?q=extradition&cooperation_form=extradition&requested_state=nga").get_data(as_text=True)
    chips = re.findall(r'<span class="badge[^"]*">([^<]+) <a href="([^"]+)"', html)
    labels = {label.strip(): url.replace("&amp;", "&") for label, url in chips}
    assert "Words: extradition" in labels
    without_form = dict(parse_qsl(urlsplit(labels["Extradition"]).query))
    assert "cooperation_form" not in without_form and without_form["q"] == "extradition"
    assert without_form["requested_state"] == "nga"
    without_state = dict(parse_qsl(urlsplit(labels["Nigeria"]).query))
    assert "requested_state" not in without_state and without_state["cooperation_form"] == "extradition"
    assert refs(html) == ["C-JIT"]


def test_the_url_reproduces_the_search_exactly(client, cases):
    url = "/cases?q=extradition&sort=date&cooperation_form=extradition"
    first, second = client.get(url).get_data(as_text=True), client.get(url).get_data(as_text=True)
    assert refs(first) == refs(second)
    assert 'value="extradition"' in first and "<strong aria-current=\"true\">date</strong>" in first


def test_did_you_mean_and_a_helpful_empty_state(client, cases):
    html = client.get("/cases?q=extradtion&region=oceania").get_data(as_text=True)
    assert "No case matches these words with these filters." in html
    assert "Remove a filter above" in html
    html = client.get("/cases?q=extradtion").get_data(as_text=True)
    assert "Showing results for" in html and "<strong>extradition</strong>" in html
    assert "q=extradtion&amp;verbatim=1" in html
    html = client.get("/cases?q=extradtion&verbatim=1").get_data(as_text=True)
    assert "Did you mean" in html and "q=extradition" in html


def test_the_api_gives_what_the_page_gives(client, cases):
    for query in ("q=extradition", "q=extradition&sort=date", "q=MLA", "q=extradit*&cooperation_form=extradition",
                  "q=extradition&page=2&per_page=1"):
        page = client.get("/cases?" + query.replace("&per_page=1", "")).get_data(as_text=True)
        api = client.get("/api/v1/cases?" + query).get_json()
        if "per_page" not in query:
            assert [r["reference"] for r in api["results"]] == refs(page)
            assert f"{api['total']} case" in page
        else:
            assert api["total"] == 2 and len(api["results"]) == 1
        for result in api["results"]:
            assert "<script" not in result["snippet"]


def test_api_snippets_are_highlighted_and_escaped(client, cases):
    api = client.get("/api/v1/cases?q=fugitive").get_json()
    assert api["total"] == 1
    snippet = api["results"][0]["snippet"]
    assert "<mark>fugitive</mark>" in snippet and "&lt;quickly&gt;" in snippet


@pytest.mark.parametrize("q", ['"unbalanced', "OR OR", "NOT", "-", "*", "x" * 10000, "a\x00b", "%00", "<script>",
                               "' OR 1=1 --", "&|!:*"])
def test_hostile_queries_never_give_500(client, cases, q):
    assert client.get("/cases", query_string={"q": q}).status_code == 200
    assert client.get("/api/v1/cases", query_string={"q": q}).status_code == 200
    assert client.get("/cases/export.csv", query_string={"q": q}).status_code == 200


def test_nul_bytes_in_filters_never_give_500(client, cases):
    assert client.get("/cases", query_string={"cooperation_form": "m\x00la", "q": "x"}).status_code == 200
    assert client.get("/api/v1/cases", query_string={"requesting_state": "A\x00T"}).status_code == 200


def test_exports_keep_the_search(client, cases):
    body = client.get("/cases/export.jsonl?q=fugitive").get_data(as_text=True)
    assert '"C-EXT"' in body and '"C-MLA"' not in body


def test_estimated_facet_counts_say_so_on_the_page_and_in_the_api(app, client, cases, monkeypatch):
    """Facet counts are exact (`facets_exact`), unless the engine estimated them over very many matches
    (PostgreSQL above EXACT_FACETS, lowered here): the API says so and the page marks each count "≈"."""
    from catalogue.cases import queries
    from network.search import postgres_backend

    api = client.get("/api/v1/cases?q=extradition").get_json()
    assert api["facets_exact"] is True and api["facets"]["cooperation_form"]
    exact = api["facets"]
    assert 'class="facet-estimate"' not in client.get("/cases?q=extradition").get_data(as_text=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # Whoosh counts every match, always
    monkeypatch.setattr(postgres_backend, "EXACT_FACETS", 1)
    monkeypatch.setattr(postgres_backend, "SAMPLE_PARTS", (tuple(range(postgres_backend.SAMPLE_BUCKETS)),))
    queries.forget_answers()  # kept per data generation: the engine's settings changed, not its data
    api = client.get("/api/v1/cases?q=extradition").get_json()
    assert api["facets_exact"] is False and api["total"] == 2
    assert api["facets"] == exact  # the "sample" is every match: each estimate is the count
    html = client.get("/cases?q=extradition").get_data(as_text=True)
    assert html.count('class="facet-estimate"') >= 2 and "(≈ " in html


def test_an_estimated_total_says_so_on_the_page_in_the_api_and_in_the_one_box(app, client, cases, monkeypatch):
    """The total is exact (`total_exact`) unless the engine estimated it over very many matches (PostgreSQL above
    EXACT_TOTAL, lowered here): the API says so, the page and the one box mark it "≈" and link no last page."""
    from catalogue.cases import queries
    from network.search import postgres_backend

    api = client.get("/api/v1/cases?q=extradition").get_json()
    assert api["total_exact"] is True and api["total"] == 2
    assert "≈" not in client.get("/search?q=extradition").get_data(as_text=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # Whoosh counts every match, always
    monkeypatch.setattr(postgres_backend, "EXACT_TOTAL", 1)
    monkeypatch.setattr(postgres_backend, "EXACT_FACETS", 1)  # the page's facets count the total too
    monkeypatch.setattr(postgres_backend, "SAMPLE_PARTS", (tuple(range(postgres_backend.SAMPLE_BUCKETS)),))
    queries.forget_answers()  # kept per data generation: the engine's settings changed, not its data
    api = client.get("/api/v1/cases?q=extradition").get_json()
    assert api["total_exact"] is False and api["total"] == 2  # the "sample" is every match
    html = client.get("/cases?q=extradition").get_data(as_text=True)
    heading = html[html.index('id="results-heading"'):].split("</h2>")[0]
    assert 'class="facet-estimate"' in heading and "≈" in heading
    box = client.get("/search?q=extradition").get_data(as_text=True)
    assert "≈" in box and "See all 2 results" not in box


def test_kept_listing_statements_keep_each_reader_in_their_scope(client, auth, member, cases):
    """The listing's statements without words are kept per process under the reader's scope and the filters: a
    vetted member's kept listing never answers a visitor, nor the other way round, and a page is the page asked."""
    member_client = auth.client_for(member)
    for _ in range(2):
        visitor = client.get("/cases?sort=title").get_data(as_text=True)
        vetted = member_client.get("/cases?sort=title").get_data(as_text=True)
        assert "C-MEM" not in refs(visitor) and "C-MEM" in refs(vetted)
        assert client.get("/api/v1/cases?sort=title").get_json()["total"] == len(refs(visitor)) == 3
    first = client.get("/api/v1/cases?per_page=1&page=1").get_json()["results"]
    second = client.get("/api/v1/cases?per_page=1&page=2").get_json()["results"]
    assert first and second and first != second


def test_a_search_page_restores_the_planner_setting_and_keeps_nothing_after_it(app, cases):
    """One planner setting for a search's statements (PostgreSQL: set by the first that needs it, restored at the
    end of the search) and words looked up once inside it: after the search, nothing of it is left in the session."""
    from sqlalchemy import event, text

    from catalogue.cases.queries import search_cases
    from network.core.db import db

    settings = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "set_config('enable_seqscan', 'off'" in statement:
            settings.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for args, sort in (({"q": ["extradition"]}, "relevance"), ({"q": ["extradtion"]}, "date"),
                           ({"q": ["extradition"], "cooperation_form": ["extradition"]}, "relevance")):
            settings.clear()
            assert search_cases(None, args, sort).total
            assert len(settings) <= 1  # PostgreSQL: once for the search (it was once per statement)
            assert "search_reading" not in db.session.info
            if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
                assert db.session.scalar(text("SELECT current_setting('enable_seqscan')")) == "on"
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_a_search_pages_entries_are_kept_together_under_their_snippets(client, cases):
    """A page of search results is rendered once and kept as one piece under every entry's fields and its snippet:
    the same search asked again renders nothing, another search shows its own marks (never the kept piece of
    another), and a case edited anywhere gives a new piece with its new text."""
    from sqlalchemy import update

    from catalogue.cases.models import Case
    from network.core import caching
    from network.core.db import db

    caching._fragments.clear()
    first = client.get("/cases?q=extradited").get_data(as_text=True)
    assert "<mark>extradited</mark>" in first and "&lt;quickly&gt;" in first
    pieces = [key for key in caching._fragments if key[1] == "case_results"]
    assert len(pieces) == 1  # one piece for the page's entries, not one per entry
    assert any("<mark>extradited</mark>" in str(part) for entry in pieces[0][2:] for part in entry)
    kept = len(caching._fragments)
    assert client.get("/cases?q=extradited").get_data(as_text=True) == first
    assert len(caching._fragments) == kept
    other = client.get("/cases?q=fugitive").get_data(as_text=True)
    assert "<mark>fugitive</mark>" in other and "<mark>extradited</mark>" not in other
    db.session.execute(update(Case).where(Case.reference == "C-EXT")
                       .values(summary="The requested State extradited the fugitive at once."))
    db.session.commit()
    edited = client.get("/cases?q=extradited").get_data(as_text=True)
    assert "</mark> at once." in edited and "&lt;quickly&gt;" not in edited


def test_the_listing_reads_plain_rows_with_pending_changes_and_kept_compiled_statements(app, cases):
    """The listing's statements run on the session's connection (no ORM layers): what the session holds unflushed is
    flushed first, as the session's own execute would, and a statement kept per process finds its compiled form by
    identity (network.core.db.kept_options)."""
    from sqlalchemy import select

    from catalogue.cases import queries
    from catalogue.cases.models import Case
    from network.core.db import db, kept_options

    case = db.session.scalar(select(Case).where(Case.reference == "C-MLA"))
    case.title = "Aardvark letter rogatory"  # not flushed
    page = queries.search_cases(None, {}, "title", listing=True)
    assert isinstance(page.cases[0], queries.ListedCase) and page.cases[0].title == "Aardvark letter rogatory"
    assert page.total == 3 and page.facets["cooperation_form"]["mla"] == 2  # C-EXT and C-MLA; C-MEM is members-only
    kept = (queries._kept_facet_statement(False, queries._frozen(queries.Filters({}))),
            queries._kept_listing_page(False, queries._frozen(queries.Filters({})), "title", 20, 0, True))
    assert all(kept_options(statement)["compiled_cache"]._entries for statement in kept)
    found = queries.search_cases(None, {"q": ["extradition"]}, "relevance", listing=True)
    assert {c.reference for c in found.cases} == {"C-EXT", "C-JIT"} and set(found.snippets) == {c.id for c in found.cases}
    assert kept_options(queries._load_statement(True, True))["compiled_cache"]._entries
    db.session.rollback()
