"""Keeping the index in step with the database: the outbox written in the change's transaction, replay after a
crash between commit and indexing, deletions, the count check and its repair, /healthz, the commands, the index
folder's permissions, and the search rate limit."""
from __future__ import annotations

import json
import os
import stat

import pytest

from tests.search_support import found, make_case

pytestmark = pytest.mark.persistence


def _outbox() -> list[int]:
    from sqlalchemy import select

    from network.core.db import db
    from network.search.models import IndexOutbox

    return list(db.session.scalars(select(IndexOutbox.object_id).where(IndexOutbox.kind == "cases")
                                   .order_by(IndexOutbox.id)))


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_every_change_to_a_case_writes_an_outbox_row_in_its_transaction(app, member, moderator):
    from network.core.db import db

    case = make_case(member, moderator, "C-1", title="Extradition")
    assert _outbox() == [case.id] * len(_outbox()) and _outbox()
    case.title = "Changed in a transaction that is rolled back"
    db.session.flush()
    db.session.rollback()
    rows = len(_outbox())
    case.title = "Extradition again"
    db.session.commit()
    assert len(_outbox()) == rows + 1
    assert found("extradition") == []  # nothing indexed yet: the worker's job when SEARCH_INDEX_ON_COMMIT is off


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_a_crash_in_the_middle_of_a_batch_loses_nothing_and_duplicates_nothing(app, member, moderator,
                                                                              monkeypatch):
    from catalogue.cases.search import backend
    from network.search import indexer

    for n in range(6):
        make_case(member, moderator, f"C-{n}", title=f"Yacht number {n}")
    queued = len(_outbox())
    writer_class = type(backend()).writer

    def crashing_writer(self):
        context = writer_class(self)

        class Crashing:
            def __enter__(inner):
                real = context.__enter__()

                class Half:
                    def index(self, docs):
                        docs = list(docs)
                        real.index(docs[:3])
                        raise RuntimeError("the indexer died mid-batch")

                    def delete(self, ids):
                        real.delete(ids)

                return Half()

            def __exit__(inner, *exc):
                return context.__exit__(*exc)

        return Crashing()

    monkeypatch.setattr(type(backend()), "writer", crashing_writer)
    with pytest.raises(RuntimeError):
        indexer.drain("cases")
    assert len(_outbox()) == queued  # the rows stay
    assert indexer.status("cases").indexed == 0  # the half-written batch was dropped (Whoosh: cancelled, PG: rolled back)
    monkeypatch.undo()
    assert indexer.drain("cases") == queued
    assert _outbox() == []
    assert indexer.status("cases").indexed == 6 and indexer.status("cases").in_step
    assert sorted(found("yacht")) == [f"C-{n}" for n in range(6)]


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_a_crash_after_the_index_write_replays_without_duplicates(app, member, moderator, monkeypatch):
    from network.search import indexer

    for n in range(4):
        make_case(member, moderator, f"C-{n}", title=f"Yacht number {n}")

    def crash(session, row_ids):
        raise RuntimeError("died between the index write and the outbox delete")

    monkeypatch.setattr(indexer, "_delete_rows", crash)
    with pytest.raises(RuntimeError):
        indexer.drain("cases")
    assert _outbox()
    monkeypatch.undo()
    indexer.drain("cases")
    assert _outbox() == []
    status = indexer.status("cases")
    assert status.indexed == status.expected == 4
    assert sorted(found("yacht")) == ["C-0", "C-1", "C-2", "C-3"]


def test_changes_are_indexed_on_commit_and_deleted_cases_leave_the_index(app, member, moderator):
    from network.core.db import db
    from network.search import indexer

    case = make_case(member, moderator, "C-1", title="Extradition of a fugitive")
    assert found("fugitive") == ["C-1"]
    case.title = "Extradition of an accountant"
    db.session.commit()
    assert found("fugitive") == [] and found("accountant") == ["C-1"]
    case.status = "withdrawn"
    db.session.commit()
    assert found("accountant") == []
    db.session.delete(case)
    db.session.commit()
    assert _outbox() == [] and indexer.status("cases").indexed == 0


def test_a_count_mismatch_is_reported_and_repaired_by_healthz(app, client, member, moderator):
    from catalogue.cases.search import backend
    from network.core.db import db
    from network.search import indexer

    first = make_case(member, moderator, "C-0", title="Yacht")
    for n in range(1, 3):
        make_case(member, moderator, f"C-{n}", title="Yacht")
    body = client.get("/healthz").get_json()
    assert body["checks"]["search"]["kinds"]["cases"] == {"ok": True, "backend": backend().name, "indexed": 3,
                                                          "expected": 3, "queued": 0, "lag_seconds": 0.0}
    assert body["checks"]["search"]["ok"] and set(body["checks"]["search"]["kinds"]) == {"cases", "posts",
                                                                                        "authorities"}
    backend().with_session(db.session).delete([first.id])
    db.session.commit()
    assert indexer.status("cases").indexed == 2
    body = client.get("/healthz").get_json()
    assert body["checks"]["search"]["kinds"]["cases"]["indexed"] == 3 and body["checks"]["search"]["ok"]


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False, SEARCH_MAX_LAG=60)
def test_healthz_reports_the_outbox_lag(app, client, member, moderator, clock):
    make_case(member, moderator, "C-1", title="Yacht")
    clock.advance(minutes=5)
    search = client.get("/healthz").get_json()["checks"]["search"]
    cases = search["kinds"]["cases"]
    assert cases["queued"] >= 1 and cases["lag_seconds"] == 300.0 and not cases["ok"] and not search["ok"]


@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_the_commands_reindex_drain_and_report(app, member, moderator):
    runner = app.test_cli_runner()
    make_case(member, moderator, "C-1", title="Yacht")
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 1 and "indexed 0 of 1 cases" in result.output
    result = runner.invoke(args=["search", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 of 1 cases" in runner.invoke(args=["search", "status", "--kind", "cases"]).output
    result = runner.invoke(args=["search", "reindex", "--kind", "cases"])
    assert result.exit_code == 0 and "Indexed 1 cases" in result.output and "forum posts" not in result.output
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 1 cases" in result.output and "forum posts" in result.output
    assert "authorities" in result.output
    status = json.loads(runner.invoke(args=["search", "status", "--json"]).output)
    assert set(status) == {"cases", "posts", "authorities"} and all(s["in_step"] for s in status.values())
    result = runner.invoke(args=["search", "reindex", "--kind", "messages"])
    assert result.exit_code == 2 and "no search kind 'messages'" in result.output
    result = runner.invoke(args=["search", "reindex", "--exclusive"])  # every engine accepts it
    assert result.exit_code == 0 and "Indexed 1 cases" in result.output, result.output


def test_the_whoosh_folder_is_private(app, db_backend, member, moderator):
    from network.search.whoosh_backend import WhooshBackend

    folder = app.config["SEARCH_INDEX_PATH"] or os.path.join(app.instance_path, "search-index")
    backend = WhooshBackend(folder)
    assert backend.count() == (0 if db_backend == "postgresql" else backend.count())
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


@pytest.mark.parametrize("url", ["/cases?q=extradition", "/api/v1/cases?q=extradition"])
def test_a_burst_of_searches_gets_429_after_the_documented_limit(app, client, url):
    limit = app.config["SEARCH_RATE_LIMIT"]
    statuses = [client.get(url).status_code for _ in range(100)]
    assert statuses[:limit] == [200] * limit
    assert set(statuses[limit:]) == {429}
    assert client.get(url.split("?")[0]).status_code == 200  # browsing without words is not throttled
