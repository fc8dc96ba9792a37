"""The directory's pages for vetted members: browsing and filters, State pages, authority pages, the print view."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

LEGAL = ("**Dual criminality** is required.\n\n- Requests in *French* or English\n- Send a copy by e-mail first\n\n"
         "See [the ministry](https://justice.example.fr/mla). <script>alert('x')</script>")


def entry(key: str, name: str, designations: list[str], **fields) -> dict:
    data = {"key": key, "state": key[:3], "name": name, "designations": designations,
            "last_verified": "2025-11-01"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def directory(app, authority, other_authority):
    """A small directory: France (two authorities, one stale), Kenya, Peru; plus the fixtures' AUT and NGA."""
    from network.core.db import db
    from network.directory.services import create_authority

    made = {}
    for data in (
        entry("FRA-MOJ", "Bureau de l'entraide pénale internationale", ["untoc_mla_central", "untoc_extradition"],
              parent_body="Ministère de la Justice", address="13 place Vendôme\n75001 Paris",
              phone="+33 1 44 77 60 60", email="entraide@justice.example.fr",
              website="https://justice.example.fr/", languages=["fr", "en"], channels=["direct", "interpol"],
              accepts_untoc_as_legal_basis=True, available_24_7=True,
              urgent_requests="By e-mail in advance of the original, with an INTERPOL notice.",
              time_zone="Europe/Paris", office_hours="Mon-Fri 09:00-17:00", legal_requirements=LEGAL,
              national_laws=[{"title": "Code de procédure pénale, art. 694 ff.",
                              "url": "https://laws.example.fr/cpp"}, {"title": "Loi 2004-204"}],
              treaties=["European Convention on Mutual Assistance in Criminal Matters (1959)"]),
        entry("FRA-PRISON", "Direction des affaires criminelles et des grâces", ["untoc_sentenced_persons"],
              languages=["fr"], channels=["diplomatic"], last_verified="2024-01-15"),
        entry("KEN-ODPP", "Office of the Director of Public Prosecutions", ["untoc_mla_central", "drugs_mla_central"],
              languages=["en", "sw"], channels=["direct"], time_zone="Africa/Nairobi",
              office_hours="By appointment"),
        entry("PER-FIRE", "Superintendencia Nacional de Control de Armas", ["firearms_contact"],
              languages=["es"], channels=["network"], last_verified=None),
    ):
        made[data["key"]] = create_authority(data, source="import")
    db.session.commit()
    return made


@pytest.fixture
def reader(auth, member):
    return auth.client_for(member)


