"""What each page costs under load: the demonstration platform under gunicorn (2 sync workers, the README's
production start), a member and a moderator signed in through the real forms, wrk with 50 connections over every
page a member or visitor uses, and the same measure of a trivial Flask page in the same run (the ratio is the
figure that survives a change of machine).

    .venv/bin/python benchmarks/pages.py                        # SQLite, every page, 5 s each
    .venv/bin/python benchmarks/pages.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/pages.py --pages topic-50,search --duration 10
    .venv/bin/python benchmarks/pages.py --profile topic-50     # the top costs of one page, in-process

Per page: requests/s and errors at 50 connections (wrk), server CPU per request (the workers' CPU time over the
run divided by the requests served), p50/p95 of a single request on an idle server (200 sequential requests),
SQL statements per request (counted in-process with the same data and the same signed-in member), page size, and
the ratio of requests/s to the trivial page's. The table is printed and written to
results/pages-<date>-<database>.json. wrk comes from Debian (`apt-get install wrk`).
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = Path(__file__).resolve().parent / "results"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Page:
    name: str
    path: str
    role: str  # anonymous, member or moderator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the platform under test

@contextmanager
def pg_database(pg_url: str) -> Iterator[str]:
    """A database of its own on the server of pg_url, dropped at the end."""
    import sqlalchemy as sa

    name = f"bench_pages_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def platform_environment(folder: str, port: int, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NETWORK_") and key != "DATABASE_URL"}
    env.update({
        "NETWORK_DEMO_MODE": "1",
        "NETWORK_INSTANCE_PATH": folder,
        "NETWORK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NETWORK_MAIL_BACKEND": "console",
        # A load generator is one client address: the per-address throttles would answer 429 after a few requests.
        "NETWORK_SEARCH_RATE_LIMIT": "1000000000",
    })
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], env=env, cwd=ROOT,  # noqa: S603 (ours)
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def add_long_threads(app, accounts: dict) -> dict[str, str]:
    """A forum topic of 50 posts and a conversation of 20 messages, written through the services; and the paths of
    the pages that show one of each kind of object."""
    from sqlalchemy import func, select

    from catalogue.cases.models import Case
    from network.core.db import db
    from network.directory.models import Authority
    from network.forum import services as forum
    from network.forum.models import Post, Space, Topic
    from network.members.models import Member
    from network.messaging import lifecycle
    from network.messaging import services as messaging

    with app.test_request_context():
        def member(key: str) -> Member:
            return db.session.scalar(select(Member).where(Member.email == accounts[key]["email"]))

        writer, reader = member("member_bra"), member("member_phl")
        small = db.session.execute(
            select(Topic.id, func.count(Post.id)).join(Post, Post.topic_id == Topic.id).group_by(Topic.id)
            .order_by(func.count(Post.id).desc(), Topic.id)
        ).first()
        topic_small = db.session.get(Topic, small[0])
        space = db.session.get(Space, topic_small.space_id)
        topic = forum.create_topic(writer, space, "Fifty posts: video hearings with the requested State",
                                   "How long did your last hearing by videoconference take to arrange?")
        for n in range(49):
            forum.reply(reader if n % 2 == 0 else writer, topic,
                        f"Reply {n + 1}: in our experience the **central authority** answered within {n + 2} weeks; "
                        "the [Convention](https://www.unodc.org/) article 18 (18) was the legal basis.\n\n"
                        "- interpreter booked\n- test call held\n- record signed")
        keys = {key: lifecycle.current_private_with_password(member(key), accounts[key]["password"])
                for key in ("member_bra", "member_phl")}
        handling = messaging.Handling(confidential=False, limited_use=False)
        conversation = messaging.start_conversation(writer, [reader], "Twenty messages: asset recovery follow-up",
                                                    "Where does the request for the bank records stand?", handling,
                                                    private=keys["member_bra"])
        for n in range(19):
            sender = "member_phl" if n % 2 == 0 else "member_bra"
            messaging.reply(member(sender), conversation, f"Message {n + 2}: the file moved one step further.",
                            handling, private=keys[sender])
        db.session.commit()
        case = db.session.scalar(select(Case).where(Case.status == "published", Case.visibility == "public")
                                 .order_by(Case.id))
        authority = db.session.scalar(select(Authority).where(Authority.key == "NGA-CA"))
        return {"case": f"/cases/{case.reference}", "space": f"/forum/spaces/{space.slug}",
                "topic": f"/forum/topics/{topic_small.id}", "topic_50": f"/forum/topics/{topic.id}",
                "conversation_20": f"/messages/{conversation.id}", "authority": f"/directory/{authority.key}"}


def pages(paths: dict[str, str]) -> list[Page]:
    return [
        Page("home", "/", "anonymous"),
        Page("catalogue", "/cases", "anonymous"),
        Page("catalogue-filtered", "/cases?cooperation_form=extradition&outcome=granted", "anonymous"),
        Page("case", paths["case"], "anonymous"),
        Page("search", "/cases?q=extradition", "anonymous"),
        Page("statistics", "/cases/statistics", "anonymous"),
        Page("forum", "/forum/", "member"),
        Page("space", paths["space"], "member"),
        Page("topic", paths["topic"], "member"),
        Page("topic-50", paths["topic_50"], "member"),
        Page("forum-search", "/forum/search?q=extradition", "member"),
        Page("directory", "/directory/", "member"),
        Page("finder", "/directory/finder?state=NGA&form=extradition&urgent=no", "member"),
        Page("authority", paths["authority"], "member"),
        Page("inbox", "/messages/", "member"),
        Page("conversation-20", paths["conversation_20"], "member"),
        Page("vetting", "/vetting", "moderator"),
    ]


def sign_in(post, get, account: dict, step_offset: int) -> None:
    """The real forms: e-mail and password, then the authenticator code of the current step (+1 for a second
    session in the same 30 s: one code signs in once)."""
    from network.members import totp

    def token(path: str) -> str:
        found = CSRF.search(get(path))
        if not found:
            raise SystemExit(f"no CSRF token on {path}")
        return found.group(1)

    post("/sign-in", {"csrf_token": token("/sign-in"), "email": account["email"], "password": account["password"]})
    code = totp.code_at(account["totp_secret"], totp.current_step() + step_offset)
    post("/sign-in/verify", {"csrf_token": token("/sign-in/verify"), "code": code})


# ---------------------------------------------------------------- measuring

def worker_cpu(master: int) -> float:
    """CPU seconds used so far by the gunicorn master's children (the workers)."""
    total = 0
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def wrk(url: str, cookie: str | None, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    served = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sockets.groups()) if sockets else 0)
    return {"requests": served, "rps": rate, "errors": errors}


