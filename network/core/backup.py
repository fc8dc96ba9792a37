"""Backups and restore of the two things an installation cannot lose: the database and the instance folder's keys.

`flask --app app backup create --to DIR [--keys-to DIR2]` writes one folder per backup:
- `database.sqlite` (SQLite's online backup API: a consistent copy while the server runs) or `database.pgdump`
  (`pg_dump --format=custom`, PostgreSQL's client from Debian's `postgresql-client`);
- `instance.tar` with the instance folder's keys and records (`secret_key`, `master_key`, `config.py`, the audit
  checkpoints), mode 0600, written to `--keys-to` when given: **keep it apart from the database backups** — the
  master key opens the sealed data the database holds, so the two together are the whole secret;
- `manifest.json`: when, which database, the schema revision, the audit chain's head, each file's SHA-256.

The instance files are copied before the database, so the checkpoints never name an audit entry the copied
database lacks. Keys given in the environment (`NETWORK_SECRET_KEY`, `NETWORK_MASTER_KEY`) are not files and are not
in the backup: the command says so, and they must be kept with the operator's other secrets.

`flask --app app backup restore --from DIR [--keys-from DIR2] --yes` puts both back (stop the application servers
and the worker first): the database replaced as a whole, the instance files written back (existing ones kept as
`<name>.before-restore-<time>`), then the schema is upgraded and the audit chain verified against the restored
checkpoints. The restore drill in `tests/test_backup_restore.py` backs up, wipes, restores, verifies the chain and
opens a message.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from network.core.db import db

backup_cli = AppGroup("backup", help="Back up and restore the database and the instance folder's keys.")
INSTANCE_FILES = ("secret_key", "master_key", "config.py", "audit-checkpoints.jsonl")
MANIFEST = "manifest.json"
KEYS_ARCHIVE = "instance.tar"


class BackupError(click.ClickException):
    """A backup or restore that cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class Written:
    folder: Path
    keys: Path
    manifest: dict


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_file(path: Path) -> None:
    os.chmod(path, 0o600)


