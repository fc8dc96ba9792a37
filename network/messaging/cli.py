"""Messaging commands: `flask --app app messages verify BUNDLE` checks an exported conversation."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

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


def register_messaging_commands(app: Flask) -> None:
    app.cli.add_command(messages_cli)
