"""The restore drill (issue 16, item 6): back up a working installation, wipe it, restore it; the audit chain
verifies against the restored checkpoints and a message written before the backup still decrypts. On SQLite and on
PostgreSQL (pg_dump / pg_restore)."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import test_messaging_flow
from tests.test_messaging_flow import CANARY, send

ready = test_messaging_flow.ready  # the fixture: a signed-in client with messaging keys and a confirmed recovery key

pytestmark = pytest.mark.persistence


def _run(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def _wipe(app) -> None:
    """Lose everything: every row of the database, and the instance folder's audit checkpoints."""
    from network.core.db import db

    db.session.remove()
    db.engine.dispose()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        path = Path(uri.split("sqlite:///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    (Path(app.instance_path) / "audit-checkpoints.jsonl").unlink(missing_ok=True)


def test_back_up_wipe_restore_then_the_chain_verifies_and_a_message_still_opens(
        app, ready, member_factory, other_authority, tmp_path):  # noqa: F811 - the fixture above
    alice = member_factory(name="Alice Prosecutor")
    bob = member_factory(authority=other_authority, name="Bob Officer", email="bob@justice.example.ng")
    a, b = ready(alice), ready(bob)
    conversation_id = send(a, [bob])
    assert CANARY + " text" in b.get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert (Path(app.instance_path) / "audit-checkpoints.jsonl").is_file()

    code, output = _run(app, "backup", "create", "--to", str(tmp_path / "db-backups"),
                        "--keys-to", str(tmp_path / "key-backups"))
    assert code == 0, output
    backup = next((tmp_path / "db-backups").iterdir())
    keys = next((tmp_path / "key-backups").iterdir())
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["audit_head"]["id"] > 0 and manifest["schema_revision"]
    assert "MASTER_KEY" in manifest["keys_not_in_backup"]  # the tests give the keys as settings, not files
    assert "comes from the environment" in output
    with tarfile.open(keys / "instance.tar") as tar:
        assert "audit-checkpoints.jsonl" in tar.getnames()
    assert not (backup / "instance.tar").exists()  # kept apart, as asked
    for path in (*backup.iterdir(), *keys.iterdir()):
        assert path.stat().st_mode & 0o077 == 0, path

    _wipe(app)
    code, output = _run(app, "backup", "restore", "--from", str(backup), "--keys-from", str(keys))
    assert code != 0 and "--yes" in output  # replacing a database is never implicit
    code, output = _run(app, "backup", "restore", "--from", str(backup), "--keys-from", str(keys), "--yes")
    assert code == 0, output
    assert "audit chain verified" in output
    code, output = _run(app, "audit", "verify")
    assert code == 0, output

    page = b.get(f"/messages/{conversation_id}").get_data(as_text=True)  # the session was restored with the rows
    assert CANARY + " text" in page and "Signature verified" in page


def test_a_changed_backup_is_refused_and_nothing_is_restored(app, member, tmp_path):
    code, output = _run(app, "backup", "create", "--to", str(tmp_path / "b"))
    assert code == 0, output
    backup = next((tmp_path / "b").iterdir())
    assert (backup / "instance.tar").exists() and "Move the keys archive apart" in output
    database = next(p for p in backup.iterdir() if p.name.startswith("database."))
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    code, output = _run(app, "backup", "restore", "--from", str(backup), "--yes")
    assert code != 0 and "does not match its manifest" in output
    from network.core.db import db
    from network.members.models import Member

    assert db.session.get(Member, member.id) is not None  # untouched
