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
