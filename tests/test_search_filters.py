"""Filters beside words, held by both backends (Whoosh on SQLite, PostgreSQL full-text search on PostgreSQL): a
case the words find is found with every filter it satisfies, on every path of the listing (by relevance: the
engine filters; by date: SQL over the engine's matches; no words: SQL alone), whatever the spelling of the value."""
from __future__ import annotations

import pytest

from tests.search_support import found

pytestmark = pytest.mark.persistence


def _listed(member=None, sort: str = "date", **filters) -> list[str]:
    """References of the cases the listing finds, by date (SQL), with or without words."""
    from catalogue.cases.queries import search_cases

    args = {k: v if isinstance(v, list) else [v] for k, v in filters.items()}
    return sorted(case.reference for case in search_cases(member, args, sort, 1, 100).cases)


@pytest.fixture
def years(case):
    for year in (2012, 2015, 2019, 2021):
        case(f"Y-{year}", title=f"Yacht seized in {year}", request_date=f"{year}-03-01", completion_date=None)
    case("Y-OTHER", title="Bank records", request_date="2020-03-01", completion_date=None)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"year_from": "2019"}, ["Y-2019", "Y-2021"]),
    ({"year_from": "2016"}, ["Y-2019", "Y-2021"]),
    ({"year_to": "2015"}, ["Y-2012", "Y-2015"]),
    ({"year_to": "2018"}, ["Y-2012", "Y-2015"]),
    ({"year_from": "2013", "year_to": "2020"}, ["Y-2015", "Y-2019"]),
    ({"year_from": "2030"}, []),
])
def test_a_year_range_selects_alike_in_the_engine_and_in_sql(years, filters, expected):
    # Whoosh's own NumericRange on the unsigned year field matched every year when the range spanned several of its
    # trie tiers (2019 to 9999, 1 to 2015): a year_from or a year_to alone selected nothing out on the relevance
    # path, while SQL (by date, or without words) did.
    from catalogue.cases.search import backend

    assert sorted(found("yacht", **filters)) == expected
    assert _listed(q="yacht", **filters) == expected
    assert [r for r in _listed(**filters) if r != "Y-OTHER"] == expected
    assert len(backend().search("yacht", filters={k: [v] for k, v in filters.items()}).ids) == len(expected)


def test_filter_values_are_found_however_they_are_spelt(case):
    case("S-A", title="Yacht seized", language="fr", outcome="partially_granted", crime_types=["money_laundering"],
         cooperation_forms=["mla"], legal_bases=["untoc"], requesting_state="FRA", requested_state="ESP")
    case("S-B", title="Yacht sold", outcome="refused", crime_types=["fraud"], cooperation_forms=["extradition"],
         legal_bases=["bilateral"], requesting_state="USA", requested_state="CAN")
    spellings = [
        ("outcome", "PARTIALLY_GRANTED"), ("outcome", "Partially granted"), ("outcome", "partially-granted"),
        ("crime_type", "Money-laundering"), ("crime_type", "MONEY_LAUNDERING"), ("cooperation_form", "MLA"),
        ("cooperation_form", "Mutual legal assistance"), ("legal_basis", "UNTOC"), ("language", "FR"),
        ("region", "Europe"), ("requesting_state", "fra"), ("requesting_state", "FR"), ("requested_state", "es"),
    ]
    for name, value in spellings:
        assert found("yacht", **{name: value}) == ["S-A"], (name, value)
        assert _listed(q="yacht", **{name: value}) == ["S-A"], (name, value)
        assert _listed(**{name: value}) == ["S-A"], (name, value)
    assert found("yacht", outcome=["Refused", "PARTIALLY GRANTED"], requested_state="CA") == ["S-B"]
    assert found("yacht", crime_type="no such crime") == []


def test_a_phrase_found_only_where_the_filters_leave_out_gives_way_to_its_words(case):
    # A quoted phrase that finds nothing gives way to its words; that was decided over the whole catalogue, so a
    # phrase held by a case of another State was kept, and the filtered page was empty although its case held both
    # words. The correction is now chosen with the page's filters, on the engine's path and on SQL's.
    case("P-USA", title="Yacht crew questioned", summary="The crew of a yacht.", requested_state="USA")
    case("P-ESP", title="Crew of the seized yacht", summary="Sailors questioned.", requested_state="ESP")
    assert found('"yacht crew"') == ["P-USA"]
    assert found('"yacht crew"', requested_state="ESP") == ["P-ESP"]
    assert _listed(q='"yacht crew"', requested_state="ESP") == ["P-ESP"]
    assert _listed(q='"yacht crew"', requested_state="USA") == ["P-USA"]


