"""What one page costs in-process: the demonstration platform (as pages.py builds it), a member signed in through the
real forms with the test client, N requests of each page timed (CPU ms per request, without and with the profiler)
and the top functions by cumulative and own time printed.

    .venv/bin/python benchmarks/profile_pages.py forum directory inbox        # 200 requests each
    .venv/bin/python benchmarks/profile_pages.py /messages/ --rounds 500 --top 40
    .venv/bin/python benchmarks/profile_pages.py --keep /tmp/demo forum       # build once, keep the folder ...
    .venv/bin/python benchmarks/profile_pages.py --reuse /tmp/demo forum      # ... and profile it again later
    .venv/bin/python benchmarks/profile_pages.py --no-profile --repeat 5 home-member inbox   # timings only
    .venv/bin/python benchmarks/profile_pages.py --database-url postgresql://postgres@127.0.0.1:5432/prof_x forum
        # on PostgreSQL: the database must exist and be empty; with --keep its address is kept for --reuse

A page is a name of pages.py (forum, topic, inbox, conversation-20 ...), `home-member` (/ signed in) or a path
(requested as the member). The CPU time is the process's (time.process_time), so other work on the machine
changes it far less than requests/s; with --repeat the best of the runs is reported. The SQL statements of one
request are counted too.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages as bench  # noqa: E402 (the same platform and sign-in as the load benchmark)


def build(folder: str, database_url: str | None = None) -> dict:
    """The demonstration platform in folder (and in database_url if given), with the long topic and conversation;
    the paths and the database's address are kept beside it."""
    if database_url:
        (Path(folder) / "bench-database.txt").write_text(database_url)
    env = bench.platform_environment(folder, 5000, database_url)
    bench.progress(f"Creating the demonstration platform in {folder}")
    bench.flask(env, "db", "upgrade")
    bench.flask(env, "demo", "load")
    os.environ.clear()
    os.environ.update(env)
    from app import create_app

    app = create_app()
    accounts = json.loads((Path(folder) / "demo-accounts.json").read_text())
    paths = bench.add_long_threads(app, accounts)
    (Path(folder) / "bench-paths.json").write_text(json.dumps(paths))
    return {"app": app, "accounts": accounts, "paths": paths}


def reuse(folder: str) -> dict:
    kept = Path(folder) / "bench-database.txt"
    env = bench.platform_environment(folder, 5000, kept.read_text().strip() if kept.exists() else None)
    os.environ.clear()
    os.environ.update(env)
    from app import create_app

    return {"app": create_app(), "accounts": json.loads((Path(folder) / "demo-accounts.json").read_text()),
            "paths": json.loads((Path(folder) / "bench-paths.json").read_text())}


def resolve(name: str, paths: dict) -> bench.Page:
    known = {page.name: page for page in bench.pages(paths)}
    known["home-member"] = bench.Page("home-member", "/", "member")
    if name in known:
        return known[name]
    if name.startswith("/"):
        return bench.Page(name, name, "member")
    raise SystemExit(f"no page named {name}; pages: {', '.join(known)} or a path")


def signed_in_clients(app, accounts: dict) -> dict:
    """pages.in_process_clients, again at the next authenticator step if a code was used already (one code signs in
    once: two runs within 30 s)."""
    for _ in range(3):
        clients = bench.in_process_clients(app, accounts)
        if all(clients[role].get("/forum/").status_code == 200 for role in ("member", "moderator")):
            return clients
        bench.progress("The authenticator code was used already: signing in again at the next step")
        time.sleep(30 - time.time() % 30 + 1)
    raise SystemExit("could not sign in")


def database_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL server's processes on this machine (0 where /proc does not show
    them): a page's cost on PostgreSQL is the server's too, on the same two cores under load."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if name == "postgres":
            ticks += int(rest[11]) + int(rest[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_ms(client, path: str, rounds: int) -> tuple[float, float]:
    """(this process's CPU ms per request, the database server's)."""
    start, server = time.process_time(), database_cpu_s()
    for _ in range(rounds):
        client.get(path)
    return (time.process_time() - start) * 1000 / rounds, (database_cpu_s() - server) * 1000 / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", help="page names of pages.py, home-member, or paths")
    parser.add_argument("--rounds", type=int, default=200, help="requests per measure")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per page (the best is reported)")
    parser.add_argument("--top", type=int, default=30, help="functions shown per ordering")
    parser.add_argument("--no-profile", action="store_true", help="timings and statements only")
    parser.add_argument("--keep", help="build the platform in this folder and keep it")
    parser.add_argument("--reuse", help="profile a platform built before with --keep")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to build the platform in")
    args = parser.parse_args()

    if args.reuse:
        platform = reuse(args.reuse)
    else:
        folder = args.keep or tempfile.mkdtemp(prefix="bench-profile-")
        Path(folder).mkdir(parents=True, exist_ok=True)
        platform = build(folder, args.database_url)
    app, paths = platform["app"], platform["paths"]
    clients = signed_in_clients(app, platform["accounts"])
    counter = bench.Statements(app)
    summary = []
    for name in args.pages:
        page = resolve(name, paths)
        client = clients[page.role]
        statements = counter.of(client, page.path)  # also warms the page
        measured = [cpu_ms(client, page.path, args.rounds) for _ in range(args.repeat)]
        runs, server = [run for run, _ in measured], min(server for _, server in measured)
        summary.append((page.name, page.path, min(runs), server, statements))
        print(f"\n=== {page.name} {page.path} as {page.role}: {min(runs):.2f} ms CPU per request "
              f"(runs: {', '.join(f'{r:.2f}' for r in runs)}), database server {server:.2f} ms, "
              f"{statements} SQL statements")
        if args.no_profile:
            continue
        profiler = cProfile.Profile()
        start = time.process_time()
        profiler.enable()
        for _ in range(args.rounds):
            client.get(page.path)
        profiler.disable()
        profiled = (time.process_time() - start) * 1000 / args.rounds
        print(f"--- profiled: {profiled:.2f} ms per request; top {args.top} by cumulative time")
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(args.top)
        print(f"--- top {args.top} by own time")
        stats.sort_stats("tottime").print_stats(args.top)
    print("\npage                 CPU ms/request  server ms  SQL  path")
    for name, path, ms, server, statements in summary:
        print(f"{name:<20} {ms:>14.2f} {server:>10.2f} {statements:>4}  {path}")


if __name__ == "__main__":
    main()
