"""Messaging commands: `flask --app app messages verify BUNDLE` checks an exported conversation;
`flask --app app messaging attachments migrate` carries attachments from the instance folder into the database."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from network.core.db import db
from network.messaging.bundle import verify_bundle_bytes

messages_cli = AppGroup("messages", help="Encrypted messaging: verify exported conversations.")


@messages_cli.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def messages_verify(bundle: Path) -> None:
    """Check every signature and receipt in BUNDLE with the public keys it carries; exit 1 on any failure.

    Compare the fingerprints printed with those the members read to you out of band: the bundle proves
    who signed only as far as its keys are the members' real keys."""
    report = verify_bundle_bytes(bundle.read_bytes())
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)


messaging_cli = AppGroup("messaging", help="Encrypted messaging: where attachments are stored.")
attachments_cli = AppGroup("attachments", help="Encrypted message attachments.")
messaging_cli.add_command(attachments_cli)


def _same_blob(store, file_id: str, path: Path) -> bool:
    """Does the database hold exactly the bytes of the file (compared piece by piece, never whole in memory)?"""
    with store.open(file_id) as stored, path.open("rb") as local:
        while True:
            a, b = stored.read(1024 * 1024), local.read(1024 * 1024)
            if a != b:
                return False
            if not a:
                return True


@attachments_cli.command("migrate")
@click.option("--keep-files", is_flag=True, help="Leave the files on disk after copying them (by default each is "
                                                 "removed once the database holds the same bytes).")
def attachments_migrate(keep_files: bool) -> None:
    """Copy the encrypted attachments of messaging-files/ into the database, one committed file at a time.

    Idempotent: a file the database already holds (byte for byte) is only removed; run it again after an
    interruption. Until a file is carried over, downloads read it from disk, so the servers can keep running.
    Exits 1 if a file could not be copied or differs from what the database holds for its id."""
    from network.messaging.services import _FILE_ID_RE, attachment_storage, legacy_attachment_files

    store, files = attachment_storage(), legacy_attachment_files()
    ids = files.ids(_FILE_ID_RE)
    copied = already = failed = 0
    with click.progressbar(ids, label=f"Carrying {len(ids)} attachments into the database") as bar:
        for file_id in bar:
            path = files.path(file_id)
            try:
                if store.exists(file_id):
                    if not _same_blob(store, file_id, path):
                        click.echo(f"\n{file_id}: the database holds different bytes for this id; the file is kept.",
                                   err=True)
                        failed += 1
                        continue
                    already += 1
                else:
                    with path.open("rb") as source:
                        store.put(file_id, source)
                    db.session.commit()
                    copied += 1
            except (OSError, SQLAlchemyError) as error:
                db.session.rollback()
                click.echo(f"\n{file_id}: not copied ({type(error).__name__}: {error}); the file is kept.", err=True)
                failed += 1
                continue
            if not keep_files:
                files.delete(file_id)
    click.echo(f"{copied} copied, {already} already in the database, {failed} failed"
               + ("" if keep_files else "; the files copied are removed") + f". The database holds "
               f"{store.count('f-')} attachments.")
    if failed:
        raise SystemExit(1)


def register_messaging_commands(app: Flask) -> None:
    app.cli.add_command(messages_cli)
    app.cli.add_command(messaging_cli)
