"""The catalogue's kept answers (issue 14): the listing's facet counts and the engine's answer to a search are kept per
process under the request and the data generations they were computed at (network/core/generations.py). A repeated
request is answered without the facets' statement or the engine; any change to the catalogue or to the index (through
the services, raw SQL or the indexer) gives the next request a new answer, and a reader's scope never gets another's."""
from __future__ import annotations

import re

import pytest

from tests.search_support import make_case
from tests.test_statement_budgets import counted

pytestmark = pytest.mark.persistence


@pytest.fixture
def engine_calls(monkeypatch):
    """How many times the catalogue asked the search engine for a page (catalogue.cases.search.page)."""
    from catalogue.cases import search

    calls = []
    original = search.page

    def page(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(search, "page", page)
    return calls


@pytest.fixture
def cases(app, member, moderator):
    made = {
        "C-EXT": make_case(member, moderator, "C-EXT", title="Extradition of a fugitive", requested_state="FRA",
                           cooperation_forms=["extradition"], summary="The fugitive was extradited in months."),
        "C-MLA": make_case(member, moderator, "C-MLA", title="Letter rogatory on bank records"),
        "C-JPN": make_case(member, moderator, "C-JPN", title="Extradition shared with members", requested_state="JPN",
                           cooperation_forms=["extradition"], visibility="members"),
    }
    return made


def refs(html: str) -> list[str]:
    return re.findall(r'href="/cases/(C-[A-Z]+)"', html)


def page_of(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def listing(member=None, **args):
    """The listing's answer in-process (as the page asks for it): total, references, facets."""
    from catalogue.cases.queries import search_cases

    filters = {name: value if isinstance(value, list) else [value] for name, value in args.items()}
    sort = "relevance" if "q" in filters else "date"
    found = search_cases(member, filters, sort, 1, 20, listing=True)
    return found.total, [case.reference for case in found.cases], found.facets


def generations() -> tuple:
    from network.core.db import db
    from network.core.generations import TABLES, read_generations

    db.session.commit()  # a new snapshot
    return read_generations(tuple(TABLES))


# ---------------------------------------------------------------- fewer statements, no engine

@pytest.mark.parametrize("path", ["/cases", "/cases?cooperation_form=extradition&outcome=granted",
                                  "/cases?sort=title&page=1"])
def test_a_repeated_listing_runs_one_statement_instead_of_two(app, client, cases, path):
    with counted(app) as first:
        html = page_of(client, path)
    with counted(app) as second:
        assert page_of(client, path) == html
    assert len(first) == 2 and len(second) == 1, (first, second)  # the page's rows (with the generation), the counts


def test_a_repeated_search_does_not_ask_the_engine_again(app, client, cases, engine_calls):
    with counted(app) as first:
        html = page_of(client, "/cases?q=extradition")
    asked = len(engine_calls)
    assert asked >= 1 and refs(html) == ["C-EXT"]
    with counted(app) as second:
        assert page_of(client, "/cases?q=extradition") == html
    assert len(engine_calls) == asked  # the kept answer
    assert len(second) == 1 and len(second) < len(first)  # the page's rows, with the generations
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):  # the engine's statements are gone
        assert len(first) >= 3, first


def test_another_page_another_filter_or_other_words_are_other_answers(app, client, cases, engine_calls):
    page_of(client, "/cases?q=extradition")
    asked = len(engine_calls)
    for path in ("/cases?q=extradition&page=2", "/cases?q=extradition&cooperation_form=mla", "/cases?q=records",
                 "/cases?q=extradition&verbatim=1"):
        page_of(client, path)
        assert len(engine_calls) > asked, path
        asked = len(engine_calls)
    assert listing(q="records")[1] == ["C-MLA"]
    assert listing(q="extradition")[1] == ["C-EXT"]


# ---------------------------------------------------------------- any change, the next answer

def test_publishing_withdrawing_and_editing_through_the_services_change_the_next_answer(app, client, member,
                                                                                        moderator, cases):
    from catalogue.cases import services
    from network.core.db import db

    for _ in range(2):  # kept
        assert listing()[0] == 2 and sorted(listing()[1]) == ["C-EXT", "C-MLA"]
        assert listing(q="extradition")[1] == ["C-EXT"]
    before = listing()[2]
    assert before["requested_state"] == {"FRA": 1, "NGA": 1}
    html = page_of(client, "/cases?q=extradition")
    assert refs(html) == ["C-EXT"]

    with app.test_request_context():  # published: in the rows, the counts and the search at once
        case = make_case(member, moderator, "C-NEW", status="in_review", title="Extradition to Kenya",
                         requested_state="KEN", cooperation_forms=["extradition"])
        services.publish(case, moderator)
        db.session.commit()
    total, references, facets = listing()
    assert total == 3 and "C-NEW" in references and facets["requested_state"]["KEN"] == 1
    assert sorted(listing(q="extradition")[1]) == ["C-EXT", "C-NEW"]
    assert sorted(refs(page_of(client, "/cases?q=extradition"))) == ["C-EXT", "C-NEW"]

    with app.test_request_context():  # withdrawn: gone from every answer
        services.withdraw(cases["C-EXT"], moderator, "Duplicate")
        db.session.commit()
    total, references, facets = listing()
    assert total == 2 and "C-EXT" not in references and "FRA" not in facets["requested_state"]
    assert listing(q="extradition")[1] == ["C-NEW"]
    assert refs(page_of(client, "/cases?q=extradition")) == ["C-NEW"]
    assert "C-EXT" not in refs(page_of(client, "/cases"))

    with app.test_request_context():  # edited (an import updates a published case): its new fields
        data = services.case_to_dict(cases["C-MLA"])
        services.import_case({**data, "title": "Extradition of bank records", "outcome": "refused"})
        db.session.commit()
    total, references, facets = listing()
    assert total == 2 and facets["outcome"] == {"granted": 1, "refused": 1}
    assert sorted(listing(q="extradition")[1]) == ["C-MLA", "C-NEW"]
    assert "Extradition of bank records" in page_of(client, "/cases?q=extradition")


def test_a_raw_sql_update_changes_the_next_answer(app, client, cases):
    from sqlalchemy import text

    from network.core.db import db
    from network.search.outbox import search_outbox

    assert listing()[2]["outcome"] == {"granted": 2}
    assert listing(q="rogatory")[1] == ["C-MLA"]
    html = page_of(client, "/cases?q=rogatory")
    assert "Letter rogatory on bank records" in html and "Letter rogatory on bank records" in page_of(client, "/cases")

    db.session.execute(text("UPDATE cases SET outcome = 'refused', title = 'Letter rogatory refused' "
                            "WHERE reference = 'C-MLA'"))
    db.session.commit()  # no outbox row: the index still holds the old title, the rows are read again
    assert listing()[2]["outcome"] == {"granted": 1, "refused": 1}
    assert "Letter rogatory refused" in page_of(client, "/cases?q=rogatory")
    assert "Letter rogatory refused" in page_of(client, "/cases")

    db.session.execute(text("DELETE FROM case_facets WHERE kind = 'requested_state' AND code = 'FRA'"))
    db.session.commit()
    assert "FRA" not in listing()[2]["requested_state"]

    # A bulk writer queues what it changed (network/search/outbox.py): the indexer's write changes the engine's answer.
    case_id = db.session.scalar(text("SELECT id FROM cases WHERE reference = 'C-MLA'"))
    db.session.execute(text("UPDATE cases SET visibility = 'members' WHERE id = :id"), {"id": case_id})
    search_outbox("cases", case_id)
    db.session.commit()  # drained on commit
    assert listing(q="rogatory")[1] == []
    assert "C-MLA" not in refs(page_of(client, "/cases?q=rogatory"))
    assert listing()[0] == 1


def test_a_raw_write_to_the_postgresql_index_changes_the_next_search(app, client, cases):
    from sqlalchemy import text

    from network.core.db import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL engine's own table (Whoosh: its folder, whose commits key the answer)")
    assert listing(q="rogatory")[1] == ["C-MLA"]
    db.session.execute(text("DELETE FROM case_search WHERE case_id = (SELECT id FROM cases WHERE reference = 'C-MLA')"))
    db.session.commit()
    assert listing(q="rogatory")[1] == []


def test_a_correction_follows_the_catalogue(app, client, member, moderator, cases):
    """ "Showing results for": kept with the answer, and asked again when the catalogue changes."""
    html = page_of(client, "/cases?q=zanzibarr")
    assert "Showing results for" not in html and not refs(html)
    make_case(member, moderator, "C-ZAN", title="Mutual legal assistance from Zanzibar")
    html = page_of(client, "/cases?q=zanzibarr")
    assert "Showing results for" in html and "<strong>zanzibar</strong>" in html and refs(html) == ["C-ZAN"]


def test_every_table_of_a_generation_changes_it_on_insert_update_and_delete(app, cases):
    """The triggers of migration 7f3e2a9c1b40 (SQLite drops a table's triggers with the table: a batch migration that
    rebuilds one must create them again)."""
    from sqlalchemy import text

    from network.core.db import db
    from network.core.generations import TABLES

    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    vector = "CAST('' AS tsvector)" if postgres else "''"
    facets = "CAST('{}' AS varchar(60)[])" if postgres else "'[]'"
    writes = {
        "cases": ["UPDATE cases SET title = title WHERE reference = 'C-EXT'"],
        "case_facets": ["INSERT INTO case_facets (case_id, kind, code) "
                        "SELECT id, 'keyword', 'generation' FROM cases WHERE reference = 'C-EXT'",
                        "UPDATE case_facets SET code = 'generations' WHERE code = 'generation'",
                        "DELETE FROM case_facets WHERE code = 'generations'"],
        "case_search": ["INSERT INTO case_search (case_id, status, visibility, facets, document, rank_document, "  # noqa: S608 (constants)
                        f"indexed_at) VALUES (999999, 'draft', 'members', {facets}, {vector}, {vector}, "
                        "CURRENT_TIMESTAMP)",
                        "UPDATE case_search SET status = 'withdrawn' WHERE case_id = 999999",
                        "DELETE FROM case_search WHERE case_id = 999999"],
        "search_words": ["INSERT INTO search_words (word) VALUES ('generation')",
                         "UPDATE search_words SET word = 'generations' WHERE word = 'generation'",
                         "DELETE FROM search_words WHERE word = 'generations'"],
    }
    assert sorted(writes) == sorted(table for tables in TABLES.values() for table in tables)
    names = tuple(TABLES)
    for table, statements in writes.items():
        name = next(name for name, tables in TABLES.items() if table in tables)
        for statement in statements:
            before = generations()
            assert None not in before
            db.session.execute(text(statement))
            after = generations()
            assert after[names.index(name)] != before[names.index(name)], statement
            others = [n for n in range(len(names)) if names[n] != name]
            assert [after[n] for n in others] == [before[n] for n in others], statement


# ---------------------------------------------------------------- scopes

def test_a_members_answer_never_reaches_a_visitor_nor_the_other_way_round(app, client, auth, member, cases):
    from catalogue.cases import queries

    readers = {"member": auth.client_for(member), "visitor": client}
    for order in (("member", "visitor"), ("visitor", "member")):
        queries.forget_answers()  # each order warms the process's answers from nothing
        for path in ("/cases", "/cases?q=extradition", "/cases?cooperation_form=extradition",
                     "/cases?q=extradition&requested_state=JPN", "/cases?requested_state=JPN"):
            for name in order * 2:  # each reader's answer is kept before the other asks
                shown = "C-JPN" in refs(page_of(readers[name], path))
                assert shown is (name == "member"), (order, path, name)
    for _ in range(2):
        assert listing(member)[0] == 3 and listing()[0] == 2
        assert listing(member)[2]["requested_state"].get("JPN") == 1
        assert "JPN" not in listing()[2]["requested_state"]
        assert "C-JPN" in listing(member, q="extradition")[1]
        assert "C-JPN" not in listing(q="extradition")[1]
        assert listing(None, q="extradition", requested_state="JPN")[0] == 0
        assert listing(member, q="extradition", requested_state="JPN")[0] == 1
        assert listing(None, requested_state="JPN")[0] == 0
        assert listing(member, requested_state="JPN")[0] == 1


def test_kept_answers_are_bounded(app, cases, monkeypatch):
    from catalogue.cases import queries
    from network.core.generations import KeptAnswers

    small = KeptAnswers(3)
    for n in range(5):
        small.put(("key", n), (1,), n)
    assert len(small) == 3 and small.get(("key", 0)) is None and small.get(("key", 4)) == ((1,), 4)
    small.put(("unknown",), (None,), "never kept")  # a generation not known (no row): nothing kept
    assert small.get(("unknown",)) is None
    monkeypatch.setattr(queries, "_answers", KeptAnswers(4))
    for word in ("extradition", "records", "fugitive", "rogatory", "bank", "letter"):
        listing(q=word)
        listing(cooperation_form="mla", q="" if word == "bank" else word)
    assert len(queries._answers) == 4
