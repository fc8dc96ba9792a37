"""The audit log (issue 12, findings 3 and 21): appends are serialised on both databases, so a burst of audited
requests loses nothing and answers no 500; the chain is keyed (HMAC under a key derived from the master key)
and signed checkpoints outside the database catch rewritten, forged and removed entries."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from network.core.db import db
from tests.conftest import csrf_token, scratch_database

BURST = 20


def run_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def table() -> sa.Table:
    from network.core.audit import AuditEntry

    return AuditEntry.__table__


def entries() -> list:
    return list(db.session.execute(sa.select(table()).order_by(table().c.id)).mappings())


def append(n: int, action: str = "test.entry") -> None:
    from network.core import audit

    for i in range(n):
        audit.record(action, None, number=i)
        db.session.commit()


def checkpoint_file(app) -> Path:
    return Path(app.instance_path) / "audit-checkpoints.jsonl"


# ------------------------------------------------ what an attacker with write access to the database does

def plain_sha256(prev_hash: str, row) -> str:
    """The unkeyed chain as it was: SHA-256 over the previous hash and the entry's canonical payload."""
    payload = {
        "id": row["id"], "created_at": row["created_at"].isoformat(timespec="microseconds"),
        "actor_id": row["actor_id"], "actor_label": row["actor_label"], "action": row["action"],
        "target_type": row["target_type"], "target_id": row["target_id"], "address": row["address"],
        "details": row["details"],
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def rechain_from(first_id: int, *, version: int | None = None) -> None:
    """Recompute plain SHA-256 hashes from entry `first_id` to the end (and the chain head, if there is one)."""
    rows = entries()
    prev = rows[first_id - 2]["entry_hash"] if first_id > 1 else "0" * 64
    for row in rows[first_id - 1:]:
        new_hash = plain_sha256(prev, row)
        values = {"prev_hash": prev, "entry_hash": new_hash}
        if version is not None:
            values["chain_version"] = version
        db.session.execute(table().update().where(table().c.id == row["id"]).values(**values))
        prev = new_hash
    fix_head()
    db.session.commit()


def fix_head() -> None:
    """A careful attacker also makes the chain head agree with the last entry."""
    if not sa.inspect(db.engine).has_table("audit_head"):
        return
    rows = entries()
    last = rows[-1] if rows else None
    db.session.execute(sa.text("UPDATE audit_head SET last_id = :i, last_hash = :h"),
                       {"i": last["id"] if last else 0, "h": last["entry_hash"] if last else "0" * 64})


def forge_append(action: str, details: dict, *, version: int | None = None) -> int:
    rows = entries()
    last = rows[-1]
    row = dict(last)
    row.update(id=last["id"] + 1, action=action, details=json.dumps(details, sort_keys=True),
               actor_id=None, actor_label="admin@network.example.org", target_type="Member", target_id="1")
    row["entry_hash"] = plain_sha256(last["entry_hash"], row)
    row["prev_hash"] = last["entry_hash"]
    if version is not None:
        row["chain_version"] = version
    db.session.execute(table().insert().values(**row))
    fix_head()
    db.session.commit()
    return row["id"]


# ------------------------------------------------ finding 3: appends serialised on both databases

@pytest.mark.persistence
def test_a_burst_of_concurrent_appends_takes_distinct_ids_and_the_chain_verifies(app):
    from network.core import audit

    before = len(entries())
    barrier = threading.Barrier(BURST)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                audit.record("test.burst", None, writer=n)
                db.session.commit()
            except BaseException as error:  # reported below, with the others
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    rows = entries()
    assert len(rows) == before + BURST
    assert sorted(json.loads(r["details"])["writer"] for r in rows if r["action"] == "test.burst") == list(range(BURST))
    report = audit.verify_chain()
    assert report.ok, report.problems


@pytest.mark.persistence
@pytest.mark.config(LOGIN_ACCOUNT_LIMIT=1000, LOGIN_ADDRESS_LIMIT=1000)
def test_a_burst_of_failed_sign_ins_answers_no_500_and_audits_every_one(app, member):
    from network.core import audit

    def sign_in_entries() -> int:
        return db.session.scalar(sa.text("SELECT count(*) FROM audit_entries WHERE action LIKE 'sign_in.%'"))

    email, before = member.email, sign_in_entries()
    clients = [app.test_client() for _ in range(BURST)]
    tokens = [csrf_token(c.get("/sign-in").get_data(as_text=True)) for c in clients]
    db.session.remove()
    barrier = threading.Barrier(BURST)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def attempt(client, token: str) -> None:
        try:
            barrier.wait()
            response = client.post("/sign-in", data={"csrf_token": token, "email": email,
                                                     "password": "not the password at all"})
            statuses.append(response.status_code)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert all(s in (401, 429) for s in statuses), statuses
    assert len(statuses) == BURST
    assert sign_in_entries() == before + BURST
    report = audit.verify_chain()
    assert report.ok, report.problems


# ------------------------------------------------ finding 21: a keyed chain with checkpoints

def test_an_intact_chain_passes_and_verify_writes_a_checkpoint_file_0600(app):
    append(5)
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"{len(entries())} entries verified" in result.output
    path = checkpoint_file(app)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["head_id"] == len(entries()) and last["head_hash"] == entries()[-1]["entry_hash"]
    assert run_cli(app, "audit", "verify").exit_code == 0  # and again: nothing new, nothing broken


def test_an_entry_rewritten_with_recomputed_sha256_hashes_is_detected(app):
    append(6)
    target = len(entries()) - 3
    db.session.execute(sa.text("UPDATE audit_entries SET details = :d WHERE id = :i"),
                       {"d": '{"note": "nothing happened"}', "i": target})
    rechain_from(target)
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"entry {target} was changed after it was written" in result.output


def test_an_appended_forged_role_grant_with_a_recomputed_chain_is_detected(app):
    append(3)
    forged = forge_append("role.granted", {"role": "admin", "authority": None})
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"entry {forged} was changed after it was written" in result.output


def test_a_forged_grant_labelled_as_an_old_unkeyed_entry_is_detected(app):
    append(3)
    forged = forge_append("role.granted", {"role": "admin", "authority": None}, version=1)
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"entry {forged} was changed after it was written" in result.output


def test_a_chain_rewritten_entirely_as_unkeyed_entries_is_caught_by_the_checkpoints(app):
    append(4)
    assert run_cli(app, "audit", "checkpoint").exit_code == 0
    db.session.execute(sa.text("UPDATE audit_entries SET details = '{}' WHERE id = 2"))
    rechain_from(1, version=1)
    db.session.execute(sa.text("UPDATE audit_head SET legacy_count = last_id"))
    db.session.commit()
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "entries were rewritten after checkpoint 1 (head 1)" in result.output
    assert "checkpoint 2 (head 4)" in result.output


def test_deleting_the_tail_after_a_checkpoint_is_detected(app):
    append(6)
    result = run_cli(app, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    count = len(entries())
    db.session.execute(sa.text("DELETE FROM audit_entries WHERE id > :i"), {"i": count - 2})
    fix_head()
    db.session.commit()
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "the chain is shorter than checkpoint 2 says: entries were removed" in result.output
    assert f"checkpoint 2 counts {count} entries, the chain has {count - 2}" in result.output


def test_an_entry_deleted_from_the_middle_is_named_and_the_rest_still_checked(app):
    append(6)
    db.session.execute(sa.text("DELETE FROM audit_entries WHERE id = 3"))
    db.session.execute(sa.text("UPDATE audit_entries SET details = '{}' WHERE id = 5"))
    db.session.commit()
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "entry 3 was removed (the chain continues at entry 4)" in result.output
    assert "entry 5 was changed after it was written" in result.output


def test_a_missing_checkpoint_file_is_reported(app):
    append(2)
    checkpoint_file(app).unlink()
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "checkpoint file" in result.output and "is missing" in result.output


def test_a_forged_checkpoint_is_reported(app):
    append(3)
    assert run_cli(app, "audit", "checkpoint").exit_code == 0
    path = checkpoint_file(app)
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["head_hash"] = "f" * 64
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "checkpoint file" in result.output and "is forged or damaged: checkpoint 2 does not verify" in result.output


def test_a_lost_checkpoint_file_is_restarted_only_on_request_and_the_damaged_one_is_kept(app):
    append(3)
    path = checkpoint_file(app)
    path.write_text("not a checkpoint\n")
    assert run_cli(app, "audit", "checkpoint").exit_code == 1
    result = run_cli(app, "audit", "checkpoint", "--restart")
    assert result.exit_code == 0, result.output
    assert "Checkpoint 1 written (head 3)" in result.output
    assert [p.read_text() for p in path.parent.glob("audit-checkpoints.jsonl.replaced-*")] == ["not a checkpoint\n"]
    assert run_cli(app, "audit", "verify").exit_code == 0


def test_the_head_that_remembers_more_entries_than_the_chain_has_names_the_removal(app):
    append(4)
    db.session.execute(sa.text("DELETE FROM audit_entries WHERE id = (SELECT max(id) FROM audit_entries)"))
    db.session.commit()
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "removed from the end of the chain" in result.output


@pytest.mark.config(AUDIT_CHECKPOINT_EVERY=5)
def test_checkpoints_are_written_after_commit_every_n_appends(app):
    from network.core import audit

    append(14 - len(entries()))
    audit.record("test.rolled_back", None)  # entry 15 is due a checkpoint, but it is never committed
    db.session.rollback()
    heads = [json.loads(line)["head_id"] for line in checkpoint_file(app).read_text().splitlines()]
    assert heads == [1, 5, 10]
    assert [json.loads(line)["n"] for line in checkpoint_file(app).read_text().splitlines()] == [1, 2, 3]


def test_a_different_master_key_fails_every_keyed_entry(app):
    append(2)
    app.config["MASTER_KEY"] = "another-master-key-" + "z" * 40
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert "entry 1 was changed after it was written" in result.output


# ------------------------------------------------ the migration: old entries stay verifiable as unkeyed

LEGACY_REVISION, KEYED_REVISION = "7c1e5a0b9f21", "e3a1c9d27b40"


@pytest.fixture
def empty_database(request, db_backend, tmp_path, postgres_url_if_needed):
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    with scratch_database(postgres_url_if_needed, f"network_test_{os.getpid()}_audit_migration") as scratch:
        yield scratch


@pytest.fixture
def postgres_url_if_needed(request, db_backend):
    return request.getfixturevalue("postgres_url") if db_backend == "postgresql" else None


@pytest.mark.persistence
def test_the_migration_keeps_old_entries_verifiable_and_keys_new_ones(empty_database, tmp_path, smtp_server):
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import _base_config

    application = create_app(_base_config(tmp_path, empty_database, smtp_server.port))
    folder = str(Path(application.root_path) / "migrations")
    with application.app_context():
        upgrade(directory=folder, revision=LEGACY_REVISION)
        prev = "0" * 64
        for i in range(1, 4):  # three entries written by the old code: plain SHA-256
            row = {"id": i, "created_at": datetime(2026, 1, i, 12, 0, 0, 123456), "actor_id": None,
                   "actor_label": "", "action": "old.entry", "target_type": "", "target_id": "", "address": "cli",
                   "details": "{}"}
            row["entry_hash"] = plain_sha256(prev, row)
            row["prev_hash"] = prev
            db.session.execute(sa.text(
                "INSERT INTO audit_entries (id, created_at, actor_id, actor_label, action, target_type, target_id,"
                " address, details, prev_hash, entry_hash) VALUES (:id, :created_at, :actor_id, :actor_label,"
                " :action, :target_type, :target_id, :address, :details, :prev_hash, :entry_hash)"
            ).bindparams(sa.bindparam("created_at", type_=sa.DateTime)), row)
            prev = row["entry_hash"]
        db.session.commit()
        upgrade(directory=folder, revision=KEYED_REVISION)
        db.session.remove()

        head = db.session.execute(sa.text("SELECT last_id, last_hash, legacy_count FROM audit_head")).one()
        assert tuple(head) == (3, prev, 3)
        assert [r["chain_version"] for r in entries()] == [1, 1, 1]
        assert run_cli(application, "audit", "verify").exit_code == 0
        append(2)
        assert [r["chain_version"] for r in entries()] == [1, 1, 1, 2, 2]
        result = run_cli(application, "audit", "verify")
        assert result.exit_code == 0, result.output
        assert "5 entries verified" in result.output

        db.session.execute(sa.text("UPDATE audit_entries SET details = '{\"x\": 1}' WHERE id = 2"))
        rechain_from(2, version=None)  # old entries rewritten: the first keyed entry no longer follows
        result = run_cli(application, "audit", "verify")
        assert result.exit_code == 1
        assert "checkpoint 1 (head 3)" in result.output
        db.session.remove()
        db.engine.dispose()


@pytest.mark.persistence
def test_entries_appended_while_verify_runs_are_neither_a_removal_nor_a_forgery(app):
    from network.core import audit

    append(3)
    reads = {"head": 0}

    def append_elsewhere() -> None:
        with app.app_context():
            audit.record("test.meanwhile", None)
            db.session.commit()
            db.session.remove()

    def before(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ARG001
        if "FROM audit_head" in statement and "UPDATE" not in statement:
            reads["head"] += 1
            if reads["head"] == 2:  # the head read after the walk: an append commits just before it
                thread = threading.Thread(target=append_elsewhere)
                thread.start()
                thread.join()

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        report = audit.verify_chain()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    assert reads["head"] >= 2
    assert report.ok, report.problems
    assert report.checked == 3
    assert audit.verify_chain().ok
