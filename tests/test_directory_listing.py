"""What the directory's pages read and render less of per request (issue 14): the list as columns in one statement,
the State names and their order once per process and language, and the pieces of the list page kept until what
they show changes. Each gives exactly what the work it saves gave."""
from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs

import pytest

from tests.test_directory_pages import directory, reader  # noqa: F401 (fixtures)

QUERIES = ["", "designation=untoc_mla_central", "instrument=DRUGS1988", "channel=interpol", "language=sw",
           "available_24_7=1", "region=africa", "state=FRA&state=PER", "stale=1", "stale=0", "q=entraide",
           "q=director+public", "designation=untoc_mla_central&language=en&channel=direct",
           "group=western_european_others&stale=1", "q=nothing+like+this"]


@pytest.mark.persistence
def test_the_listing_is_the_filtered_query_read_as_columns(app, directory):  # noqa: F811
    """The page's one statement (every entry, each with whether it matches) gives the entries, the order and the
    fields of the loaded authorities, on both databases."""
    from sqlalchemy import select

    from network.core.db import db
    from network.directory.models import Authority
    from network.directory.queries import filtered_authorities, listing, parse_filters
    from network.directory.services import is_stale

    everyone = {a.key for a in db.session.scalars(select(Authority))}
    for query in QUERIES:
        filters = parse_filters(parse_qs(query))
        expected = filtered_authorities(filters)
        found, every = listing(filters)
        assert [e.key for e in found] == [a.key for a in expected], query
        assert {e.key for e in every} == everyone
        for entry, authority in zip(found, expected, strict=True):
            assert entry == (authority.id, authority.key, authority.state, authority.name, authority.parent_body,
                             authority.email, authority.available_24_7, authority.last_verified,
                             tuple(authority.languages), tuple(authority.channels), tuple(authority.designations),
                             is_stale(authority)), query


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru", "ar", "zh"])
def test_state_names_and_their_order_are_those_of_the_labels(app, language):
    from network.core.labels import reader_language, sorted_by_name
    from network.directory.states import all_states, codes_by_name, name_order, state_names

    with app.test_request_context(f"/?lang={language}"):
        assert reader_language() == language
        states = all_states().values()
        assert state_names() == {state.code: state.name for state in states}
        in_order = [state.code for state in sorted_by_name(states, lambda state: state.name)]
        assert list(codes_by_name()) == in_order
        assert sorted(name_order(), key=name_order().get) == in_order


def test_the_list_pages_pieces_are_rendered_once_and_again_when_what_they_show_changes(app, reader,  # noqa: F811
                                                                                         directory,  # noqa: F811
                                                                                         authority_factory):
    from network.core import caching

    caching._fragments.clear()
    first = reader.get("/directory/").get_data(as_text=True)
    kinds = Counter(key[1] for key in caching._fragments)
    assert kinds == {"directory_filter_choices": 1, "directory_state_index": 1, "directory_state_entries": 5}
    assert reader.get("/directory/").get_data(as_text=True) == first
    assert len(caching._fragments) == 7  # nothing rendered again

    authority_factory("BRA", name="Departamento de Recuperação de Ativos", key="BRA-DRCI")
    page = reader.get("/directory/").get_data(as_text=True)
    # The new State's count among the filter's choices, in the index and in the list; the other States' entries
    # are the ones rendered before.
    assert '<option value="BRA">Brazil (1)</option>' in page
    assert '/directory/states/BRA">Brazil</a>' in page and 'id="state-BRA"' in page
    assert "Departamento de Recuperação de Ativos" in page
    assert Counter(key[1] for key in caching._fragments) == {
        "directory_filter_choices": 2, "directory_state_index": 2, "directory_state_entries": 6}


def test_the_finders_state_choices_follow_the_chosen_state_and_the_directory(app, reader, directory,  # noqa: F811
                                                                            authority_factory):
    """Some 200 options kept under the States with entries and the chosen State: each answer shows its own choice,
    and a State's first entry moves it among the States in the directory."""
    import re

    from network.core import caching

    def options(query: str) -> tuple[str, str]:
        page = reader.get(f"/directory/finder?{query}").get_data(as_text=True)
        listed = page[page.index('<optgroup label="In the directory">'):]
        missing = listed[listed.index('<optgroup label="No authority recorded yet">'):]
        return listed[:listed.index("</optgroup>")], missing[:missing.index("</optgroup>")]

    caching._fragments.clear()
    listed, missing = options("state=FRA&form=mla")
    assert '<option value="FRA" selected>France</option>' in listed and " selected" not in missing
    assert '<option value="BRA">Brazil</option>' in missing
    listed, missing = options("state=KEN&form=mla")
    assert '<option value="KEN" selected>Kenya</option>' in listed and '<option value="FRA">France</option>' in listed
    listed, missing = options("state=zzz&form=mla")  # not a State: nothing chosen, the same options as none
    assert " selected" not in listed + missing
    assert options("")[0] == listed
    authority_factory("BRA", name="Departamento de Recuperação de Ativos", key="BRA-DRCI")
    listed, missing = options("state=BRA&form=mla")
    assert '<option value="BRA" selected>Brazil</option>' in listed and 'value="BRA"' not in missing
    assert len([key for key in caching._fragments if key[1] == "finder_state_choices"]) == 4
    assert not re.search(r"<option[^>]*selected[^>]*>[^<]*</option>.*selected", listed + missing, re.S)
