"""Reading the catalogue: filters and facets, the listing, the case page, related cases, exports, history and diff,
statistics and their SVG charts; members-only cases never reach anonymous readers."""
from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.persistence

BASE = {
    "title": "Bank records obtained for a laundering case",
    "summary": "Mutual legal assistance for bank records, granted in four months.",
    "language": "en", "requesting_state": "AUT", "requested_state": "NGA", "cooperation_forms": ["mla"],
    "legal_bases": ["untoc"], "crime_types": ["money_laundering"], "outcome": "granted",
    "untoc_provisions": ["18", "18(13)"], "request_date": "2021-03-01", "completion_date": "2021-07-01",
    "visibility": "public",
}


@pytest.fixture
def publish_case(app, member, moderator):
    """Make a published case (revision 1 kept, as the workflow does) from BASE overridden by `fields`."""
    from catalogue.cases import services
    from catalogue.cases.models import Case, CaseRevision
    from network.core.clock import utcnow
    from network.core.db import db

    counter = {"n": 0}

    def make(reference: str | None = None, submitter=None, **fields):
        counter["n"] += 1
        case = Case(reference=reference or f"CASE-T-{counter['n']:03d}", submitter_id=(submitter or member).id,
                    status="draft")
        db.session.add(case)
        services.apply_data(case, {**BASE, **fields})
        db.session.flush()
        case.status, case.published_at = "published", utcnow()
        case.revisions.append(CaseRevision(number=1, data=services.case_to_dict(case), published_by_id=moderator.id))
        db.session.commit()
        return case

    return make


def revise(case, by, **fields):
    """Publish a new revision of `case` with `fields` changed."""
    from catalogue.cases import services
    from catalogue.cases.models import CaseRevision
    from network.core.db import db

    services.apply_data(case, {**services.case_to_dict(case), **fields})
    case.revisions.append(CaseRevision(number=len(case.revisions) + 1, data=services.case_to_dict(case),
                                       published_by_id=by.id, note="corrected"))
    db.session.commit()


def references(cases) -> set[str]:
    return {case.reference for case in cases}


def query(member, **filters):
    from catalogue.cases.queries import filtered_cases

    return filtered_cases(member, {k: v if isinstance(v, list) else [v] for k, v in filters.items()}, per_page=100)


# ---------------------------------------------------------------- filters and facets

def test_values_of_one_filter_are_ored(publish_case):
    publish_case("CASE-MLA", cooperation_forms=["mla"])
    publish_case("CASE-EXT", cooperation_forms=["extradition"])
    publish_case("CASE-JIT", cooperation_forms=["joint_investigation"])
    total, cases, _ = query(None, cooperation_form=["mla", "extradition"])
    assert total == 2 and references(cases) == {"CASE-MLA", "CASE-EXT"}


def test_different_filters_are_anded(publish_case):
    publish_case("CASE-MLA-ML", cooperation_forms=["mla"], crime_types=["money_laundering"])
    publish_case("CASE-MLA-TIP", cooperation_forms=["mla"], crime_types=["trafficking_in_persons"])
    publish_case("CASE-EXT-ML", cooperation_forms=["extradition"], crime_types=["money_laundering"])
    total, cases, _ = query(None, cooperation_form="mla", crime_type="money_laundering")
    assert total == 1 and references(cases) == {"CASE-MLA-ML"}


def test_facet_counts_leave_out_the_facets_own_filter(publish_case):
    publish_case(cooperation_forms=["mla"], crime_types=["money_laundering"])
    publish_case(cooperation_forms=["mla"], crime_types=["corruption"])
    publish_case(cooperation_forms=["extradition"], crime_types=["money_laundering"])
    publish_case(cooperation_forms=["extradition"], crime_types=["fraud"])
    total, _, facets = query(None, cooperation_form="mla", crime_type="money_laundering")
    assert total == 1
    # cooperation_form counts ignore the form filter but keep the crime type filter, and vice versa.
    assert facets["cooperation_form"] == {"mla": 1, "extradition": 1}
    assert facets["crime_type"] == {"money_laundering": 1, "corruption": 1}
    assert facets["outcome"] == {"granted": 1}


