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


def main_of(page: str) -> str:
    """The page without the navigation bar, whose forms carry a CSRF token signed with the second."""
    return page[page.index("<main"):page.index("</main>")]


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


@pytest.mark.persistence
def test_the_listing_reads_every_entry_as_one_value_that_keeps_any_text(app, directory, authority_factory):  # noqa: F811
    """The entries come as one JSON text aggregated in SQL (one row, whatever the number of entries): quotes,
    backslashes, commas, scripts of any language, a flag set, no date, no list and no designation read back as
    stored, and a change of one character is a new version."""
    from sqlalchemy import update

    from network.core.db import db
    from network.directory.models import Authority
    from network.directory.queries import DirectoryFilters, _every_entry, _listing_statement, read_listing

    odd = authority_factory("EGY", name='Bureau "A\\B", l\'entraide — مكتب 🚀\t[1]', key="EGY-ODD")
    odd.parent_body, odd.email, odd.available_24_7 = "{\"x\": [1]}", "a,b@example.eg", True
    odd.languages, odd.channels, odd.last_verified = ["ar", "fr-CA"], [], None
    db.session.commit()
    postgresql = db.engine.dialect.name == "postgresql"
    with app.test_request_context("/directory/"):
        assert len(db.session.execute(_every_entry(postgresql)).all()) == 1
        conditions = [Authority.state == "EGY"]
        assert len(db.session.execute(_listing_statement(conditions, postgresql)).all()) == 1
        kept = read_listing(DirectoryFilters())
        entry = next(e for e in kept.every if e.key == "EGY-ODD")
        assert entry == (odd.id, "EGY-ODD", "EGY", 'Bureau "A\\B", l\'entraide — مكتب 🚀\t[1]', "{\"x\": [1]}",
                         "a,b@example.eg", True, None, ("ar", "fr-CA"), (), (), True)
        assert [e.id for e in kept.every] == sorted(e.id for e in kept.every)
        assert read_listing(DirectoryFilters(values={"state": ("EGY",)})).matching == {odd.id}
        assert read_listing(DirectoryFilters(values={"state": ("CHN",)})).matching == frozenset()
        assert read_listing(DirectoryFilters()).version == kept.version
        with db.engine.begin() as connection:
            connection.execute(update(Authority).where(Authority.key == "EGY-ODD").values(name="Bureau"))
        assert read_listing(DirectoryFilters()).version != kept.version


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
    assert kinds == {"directory_index": 1, "directory_filter_choices": 1, "directory_state_index": 1,
                     "directory_state_entries": 5}
    assert main_of(reader.get("/directory/").get_data(as_text=True)) == main_of(first)  # (the bar: a fresh token)
    assert len(caching._fragments) == 8  # nothing rendered again

    authority_factory("BRA", name="Departamento de Recuperação de Ativos", key="BRA-DRCI")
    page = reader.get("/directory/").get_data(as_text=True)
    # The new State's count among the filter's choices, in the index and in the list; the other States' entries
    # are the ones rendered before.
    assert '<option value="BRA">Brazil (1)</option>' in page
    assert '/directory/states/BRA">Brazil</a>' in page and 'id="state-BRA"' in page
    assert "Departamento de Recuperação de Ativos" in page
    assert Counter(key[1] for key in caching._fragments) == {
        "directory_index": 2, "directory_filter_choices": 2, "directory_state_index": 2, "directory_state_entries": 6}


@pytest.mark.persistence
def test_the_kept_list_page_follows_the_database_the_day_and_the_address(app, reader, directory, clock):  # noqa: F811
    """The list page's content is kept under the version of what its statement read: a change written straight
    into the database (not through this process's objects) shows on the next request, as does the day an entry
    turns stale; each address (filters, page, browse) has its own page; a kept page is the page rendered afresh."""
    from datetime import timedelta

    from sqlalchemy import update

    from network.core import caching
    from network.core.db import db
    from network.directory.models import Authority
    from network.directory.queries import DirectoryFilters, read_listing

    caching._fragments.clear()
    first = reader.get("/directory/").get_data(as_text=True)
    assert "Office of the Director of Public Prosecutions" in first
    with db.engine.begin() as connection:  # another process's change: no object of this session knows it
        connection.execute(update(Authority).where(Authority.key == "KEN-ODPP").values(name="Office of the DPP"))
    page = reader.get("/directory/").get_data(as_text=True)
    assert "Office of the DPP" in page and "Office of the Director of Public Prosecutions" not in page
    caching._fragments.clear()
    assert main_of(reader.get("/directory/").get_data(as_text=True)) == main_of(page)  # kept == rendered afresh

    filtered = reader.get("/directory/?state=KEN").get_data(as_text=True)
    assert 'value="http://localhost/directory/?state=KEN"' in filtered and "Bureau de l&#39;entraide" not in filtered
    assert main_of(reader.get("/directory/").get_data(as_text=True)) == main_of(page)

    verified = clock.now.date() - timedelta(days=365)  # stale tomorrow
    with db.engine.begin() as connection:
        connection.execute(update(Authority).where(Authority.key == "KEN-ODPP").values(last_verified=verified))
    fresh = reader.get("/directory/?state=KEN").get_data(as_text=True)
    assert "stale-badge" not in fresh and "is-stale" not in fresh
    with app.test_request_context("/directory/"):
        today = read_listing(DirectoryFilters())
        clock.advance(days=1)
        tomorrow = read_listing(DirectoryFilters())
    assert tomorrow.version != today.version  # the page's key
    assert [e.stale for e in today.every if e.key == "KEN-ODPP"] == [False]
    assert [e.stale for e in tomorrow.every if e.key == "KEN-ODPP"] == [True]


@pytest.mark.persistence
def test_the_authority_pages_kept_column_follows_the_entry(app, reader, directory):  # noqa: F811
    """The entry's own column (designations, what a request needs, requirements, laws, treaties) is kept under what
    it shows: a change written straight into the database shows on the next request."""
    from sqlalchemy import update

    from network.core import caching
    from network.core.db import db
    from network.directory.models import Authority

    def column(page: str) -> str:
        return page[page.index('id="h-designations"'):page.index('<div class="col-lg-4">')]

    caching._fragments.clear()
    first = reader.get("/directory/FRA-MOJ").get_data(as_text=True)
    assert [key[1] for key in caching._fragments] == ["authority_main"]
    assert "Loi 2004-204" in column(first) and "<strong>Dual criminality</strong>" in column(first)
    assert column(reader.get("/directory/FRA-MOJ").get_data(as_text=True)) == column(first)
    with db.engine.begin() as connection:  # another process's change
        connection.execute(update(Authority).where(Authority.key == "FRA-MOJ").values(
            legal_requirements="Only **certified** copies.", national_laws=[{"title": "Loi 2025-1"}]))
    changed = column(reader.get("/directory/FRA-MOJ").get_data(as_text=True))
    assert "<strong>certified</strong>" in changed and "Loi 2025-1" in changed and "Loi 2004-204" not in changed
    caching._fragments.clear()
    assert column(reader.get("/directory/FRA-MOJ").get_data(as_text=True)) == changed
