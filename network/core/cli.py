"""Operator commands: audit verify, mail flush, sessions purge, secrets init."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from network.core.audit import verify_chain
from network.core.db import db
from network.core.mail import deliver, pending_mail
from network.core.sessions import purge_expired

audit_cli = AppGroup("audit", help="The hash-chained audit log.")
mail_cli = AppGroup("mail", help="The mail outbox.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")
secrets_cli = AppGroup("secrets", help="The instance folder's secrets.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the whole chain; name the first entry that was changed or removed."""
    report = verify_chain()
    if report.ok:
        click.echo(f"Audit chain intact: {report.checked} entries verified.")
        return
    click.echo(f"Audit chain BROKEN after {report.checked} good entries: {report.problem}.", err=True)
    raise SystemExit(1)


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
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
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
    for group in (audit_cli, mail_cli, sessions_cli, secrets_cli):
        app.cli.add_command(group)