def test_state_region_and_year_facets_count_the_results(publish_case):
    publish_case(requesting_state="AUT", requested_state="NGA", request_date="2020-05-01")
    publish_case(requesting_state="BRA", requested_state="JPN", request_date="2021-05-01")
    _, _, facets = query(None)
    assert facets["requesting_state"] == {"AUT": 1, "BRA": 1}
    assert facets["region"] == {"africa": 1, "americas": 1, "asia": 1, "europe": 1}
    assert facets["year"] == {"2021": 1, "2020": 1}


def test_year_range_filters_on_the_year_of_the_case(publish_case):
    publish_case("CASE-Y2019", request_date="2019-12-31", completion_date=None)
    publish_case("CASE-Y2020", request_date="2020-01-01", completion_date=None)
    publish_case("CASE-Y2022", request_date=None, decision_date="2022-06-01", completion_date=None)
    assert references(query(None, year_from="2020")[1]) == {"CASE-Y2020", "CASE-Y2022"}
    assert references(query(None, year_to="2020")[1]) == {"CASE-Y2019", "CASE-Y2020"}
    total, _, facets = query(None, year_from="2020", year_to="2020")
    assert total == 1
    assert facets["year"] == {"2022": 1, "2020": 1, "2019": 1}  # the year facet leaves out its own range


def test_outcome_and_language_filter_on_case_columns(publish_case):
    publish_case("CASE-EN-GRANTED", outcome="granted", language="en")
    publish_case("CASE-FR-REFUSED", outcome="refused", language="fr")
    publish_case("CASE-ES-GRANTED", outcome="granted", language="es")
    assert references(query(None, outcome="granted", language=["fr", "es"])[1]) == {"CASE-ES-GRANTED"}
    assert query(None, outcome="granted")[2]["language"] == {"en": 1, "es": 1}


def test_provision_article_finds_cases_citing_its_paragraphs(publish_case):
    publish_case("CASE-P1813", untoc_provisions=["18(13)"])
    publish_case("CASE-P16", untoc_provisions=["16(4)"])
    assert references(query(None, provision="18")[1]) == {"CASE-P1813"}
    assert references(query(None, provision="18(13)")[1]) == {"CASE-P1813"}
    assert references(query(None, provision="16")[1]) == {"CASE-P16"}


def test_words_match_title_summary_keywords_and_lessons_case_insensitively(publish_case):
    publish_case("CASE-Q1", title="Freezing of crypto assets abroad")
    publish_case("CASE-Q2", keywords=["Videolink hearing"])
    publish_case("CASE-Q3", lessons_learned="Call the central authority before sending 100% of the request.")
    publish_case("CASE-Q4")
    assert references(query(None, q="CRYPTO")[1]) == {"CASE-Q1"}
    assert references(query(None, q="videolink")[1]) == {"CASE-Q2"}
    assert references(query(None, q="100%")[1]) == {"CASE-Q3"}
    # Words are optional: any case with one of them is found; +word requires a word, in any field.
    assert "CASE-Q1" in references(query(None, q="four months crypto")[1])
    assert references(query(None, q="+four +months +crypto")[1]) == {"CASE-Q1"}


def test_a_year_that_is_not_a_number_is_a_query_error(app):
    from catalogue.cases.queries import QueryError, filtered_cases

    with pytest.raises(QueryError):
        filtered_cases(None, {"year_from": ["soon"]})


# ---------------------------------------------------------------- the listing page

def test_listing_shows_each_result_with_title_states_forms_year_and_outcome(client, publish_case):
    publish_case(title="Extradition of a smuggler", requesting_state="FRA", requested_state="BRA",
                 cooperation_forms=["extradition"], outcome="refused", request_date="2019-02-03")
    html = client.get("/cases").get_data(as_text=True)
    for text in ("Extradition of a smuggler", "France", "Brazil", "Extradition", "2019", "Refused"):
        assert text in html


def test_listing_filters_from_the_query_string_with_facet_counts(client, publish_case):
    publish_case(title="First mla case", cooperation_forms=["mla"])
    publish_case(title="An extradition case", cooperation_forms=["extradition"])
    html = client.get("/cases?cooperation_form=extradition").get_data(as_text=True)
    assert "An extradition case" in html and "First mla case" not in html
    assert 'value="extradition" id="f-cooperation_form-extradition" checked' in html
    assert 'value="mla" id="f-cooperation_form-mla">' in html  # still offered, to widen the choice


