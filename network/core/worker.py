"""The background worker: sends the mail outbox, drains the search outboxes and runs the scheduled jobs, on one
host or several at once, each job once (docs/decisions/0008-worker.md).

A job is a row of `worker_jobs`: when it is next due, and a lease (who runs it, until when). A worker takes a due
job by setting the lease in one committed step, runs it in its own transactions (a heartbeat renews the lease
meanwhile), then moves its next run and clears the lease. PostgreSQL: the due row is picked with SELECT ... FOR
UPDATE SKIP LOCKED, so workers never wait on each other; SQLite (one host): a compare-and-set UPDATE, which its
single writer lock serialises. A worker killed in the middle stops renewing its lease, which runs out within
WORKER_LEASE seconds; the next worker (or the same one restarted) takes the job again, and every job
continues from what its data says is left (outboxes keep unsent and unindexed rows; each mail is marked sent in
its own commit, so at most the one mail in flight at the kill is sent twice).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db

log = logging.getLogger("network.worker")

HOURLY, DAILY = 3600, 86400


class WorkerJob(db.Model):
    """One scheduled job: when it is due and who holds it. Rows are created by the worker for the jobs it knows."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(nullable=False)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column()
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str] = mapped_column(String(20), default="", nullable=False)
    last_error: Mapped[str] = mapped_column(Text, default="", nullable=False)

    def __repr__(self) -> str:
        return f"<WorkerJob {self.name} next={self.next_run_at:%Y-%m-%d %H:%M:%S}>"


@dataclass(frozen=True)
class Job:
    """A piece of scheduled work: `run()` returns a short summary for the log; `every` seconds apart (daily jobs
    at WORKER_DAILY_HOUR, UTC)."""

    name: str
    run: Callable[[], str]
    every: int
    command: str  # the command that does the same by hand


# ---------------------------------------------------------------- the jobs

def _send_one(mail_id: int, lease_seconds: float) -> bool | None:
    """Send one outbox mail. First mark it as being sent (a compare-and-set, committed), so that if two workers ever
    hold the mail job at once (a lease lost to a stalled database), only one of them sends this mail; then mark it
    sent in a commit of its own. A worker killed in between leaves the mark, which runs out after the lease.
    None: another worker has it; False: the mail server refused it."""
    import smtplib

    from network.core.mail import OutboxMail, _transmit

    now = utcnow()
    taken = db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
                                 or_(OutboxMail.sending_until.is_(None), OutboxMail.sending_until < now))
        .values(attempts=OutboxMail.attempts + 1, sending_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if taken != 1:
        return None
    mail = db.session.get(OutboxMail, mail_id)
    try:
        _transmit(mail)
    except (OSError, smtplib.SMTPException, ValueError) as error:  # as mail.deliver: the row stays for a retry
        mail.last_error, mail.sending_until = str(error)[:500], None
        db.session.commit()
        log.warning("mail %s to %s not delivered: %s", mail.id, mail.recipient, error)
        return False
    mail.sent_at, mail.sending_until = utcnow(), None
    db.session.commit()
    return True


def send_mail_outbox(batch: int = 200) -> str:
    """Send unsent mail, oldest first, each marked sent in its own commit (a kill loses no mark of a mail already
    handed to SMTP: at most the one mail in the SMTP conversation at the moment of a kill is sent again). Three
    failures in a row end the round (the mail server is down: do not wait out a timeout per mail); any failure
    makes the job fail, so it is tried again after WORKER_RETRY seconds. A mail refused WORKER_MAIL_MAX_ATTEMPTS
    times is left to `flask --app app mail flush` and the operator."""
    from network.core.mail import OutboxMail

    waiting = db.session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.sent_at.is_(None),
               OutboxMail.attempts < int(current_app.config["WORKER_MAIL_MAX_ATTEMPTS"]))
        .order_by(OutboxMail.id).limit(batch)).all()
    db.session.rollback()
    lease = float(current_app.config["WORKER_LEASE"])
    sent = failed = in_a_row = 0
    for mail_id in waiting:
        outcome = _send_one(mail_id, lease)
        sent, failed = sent + (outcome is True), failed + (outcome is False)
        in_a_row = in_a_row + 1 if outcome is False else 0
        if in_a_row >= 3:
            break
    if failed:
        raise RuntimeError(f"{failed} mails not accepted by the mail server ({sent} sent); they stay in the outbox")
    return f"{sent} sent"


