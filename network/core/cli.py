"""Operator commands: audit verify and checkpoint, mail flush, sessions purge, secrets init."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from network.core.audit import checkpoint_path, verify_chain, write_checkpoint
from network.core.clock import utcnow
from network.core.db import db
from network.core.mail import deliver, pending_mail
from network.core.sessions import purge_expired

audit_cli = AppGroup("audit", help="The keyed, hash-chained audit log and its checkpoints.")
mail_cli = AppGroup("mail", help="The mail outbox.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")
secrets_cli = AppGroup("secrets", help="The instance folder's secrets.")


def _report_broken(report) -> None:
    click.echo(f"Audit chain BROKEN ({report.checked} entries read):", err=True)
    for problem in report.problems:
        click.echo(f"- {problem}.", err=True)
    raise SystemExit(1)


def _checkpoint_written(report) -> None:
    written = write_checkpoint(report)
    if written:
        click.echo(f"Checkpoint {written['n']} written (head {written['head_id']}) to {checkpoint_path()}.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every entry's HMAC and every checkpoint; name what was changed, forged or removed.
    When all is well, a checkpoint of the current head is appended to the checkpoint file."""
    report = verify_chain()
    if not report.ok:
        _report_broken(report)
    click.echo(f"Audit chain intact: {report.checked} entries verified, {report.checkpoints} checkpoint(s) matched.")
    _checkpoint_written(report)


@audit_cli.command("checkpoint")
@click.option("--restart", is_flag=True,
              help="Start a new checkpoint file (the old one, if any, is kept aside): only after investigating "
                   "a checkpoint file reported missing or damaged.")
def audit_checkpoint(restart: bool) -> None:
    """Verify the chain, then append a signed checkpoint of its head to the checkpoint file."""
    path = checkpoint_path()
    if restart and path.exists():
        kept = path.with_name(f"{path.name}.replaced-{utcnow():%Y%m%dT%H%M%S}")
        path.rename(kept)
        click.echo(f"{path} moved to {kept}.")
    report = verify_chain(missing_file_ok=restart)
    if not report.ok:
        _report_broken(report)
    if report.head is None:
        click.echo("The audit log is empty: no checkpoint written.")
        return
    _checkpoint_written(report)
    click.echo(f"Audit chain intact: {report.checked} entries verified; the checkpoint names entry {report.head[0]}.")


@mail_cli.command("flush")
def mail_flush() -> None:
    """Send mail that could not be delivered when it was queued."""
    waiting = pending_mail()
    with click.progressbar(length=len(waiting), label="Sending") as bar:
        sent = failed = 0
        for start in range(0, len(waiting), 50):
            batch = waiting[start:start + 50]
            s, f = deliver(batch)
            sent, failed = sent + s, failed + f
            bar.update(len(batch))
    click.echo(f"{sent} sent, {failed} still waiting.")
    if failed:
        raise SystemExit(1)


@sessions_cli.command("purge")
def sessions_purge() -> None:
    """Delete expired session records (run it hourly)."""
    removed = purge_expired(current_app)
    db.session.commit()
    click.echo(f"{removed} expired sessions removed.")


@secrets_cli.command("init")
def secrets_init() -> None:
    """Create secret_key and master_key in the instance folder (mode 0600) if they are missing."""
    from network.core.files_at_rest import private_folder

    folder = private_folder(Path(current_app.instance_path))  # 0700: the keys and the database live here
    for name in ("secret_key", "master_key"):
        path = folder / name
        if path.exists():
            click.echo(f"{path} exists; left as it is.")
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        click.echo(f"{path} created. Back it up: without the master key, sealed data cannot be read.")


def register_core_commands(app: Flask) -> None:
    from network.core.backup import register_backup_commands

    for group in (audit_cli, mail_cli, sessions_cli, secrets_cli):
        app.cli.add_command(group)
    register_backup_commands(app)
