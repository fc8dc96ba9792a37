"""The background worker (issue 16, item 2): each job once however many workers run, nothing lost when one is
killed, the scheduled jobs on their schedule, and requests that leave their mail to it."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from network.core.db import db
from tests.conftest import submit


def _counting_jobs(n: int, ran: Counter, lock: threading.Lock):
    from network.core.worker import Job

    def make(name: str):
        def run() -> str:
            with lock:
                ran[name] += 1
            time.sleep(0.02)  # long enough for the other workers to look at the job while it runs
            return "counted"
        return Job(name, run, every=3600, command="-")

    return [make(f"job-{i}") for i in range(n)]


def _burst(app, jobs, workers: int) -> list[list[str]]:
    """`workers` workers in threads, each with its own session, start a round of due jobs at the same moment."""
    from network.core.worker import run_due, worker_id

    start, results, errors = threading.Barrier(workers), [None] * workers, []

    def work(i: int) -> None:
        try:
            with app.app_context():
                holder = worker_id()
                start.wait()
                results[i] = run_due(app, jobs, holder)
                db.session.remove()
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.persistence
def test_a_burst_of_workers_runs_each_due_job_once(app, clock):
    from network.core.worker import WorkerJob, ensure_rows

    ran, lock = Counter(), threading.Lock()
    jobs = _counting_jobs(12, ran, lock)
    ensure_rows(jobs)
    ensure_rows(jobs)  # a second worker starting: nothing doubled
    rounds = _burst(app, jobs, workers=4)
    assert ran == Counter({job.name: 1 for job in jobs})
    assert sorted(name for names in rounds for name in names) == sorted(job.name for job in jobs)
    db.session.expire_all()
    rows = db.session.scalars(select(WorkerJob)).all()
    assert len(rows) == 12 and all(r.locked_by is None and r.last_status == "ok" for r in rows)
    _burst(app, jobs, workers=4)  # not due again yet
    assert sum(ran.values()) == 12
    clock.advance(hours=1)
    _burst(app, jobs, workers=4)
    assert ran == Counter({job.name: 2 for job in jobs})


class Killed(BaseException):
    """kill -9, as far as the worker's code can tell: nothing after this point runs, nothing is committed."""


@pytest.mark.persistence
def test_a_worker_killed_while_sending_loses_no_mail_and_sends_none_twice(app, clock, mailbox, monkeypatch):
    from network.core import mail as mail_module
    from network.core.mail import OutboxMail
    from network.core.worker import Job, WorkerJob, ensure_rows, run_due, send_mail_outbox

    for n in range(5):
        db.session.add(OutboxMail(recipient=f"officer{n}@justiz.example.at", subject=f"Notice {n}", body="Hello"))
    db.session.commit()
    jobs = [Job("mail", send_mail_outbox, every=5, command="mail flush")]
    ensure_rows(jobs)
    transmit, calls = mail_module._transmit, []

    def dies_at_the_third(mail):
        calls.append(mail.recipient)
        if len(calls) == 3:
            raise Killed
        transmit(mail)

    monkeypatch.setattr(mail_module, "_transmit", dies_at_the_third)
    with pytest.raises(Killed):
        run_due(app, jobs, "host-a:1:dead")
    db.session.rollback()  # the process is gone: its open transaction with it
    monkeypatch.setattr(mail_module, "_transmit", transmit)
    assert len(db.session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all()) == 3
    assert run_due(app, jobs, "host-b:2:live") == []  # the dead worker's lease still holds the job
    clock.advance(seconds=app.config["WORKER_LEASE"] + 1)  # its lease runs out (nobody renews it)
    assert run_due(app, jobs, "host-b:2:live") == ["mail"]
    delivered = Counter(message["To"] for message in mailbox.messages)
    assert delivered == Counter({f"officer{n}@justiz.example.at": 1 for n in range(5)})
    assert db.session.get(WorkerJob, "mail").last_status == "ok"


@pytest.mark.persistence
def test_two_senders_at_once_send_each_mail_once(app, mailbox):
    """Even without the job's lease (two workers that both believe they hold it), each mail is taken by one."""
    from network.core.mail import OutboxMail
    from network.core.worker import send_mail_outbox

    for n in range(12):
        db.session.add(OutboxMail(recipient=f"clerk{n}@justiz.example.at", subject=f"Notice {n}", body="Hello"))
    db.session.commit()
    start, errors = threading.Barrier(2), []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait()
                send_mail_outbox()
                db.session.remove()
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert Counter(message["To"] for message in mailbox.messages) == \
        Counter({f"clerk{n}@justiz.example.at": 1 for n in range(12)})