def single_requests(session: requests.Session, url: str, count: int = 200) -> dict:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        answer = session.get(url, allow_redirects=False)
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "bytes": len(answer.content)}


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], port: int, workers: int = 2) -> Iterator[int]:
    log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a full pipe would stop the server
    process = subprocess.Popen([str(BIN / "gunicorn"),  # noqa: S603 (our own command line)
                                "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                "--log-level", "warning", app_spec], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=log, text=True)

    def stopped(why: str) -> SystemExit:
        log.seek(0)
        return SystemExit(f"{why}:\n{log.read()[-3000:]}")

    try:
        for _ in range(600):
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=10)
                break
            except requests.RequestException as error:
                if process.poll() is not None:
                    raise stopped("gunicorn stopped") from error
                time.sleep(0.1)
        else:
            raise stopped(f"gunicorn did not answer on port {port} within a minute")
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class Statements:
    """SQL statements per request, counted in-process on the same database."""

    def __init__(self, app) -> None:
        from sqlalchemy import event

        from network.core.db import db

        self.count = 0
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1

    def of(self, client, path: str) -> int:
        client.get(path)  # warm: first-request work is not the page's
        self.count = 0
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code} in-process")
        return self.count


def in_process_clients(app, accounts: dict) -> dict:
    """Test clients signed in through the same forms (the gunicorn sessions use the next time step's code: one code
    signs in once)."""
    clients = {"anonymous": app.test_client()}
    for role, key in (("member", "member_bra"), ("moderator", "moderator")):
        client = app.test_client()
        sign_in(lambda path, data, c=client: c.post(path, data=data),
                lambda path, c=client: c.get(path).get_data(as_text=True), accounts[key], 0)
        clients[role] = client
    return clients


# ---------------------------------------------------------------- the run