def text_of(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- who sees the directory

def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/directory/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def test_applicants_are_refused(auth, member_factory):
    applicant = member_factory(status="pending", enrolled=False, email="applicant@justiz.example.at")
    client = auth.app.test_client()
    auth.sign_in(client, applicant)
    assert client.get("/directory/").status_code == 403
    assert client.get("/directory/finder").status_code == 403


def test_members_see_the_directory_menu_and_visitors_do_not(client, reader):
    assert 'href="/directory/finder"' in text_of(reader.get("/"))
    assert "/directory/finder" not in text_of(client.get("/cases"))


# ---------------------------------------------------------------- browsing and the list

def test_the_list_groups_authorities_by_state_and_marks_stale_entries(reader, directory):
    html = text_of(reader.get("/directory/"))
    france = html.index('id="state-FRA"')
    kenya = html.index('id="state-KEN"')
    assert france < kenya  # State name order
    assert "Bureau de l&#39;entraide pénale internationale" in html
    assert "Not verified since" in html and "January 15, 2024" in html  # FRA-PRISON
    assert "Never verified" in html  # PER-FIRE
    assert "6 authorities" in html


def test_the_state_index_counts_authorities_and_stale_ones(reader, directory):
    html = text_of(reader.get("/directory/?browse=region"))
    index = html[html.index('class="state-index"'):html.index('id="results-heading"')]
    assert "Europe" in index and "Africa" in index
    france = index[index.index('/directory/states/FRA'):]
    assert re.match(r'/directory/states/FRA">France</a>\s*<span class="facet-count">2</span>\s*'
                    r'<span class="stale-count"[^>]*>1 not verified', france)


@pytest.mark.persistence
def test_filters_narrow_the_list_on_both_databases(app, reader, directory):
    from network.directory.queries import filtered_authorities, parse_filters
    from network.directory.states import get_state

    def keys(query: str) -> list[str]:
        return [a.key for a in filtered_authorities(parse_filters(parse_qs(query)))]

    assert keys("designation=untoc_mla_central") == ["FRA-MOJ", "KEN-ODPP"]
    assert keys("instrument=DRUGS1988") == ["KEN-ODPP"]
    assert keys("instrument=FIREARMS") == ["PER-FIRE"]
    assert keys("channel=interpol") == ["FRA-MOJ"]
    assert keys("language=sw") == ["KEN-ODPP"]
    assert keys("available_24_7=1") == ["FRA-MOJ"]
    assert keys("region=africa") == ["KEN-ODPP", "NGA-CA"]
    assert keys("state=FRA&state=PER") == ["FRA-MOJ", "FRA-PRISON", "PER-FIRE"]
    assert set(keys("stale=1")) == {"FRA-PRISON", "PER-FIRE", "AUT-MOJ", "NGA-CA"}
    assert keys("stale=0") == ["FRA-MOJ", "KEN-ODPP"]
    assert keys("q=entraide") == ["FRA-MOJ"]
    assert keys("q=director+public") == ["KEN-ODPP"]
    assert keys("designation=untoc_mla_central&language=en&channel=direct") == ["FRA-MOJ", "KEN-ODPP"]
    if get_state("FRA").regional_group != "none":  # the UN regional groups file is present
        assert keys("group=western_european_others") == ["AUT-MOJ", "FRA-MOJ", "FRA-PRISON"]

    # The page shows the same list, and its address reproduces the filters.
    url = "/directory/?designation=untoc_mla_central&language=en&stale=0"
    html = text_of(reader.get(url))
    assert "2 authorities" in html
    assert 'id="state-FRA"' in html and 'id="state-KEN"' in html and 'id="state-PER"' not in html
    assert re.search(r'value="untoc_mla_central" id="f-designation-untoc_mla_central" checked', html)
    assert re.search(r'<option value="0" selected>', html)
    assert 'value="http://localhost/directory/?designation=untoc_mla_central&amp;language=en&amp;stale=0"' in html
    assert "/directory/print?designation=untoc_mla_central&amp;language=en&amp;stale=0" in html


def test_unknown_filter_values_are_ignored_not_an_error(reader, directory):
    response = reader.get("/directory/?designation=bogus&state=XYZ&stale=maybe&page=abc&browse=nonsense")
    assert response.status_code == 200
    assert "6 authorities" in text_of(response)


def test_no_match_says_so(reader, directory):
    html = text_of(reader.get("/directory/?q=nothing-like-this"))
    assert "No authority matches these filters." in html


# ---------------------------------------------------------------- a State's page

def test_a_state_page_lists_its_authorities(reader, directory):
    html = text_of(reader.get("/directory/states/FRA"))
    assert "<h1>France</h1>" in html
    assert "Bureau de l&#39;entraide" in html and "Direction des affaires criminelles" in html
    assert "Office of the Director" not in html
    assert "/directory/finder?state=FRA" in html


def test_a_state_without_authorities_says_so(reader, directory):
    assert "No authority of Brazil is recorded" in text_of(reader.get("/directory/states/BRA"))


def test_state_codes_are_case_insensitive_and_unknown_ones_404(reader, directory):
    response = reader.get("/directory/states/fra")
    assert response.status_code == 302 and response.headers["Location"].endswith("/directory/states/FRA")
    assert reader.get("/directory/states/XYZ").status_code == 404


# ---------------------------------------------------------------- an authority's page

def test_the_authority_page_shows_every_part_of_the_entry(reader, directory):
    html = text_of(reader.get("/directory/FRA-MOJ"))
    assert "Central authority for mutual legal assistance" in html and "UNTOC art. 18 (13)" in html
    assert "Authority for extradition" in html and "UNTOC art. 16" in html
    assert 'href="mailto:entraide@justice.example.fr"' in html
    assert re.search(r'<a href="https://justice.example.fr/" rel="noopener noreferrer"', html)
    assert "+33 1 44 77 60 60" in html and "13 place Vendôme" in html
    assert "French, English" in html  # language names from ISO 639
    assert "Through INTERPOL" in html and "Directly between central authorities" in html
    assert "By e-mail in advance of the original" in html
    assert "Yes, around the clock" in html
    assert "Mon-Fri 09:00-17:00" in html
    assert '<a href="https://laws.example.fr/cpp" rel="noopener noreferrer"' in html and "Loi 2004-204" in html
    assert "European Convention on Mutual Assistance" in html
    assert "November 1, 2025" in html
    assert "Takes the Convention as legal basis" in html
    assert "may be out of date" not in html


def test_legal_requirements_are_rendered_from_markdown_and_sanitised(reader, directory):
    html = text_of(reader.get("/directory/FRA-MOJ"))
    assert "<strong>Dual criminality</strong>" in html
    assert "<li>Requests in <em>French</em> or English</li>" in html
    assert '<a href="https://justice.example.fr/mla" rel="noopener noreferrer nofollow">the ministry</a>' in html
    assert "<script>alert" not in html


def test_local_time_and_office_open_follow_the_clock(auth, member, directory, clock):
    # BASE_TIME is Monday 2 March 2026, 09:00 UTC: 10:00 in Paris (signing in moves the clock by 30 seconds).
    html = text_of(auth.client_for(member).get("/directory/FRA-MOJ"))
    assert re.search(r"Local time <strong><time[^>]*>10:00</time></strong>\s*\(Europe/Paris\),", html)
    assert "office open" in html
    clock.set(datetime(2026, 3, 2, 17, 30))  # 18:30 in Paris
    html = text_of(auth.client_for(member).get("/directory/FRA-MOJ"))
    assert ">18:30</time>" in html and "office closed" in html


def test_unreadable_office_hours_show_only_the_local_time(reader, directory):
    html = text_of(reader.get("/directory/KEN-ODPP"))
    assert re.search(r">12:00</time></strong>\s*\(Africa/Nairobi\)", html)
    assert "office open" not in html and "office closed" not in html


def test_a_stale_entry_carries_a_prominent_warning(reader, directory):
    html = text_of(reader.get("/directory/FRA-PRISON"))
    assert "This entry may be out of date." in html and "January 15, 2024" in html
    assert "It has never been verified." in text_of(reader.get("/directory/PER-FIRE"))


def test_the_page_lists_the_authoritys_members_without_their_addresses(app, auth, member_factory, authority,
                                                                       other_authority, focal_point):
    from network.core.db import db

    colleague = member_factory(name="Anna Berger", email="anna.berger@justiz.example.at")
    colleague.position = "Head of the extradition unit"
    member_factory(name="Otto Suspended", email="otto@justiz.example.at", status="suspended")
    member_factory(name="Ngozi Other", authority=other_authority, email="ngozi@justice.example.ng")
    db.session.commit()
    html = text_of(auth.client_for(colleague).get("/directory/AUT-MOJ"))
    people = html[html.index('id="h-people"'):html.index('id="h-entry"')]
    assert "Anna Berger" in people and "Head of the extradition unit" in people
    assert re.search(re.escape(focal_point.name) + r'(</bdi>)?\s*<span class="badge[^"]*">Focal point</span>', people)
    assert "Otto Suspended" not in people and "Ngozi Other" not in people
    assert "@" not in people


@pytest.mark.persistence
def test_the_authority_pages_row_says_what_the_entry_says(app, directory, other_authority):
    """The page reads one row of columns (designations aggregated in SQL): each field as the loaded Authority has it,
    designations in the vocabulary's order, for entries with every field, a few, no designation at all."""
    from network.core.db import db
    from network.directory.models import Authority
    from network.directory.views import AuthorityPage, read_authority_page

    with app.test_request_context("/directory/"):
        bare = directory["PER-FIRE"]
        bare.set_designations([])
        db.session.commit()
        for key in ("FRA-MOJ", "FRA-PRISON", "KEN-ODPP", "PER-FIRE", "NGA-CA"):
            found, mailbox, _people = read_authority_page(key)
            entry = db.session.scalars(db.select(Authority).where(Authority.key == key)).one()
            assert found == AuthorityPage(*(getattr(entry, name) for name in AuthorityPage._fields[:-1]),
                                          tuple(entry.designations)), key
            assert mailbox == "closed"
        assert directory["FRA-MOJ"].designations == ["untoc_mla_central", "untoc_extradition"]  # not alphabetical
        assert read_authority_page("FRA-MOJ")[0].designations == ("untoc_mla_central", "untoc_extradition")
        assert read_authority_page("PER-FIRE")[0].designations == ()
        assert read_authority_page("FRA-NOWHERE") is None


@pytest.mark.persistence
def test_a_member_is_marked_focal_point_only_on_the_page_of_the_authority_they_are_focal_point_of(
        app, auth, member, member_factory, focal_point, other_authority):
    """The badge is for a focal point of this authority: a member who moved to another authority while still holding
    the grant of the first is listed on the new one's page without it (it was "a focal point of any authority")."""
    from network.core.db import db
    from network.members.models import RoleGrant

    moved = member_factory(name="Moved Focal", authority=other_authority, email="moved@justice.example.ng")
    db.session.add(RoleGrant(member_id=moved.id, role="focal_point", authority_id=focal_point.authority_id))
    db.session.commit()
    reader = auth.client_for(member)
    for key, name, focal in (("NGA-CA", "Moved Focal", False), ("AUT-MOJ", focal_point.name, True)):
        html = text_of(reader.get(f"/directory/{key}"))
        people = html[html.index('id="h-people"'):html.index('id="h-entry"')]
        assert name in people
        badge = re.search(re.escape(name) + r'(</bdi>)?\s*<span class="badge[^"]*">Focal point</span>', people)
        assert bool(badge) is focal, key


def test_propose_a_change_is_offered_only_to_the_authoritys_focal_points(app, auth, member, focal_point,
                                                                          other_authority):
    focal_page = text_of(auth.client_for(focal_point).get("/directory/AUT-MOJ"))
    member_page = text_of(auth.client_for(member).get("/directory/AUT-MOJ"))
    foreign_page = text_of(auth.client_for(focal_point).get("/directory/NGA-CA"))
    assert "Propose a change" not in member_page and "Propose a change" not in foreign_page
    assert 'href="/directory/AUT-MOJ/propose">Propose a change</a>' in focal_page
    assert 'href="/directory/AUT-MOJ/history">Version history</a>' in member_page


def test_unknown_authorities_404(reader, directory):
    assert reader.get("/directory/FRA-NOWHERE").status_code == 404


# ---------------------------------------------------------------- the print-ready directory

def test_the_print_view_has_a_cover_and_one_state_per_page(reader, directory):
    html = text_of(reader.get("/directory/print"))
    assert "For official use by network members" in html
    assert "March 2, 2026" in html and "6 authorities" in html and "5 States" in html
    assert len(re.findall(r'<section class="print-state"', html)) == 5
    assert "data-print-page" in html and "Print or save as PDF" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script: the CSP forbids it
    assert "<strong>Dual criminality</strong>" in html


def test_the_print_view_takes_the_lists_filters(reader, directory):
    html = text_of(reader.get("/directory/print?state=FRA&designation=untoc_sentenced_persons"))
    assert "1 authority" in html and "1 State" in html
    assert "Direction des affaires criminelles" in html and "Bureau de l&#39;entraide" not in html
    assert "State: France" in html and "Designation: Authority for transfer of sentenced persons" in html


def test_the_stylesheet_prints_one_state_per_page_and_shows_link_addresses(app):
    from pathlib import Path

    css = (Path(app.root_path) / "static" / "css" / "app.css").read_text(encoding="utf-8")
    printed = css[css.index("@media print", css.index("Directory of authorities")):]
    assert ".print-state { break-before: page;" in printed
    assert 'content: " <" attr(href) ">"' in printed
