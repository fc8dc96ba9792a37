"""Search commands: `flask --app app search reindex|worker|status [--kind KIND]` over every registered kind (cases,
forum posts, authorities), or one. Other parts may add commands to the group (the catalogue adds `relevance`)."""
from __future__ import annotations

import json
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from network.core.db import db
from network.search import indexer
from network.search.kinds import kind_named, registered

search_cli = AppGroup("search", help="The search indexes (catalogue cases, forum posts, authorities): rebuild them, "
                                    "keep them in step, check them.")
KIND_HELP = "One kind of index (cases, posts, authorities); every kind when left out."


def _chosen(kind: str | None) -> list:
    if kind is None:
        return registered()
    try:
        return [kind_named(kind)]
    except LookupError as error:
        raise click.BadParameter(str(error), param_hint="--kind") from None


@search_cli.command("reindex")
@click.option("--kind", default=None, help=KIND_HELP)
@click.option("--exclusive", is_flag=True,
              help="PostgreSQL: build the ranking index once after the rows (about three times faster); searches "
                   "wait until the rebuild is done instead of reading the old index.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 8),
              help="Whoosh, the catalogue's index: index in this many processes, each writing a segment of its own "
                   "(about twice as fast in two on two cores, each process with its own memory; the forum's and the "
                   "directory's small indexes are rebuilt in one).")
def reindex(kind: str | None, exclusive: bool, processes: int) -> None:
    """Rebuild indexes from the database (readers keep the old ones until each is done, unless --exclusive)."""
    for index_kind in _chosen(kind):
        with Session(db.engine) as session:
            total = index_kind.expected(session)
        with click.progressbar(length=total, label=f"Indexing {total} {index_kind.label}") as bar:
            n = indexer.rebuild(index_kind.name, progress=bar.update, exclusive=exclusive, processes=processes)
        click.echo(f"Indexed {n} {index_kind.label} with the {indexer.status(index_kind.name).backend} backend.")


@search_cli.command("worker")
@click.option("--once", is_flag=True, help="Drain the outbox once and stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls of the outbox.")
@click.option("--kind", default=None, help=KIND_HELP)
def worker(once: bool, interval: float, kind: str | None) -> None:
    """Drain the outbox into the indexes, in a loop: run exactly one per kind, with SEARCH_INDEX_ON_COMMIT=false
    on the app servers."""
    if current_app.config["SEARCH_INDEX_ON_COMMIT"]:
        click.echo("Note: SEARCH_INDEX_ON_COMMIT is on, so the app servers index too; turn it off when a "
                   "worker runs.", err=True)
    kinds = _chosen(kind)
    for index_kind in kinds:
        indexer.ensure_consistent(index_kind.name)
    while True:
        try:
            n = sum(indexer.drain(index_kind.name) for index_kind in kinds)
            if n:
                click.echo(f"Indexed {n} queued changes.")
        except Exception as error:  # a locked or failing index: the rows stay, try again
            click.echo(f"Indexing failed ({type(error).__name__}); the outbox keeps the changes.", err=True)
            if once:
                raise SystemExit(1) from error
        if once:
            return
        time.sleep(interval)


@search_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--kind", default=None, help=KIND_HELP)
def status(as_json: bool, kind: str | None) -> None:
    """Per kind: backend, documents indexed and expected, outbox size and age of its oldest row. Exits 1 when an
    index is out of step."""
    values = {}
    for index_kind in _chosen(kind):
        current = indexer.status(index_kind.name)
        values[index_kind.name] = {"label": index_kind.label, "backend": current.backend,
                                   "indexed": current.indexed, "expected": current.expected,
                                   "queued": current.queued, "lag_seconds": round(current.lag_seconds, 1),
                                   "in_step": current.in_step}
    if as_json:
        click.echo(json.dumps(values))
    else:
        for name, value in values.items():
            click.echo(f"{name} ({value['backend']}): indexed {value['indexed']} of {value['expected']} "
                       f"{value['label']}" + ("" if value["in_step"] else "  (out of step: run `search reindex`)"))
            click.echo(f"  outbox: {value['queued']} queued, oldest {value['lag_seconds']} s")
    if not all(value["in_step"] for value in values.values()):
        raise SystemExit(1)


def register_search_commands(app: Flask, *extra: click.Command) -> None:
    """The `search` group, with the commands other parts add (e.g. the catalogue's `search relevance`)."""
    for command in extra:
        if command.name not in search_cli.commands:
            search_cli.add_command(command)
    app.cli.add_command(search_cli)