@pytest.mark.config(WORKER_LEASE=0.4)
def test_a_long_job_keeps_its_lease_while_it_runs(app, clock):
    """The lease is renewed while the job runs (every WORKER_LEASE / 4), so no other worker takes a job that is
    merely slow; only a worker that stopped renewing it (killed) loses it."""
    from network.core.worker import Job, WorkerJob, claim, ensure_rows, run_due

    seen = {}

    def other_worker_tries(job) -> None:
        with app.app_context():
            seen["taken"] = claim(job, "host-b:2:other", 0.4)
            db.session.remove()

    def slow() -> str:
        clock.advance(seconds=5)  # far past the lease taken at the start
        renewed = None
        for _ in range(200):  # the heartbeat (every 0.1 s) moves the lease past the new time
            db.session.expire_all()
            renewed = db.session.get(WorkerJob, "slow").locked_until
            db.session.rollback()
            if renewed > clock.now:
                break
            time.sleep(0.05)
        seen["renewed"] = renewed > clock.now
        thread = threading.Thread(target=other_worker_tries, args=(job,))
        thread.start()
        thread.join(30)
        return "done"

    job = Job("slow", slow, every=3600, command="-")
    ensure_rows([job])
    assert run_due(app, [job], "host-a:1:slow") == ["slow"]
    assert seen == {"renewed": True, "taken": False}


def test_the_scheduled_jobs_run_on_their_schedule(app, clock):
    from network.core.worker import WorkerJob, default_jobs, run_worker

    run_worker(app, once=True)
    rows = {row.name: row for row in db.session.scalars(select(WorkerJob))}
    names = [job.name for job in default_jobs(app)]
    assert sorted(rows) == sorted(names)
    assert {name: (row.last_status, row.last_error) for name, row in rows.items()} == \
        {name: ("ok", "") for name in names}
    now = clock.now
    assert rows["mail"].next_run_at == now.replace(microsecond=0) + timedelta(seconds=5)
    assert rows["sessions-purge"].next_run_at.hour == (now.hour + 1) % 24
    for daily in ("members-revalidate", "directory-remind", "requests-remind", "forum-digest", "audit-verify"):
        assert rows[daily].next_run_at == now.replace(hour=3, minute=0, second=0) + timedelta(days=1)
    clock.advance(seconds=5)
    before = {name: row.last_started_at for name, row in rows.items()}
    run_worker(app, once=True)
    db.session.expire_all()
    again = {row.name for row in db.session.scalars(select(WorkerJob)) if row.last_started_at != before[row.name]}
    assert again == {"mail", "search"}
    listing = app.test_cli_runner().invoke(args=["worker", "--list"])
    assert listing.exit_code == 0 and "directory-remind" in listing.output and "directory remind" in listing.output


@pytest.mark.config(MAIL_SENT_BY_WORKER=True)
def test_requests_leave_their_mail_to_the_worker(app, member, mailbox):
    from network.core.mail import OutboxMail
    from network.core.worker import run_worker

    response = submit(app.test_client(), "/password/forgot", {"email": member.email})
    assert response.status_code in (200, 302)
    assert mailbox.messages == []  # neither in the request nor after its response
    waiting = db.session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all()
    assert [mail.recipient for mail in waiting] == [member.email]
    run_worker(app, once=True)
    assert mailbox.last(member.email) is not None


@pytest.mark.persistence
def test_a_worker_takes_back_its_own_lease_left_by_a_round_the_database_cut_off(app, clock):
    """A round cut off between the claim and the finish (the database away) leaves this worker's live lease on the
    job: the same worker, back in its loop and running none of its jobs, takes it again at once; another worker
    still waits for it to run out."""
    from network.core.worker import Job, WorkerJob, claim, ensure_rows

    job = Job("cut-off", lambda: "done", every=3600, command="-")
    ensure_rows([job])
    assert claim(job, "host-a:1:first", 60)  # ... and the finish never written
    db.session.remove()
    assert not claim(job, "host-b:2:other", 60)
    assert claim(job, "host-a:1:first", 60)
    row = db.session.get(WorkerJob, "cut-off")
    assert row.locked_by == "host-a:1:first" and row.locked_until > clock.now
    clock.advance(seconds=30)
    db.session.remove()
    assert not claim(job, "host-b:2:other", 60)