def drain_search_outboxes() -> str:
    """What `flask --app app search worker` runs in its loop: every search kind's outbox into its index
    (network/search/indexer.py). The one place the worker calls search."""
    from network.search.indexer import drain_all

    return f"{drain_all()} changes indexed"


def _purge_sessions() -> str:
    from network.core.sessions import purge_expired

    removed = purge_expired(current_app)
    db.session.commit()
    return f"{removed} expired sessions removed"


def _revalidate_members() -> str:
    from network.members import services

    result = services.revalidate()
    reported = services.remind_moderators()
    db.session.commit()
    return f"{result['reminded']} reminded, {result['lapsed']} lapsed, {reported} waiting applications reported"


def _remind_directory() -> str:
    from network.directory.changes import remind_stale

    result = remind_stale()
    db.session.commit()
    return f"{len(result['reminded'])} stale entries reminded, {len(result['orphans'])} without a focal point"


def _remind_requests() -> str:
    from network.requests.register import remind

    count = remind()
    db.session.commit()
    return f"{count} requests reminded about"


def _forum_digest() -> str:
    from network.forum.notifications import send_digests

    sent = send_digests()
    db.session.commit()
    return f"{sent} digests queued"


def _verify_audit() -> str:
    from network.core.audit import verify_chain, write_checkpoint

    report = verify_chain()
    if not report.ok:
        raise RuntimeError("audit chain BROKEN: " + "; ".join(report.problems[:5]))
    write_checkpoint(report)
    return f"{report.checked} audit entries verified"


def default_jobs(app: Flask) -> list[Job]:
    """Every job the worker runs, with the command an operator would otherwise put in cron."""
    config = app.config
    return [
        Job("mail", send_mail_outbox, int(config["WORKER_MAIL_INTERVAL"]), "mail flush"),
        Job("search", drain_search_outboxes, int(config["WORKER_SEARCH_INTERVAL"]), "search worker --once"),
        Job("sessions-purge", _purge_sessions, HOURLY, "sessions purge"),
        Job("members-revalidate", _revalidate_members, DAILY, "members revalidate"),
        Job("directory-remind", _remind_directory, DAILY, "directory remind"),
        Job("requests-remind", _remind_requests, DAILY, "requests remind"),
        Job("forum-digest", _forum_digest, DAILY, "forum digest"),
        Job("audit-verify", _verify_audit, DAILY, "audit verify"),
    ]


# ---------------------------------------------------------------- scheduling and leases