def test_listing_pages_keep_the_filters(client, publish_case):
    for n in range(23):
        publish_case(title=f"Listed case {n:02d}", crime_types=["fraud"], request_date=f"2001-01-{n + 1:02d}")
    publish_case(title="Other crime case", crime_types=["piracy"])
    first = client.get("/cases?crime_type=fraud&sort=title").get_data(as_text=True)
    assert "23 cases" in first and "Listed case 00" in first and "Listed case 20" not in first
    assert "/cases?crime_type=fraud&amp;sort=title&amp;page=2" in first
    second = client.get("/cases?crime_type=fraud&sort=title&page=2").get_data(as_text=True)
    assert "Listed case 20" in second and "Listed case 22" in second and "Listed case 19" not in second
    assert "Other crime case" not in second


def test_listing_shows_members_only_cases_to_vetted_members_only(client, auth, member_factory, publish_case):
    publish_case(title="Everyone reads this case")
    publish_case(title="Only members read this case", visibility="members")
    anonymous = client.get("/cases").get_data(as_text=True)
    assert "Everyone reads this case" in anonymous and "Only members read this case" not in anonymous
    assert "1 case" in anonymous
    applicant = member_factory(status="pending", enrolled=False)
    assert "Only members read this case" not in auth.client_for(applicant).get("/cases").get_data(as_text=True)
    reader = member_factory(email="reader@justiz.example.at")
    assert "Only members read this case" in auth.client_for(reader).get("/cases").get_data(as_text=True)


def test_listing_counts_no_members_only_case_in_anonymous_facets(client, publish_case):
    publish_case(visibility="members", cooperation_forms=["asset_sharing"], requesting_state="JPN")
    html = client.get("/cases").get_data(as_text=True)
    assert "asset_sharing" not in html and "Japan" not in html


# ---------------------------------------------------------------- the case page

def test_case_page_lays_out_states_labels_provisions_and_timeline(client, publish_case):
    case = publish_case(requesting_state="AUT", requested_state="NGA", cooperation_forms=["mla"],
                        legal_bases=["untoc", "reciprocity"], untoc_provisions=["18(13)", "16"],
                        request_date="2021-03-01", decision_date="2021-04-15", completion_date="2021-07-01",
                        channels=["direct"], source="Ministry of Justice of Austria")
    html = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    for text in ("Austria", "Nigeria", "Europe", "Africa", "Mutual legal assistance", "The Convention as legal basis",
                 "Reciprocity or comity", "Designation of a central authority", "Extradition",
                 "Directly between central authorities", "2021-04-15", "122 days", "Ministry of Justice of Austria",
                 "Granted and executed", "Public"):
        assert text in html, text
    assert "/cases?provision=18%2813%29" in html or "/cases?provision=18(13)" in html
    assert f"/cases/{case.reference}/history" in html and f"/cases/{case.reference}/print" in html


def test_case_page_escapes_plain_text_and_keeps_its_line_breaks(client, publish_case):
    case = publish_case(obstacles="<script>alert(1)</script>\nSecond line", keywords=["dual criminality"])
    html = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line" in html
    assert "/cases?q=dual+criminality" in html


def test_case_page_switches_between_language_versions(client, publish_case):
    case = publish_case(translations={"fr": {"title": "Entraide judiciaire obtenue",
                                             "summary": "Entraide pour des relevés bancaires, accordée en quatre mois."}})
    original = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Bank records obtained" in original and f"/cases/{case.reference}?lang=fr" in original
    french = client.get(f"/cases/{case.reference}?lang=fr").get_data(as_text=True)
    assert "Entraide judiciaire obtenue" in french and 'lang="fr"' in french


