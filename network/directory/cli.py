"""`flask --app app directory ...`: import and export the directory, remind focal points of stale entries."""
from __future__ import annotations

import io
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from network.core import audit
from network.core.cli_context import with_public_url
from network.core.db import db
from network.directory import interchange

directory_cli = AppGroup("directory", help="The directory of competent national authorities.")


@directory_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import authorities from FILE (JSON Lines, one entry per line, shared/schemas/authority.schema.json).

    The whole file is checked first: any problem aborts the import and nothing changes. An entry whose key
    exists already updates that authority (a new approved version, only if something changed)."""
    entries, problems = interchange.read_file(file.read_bytes())
    if problems:
        for problem in problems:
            click.echo(f"{file.name}: {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s) in {file.name}: nothing was imported.")
    try:
        result = interchange.import_authorities(entries)
        audit.record("directory.imported", file=file.name, **result.counts())
        db.session.commit()
    except Exception as error:  # a database refusal: report it, change nothing
        db.session.rollback()
        raise click.ClickException(f"the import failed and nothing was imported: {error}") from error
    click.echo(result.summary())


@directory_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="File to write (default: standard output).")
def export_command(fmt: str, output: Path | None) -> None:
    """Export every authority, ordered by key (JSON Lines reads back through `directory import` unchanged)."""
    writer = interchange.write_csv if fmt == "csv" else interchange.write_jsonl
    authorities = interchange.exported_authorities()
    if output is None:
        buffer = io.StringIO(newline="")
        writer(authorities, buffer)
        click.echo(buffer.getvalue(), nl=False)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        count = writer(authorities, handle)
    click.echo(f"{count} authorities written to {output}", err=True)


@directory_cli.command("remind")
@with_public_url
def remind_command() -> None:
    """Daily: e-mail the focal points of entries not verified for 12 months (once per 30 days per entry);
    entries with no focal point go to the moderators in one summary."""
    from network.core.mail import deliver_queued
    from network.directory.changes import remind_stale

    result = remind_stale()
    db.session.commit()
    deliver_queued()
    for key in result["reminded"]:
        click.echo(f"reminded the focal points of {key}")
    if result["orphans"]:
        click.echo(f"reported to moderators (no focal point): {', '.join(result['orphans'])}")
    click.echo(f"{len(result['reminded'])} stale entries reminded, "
               f"{len(result['orphans'])} without a focal point reported to moderators.")


def register_directory_commands(app: Flask) -> None:
    from network.directory.demo import load_demo_directory
    from network.members import demo

    app.cli.add_command(directory_cli)
    demo.register_loader(app, load_demo_directory)  # `demo load` enriches the demo authorities and adds more