def worker_id() -> str:
    """host:pid:random, so that a lease names who holds it."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def next_run(job: Job, after: datetime, daily_hour: int) -> datetime:
    """Frequent jobs: `every` seconds later. Daily jobs: the next WORKER_DAILY_HOUR (UTC) after `after`."""
    if job.every < DAILY:
        return after + timedelta(seconds=job.every)
    at = after.replace(hour=daily_hour, minute=0, second=0, microsecond=0)
    return at if at > after else at + timedelta(days=1)


def ensure_rows(jobs: Iterable[Job]) -> None:
    """A row for every job (due now) that has none yet. Several workers starting at once: one insert wins, the
    others change nothing (INSERT ... ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    now = utcnow()
    for job in jobs:
        db.session.execute(dialect_insert(WorkerJob).values(name=job.name, next_run_at=now, last_status="",
                                                            last_error="").on_conflict_do_nothing())
    db.session.commit()


def claim(job: Job, holder: str, lease_seconds: float) -> bool:
    """Take the job's lease if it is due and nobody else holds a live lease; commits. True if this worker runs it.
    A lease this worker still holds is its own to take again: a worker runs its jobs one at a time in its loop, so
    between rounds it runs none, and such a lease is left by a round the database cut off after the claim (the
    finish could not be written); waiting for it to run out would stop the job for WORKER_LEASE seconds."""
    now = utcnow()
    free = (WorkerJob.name == job.name, WorkerJob.next_run_at <= now,
            or_(WorkerJob.locked_until.is_(None), WorkerJob.locked_until < now, WorkerJob.locked_by == holder))
    lease = {"locked_by": holder, "locked_until": now + timedelta(seconds=lease_seconds), "last_started_at": now}
    if db.engine.dialect.name == "postgresql":
        row = db.session.scalar(select(WorkerJob).where(*free).with_for_update(skip_locked=True))
        if row is None:
            db.session.rollback()
            return False
        for key, value in lease.items():
            setattr(row, key, value)
        db.session.commit()
        return True
    taken = db.session.execute(update(WorkerJob).where(*free).values(**lease)
                               .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


def finish(job: Job, holder: str, error: str | None, daily_hour: int) -> None:
    """Move the next run and give the lease back, only if this worker still holds it (a lease that ran out and was
    taken by another worker is theirs now)."""
    now = utcnow()
    retry = int(current_app.config["WORKER_RETRY"])
    due = next_run(job, now, daily_hour) if error is None else now + timedelta(seconds=retry)
    db.session.execute(update(WorkerJob).where(WorkerJob.name == job.name, WorkerJob.locked_by == holder)
                       .values(next_run_at=due, locked_by=None, locked_until=None, last_finished_at=now,
                               last_status="failed" if error else "ok", last_error=(error or "")[:2000])
                       .execution_options(synchronize_session=False))
    db.session.commit()


class _Heartbeat:
    """Renews a job's lease every quarter of WORKER_LEASE while the job runs, on a connection of its own, so that a
    long job keeps it and a killed worker's lease runs out soon after the kill."""

    def __init__(self, name: str, holder: str, lease_seconds: float) -> None:
        self.name, self.holder, self.lease = name, holder, lease_seconds
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"lease-{name}", daemon=True)

    def _beat(self) -> None:
        while not self.stopped.wait(self.lease / 4):
            try:
                with self.engine.begin() as connection:
                    held = connection.execute(
                        update(WorkerJob).where(WorkerJob.name == self.name, WorkerJob.locked_by == self.holder)
                        .values(locked_until=utcnow() + timedelta(seconds=self.lease))).rowcount
                if not held:
                    log.warning("worker: the lease of %s ran out and another worker took it", self.name)
            except Exception:  # the database busy or away: the next beat tries again; the lease is long enough
                log.warning("worker: could not renew the lease of %s", self.name, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def run_due(app: Flask, jobs: list[Job], holder: str) -> list[str]:
    """One round: every due job this worker can claim, run once. Returns the names it ran."""
    ran = []
    daily_hour, lease = int(app.config["WORKER_DAILY_HOUR"]), float(app.config["WORKER_LEASE"])
    for job in jobs:
        if not claim(job, holder, lease):
            continue
        error = None
        try:
            # Jobs render mail with links: a request context on the public address, as the commands have.
            with _Heartbeat(job.name, holder, lease), \
                    app.test_request_context("/", base_url=app.config["PUBLIC_URL"]):
                summary = job.run()
            (log.debug if summary.startswith("0 ") else log.info)("worker: %s: %s", job.name, summary)
        except Exception as failure:  # a job that fails is retried later; the others go on
            db.session.rollback()
            error = f"{type(failure).__name__}: {failure}"
            log.exception("worker: %s failed", job.name)
        finish(job, holder, error, daily_hour)
        ran.append(job.name)
    return ran


def run_worker(app: Flask, *, once: bool = False, poll: float = 1.0, stop: threading.Event | None = None,
               jobs: list[Job] | None = None) -> None:
    """The worker's loop (`flask --app app worker`): a round of due jobs, then a short sleep, until `stop` is set
    (SIGTERM or SIGINT from the command) or after one round with `once`."""
    jobs = default_jobs(app) if jobs is None else jobs
    holder = worker_id()
    stop = stop or threading.Event()
    ensure_rows(jobs)
    log.info("worker %s started: %s", holder, ", ".join(job.name for job in jobs))
    away = 0  # rounds in a row the database could not be reached
    while not stop.is_set():
        try:
            run_due(app, jobs, holder)
        except Exception as failure:
            from network.core.errors import database_unreachable

            if once or not database_unreachable(failure):
                raise
            # PostgreSQL restarting or failing over: wait and try again (the jobs' leases and the outboxes keep
            # every piece of work), instead of dying and leaving mail and indexing to stop until someone notices.
            away += 1
            db.session.rollback()
            db.engine.dispose()
            if away == 1:
                log.warning("worker: the database cannot be reached (%s); retrying", type(failure).__name__)
            stop.wait(min(30.0, poll * 2 ** min(away, 5)))
            continue
        if away:
            log.warning("worker: the database answers again after %d attempts", away)
            away = 0
        if once:
            return
        stop.wait(poll)


def schedule() -> list[WorkerJob]:
    return list(db.session.scalars(select(WorkerJob).order_by(WorkerJob.name)))
