"""Failures, measured (issue 16, item 5): the load of `benchmarks/load.py` runs against the local cluster
(`make cluster`) while this script breaks things, one after the other, for real:

1. kill -9 one application server (its gunicorn master and workers): nginx routes around it; only requests in
   flight on it may fail, and each is retried once by the client. The server is started again afterwards.
2. kill -9 the worker (when the cluster has one): mail and index work resume from the outboxes when it is back,
   with nothing lost and nothing sent twice (checked in the mail outbox).
3. restart Redis (`redis-cli shutdown nosave`, then the machine's own configuration): throttles degrade safely —
   during the outage, wrong passwords for one account are still stopped at the limit, never a 500.
4. stop PostgreSQL for 10 s (`pg_ctlcluster`): pages answer a clear 503 with Retry-After, and the cluster recovers
   without a restart.

It needs root (it stops and starts the machine's PostgreSQL and Redis): run it on a machine of your own, never on
one that others use. Per phase it prints requests, errors (after the one retry) by status, and at the end the
acknowledged writes lost (0 expected); the JSON goes to results/chaos-<date>.json.

    make cluster && .venv/bin/python benchmarks/chaos.py --clients 50
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import (  # noqa: E402
    RESULTS,
    account_emails,
    check_writes,
    message_counts,
    run_load,
    summary,
)

CLUSTER = ROOT / ".cluster"
PG_VERSION = "15"


def say(text: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def pids_of_server(port: int) -> list[int]:
    master = int((CLUSTER / "run" / f"app-{port}.pid").read_text())
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def restart_cluster_parts() -> None:
    subprocess.run(["bash", str(ROOT / "deploy" / "cluster.sh"), "start"], check=True,  # noqa: S603, S607
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_app_server(port: int) -> str:
    pids = pids_of_server(port)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (CLUSTER / "run" / f"app-{port}.pid").unlink(missing_ok=True)
    return f"killed app server :{port} (pids {', '.join(map(str, pids))})"


def kill_worker() -> str | None:
    pidfile = CLUSTER / "run" / "worker.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    pidfile.unlink(missing_ok=True)
    return f"killed the worker (pid {pid})"


def wrong_passwords(base: str, email: str, attempts: int) -> Counter:
    """Wrong passwords for one account through the real form: what the throttle answers."""
    session = requests.Session()
    session.headers["Referer"] = base + "/"
    answers: Counter = Counter()
    for _ in range(attempts):
        page = session.get(urljoin(base, "/sign-in"), verify=False)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if not token:
            answers[f"GET {page.status_code}"] += 1
            continue
        answer = session.post(urljoin(base, "/sign-in"), verify=False, allow_redirects=False,
                              data={"csrf_token": token.group(1), "email": email, "password": "not the password"})
        throttled = answer.status_code == 429 or "Too many" in answer.text
        answers["throttled" if throttled else str(answer.status_code)] += 1
    return answers


def restart_redis(base: str, email: str, limit_attempts: int) -> dict:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False,  # noqa: S603, S607
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    during = wrong_passwords(base, email, limit_attempts)
    subprocess.run(["redis-server", "/etc/redis/redis.conf", "--daemonize", "yes"], check=True)  # noqa: S603, S607
    time.sleep(1)
    return {"wrong_passwords_during_outage": dict(during)}


def stop_postgres(seconds: float, base: str) -> dict:
    cluster = f"{PG_VERSION} main"
    subprocess.run(["pg_ctlcluster", *cluster.split(), "stop", "-m", "fast"], check=True)  # noqa: S603, S607
    statuses: Counter = Counter()
    retry_after = set()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            page = requests.get(urljoin(base, "/cases"), verify=False, timeout=10)  # noqa: S501 - self-signed
            statuses[str(page.status_code)] += 1
            if page.status_code == 503:
                retry_after.add(page.headers.get("Retry-After"))
                clear = "Briefly unavailable" in page.text
                statuses["503 with the clear page" if clear else "503 without it"] += 1
        except requests.RequestException as error:
            statuses[type(error).__name__] += 1
        time.sleep(0.5)
    subprocess.run(["pg_ctlcluster", *cluster.split(), "start"], check=True)  # noqa: S603, S607
    recovered_after = None
    for _ in range(60):
        if requests.get(urljoin(base, "/cases"), verify=False, timeout=10).status_code == 200:  # noqa: S501
            recovered_after = round(time.monotonic() - started - seconds, 1)
            break
        time.sleep(0.5)
    return {"during_outage": dict(statuses), "retry_after": sorted(filter(None, retry_after)),
            "first_200_seconds_after_start": recovered_after}


def mail_outbox(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        unsent, total, repeated = conn.execute(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL), count(*), count(*) FILTER (WHERE attempts > 1) "
            "FROM mail_outbox").fetchone()
    return {"mails": total, "unsent": unsent, "attempted_more_than_once": repeated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="https://127.0.0.1:8443")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/network_cluster")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pause", type=float, default=12, help="seconds of load between two faults")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("chaos.py stops and starts PostgreSQL and Redis: run it as root on a machine of your own")
    instance = CLUSTER / "instance"
    emails = account_emails(instance)
    import psycopg

    with psycopg.connect(args.database_url) as conn:
        before = message_counts(conn)

    stop = threading.Event()
    box: dict = {}

    def load() -> None:
        box["tally"], _, box["elapsed"] = run_load(args.base, instance, args.clients, 3600, stop, progress=False)

    say(f"load: {args.clients} clients against {args.base}")
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    time.sleep(args.pause + 5)  # signed in and running
    phases = []

    def phase(name: str, action) -> None:
        start = time.monotonic()
        say(name)
        detail = action()
        phases.append({"phase": name, "start": start, "end": time.monotonic(), "detail": detail})
        time.sleep(args.pause)

    port = 8001
    phase("kill -9 one application server", lambda: kill_app_server(port))
    phase("start it again", lambda: (restart_cluster_parts(), "started")[1])
    phase("kill -9 the worker", kill_worker)
    phase("start it again", lambda: (restart_cluster_parts(), "started")[1])
    victim = emails.get("member_new") or next(iter(emails.values()))
    phase("restart Redis", lambda: restart_redis(args.base, victim, 25))  # 4 processes x a limit of 5
    phase("stop PostgreSQL for 10 s", lambda: stop_postgres(10, args.base))
    stop.set()
    thread.join()
    tally = box["tally"]
    tally.messages_acknowledged = defaultdict(int, {emails[k]: n for k, n in tally.messages_acknowledged.items()})
    result = summary(tally, box["elapsed"])
    for item in phases:
        window_end = item["end"] + args.pause
        failed = Counter(status for t, _, status in tally.failures if item["start"] <= t < window_end)
        item["failures_after_retry"] = dict(failed)
    outside = Counter(status for t, _, status in tally.failures
                      if not any(p["start"] <= t < p["end"] + args.pause for p in phases))
    result["phases"] = [{k: v for k, v in p.items() if k not in ("start", "end")} for p in phases]
    result["failures_outside_phases"] = dict(outside)
    result["writes"] = check_writes(args.database_url, tally, before)
    result["mail_outbox"] = mail_outbox(args.database_url)
    result["environment"] = {"date": dt.date.today().isoformat(), "clients": args.clients}
    print(json.dumps({k: result[k] for k in ("rps", "errors", "retried", "phases", "failures_outside_phases",
                                             "writes", "mail_outbox")}, indent=1))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"chaos-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    say(f"written to {out}")


if __name__ == "__main__":
    main()
