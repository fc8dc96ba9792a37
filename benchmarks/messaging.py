"""Messaging benchmark: server time to send to 1, 10 and 49 recipients (a full group of 50), to open an inbox of 1,000 conversations,
and to unlock a member's keys at sign-in (Argon2id at the production parameters).

    .venv/bin/python benchmarks/messaging.py [--rounds 60] [--inbox 1000]

Runs the services inside the application on a temporary SQLite database (migrated), with the members' private keys
handed in directly rather than through a signed-in session. Times include the database work and the commit, not
HTTP. Results are printed and written to benchmarks/results/messaging-<date>.json. Not part of the test suite."""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "benchmark passphrase of decent length"  # noqa: S105 -- a fixture, not a secret
TARGETS = {"send to 10 recipients": 30.0, "open the inbox": 100.0}  # p95, milliseconds


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def make_app(folder: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"INSTANCE_PATH": folder, "TESTING": True, "SECRET_KEY": "b" * 48, "MASTER_KEY": "m" * 48,
                      "SESSION_COOKIE_SECURE": False, "MAIL_BACKEND": "console",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                      # Setting up 1,000 members' keys at production Argon2id would take minutes; the unlock
                      # measure below uses the production parameters explicitly.
                      "MESSAGING_ARGON2_TIME_COST": 1, "MESSAGING_ARGON2_MEMORY_COST": 1024,
                      "MESSAGING_ARGON2_PARALLELISM": 1, "SEARCH_INDEX_ON_COMMIT": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def make_members(count: int, prefix: str):
    from network.core.db import db
    from network.members import services
    from network.messaging import lifecycle

    people = []
    for n in range(count):
        member = services.create_member(f"{prefix}{n}@bench.example.org", f"{prefix.title()} {n}", PASSWORD, "FRA",
                                        "prosecutor", None, roles=("member",))
        member.status = "active"
        db.session.flush()
        _keys, private, _recovery = lifecycle.create_key_set(member, PASSWORD)
        people.append((member, private))
    db.session.commit()
    return people


def bench_send(rounds: int) -> dict:
    from sqlalchemy import select

    from network.core.db import db
    from network.members.models import Member
    from network.messaging import services

    people = make_members(51, "recipient")
    sender_id, private = people[0][0].id, people[0][1]
    results = {}
    # 49 recipients and the sender are a full group: a conversation has at most 50 participants.
    for size in (1, 10, 49):
        ids = [m.id for m, _ in people[1:size + 1]]
        samples = []
        for n in range(rounds + 5):
            db.session.expire_all()
            start = time.perf_counter()
            # As the request does: the sender and the chosen recipients loaded, then the message sent and committed.
            sender = db.session.get(Member, sender_id)
            recipients = list(db.session.scalars(select(Member).where(Member.id.in_(ids))))
            services.start_conversation(sender, recipients, f"Subject {n}", "A request of ordinary length. " * 40,
                                        services.Handling(confidential=True), private=private)
            db.session.commit()
            if n >= 5:  # warm-up
                samples.append(time.perf_counter() - start)
        results[f"send to {size} recipient{'s' if size > 1 else ''}"] = percentiles(samples)
    return results


def bench_inbox(size: int, rounds: int) -> dict:
    from flask import render_template

    from network.core.db import db
    from network.messaging import lifecycle, services

    (reader, reader_private), *writers = make_members(11, "reader")
    for n in range(size):
        writer, writer_private = writers[n % len(writers)]
        services.start_conversation(writer, [reader], f"Conversation {n}", "Text " * 100, services.Handling(),
                                    private=writer_private)
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    keys = lifecycle.current_keys(reader)
    privates = {reader_private.key_version: reader_private}
    with mock.patch.object(lifecycle, "session_private_keys", return_value=privates), \
            mock.patch.object(lifecycle, "current_private", return_value=(keys, reader_private)):
        def open_inbox() -> float:
            db.session.expire_all()
            start = time.perf_counter()
            total = services.inbox_count(reader)  # as the view does: the first page, newest 50
            rows = services.inbox(reader)
            render_template("messaging/inbox.html", rows=rows, page=1, pages=-(-total // services.INBOX_PAGE),
                            total=total)
            db.session.commit()
            return time.perf_counter() - start

        first = open_inbox()  # signs a delivery receipt for every message listed
        samples = [open_inbox() for _ in range(rounds)]
    return {"open the inbox": percentiles(samples) | {"conversations": size, "listed": services.INBOX_PAGE,
                                                      "first_open_with_receipts_ms": round(first * 1000, 1)}}


def bench_unlock(rounds: int) -> dict:
    from network.messaging.keys import (
        DEFAULT_KDF,
        generate_member_keys,
        seal_for_session,
        session_key_from_token,
        unwrap_with_password,
        wrap_private_keys,
    )

    _public, private = generate_member_keys()
    record = wrap_private_keys(private, PASSWORD, DEFAULT_KDF, member_id=1)
    samples = []
    for n in range(rounds):
        start = time.perf_counter()
        unlocked = unwrap_with_password(record, PASSWORD, member_id=1)
        seal_for_session(unlocked, session_key_from_token(f"token-{n}"), member_id=1)
        samples.append(time.perf_counter() - start)
    return {"unlock keys at sign-in": percentiles(samples) | {
        "argon2id": {"t": DEFAULT_KDF.time_cost, "m_kib": DEFAULT_KDF.memory_cost, "p": DEFAULT_KDF.parallelism}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--inbox", type=int, default=1000)
    parser.add_argument("--unlock-rounds", type=int, default=10)
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        with app.test_request_context("/"):
            results |= bench_send(args.rounds)
            results |= bench_inbox(args.inbox, max(10, args.rounds // 3))
    results |= bench_unlock(args.unlock_rounds)
    print(f"{'measure':32} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}  target")
    for name, figures in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"p95 <= {target:.0f} ms: {'met' if figures['p95_ms'] <= target else 'MISSED'}"
        print(f"{name:32} {figures['n']:>4} {figures['p50_ms']:>9.2f} {figures['p95_ms']:>9.2f} "
              f"{figures['p99_ms']:>9.2f}  {verdict}")
    if "open the inbox" in results:
        print(f"first opening of the inbox (signs the delivery receipts of the 50 conversations listed): "
              f"{results['open the inbox']['first_open_with_receipts_ms']} ms")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"messaging-{date.today().isoformat()}.json"
    out.write_text(json.dumps({"date": date.today().isoformat(), "machine": platform.platform(),
                               "python": platform.python_version(), "database": "SQLite", "results": results,
                               "targets_p95_ms": TARGETS}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
