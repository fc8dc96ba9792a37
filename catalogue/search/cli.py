"""Search commands: `flask --app app search reindex|worker|status|relevance`.

(`search relevance`, the relevance test set's nDCG@10 / recall@20 per backend, is in catalogue/search/relevance.py.)"""
from __future__ import annotations

import json
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from catalogue.search import forum_indexer, indexer
from catalogue.search.relevance import relevance_command
from network.core.db import db

search_cli = AppGroup("search", help="The search indexes (catalogue cases, forum posts): rebuild them, keep them in "
                                    "step, check them.")
search_cli.add_command(relevance_command)


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the case index and the forum index from the database (readers keep the old ones until done)."""
    with Session(db.engine) as session:
        total = indexer.indexable_cases(session)
    with click.progressbar(length=total, label=f"Indexing {total} cases") as bar:
        n = indexer.rebuild(progress=bar.update)
    click.echo(f"Indexed {n} cases with the {indexer.status().backend} backend.")
    with Session(db.engine) as session:
        total = forum_indexer.indexable_posts(session)
    with click.progressbar(length=total, label=f"Indexing {total} forum posts") as bar:
        n = forum_indexer.rebuild(progress=bar.update)
    click.echo(f"Indexed {n} forum posts with the {forum_indexer.status().backend} backend.")


@search_cli.command("worker")
@click.option("--once", is_flag=True, help="Drain the outbox once and stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls of the outbox.")
def worker(once: bool, interval: float) -> None:
    """Drain the outbox into the index, in a loop: run exactly one, with SEARCH_INDEX_ON_COMMIT=false
    on the app servers."""
    if current_app.config["SEARCH_INDEX_ON_COMMIT"]:
        click.echo("Note: SEARCH_INDEX_ON_COMMIT is on, so the app servers index too; turn it off when a "
                   "worker runs.", err=True)
    indexer.ensure_consistent()
    forum_indexer.ensure_consistent()
    while True:
        try:
            n = indexer.drain() + forum_indexer.drain()
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
def status(as_json: bool) -> None:
    """Backend, documents indexed and expected, outbox size and age of its oldest row; the forum index's too."""
    current = indexer.status()
    values = {"backend": current.backend, "indexed": current.indexed, "expected": current.expected,
              "queued": current.queued, "lag_seconds": round(current.lag_seconds, 1), "in_step": current.in_step}
    forum = forum_indexer.status()
    values["forum"] = {"indexed": forum.indexed, "expected": forum.expected, "queued": forum.queued,
                       "lag_seconds": round(forum.lag_seconds, 1), "in_step": forum.in_step}
    if as_json:
        click.echo(json.dumps(values))
        return
    click.echo(f"Backend: {current.backend}")
    click.echo(f"Indexed: {current.indexed} of {current.expected} cases"
               + ("" if current.in_step else "  (out of step: run `search reindex`)"))
    click.echo(f"Outbox: {current.queued} queued, oldest {values['lag_seconds']} s")
    click.echo(f"Forum: {forum.indexed} of {forum.expected} posts, {forum.queued} queued"
               + ("" if forum.in_step else "  (out of step: run `search reindex`)"))
    if not (current.in_step and forum.in_step):
        raise SystemExit(1)


def register_search_commands(app: Flask) -> None:
    app.cli.add_command(search_cli)