def test_members_only_case_is_not_found_for_anonymous_readers_everywhere(client, auth, member_factory, publish_case,
                                                                        moderator):
    case = publish_case(visibility="members", title="Confidential extradition case")
    revise(case, moderator, title="Confidential extradition case, corrected")
    for suffix in ("", "/print", "/history", "/diff?from=1&to=2", "/diff"):
        response = client.get(f"/cases/{case.reference}{suffix}")
        assert response.status_code == 404, suffix
        assert "Confidential" not in response.get_data(as_text=True)
    reader = auth.client_for(member_factory(email="reader@justiz.example.at"))
    for suffix in ("", "/print", "/history", "/diff?from=1&to=2"):
        assert reader.get(f"/cases/{case.reference}{suffix}").status_code == 200, suffix


def test_unknown_case_is_not_found(client):
    assert client.get("/cases/CASE-NOPE-1").status_code == 404


def test_print_view_has_the_case_without_the_navigation(client, publish_case):
    case = publish_case(lessons_learned="Call before sending.")
    html = client.get(f"/cases/{case.reference}/print").get_data(as_text=True)
    assert "Call before sending." in html and "Bank records obtained" in html
    assert "navbar" not in html and 'class="print-view"' in html


# ---------------------------------------------------------------- related cases

def test_related_cases_share_forms_crime_types_or_states_best_first_and_visible_only(app, publish_case):
    from catalogue.cases.queries import related_cases

    case = publish_case(cooperation_forms=["mla"], crime_types=["fraud"], requesting_state="AUT",
                        requested_state="NGA")
    best = publish_case("CASE-BEST", cooperation_forms=["mla"], crime_types=["fraud"], requesting_state="NGA",
                        requested_state="FRA")  # form, crime type and Nigeria (on the other side)
    publish_case("CASE-ONE", cooperation_forms=["mla"], crime_types=["piracy"], requesting_state="BRA",
                 requested_state="JPN")
    publish_case("CASE-NONE", cooperation_forms=["extradition"], crime_types=["piracy"], requesting_state="BRA",
                 requested_state="JPN")
    publish_case("CASE-HIDDEN", cooperation_forms=["mla"], crime_types=["fraud"], visibility="members")
    related = related_cases(None, case)
    assert [c.reference for c in related] == [best.reference, "CASE-ONE"]
    for _n in range(7):
        publish_case(cooperation_forms=["mla"], crime_types=["piracy"], requesting_state="BRA", requested_state="JPN")
    assert len(related_cases(None, case)) == 5


def test_case_page_lists_related_cases(client, publish_case):
    case = publish_case(crime_types=["wildlife_crime"])
    publish_case(title="Another wildlife case", crime_types=["wildlife_crime"])
    publish_case(title="Hidden wildlife case", crime_types=["wildlife_crime"], visibility="members")
    html = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Another wildlife case" in html and "Hidden wildlife case" not in html


# ---------------------------------------------------------------- exports

def test_jsonl_export_is_the_interchange_format_of_the_filtered_visible_cases(client, publish_case):
    from catalogue.cases.services import case_to_dict, validation_errors

    wanted = publish_case("CASE-EXPORT-1", cooperation_forms=["extradition"], keywords=["a; b", "cc"])
    publish_case("CASE-EXPORT-2", cooperation_forms=["mla"])
    publish_case("CASE-EXPORT-3", cooperation_forms=["extradition"], visibility="members")
    response = client.get("/cases/export.jsonl?cooperation_form=extradition")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == [case_to_dict(wanted)]
    assert validation_errors(json.loads(lines[0])) == []


def test_csv_export_joins_list_fields_and_follows_visibility(client, auth, member_factory, publish_case):
    publish_case("CASE-CSV-1", crime_types=["fraud", "corruption"], summary="=HYPERLINK(\"x\") looks like a formula.")
    publish_case("CASE-CSV-2", visibility="members")
    rows = list(csv.DictReader(io.StringIO(client.get("/cases/export.csv").get_data(as_text=True))))
    assert [row["reference"] for row in rows] == ["CASE-CSV-1"]
    assert rows[0]["crime_types"] == "fraud; corruption"
    assert rows[0]["untoc_provisions"] == "18; 18(13)"
    assert rows[0]["summary"].startswith("'=HYPERLINK")  # a spreadsheet keeps it as text
    reader = auth.client_for(member_factory(email="reader@justiz.example.at"))
    rows = list(csv.DictReader(io.StringIO(reader.get("/cases/export.csv").get_data(as_text=True))))
    assert {row["reference"] for row in rows} == {"CASE-CSV-1", "CASE-CSV-2"}


