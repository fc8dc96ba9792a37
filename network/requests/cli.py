"""Request commands: `flask --app app requests remind` sends the reminders the authorities' periods call for."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from network.core.cli_context import with_public_url
from network.core.db import db
from network.core.mail import deliver_queued

requests_cli = AppGroup("requests", help="Requests between authorities: reminders, verifying exported records.")


@requests_cli.command("remind")
@with_public_url
def requests_remind() -> None:
    """Daily: remind both authorities of every open request with no acknowledgement or status within the requesting
    authority's periods (the mail goes through the outbox and carries no content of the request)."""
    from network.requests.register import remind

    count = remind()
    db.session.commit()
    deliver_queued()
    click.echo(f"{count} request(s) reminded about.")


@requests_cli.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def requests_verify(bundle: Path) -> None:
    """Check every signature of an exported request (exporter, content, notes, events) and the order of its events,
    with the public keys the bundle carries; exit 1 on any failure."""
    from network.requests.bundle import verify_request_bundle

    report = verify_request_bundle(bundle.read_bytes())
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)


def register_requests_commands(app: Flask) -> None:
    app.cli.add_command(requests_cli)
