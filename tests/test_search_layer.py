"""The search layer (network/search/): one outbox and one indexer keyed by (kind, id), the kinds registered by
create_app, the migration that merged the two old outboxes, the directory of authorities as a kind (its reader
scope inside the engine: nothing of it for readers the directory is not shown to, neither results nor counts nor
snippets), and the layering: the network never imports the catalogue, every search module imports alone."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMPORT_RE = re.compile(r"^\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", re.M)


def _imports(path: Path) -> set[str]:
    return {a or b for a, b in IMPORT_RE.findall(path.read_text(encoding="utf-8"))}


def test_the_network_never_imports_the_catalogue():
    offenders = {}
    for path in sorted((ROOT / "network").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        found = {name for name in _imports(path) if name.split(".")[0] == "catalogue"}
        if found:
            offenders[relative] = sorted(found)
    assert offenders == {}


def test_every_search_module_imports_alone_without_a_cycle():
    modules = ["network.search.models", "network.search.kinds", "network.search.outbox", "network.search.indexer",
               "network.search.services", "network.search.records", "network.search.cli", "network.search.views",
               "network.forum.search", "network.directory.search", "catalogue.cases.search",
               "catalogue.cases.queries", "network.search.backend", "network.search.query",
               "network.search.whoosh_backend", "network.search.postgres_backend", "network.search.highlight",
               "catalogue.search.relevance", "app"]
    script = (
        "import importlib, sys\n"
        "own = ('network', 'catalogue', 'app', 'config')\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in own]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_create_app_registers_the_three_kinds_in_the_order_of_the_box(app):
    from network.search.kinds import registered

    assert [kind.name for kind in registered(app)] == ["cases", "posts", "authorities"]


# ---------------------------------------------------------------- the one outbox

def _outbox(kind: str | None = None) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from network.core.db import db
    from network.search.models import IndexOutbox

    statement = select(IndexOutbox.kind, IndexOutbox.object_id).order_by(IndexOutbox.id)
    if kind:
        statement = statement.where(IndexOutbox.kind == kind)
    return list(db.session.execute(statement).tuples())


@pytest.mark.persistence
@pytest.mark.config(SEARCH_INDEX_ON_COMMIT=False)
def test_changes_of_every_kind_go_to_the_one_outbox_in_their_transaction(app, forum, authority):
    from network.core.db import db
    from network.forum import services
    from network.search import indexer
    from network.search.outbox import search_outbox

    indexer.drain()
    assert _outbox() == []
    authority.name = "Federal Ministry of Justice and Constitution"
    services.reply(forum["member"], forum["open_topic"], "Rolled back")
    db.session.flush()
    db.session.rollback()
    assert _outbox() == []
    authority.parent_body = "Government"
    post = services.reply(forum["member"], forum["open_topic"], "Kept")
    db.session.commit()
    assert sorted(_outbox()) == sorted([("posts", post.id), ("authorities", authority.id)])
    forum["open_topic"].title = "A new title"  # every post of the topic shows it (the first one, its title)
    db.session.commit()
    from sqlalchemy import select

    from network.forum.models import Post

    topic_posts = sorted(db.session.scalars(select(Post.id).where(Post.topic_id == forum["open_topic"].id)))
    assert sorted(i for _kind, i in _outbox("posts")[-len(topic_posts):]) == topic_posts
    search_outbox("authorities", [authority.id, authority.id])  # what a bulk writer calls in its transaction
    db.session.commit()
    assert _outbox("authorities")[-1] == ("authorities", authority.id)
    assert indexer.drain("authorities") == 2 and _outbox("authorities") == []
    assert _outbox("posts")  # the other kinds wait for their own drain
    queued = len(_outbox())
    assert indexer.drain() == queued and _outbox() == []


# ---------------------------------------------------------------- the directory as a kind

def _box(client, q: str, **args) -> str:
    response = client.get("/search", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.persistence
def test_authorities_are_found_by_state_designation_and_requirements_with_snippets(app, auth, member, authority,
                                                                                  other_authority):
    from network.core.db import db
    from network.directory.models import AuthorityDesignation
    from network.directory.search import search_authorities

    authority.legal_requirements = "Requests must be translated into German; urgent requests by e-mail."
    other_authority.designation_rows.append(AuthorityDesignation(code="untoc_extradition"))
    db.session.commit()
    total, found, snippets = search_authorities(member, "german translation")
    assert total == 1 and [a.key for a in found] == ["AUT-MOJ"]
    assert "<mark>German</mark>" in str(snippets[authority.id])
    assert [a.key for a in search_authorities(member, "Austria")[1]] == ["AUT-MOJ"]  # the State's name
    assert [a.key for a in search_authorities(member, "Nigeria extradition")[1]] == ["NGA-CA"]
    page = _box(auth.client_for(member), "justice ministry")
    assert "Competent national authorities" in page and "Federal Ministry of Justice" in page
    assert "kind=authorities" in page
    page = _box(auth.client_for(member), "justice ministry", kind="authorities")
    assert "Federal Ministry of Justice" in page and "Catalogue cases" not in page


@pytest.mark.persistence
def test_nothing_of_the_directory_reaches_a_reader_it_is_not_shown_to(app, client, auth, member_factory, authority):
    from network.core.db import db
    from network.directory.search import search_authorities

    authority.legal_requirements = "Zanzibar protocol for urgent requests"
    db.session.commit()
    applicant = member_factory(status="pending", email="applicant@justiz.example.at")
    for reader in (None, applicant):
        total, found, snippets = search_authorities(reader, "zanzibar")
        assert (total, found, snippets) == (0, [], {})
    for page in (_box(client, "zanzibar"), _box(client, "zanzibar", kind="authorities")):
        assert "Competent national authorities" not in page and "Zanzibar" not in page
        assert "Federal Ministry" not in page
    assert client.get("/search", query_string={"q": "x", "kind": "messages"}).status_code == 404


@pytest.mark.persistence
def test_a_changed_authority_is_reindexed_and_a_deleted_one_leaves_the_index(app, member, authority):
    from network.core.db import db
    from network.directory.search import search_authorities
    from network.search import indexer

    assert search_authorities(member, "ministry")[0] == 1
    authority.name = "Bundesamt fuer Zusammenarbeit"
    db.session.commit()
    assert search_authorities(member, "ministry")[0] == 0
    assert search_authorities(member, "zusammenarbeit")[0] == 1
    member.authority_id = None
    db.session.delete(authority)
    db.session.commit()
    assert search_authorities(member, "zusammenarbeit")[0] == 0
    status = indexer.status("authorities")
    assert status.indexed == status.expected == 0


# ---------------------------------------------------------------- the migration that merged the outboxes

@pytest.fixture
def empty_database(db_backend, tmp_path, request):
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox-migration.db'}"
        return
    import os

    from tests.conftest import scratch_database

    url = request.getfixturevalue("postgres_url")
    with scratch_database(url, f"network_test_{os.getpid()}_outbox_migration") as scratch:
        yield scratch


@pytest.mark.persistence
def test_the_migration_carries_pending_rows_over_and_back(empty_database, tmp_path, smtp_server):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from network.core.db import db
    from tests.conftest import _base_config

    application = create_app(_base_config(tmp_path, empty_database, smtp_server.port))
    folder = str(Path(application.root_path) / "migrations")
    with application.app_context():
        upgrade(directory=folder, revision="f4b2d0e38c51")
        db.session.execute(sa.text("INSERT INTO search_outbox (case_id, created_at) VALUES "
                                   "(5, '2026-12-01 10:00:00'), (7, '2026-12-01 10:00:01')"))
        db.session.execute(sa.text("INSERT INTO forum_search_outbox (post_id, topic_id, created_at) VALUES "
                                   "(3, NULL, '2026-12-01 10:00:02'), (NULL, 999, '2026-12-01 10:00:03')"))
        db.session.commit()
        upgrade(directory=folder, revision="5e4c0b0a1d11")
        db.session.remove()
        rows = db.session.execute(sa.text("SELECT kind, object_id FROM index_outbox ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("cases", 5), ("cases", 7), ("posts", 3)]  # topic 999 has no posts
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"index_outbox", "search_records"} <= tables
        assert not {"search_outbox", "forum_search_outbox", "forum_post_search"} & tables
        db.session.remove()  # (its read transaction would hold the tables the downgrade drops)
        downgrade(directory=folder, revision="f4b2d0e38c51")
        db.session.remove()
        back = db.session.execute(sa.text("SELECT case_id FROM search_outbox ORDER BY id")).scalars().all()
        assert back == [5, 7]
        db.session.remove()
        db.engine.dispose()