def test_listing_links_to_exports_with_the_same_filters(client, publish_case):
    publish_case(crime_types=["fraud"])
    html = client.get("/cases?crime_type=fraud&page=1").get_data(as_text=True)
    assert "/cases/export.csv?crime_type=fraud" in html and "/cases/export.jsonl?crime_type=fraud" in html


# ---------------------------------------------------------------- history and diff

def test_history_lists_the_published_revisions(client, publish_case, moderator):
    case = publish_case()
    revise(case, moderator, summary="Mutual legal assistance for bank records, granted in five months.")
    html = client.get(f"/cases/{case.reference}/history").get_data(as_text=True)
    assert '<th scope="row">2</th>' in html and '<th scope="row">1</th>' in html
    assert "corrected" in html and f"/cases/{case.reference}/diff?from=1&amp;to=2" in html
    assert moderator.name not in html  # anonymous readers are not told who moderates


def test_diff_shows_the_changes_between_two_revisions(client, publish_case, moderator):
    case = publish_case(keywords=["bank records"])
    revise(case, moderator, summary="Mutual legal assistance for bank records, granted in five months.",
           keywords=["bank records", "freezing"], outcome="partially_granted")
    html = client.get(f"/cases/{case.reference}/diff?from=1&to=2").get_data(as_text=True)
    assert "<del>four</del>" in html and "<ins>five</ins>" in html
    assert "<ins>freezing</ins>" in html
    assert "<del>granted</del>" in html and "<ins>partially_granted</ins>" in html
    assert "3 fields changed" in html
    by_default = client.get(f"/cases/{case.reference}/diff").get_data(as_text=True)
    assert by_default.split("<main", 1)[1] == html.split("<main", 1)[1]  # the last two by default (the header's
    # language menu differs: it links back to each page's own address)


def test_diff_answers_400_for_bad_parameters_and_404_for_missing_revisions(client, publish_case):
    case = publish_case()
    assert client.get(f"/cases/{case.reference}/diff?from=1&to=1").status_code == 200
    assert client.get(f"/cases/{case.reference}/diff?from=1&to=2").status_code == 404
    assert client.get(f"/cases/{case.reference}/diff?from=0&to=1").status_code == 404
    assert client.get(f"/cases/{case.reference}/diff?from=one&to=1").status_code == 400
    assert client.get(f"/cases/{case.reference}/diff?from=1").status_code == 400


def test_compare_diffs_lists_as_sets_and_texts_by_word():
    from catalogue.cases.revisions import compare

    old = {"title": "Assets frozen in two States", "cooperation_forms": ["mla", "confiscation"]}
    new = {"title": "Assets frozen in three States", "cooperation_forms": ["confiscation", "mla", "asset_sharing"]}
    fields = {f.field: f for f in compare(old, new)}
    forms = fields["cooperation_forms"]
    assert forms.changed and forms.added == ["asset_sharing"] and forms.removed == [] and set(forms.kept) == {
        "mla", "confiscation"}
    assert ("del", "two") in fields["title"].left and ("ins", "three") in fields["title"].right
    assert not fields["summary"].changed


# ---------------------------------------------------------------- statistics

HAND_COUNTED = [
    # requesting, requested, forms, crime types, legal bases, request, completion
    ("AUT", "NGA", ["mla"], ["money_laundering"], ["untoc"], "2020-01-10", "2020-03-10"),  # 60 days
    ("FRA", "BRA", ["extradition"], ["drug_trafficking"], ["bilateral"], "2020-06-01", "2020-12-28"),  # 210
    ("NGA", "AUT", ["mla", "confiscation"], ["money_laundering", "corruption"], ["untoc", "regional"],
     "2021-02-01", "2021-05-02"),  # 90
    ("BRA", "JPN", ["extradition"], ["trafficking_in_persons"], ["untoc"], "2021-09-01", "2022-09-01"),  # 365
    ("JPN", "AUS", ["mla"], ["cybercrime"], ["reciprocity"], "2022-03-01", "2022-03-31"),  # 30
    ("AUT", "FRA", ["joint_investigation"], ["trafficking_in_persons", "organized_criminal_group"], ["untoc"],
     "2022-05-05", None),
    ("MEX", "ZAF", ["mla"], ["drug_trafficking"], ["untoc", "bilateral"], None, None),
]


