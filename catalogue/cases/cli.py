"""Catalogue commands: import cases from JSON Lines (all or nothing) and export the published cases."""
from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from catalogue.cases import services
from catalogue.cases.exports import write_csv, write_jsonl
from catalogue.cases.models import Case
from network.core import audit
from network.core.cli_context import with_public_url
from network.core.db import db
from network.core.jsonlines import line_problems, read_json_lines, with_nul_problems
from network.core.mail import deliver_queued

catalogue_cli = AppGroup("catalogue", help="Case catalogue: import and export.")
# Titles and other one-line values (network.core.text): no line break, NUL, line separator or bidi override.
SINGLE_LINE_FIELDS = ("title", "translations.*.title", "keywords.*", "other_instruments.*", "source")


# ---------------------------------------------------------------- reading a JSON Lines file

def case_problems(data: object) -> list[str]:
    """What an import or the API refuses in one case: services.validation_errors, and a title (or another one-line
    value) that is not one line of text."""
    return with_nul_problems(services.validation_errors(data) + line_problems(data, SINGLE_LINE_FIELDS), data)


def read_cases(lines: Iterable[bytes]) -> tuple[list[tuple[int, dict]], list[str]]:
    """Parse and validate every line: (cases with their line numbers, problems "line N: ...").
    Blank lines are skipped; a reference given twice in the file is a problem on its second line."""
    return read_json_lines(lines, case_problems, "reference", "reference")


def import_cases(cases: list[tuple[int, dict]], source: str = "", label: str = "Importing cases") -> tuple[int, int]:
    """Import validated cases (create or update by reference, published); the caller commits. -> (created, updated)"""
    created = updated = 0
    with click.progressbar(cases, label=label) as bar:
        for _number, data in bar:
            _case, new = services.import_case(data, source)
            if new:
                created += 1
            else:
                updated += 1
    return created, updated


@catalogue_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="", help="Source recorded on cases that name none (e.g. a publication).")
@with_public_url
def import_command(file: Path, source: str) -> None:
    """Import cases from FILE (JSON Lines, one case per line, shared/schemas/case.schema.json).

    The whole file is checked first: any problem aborts the import and nothing changes. Cases are
    published; a case whose reference exists already is updated (a new revision if it changed)."""
    with file.open("rb") as handle:
        cases, problems = read_cases(handle.read().split(b"\n"))
    if problems:
        for problem in problems:
            click.echo(f"{file.name}: {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s) in {file.name}: nothing was imported.")
    try:
        created, updated = import_cases(cases, source)
        audit.record("catalogue.imported", file=file.name, created=created, updated=updated)
        db.session.commit()
    except Exception as error:  # a database refusal: report it, change nothing
        db.session.rollback()
        raise click.ClickException(f"the import failed and nothing was imported: {error}") from error
    deliver_queued()  # submitters of updated cases hear that a new revision was published
    click.echo(f"{created} created, {updated} updated")


# ---------------------------------------------------------------- export

def published_cases() -> list[Case]:
    """Every published case, by reference (sorted here, so every database gives the same order)."""
    cases = db.session.scalars(select(Case).where(Case.status == "published"))
    return sorted(cases, key=lambda case: case.reference)


@catalogue_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="File to write (default: standard output).")
def export_command(fmt: str, output: Path | None) -> None:
    """Export every published case (members-only ones included), ordered by reference."""
    writer = write_csv if fmt == "csv" else write_jsonl
    cases = published_cases()
    if output is None:
        buffer = io.StringIO(newline="")
        writer(cases, buffer)
        click.echo(buffer.getvalue(), nl=False)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        count = writer(cases, handle)
    click.echo(f"{count} cases written to {output}", err=True)


def register_catalogue_commands(app: Flask) -> None:
    from catalogue.cases.demo import load_demo_cases
    from catalogue.cases.forum_drafts import register_forum_hooks
    from catalogue.cases.request_drafts import register_request_case_hooks
    from catalogue.cases.request_precedents import register_request_hooks
    from network.members import demo

    app.cli.add_command(catalogue_cli)
    register_forum_hooks(app)  # the forum's "Propose as a catalogue case" (the network never imports the catalogue)
    register_request_hooks(app)  # precedents beside a request being drafted (network/requests/guidance.py)
    register_request_case_hooks(app)  # a finished request's "Propose as a catalogue case" (network/requests/hooks.py)
    demo.register_loader(app, load_demo_cases)  # `demo load` creates the demonstration cases too