def run(args: argparse.Namespace) -> None:
    database = "postgresql" if args.pg_url else "sqlite"
    folder = tempfile.mkdtemp(prefix="bench-pages-")
    port = free_port()
    with (pg_database(args.pg_url) if args.pg_url else _nothing()) as database_url:
        env = platform_environment(folder, port, database_url)
        progress(f"Creating the demonstration platform in {folder} ({database})")
        flask(env, "db", "upgrade")
        flask(env, "demo", "load")
        accounts = json.loads((Path(folder) / "demo-accounts.json").read_text())
        os.environ.clear()
        os.environ.update(env)
        from app import create_app

        app = create_app()
        progress("Adding a topic of 50 posts and a conversation of 20 messages")
        paths = add_long_threads(app, accounts)
        chosen = pages(paths)
        if args.pages:
            wanted = set(args.pages.split(","))
            chosen = [p for p in chosen if p.name in wanted]
            if not chosen:
                raise SystemExit(f"no page named {args.pages}; pages: {', '.join(p.name for p in pages(paths))}")
        clients = in_process_clients(app, accounts)
        if args.profile:
            named = [p for p in pages(paths) if p.name == args.profile]
            if not named:
                raise SystemExit(f"no page named {args.profile}; pages: {', '.join(p.name for p in pages(paths))}")
            profile(clients, named[0])
            return
        counter = Statements(app)
        statements = {page.name: counter.of(clients[page.role], page.path) for page in chosen}

        results = {"trivial": measure_trivial(args, port)}
        with gunicorn("app:create_app()", env, port) as master:
            base = f"http://127.0.0.1:{port}"
            sessions = {"anonymous": requests.Session()}
            for role, key in (("member", "member_bra"), ("moderator", "moderator")):
                session = requests.Session()
                sign_in(lambda path, data, s=session: s.post(base + path, data=data, allow_redirects=False),
                        lambda path, s=session: s.get(base + path).text, accounts[key], 1)
                sessions[role] = session
            for number, page in enumerate(chosen, 1):
                progress(f"[{number}/{len(chosen)}] {page.name} {page.path}")
                session = sessions[page.role]
                single = single_requests(session, base + page.path)
                cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies) or None
                before = worker_cpu(master)
                load = wrk(base + page.path, cookie, args.duration, args.connections)
                cpu = worker_cpu(master) - before
                results[page.name] = {"path": page.path, "role": page.role, **load, **single,
                                      "cpu_ms": round(cpu * 1000 / max(load["requests"], 1), 2),
                                      "statements": statements[page.name]}
        report(results, database, args)
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def measure_trivial(args: argparse.Namespace, port: int) -> dict:
    progress("The trivial page")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    with gunicorn("trivial_app:create_app()", env, port) as master:
        url = f"http://127.0.0.1:{port}/"
        single = single_requests(requests.Session(), url)
        before = worker_cpu(master)
        load = wrk(url, None, args.duration, args.connections)
        cpu = worker_cpu(master) - before
    return {"path": "/", "role": "anonymous", **load, **single,
            "cpu_ms": round(cpu * 1000 / max(load["requests"], 1), 2), "statements": 0}


def report(results: dict, database: str, args: argparse.Namespace) -> None:
    trivial = results["trivial"]["rps"]
    header = (f"{'page':<20} {'req/s':>7} {'ratio':>6} {'errors':>6} {'CPU ms':>7} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'SQL':>4} {'KB':>6}")
    lines = [f"Pages on {database}: 2 gunicorn workers, wrk {args.connections} connections, {args.duration} s each",
             header, "-" * len(header)]
    for name, row in results.items():
        row["ratio_to_trivial"] = round(row["rps"] / trivial, 3) if trivial else None
        lines.append(f"{name:<20} {row['rps']:>7.0f} {row['ratio_to_trivial']:>6.2f} {row['errors']:>6} "
                     f"{row['cpu_ms']:>7.2f} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['statements']:>4} "
                     f"{row['bytes'] / 1024:>6.1f}")
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"pages-{dt.date.today().isoformat()}-{database}{args.suffix}.json"
    path.write_text(json.dumps({"database": database, "connections": args.connections, "duration_s": args.duration,
                                "workers": 2, "cores": os.cpu_count(), "pages": results}, indent=2) + "\n")
    progress(f"written to {path.relative_to(ROOT)}")


def profile(clients: dict, page: Page, rounds: int = 200) -> None:
    client = clients[page.role]
    client.get(page.path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        client.get(page.path)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    print(f"{page.name} {page.path}: {rounds} requests in-process")
    stats.print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL server (a database of its own is created and dropped); SQLite without it")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--profile", default="", help="profile one page in-process and print the top costs")
    parser.add_argument("--suffix", default="", help="added to the results file name (e.g. -before)")
    args = parser.parse_args()
    if not shutil.which("wrk") and not args.profile:
        raise SystemExit("wrk is needed: apt-get install wrk")
    run(args)


if __name__ == "__main__":
    main()