@pytest.fixture
def hand_counted(publish_case):
    for requesting, requested, forms, crimes, bases, start, end in HAND_COUNTED:
        publish_case(requesting_state=requesting, requested_state=requested, cooperation_forms=forms,
                     crime_types=crimes, legal_bases=bases, request_date=start, completion_date=end)
    # Not counted for anonymous readers:
    publish_case(visibility="members", requesting_state="AUS", requested_state="AUS", cooperation_forms=["mla"],
                 crime_types=["piracy"], legal_bases=["untoc"], request_date="2023-01-01", completion_date="2023-01-02")


def test_statistics_figures_match_a_hand_counted_set(app, hand_counted):
    from catalogue.cases.services import visible_cases
    from catalogue.cases.statistics import compute
    from network.core.db import db

    figures = compute(db.session.scalars(visible_cases(None)))
    assert figures["total"] == 7
    assert figures["by_year"] == [(2020, 2), (2021, 2), (2022, 2)] and figures["undated"] == 1
    assert figures["by_form"] == [("mla", 4), ("extradition", 2), ("confiscation", 1), ("joint_investigation", 1)]
    assert figures["by_crime_type"] == [("money_laundering", 2), ("trafficking_in_persons", 2), ("drug_trafficking", 2),
                                        ("organized_criminal_group", 1), ("corruption", 1), ("cybercrime", 1)]
    assert figures["untoc"] == {"count": 5, "total": 7, "share": 71.4}
    matrix = figures["matrix"]
    assert figures["regions"] == ["africa", "americas", "asia", "europe", "oceania"]
    assert {(r, c): n for r, row in matrix.items() for c, n in row.items() if n} == {
        ("europe", "africa"): 1, ("europe", "americas"): 1, ("africa", "europe"): 1, ("americas", "asia"): 1,
        ("asia", "oceania"): 1, ("europe", "europe"): 1, ("americas", "africa"): 1}
    assert figures["duration_by_form"] == [("mla", 60, 3), ("extradition", 287.5, 2), ("confiscation", 90, 1)]


def test_statistics_read_eight_columns_and_give_the_figures_of_the_whole_cases(app, hand_counted, member_factory):
    from catalogue.cases.queries import case_figures
    from catalogue.cases.services import visible_cases
    from catalogue.cases.statistics import compute
    from network.core.db import db

    for reader in (None, member_factory(email="reader@justiz.example.at")):
        rows = case_figures(reader)
        assert compute(rows) == compute(db.session.scalars(visible_cases(reader)))
        assert all(type(row).__name__ == "CaseFigures" for row in rows)
    assert len(case_figures(None)) == 7


def test_kept_pieces_of_the_catalogue_pages_show_a_case_as_it_is_now(client, moderator, publish_case):
    """The case page's article, the listing's entries with their snippets, the filter form and the charts are
    kept per process under their content: a change shows at once."""
    case = publish_case(title="Yacht seized", summary="The yacht was seized in the harbour.", crime_types=["fraud"])
    other = publish_case(title="Other case", crime_types=["fraud"])
    search = "/cases?q=yacht"
    pages = ("/cases", search, f"/cases/{case.reference}", "/cases/statistics", "/cases?crime_type=fraud",
             f"/cases/{other.reference}")
    before = {path: client.get(path).get_data(as_text=True) for path in pages}
    assert "<mark>yacht</mark> was seized in the harbour" in before[search]
    assert re.search(r'for="f-crime_type-fraud">[^<]+<span class="facet-count">2</span>', before["/cases"])
    revise(case, moderator, title="Yacht confiscated", summary="The yacht was confiscated at sea.",
           crime_types=["corruption"])
    after = {path: client.get(path).get_data(as_text=True) for path in pages}
    assert "Yacht confiscated" in after[f"/cases/{case.reference}"] and "Yacht seized" not in after[
        f"/cases/{case.reference}"]
    assert "(2 revisions)" in after[f"/cases/{case.reference}"]
    assert "<mark>yacht</mark> was confiscated at sea" in after[search] and "harbour" not in after[search]
    assert re.search(r'for="f-crime_type-fraud">[^<]+<span class="facet-count">1</span>', after["/cases"])
    assert 'id="f-crime_type-corruption"' in after["/cases"] and 'id="f-crime_type-corruption"' not in before["/cases"]
    assert "Corruption" in after["/cases/statistics"] and "Corruption" not in before["/cases/statistics"]
    for path in ("/cases", "/cases?crime_type=fraud", f"/cases/{other.reference}"):  # the entries, the related cases
        assert "Yacht seized" in before[path] and "Yacht seized" not in after[path]
    assert "Yacht confiscated" in after["/cases"]