def _database_kind() -> str:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def _libpq_url() -> str:
    """The database URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_path() -> Path:
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database or database == ":memory:":
        raise BackupError("This SQLite database lives in memory: there is nothing to back up.")
    return Path(database)


def _run(command: list[str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is missing: install PostgreSQL's client (Debian: postgresql-client).")
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - fixed tool, no shell
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[:2000]}")


def _schema_and_audit() -> dict:
    facts: dict = {}
    try:
        facts["schema_revision"] = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a database never migrated: the manifest says so
        db.session.rollback()
        facts["schema_revision"] = None
    try:
        row = db.session.execute(text("SELECT id, entry_hash FROM audit_entries ORDER BY id DESC LIMIT 1")).first()
        facts["audit_head"] = {"id": row[0], "hash": row[1]} if row else None
    except Exception:  # noqa: BLE001
        db.session.rollback()
        facts["audit_head"] = None
    return facts


def create_backup(to: Path, keys_to: Path | None = None, echo=click.echo) -> Written:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = to / f"network-backup-{stamp}"
    keys_folder = (keys_to / f"network-keys-{stamp}") if keys_to else folder
    folder.mkdir(parents=True, mode=0o700, exist_ok=False)
    keys_folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    instance = Path(current_app.instance_path)
    manifest: dict = {"format": 1, "created_at": stamp, "database": _database_kind(), "files": {}}

    echo("1/3 instance files (keys, settings, audit checkpoints)")
    archive = keys_folder / KEYS_ARCHIVE
    included = []
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
        for name in INSTANCE_FILES:
            path = instance / name
            if path.is_file():
                data = path.read_bytes()
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, int(path.stat().st_mtime)
                tar.addfile(info, io.BytesIO(data))
                included.append(name)
    manifest["instance_files"] = included
    from_environment = [name for name in ("SECRET_KEY", "MASTER_KEY")
                        if f"NETWORK_{name}" in os.environ or not (instance / name.lower()).is_file()]
    manifest["keys_not_in_backup"] = from_environment
    manifest["files"][str(archive.relative_to(keys_folder.parent))] = _sha256(archive)

    echo(f"2/3 database ({manifest['database']})")
    manifest.update(_schema_and_audit())
    if manifest["database"] == "sqlite":
        target = folder / "database.sqlite"
        source = sqlite3.connect(_sqlite_path())
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    elif manifest["database"] == "postgresql":
        target = folder / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", _libpq_url()])
    else:
        raise BackupError(f"Backups of {manifest['database']} databases are not supported.")
    _private_file(target)
    manifest["files"][str(target.relative_to(folder.parent))] = _sha256(target)

    echo("3/3 manifest")
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _private_file(path)
    if keys_folder != folder:
        shutil.copyfile(path, keys_folder / MANIFEST)
        _private_file(keys_folder / MANIFEST)
    return Written(folder, archive, manifest)


def _check(folder: Path, name: str, manifest: dict) -> Path:
    path = folder / name
    expected = manifest["files"].get(str(path.relative_to(folder.parent)))
    if not path.is_file():
        raise BackupError(f"{path} is missing.")
    if expected and _sha256(path) != expected:
        raise BackupError(f"{path} does not match its manifest (SHA-256): damaged or changed; nothing restored.")
    return path


def restore_backup(source: Path, keys_from: Path | None = None, echo=click.echo) -> dict:
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup made by `backup create`.")
    manifest = json.loads(manifest_path.read_text())
    kind = _database_kind()
    if manifest.get("database") != kind:
        raise BackupError(f"This backup is of a {manifest.get('database')} database; this installation uses {kind}.")
    keys_folder = keys_from or source
    database_file = _check(source, "database.sqlite" if kind == "sqlite" else "database.pgdump", manifest)
    keys_manifest = json.loads((keys_folder / MANIFEST).read_text()) if (keys_folder / MANIFEST).is_file() else manifest
    archive = _check(keys_folder, KEYS_ARCHIVE, keys_manifest)
    if keys_manifest.get("created_at") != manifest.get("created_at"):
        raise BackupError("The keys archive and the database backup were not made together (their times differ).")

    echo("1/3 instance files")
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with tarfile.open(archive, mode="r") as tar:
        for member in tar.getmembers():
            if member.name not in INSTANCE_FILES or not member.isfile():
                raise BackupError(f"Unexpected entry {member.name!r} in {archive}; nothing restored.")
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            target = instance / member.name
            if target.exists():
                if target.read_bytes() == data:
                    continue
                target.rename(instance / f"{member.name}.before-restore-{stamp}")
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)

    echo(f"2/3 database ({kind})")
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        target = _sqlite_path()
        source_db = sqlite3.connect(database_file)
        live = sqlite3.connect(target)
        try:
            source_db.backup(live)
        finally:
            live.close()
            source_db.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              f"--dbname={_libpq_url()}", str(database_file)])
    db.engine.dispose()
    echo("3/3 checks")
    return manifest


@backup_cli.command("create")
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives the database backup.")
@click.option("--keys-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the instance keys archive, kept apart from the database backups.")
@with_appcontext
def create_command(to: Path, keys_to: Path | None) -> None:
    """Back up the database and the instance folder's keys (consistent while the server runs)."""
    written = create_backup(to, keys_to)
    click.echo(f"Database backup: {written.folder}")
    click.echo(f"Keys archive:    {written.keys}")
    if keys_to is None:
        click.echo("Move the keys archive apart from the database backups: together they open the sealed data.")
    for name in written.manifest["keys_not_in_backup"]:
        click.echo(f"{name} comes from the environment, not a file: keep it with your other secrets.")


@backup_cli.command("restore")
@click.option("--from", "source", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A folder written by `backup create`.")
@click.option("--keys-from", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="The matching keys folder, when it was written apart (--keys-to).")
@click.option("--yes", is_flag=True, help="Confirm: the database is replaced as a whole.")
@with_appcontext
def restore_command(source: Path, keys_from: Path | None, yes: bool) -> None:
    """Replace the database and the instance files with a backup, then upgrade and verify the audit chain.
    Stop the application servers and the worker first."""
    if not yes:
        raise BackupError("This replaces the whole database: stop the servers and the worker, then add --yes.")
    manifest = restore_backup(source, keys_from)
    from flask_migrate import upgrade

    upgrade(directory=str(Path(current_app.root_path) / "migrations"))
    from network.core.audit import verify_chain

    report = verify_chain()
    if not report.ok:
        for problem in report.problems:
            click.echo(f"- {problem}.", err=True)
        raise BackupError("Restored, but the audit chain does not verify: investigate before reopening.")
    click.echo(f"Restored the backup of {manifest['created_at']}; audit chain verified ({report.checked} entries).")


def register_backup_commands(app: Flask) -> None:
    app.cli.add_command(backup_cli)
