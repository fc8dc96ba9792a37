"""Operator commands: audit verify and checkpoint, mail flush, sessions purge, secrets init, the worker."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from network.core.audit import checkpoint_path, verify_chain, write_checkpoint
from network.core.clock import utcnow
from network.core.db import db
from network.core.mail import deliver, pending_mail
from network.core.sessions import purge_expired
from network.core.worker import default_jobs, ensure_rows, run_worker, schedule  # and its table

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


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs that are due once, then stop.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between rounds of due jobs.")
@click.option("--list", "show", is_flag=True, help="Show the jobs, when each runs next and how it last ended.")
@with_appcontext
def worker_command(once: bool, poll: float, show: bool) -> None:
    """Send the mail outbox, drain the search outboxes and run the scheduled jobs, until stopped (SIGTERM or
    Ctrl-C end it after the job in hand). Safe to run on several hosts at once: each job runs once.

    Set MAIL_SENT_BY_WORKER=true and SEARCH_INDEX_ON_COMMIT=false on the app servers when it runs."""
    import logging
    import signal
    import threading

    if not logging.getLogger().handlers:  # a service's log (the journal): what each job did, and failures
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    if show:
        jobs = {job.name: job for job in default_jobs(app)}
        ensure_rows(jobs.values())
        for row in schedule():
            job = jobs.get(row.name)
            held = f", held by {row.locked_by} until {row.locked_until:%H:%M:%S}" if row.locked_until else ""
            click.echo(f"{row.name:20} next {row.next_run_at:%Y-%m-%d %H:%M:%S} UTC  last: {row.last_status or '-'}"
                       f"{held}  (by hand: flask --app app {job.command if job else '?'})")
            if row.last_error:
                click.echo(f"{'':20} {row.last_error[:200]}")
        return
    if not app.config.get("MAIL_SENT_BY_WORKER"):
        click.echo("Note: MAIL_SENT_BY_WORKER is off, so requests still send their own mail; turn it on for the "
                   "app servers when a worker runs.", err=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_worker(app, once=once, poll=poll, stop=stop)


def register_core_commands(app: Flask) -> None:
    from network.core.backup import register_backup_commands

    for group in (audit_cli, mail_cli, sessions_cli, secrets_cli):
        app.cli.add_command(group)
    register_backup_commands(app)
    app.cli.add_command(worker_command)