def test_statistics_of_no_case_are_empty_not_an_error():
    from catalogue.cases.statistics import compute

    figures = compute([])
    assert figures["total"] == 0 and figures["untoc"]["share"] is None and figures["duration_by_form"] == []


def test_statistics_page_counts_only_the_cases_the_reader_sees(client, auth, member_factory, hand_counted):
    html = client.get("/cases/statistics").get_data(as_text=True)
    assert "7 published cases" in html and "71.4%" in html and "Piracy" not in html
    assert html.count("<svg") == 5 and 'role="img"' in html and "<caption>" in html
    assert '<th scope="row" class="fw-normal">Mutual legal assistance</th><td class="text-end">4</td>' in html
    reader = auth.client_for(member_factory(email="reader@justiz.example.at"))
    member_html = reader.get("/cases/statistics").get_data(as_text=True)
    assert "8 published cases" in member_html and "Piracy" in member_html


def test_kept_statistics_are_computed_once_per_set_of_rows_and_never_cross_scopes(client, auth, member_factory,
                                                                                  hand_counted, monkeypatch):
    """The figures are kept per process under the rows the reader's scope reads: a visitor and a vetted member each
    get their own (computed once each), however their requests alternate; a change reads other rows."""
    from catalogue.cases import views
    from catalogue.cases.statistics import compute

    monkeypatch.setattr(views, "_figures", {})
    computed = []
    monkeypatch.setattr(views, "compute", lambda cases: computed.append(1) or compute(cases))
    reader = auth.client_for(member_factory(email="reader@justiz.example.at"))
    for _ in range(2):
        html = client.get("/cases/statistics").get_data(as_text=True)
        assert "7 published cases" in html and "Piracy" not in html
        member_html = reader.get("/cases/statistics").get_data(as_text=True)
        assert "8 published cases" in member_html and "Piracy" in member_html
    assert len(computed) == 2


# ---------------------------------------------------------------- charts

def test_svg_charts_are_well_formed_and_escape_their_labels():
    from catalogue.cases import charts

    nasty = '<b>"Fraud" & co</b>'
    svgs = [
        charts.bar_chart([(nasty, 3), ("Extradition", 1.5)], f"Title {nasty}"),
        charts.column_chart([("2020", 2), (nasty, 0)], nasty),
        charts.heat_map([nasty, "Europe"], ["Africa", nasty], [[1, 0], [2, 5]], nasty, row_heading=nasty),
        charts.bar_chart([], "Nothing yet"),
    ]
    for svg in svgs:
        root = ET.fromstring(str(svg))  # noqa: S314 (our own SVG, parsed to check it is well-formed)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("role") == "img" and root.get("aria-label") and root.get("viewBox")
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
        assert "<b>" not in str(svg) and "style=" not in str(svg)
    first = ET.fromstring(str(svgs[0]))  # noqa: S314 (our own SVG)
    titles = [t.text for t in first.iter("{http://www.w3.org/2000/svg}title")]
    assert f"{nasty}: 3" in titles and "Extradition: 1.5" in titles


# ---------------------------------------------------------------- navigation

def test_every_page_links_to_the_catalogue(client):
    assert 'href="/cases">Catalogue</a>' in client.get("/sign-in").get_data(as_text=True)