def test_a_provision_finds_the_cases_relying_on_its_paragraphs_and_points(case):
    # The audit of 2026-12-06 left it: only the article was derived, so "14(3)" did not find "14(3)(b)" and "18(13)"
    # did not find "18(13)(a)", on any path.
    case("V-B", title="Yacht seized", untoc_provisions=["14(3)(b)"])
    case("V-13A", title="Yacht sold", untoc_provisions=["18(13)(a)", "16"])
    case("V-13", title="Yacht crew heard", untoc_provisions=["18(13)"])
    case("V-18", title="Yacht registered", untoc_provisions=["18"])
    for value, expected in [("14(3)(b)", ["V-B"]), ("14(3)", ["V-B"]), ("14", ["V-B"]), ("14(2)", []),
                            ("18(13)(a)", ["V-13A"]), ("18(13)", ["V-13", "V-13A"]),
                            ("18", ["V-13", "V-13A", "V-18"]), ("18 (13)", ["V-13", "V-13A"])]:
        assert sorted(found("yacht", provision=value)) == expected, value
        assert _listed(q="yacht", provision=value) == expected, value
        assert _listed(provision=value) == expected, value


def test_the_language_filter_finds_a_case_in_each_language_it_can_be_read_in(case):
    # The audit of 2026-12-06 left it: the filter was the case's own language only, so an English case with a French
    # translation was not found under "fr" (nor counted there).
    from catalogue.cases.queries import search_cases

    french = {"fr": {"title": "Yacht saisi", "summary": "Le yacht a été saisi à Marseille."}}
    case("L-EN-FR", title="Yacht seized", language="en", translations=french)
    case("L-EN", title="Yacht sold", language="en")
    case("L-FR", title="Yacht saisi et vendu", language="fr",
         translations={"es": {"title": "Yate incautado", "summary": "El yate fue incautado y vendido."}})
    for value, expected in [("fr", ["L-EN-FR", "L-FR"]), ("FR", ["L-EN-FR", "L-FR"]), ("en", ["L-EN", "L-EN-FR"]),
                            ("es", ["L-FR"]), ("ru", [])]:
        assert sorted(found("yacht", language=value)) == expected, value
        assert _listed(q="yacht", language=value) == expected, value
        assert _listed(language=value) == expected, value
    # Counts mean "readable in" alike on every path: a case once under its own language and once under each
    # translation's; the listing still shows the case's own language.
    for args, sort in [({}, "date"), ({"q": ["yacht"]}, "date"), ({"q": ["yacht"]}, "relevance")]:
        page = search_cases(None, args, sort, 1, 100)
        assert page.facets["language"] == {"en": 2, "fr": 2, "es": 1}, (args, sort)
        assert {c.reference: c.language for c in page.cases} == {"L-EN-FR": "en", "L-EN": "en", "L-FR": "fr"}
        chosen = search_cases(None, {**args, "language": ["fr"]}, sort, 1, 100)
        assert chosen.total == 2 and chosen.facets["language"] == {"en": 2, "fr": 2, "es": 1}, (args, sort)
        assert chosen.facets["outcome"] == {"granted": 2}, (args, sort)


def test_a_translation_added_later_puts_the_case_under_its_language(case):
    from catalogue.cases import services
    from network.core.db import db

    saved = case("L-LATER", title="Yacht seized", language="en")
    assert found("yacht", language="ru") == [] and _listed(language="ru") == []
    services.apply_data(saved, {**services.case_to_dict(saved), "translations": {
        "ru": {"title": "Арест яхты", "summary": "Яхта была арестована в порту."}}})
    db.session.commit()
    assert found("yacht", language="ru") == ["L-LATER"]
    assert _listed(language="ru") == _listed(q="yacht", language="ru") == ["L-LATER"]


def test_the_migration_gives_stored_cases_the_rows_a_save_gives(case):
    """Migration a1f6c3e8d527 recomputes the provision and language rows of case_facets for cases saved before it:
    the rows refresh_facets gives (and its downgrade, the old rule's)."""
    import sqlalchemy as sa

    from network.core.db import db
    from tests.migration_support import load_migration

    case("M-1", untoc_provisions=["14(3)(b)", "18"], language="en",
         translations={"fr": {"title": "Relevés bancaires", "summary": "Des relevés ont été obtenus."}})
    case("M-2", untoc_provisions=[], language="es")
    session = db.session
    migration = load_migration("a1f6c3e8d527", session)

    def rows() -> set[tuple[str, str, str]]:
        return set(session.execute(sa.text(
            "SELECT c.reference, f.kind, f.code FROM case_facets f JOIN cases c ON c.id = f.case_id "
            "WHERE f.kind IN ('provision', 'language')")).all())

    saved = rows()
    assert saved == {("M-1", "provision", "14"), ("M-1", "provision", "14(3)"), ("M-1", "provision", "14(3)(b)"),
                     ("M-1", "provision", "18"), ("M-1", "language", "en"), ("M-1", "language", "fr"),
                     ("M-2", "language", "es")}
    migration.downgrade()
    assert rows() == {("M-1", "provision", "14"), ("M-1", "provision", "14(3)(b)"), ("M-1", "provision", "18")}
    migration.upgrade()
    assert rows() == saved
