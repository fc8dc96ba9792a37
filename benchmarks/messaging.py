"""Messaging benchmark: server time to send to 1, 10 and 49 recipients (a full group of 50), to open an inbox of 1,000 conversations,
and to unlock a member's keys at sign-in (Argon2id at the production parameters).

    .venv/bin/python benchmarks/messaging.py [--rounds 60] [--inbox 1000] [--archived 100]
    .venv/bin/python benchmarks/messaging.py --database postgres [--pg-url postgresql://postgres@127.0.0.1:5432/bench_messaging]

Runs the services inside the application on a temporary database (migrated): SQLite by default, or PostgreSQL in a
database of its own created (and dropped) on the server of --pg-url (or BENCH_DATABASE_URL). The members' private
keys are handed in directly rather than through a signed-in session. Times include the database work and the
commit, not HTTP. Opening the inbox does what the inbox page does: count the conversations in the inbox and those
archived, list the first page (newest 50) and render it; the reader has --archived conversations archived besides
the --inbox ones in their inbox, so the archive filter has rows to exclude. Results are printed and written to
benchmarks/results/messaging-<date>[-postgres].json (or --output). Not part of the test suite."""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "benchmark passphrase of decent length"  # noqa: S105 -- a fixture, not a secret
TARGETS = {"send to 10 recipients": 30.0, "open the inbox": 100.0}  # p95, milliseconds
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_messaging"


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@contextmanager
def database(kind: str, folder: str, pg_url: str) -> Iterator[str]:
    """The URI to run on: a SQLite file in the temporary folder, or a PostgreSQL database of its own (dropped at
    the end, whatever happens)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    import sqlalchemy as sa

    target = sa.engine.make_url(_sqlalchemy_url(pg_url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(target.database)
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


def analyze() -> None:
    """Fresh planner statistics after loading, as autovacuum would have gathered on a live PostgreSQL database."""
    import sqlalchemy as sa

    from network.core.db import db

    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))


def make_app(folder: str, uri: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"INSTANCE_PATH": folder, "TESTING": True, "SECRET_KEY": "b" * 48, "MASTER_KEY": "m" * 48,
                      "SESSION_COOKIE_SECURE": False, "MAIL_BACKEND": "console",
                      "SQLALCHEMY_DATABASE_URI": uri,
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


def bench_inbox(size: int, archived: int, rounds: int) -> dict:
    from flask import current_app, render_template

    from network.core.clock import utcnow
    from network.core.db import db
    from network.members.models import Member
    from network.messaging import lifecycle, services
    from network.messaging.forms import ConfirmForm
    from network.messaging.models import ConversationArchive

    (reader, reader_private), *writers = make_members(11, "reader")
    # The archived conversations are the oldest ones (the usual case), spread over the same writers.
    for n in range(archived + size):
        writer, writer_private = writers[n % len(writers)]
        conversation = services.start_conversation(writer, [reader], f"Conversation {n}", "Text " * 100,
                                                   services.Handling(), private=writer_private)
        if n < archived:
            db.session.add(ConversationArchive(conversation_id=conversation.id, member_id=reader.id,
                                               archived_at=utcnow() + timedelta(seconds=1)))
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    analyze()
    keys = lifecycle.current_keys(reader)
    privates = {reader_private.key_version: reader_private}
    app, reader_id = current_app._get_current_object(), reader.id
    with mock.patch.object(lifecycle, "session_private_keys", return_value=privates), \
            mock.patch.object(lifecycle, "current_private", return_value=(keys, reader_private)):
        def open_inbox() -> float:
            # A request of its own (its own session and `g`, so nothing cached by the previous opening), then as the
            # inbox page does (messaging.views._inbox_page): the inbox counted, the first page (newest 50) listed,
            # the archived conversations counted for the tab's badge, the page rendered.
            with app.app_context(), app.test_request_context("/messages/"):
                start = time.perf_counter()
                member = db.session.get(Member, reader_id)
                total = services.inbox_count(member, archived=False)
                rows = services.inbox(member, page=1, per_page=services.INBOX_PAGE, archived=False)
                in_archive = services.inbox_count(member, archived=True)
                render_template("messaging/inbox.html", rows=rows, page=1,
                                pages=max(1, -(-total // services.INBOX_PAGE)), total=total, archived=False,
                                in_archive=in_archive, confirm=ConfirmForm())
                db.session.commit()
                elapsed = time.perf_counter() - start
            assert (total, in_archive, len(rows)) == (size, archived, min(size, services.INBOX_PAGE))
            return elapsed

        first = open_inbox()  # signs a delivery receipt for every message listed
        samples = [open_inbox() for _ in range(rounds)]
    return {"open the inbox": percentiles(samples) | {"conversations": size, "archived": archived,
                                                      "listed": services.INBOX_PAGE,
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
    parser.add_argument("--inbox", type=int, default=1000, help="conversations in the reader's inbox")
    parser.add_argument("--archived", type=int, default=100, help="conversations the reader archived, besides")
    parser.add_argument("--unlock-rounds", type=int, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="database to create (and drop) with --database postgres")
    parser.add_argument("--output", help="JSON file (default benchmarks/results/messaging-<date>[-postgres].json)")
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder, database(args.database, folder, args.pg_url) as uri:
        app = make_app(folder, uri)
        with app.test_request_context("/"):
            analyze()
            results |= bench_send(args.rounds)
            results |= bench_inbox(args.inbox, args.archived, max(10, args.rounds // 3))
        with app.app_context():
            from network.core.db import db

            db.session.remove()
            db.engine.dispose()  # before the database is dropped
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
    suffix = "" if args.database == "sqlite" else "-postgres"
    out = Path(args.output) if args.output else RESULTS / f"messaging-{date.today().isoformat()}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"date": date.today().isoformat(), "machine": platform.platform(),
                               "python": platform.python_version(),
                               "database": "SQLite" if args.database == "sqlite" else "PostgreSQL",
                               "load_average": [round(x, 2) for x in os.getloadavg()], "results": results,
                               "targets_p95_ms": TARGETS}, indent=2) + "\n")
    print(f"written to {out.resolve().relative_to(ROOT) if out.resolve().is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
