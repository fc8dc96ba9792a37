"""Mixed journeys of signed-in members against the local cluster (`make cluster`: two gunicorn servers on
PostgreSQL and Redis behind nginx with TLS), as people use the platform at once (issue 16, item 4).

    make cluster
    .venv/bin/python benchmarks/load.py                         # 50 clients, 60 s, https://127.0.0.1:8443
    .venv/bin/python benchmarks/load.py --clients 20 --duration 20

Each client is a thread with its own keep-alive connection, signed in as one of the demo members (the sessions of
the seven demo accounts with a second factor are shared round-robin, as one person's several tabs are). A client
picks a journey at random by weight, runs its steps one after the other, and starts again at once (no think time:
the figure is what the cluster sustains, not what a realistic crowd asks):

- catalogue search (`/cases?q=...` with a word from practitioners' queries), then one case page from the results;
- forum reading (index, a space, a topic) and, for one journey in ten, replying to that topic;
- messages (inbox, a conversation) and, for one in ten, sending an encrypted reply in it;
- the directory finder for a State and a form of cooperation.

A request that fails at the connection or with 502/503 is retried once (the client's side of a proxy routing
around a dead server). Every write the platform acknowledged (a redirect after the POST) is counted and checked in
the database at the end: a forum reply by its unique text, a message by the messages its sender has after the run.
The table gives throughput, p50/p95/p99 per journey step and errors; the JSON goes to
results/load-<date>.json. `benchmarks/chaos.py` runs the same load while it breaks things.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the cluster's certificate is self-signed

QUERIES = ("extradition", "mutual legal assistance", "bank records", "confiscation of proceeds", "witness",
           "trafficking in persons", "videoconference hearing", "money laundering", "dual criminality",
           "asset recovery", "cybercrime evidence", "extradition refused life sentence")
FINDER = (("NGA", "extradition"), ("BRA", "mla"), ("AUT", "mla"), ("PHL", "extradition"), ("FRA", "mla"))
WEIGHTS = {"search": 35, "forum": 30, "messages": 20, "finder": 15}
CASE_LINK = re.compile(r'href="(/cases/[A-Za-z0-9._-]+)"')
SPACE_LINK = re.compile(r'href="(/forum/spaces?/[^"#?]+)"')
TOPIC_LINK = re.compile(r'href="(/forum/topics?/\d+)[^"]*"')
CONVERSATION_LINK = re.compile(r'href="(/messages/\d+)"')


class Forms(HTMLParser):
    """The forms of a page: action -> the fields a browser would send as they stand (hidden inputs, checked boxes
    and radios, selected options), so a POST carries the CSRF token and the defaults the page offers."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._action: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._action = a.get("action", "")
            self.forms.setdefault(self._action, {})
        elif self._action is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("hidden", "text") or (kind in ("checkbox", "radio") and "checked" in a):
                self.forms[self._action][a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.forms[self._action]):
            self.forms[self._action][self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None
        elif tag == "select":
            self._select = None


def form_fields(html: str, action_part: str) -> tuple[str, dict[str, str]] | None:
    parser = Forms()
    parser.feed(html)
    for action, fields in parser.forms.items():
        if action_part in action:
            return action, fields
    return None


@dataclass
class Tally:
    """Everything the clients measured, under one lock."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    retried: int = 0
    failures: list[tuple[float, str, str]] = field(default_factory=list)  # (monotonic time, step, status)
    replies_acknowledged: list[str] = field(default_factory=list)
    messages_acknowledged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, step: str, ms: float, error: str | None = None, status: str = "") -> None:
        with self.lock:
            self.times[step].append(ms)
            if error:
                self.errors[step] += 1
                self.failures.append((time.monotonic(), step, status))
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{step}: {error}")


class Client:
    def __init__(self, base: str, cookies: dict[str, str], account: str, tally: Tally, seed: int) -> None:
        self.base, self.account, self.tally = base, account, tally
        self.random = random.Random(seed)  # noqa: S311 - choosing journeys, not secrets
        self.session = requests.Session()
        self.session.headers["Referer"] = base + "/"
        for name, value in cookies.items():
            self.session.cookies.set(name, value, domain=urlsplit(base).hostname)

    def _send(self, method: str, path: str, **kwargs) -> requests.Response | None:
        for attempt in (1, 2):
            try:
                answer = self.session.request(method, urljoin(self.base, path), allow_redirects=False, timeout=30,
                                              verify=False, **kwargs)
            except requests.RequestException as error:
                answer, failure = None, type(error).__name__
            else:
                failure = None if answer.status_code not in (502, 503, 504) else str(answer.status_code)
            if failure is None:
                return answer
            if attempt == 1:
                with self.tally.lock:
                    self.tally.retried += 1
        return answer

    def step(self, name: str, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> str | None:
        start = time.perf_counter()
        answer = self._send(method, path, **kwargs)
        ms = (time.perf_counter() - start) * 1000
        if answer is None or answer.status_code not in expect:
            status = str(answer.status_code) if answer is not None else "no answer"
            self.tally.record(name, ms, f"{method} {path} -> {status}", status)
            return None
        self.tally.record(name, ms)
        return answer.text if answer.status_code == 200 else answer.headers.get("Location", "")

    # ------------------------------------------------------------ journeys

    def search(self) -> None:
        page = self.step("search", "GET", "/cases", params={"q": self.random.choice(QUERIES)})
        links = CASE_LINK.findall(page or "")
        links = [link for link in links if not link.startswith(("/cases/new", "/cases/mine", "/cases/statistics",
                                                               "/cases/review"))]
        if links:
            self.step("case page", "GET", self.random.choice(links[:10]))

    def forum(self) -> None:
        index = self.step("forum index", "GET", "/forum/")
        spaces = SPACE_LINK.findall(index or "")
        if not spaces:
            return
        space = self.step("forum space", "GET", self.random.choice(spaces))
        topics = TOPIC_LINK.findall(space or "")
        if not topics:
            return
        topic_path = self.random.choice(topics)
        topic = self.step("forum topic", "GET", topic_path)
        if topic and self.random.random() < 0.1:
            found = form_fields(topic, "/reply")
            if found:
                action, fields = found
                marker = f"load-{uuid.uuid4().hex}"
                fields["body"] = f"A reply written by the load benchmark ({marker})."
                if self.step("forum reply", "POST", action, expect=(302, 303), data=fields) is not None:
                    with self.tally.lock:
                        self.tally.replies_acknowledged.append(marker)

    def messages(self) -> None:
        inbox = self.step("inbox", "GET", "/messages/")
        conversations = CONVERSATION_LINK.findall(inbox or "")
        if not conversations:
            return
        path = self.random.choice(conversations)
        conversation = self.step("conversation", "GET", path)
        if conversation and self.random.random() < 0.1:
            found = form_fields(conversation, "/reply")
            if found:
                action, fields = found
                fields["text"] = f"A message sent by the load benchmark ({uuid.uuid4().hex})."
                if self.step("message send", "POST", action, expect=(302, 303), data=fields) is not None:
                    with self.tally.lock:
                        self.tally.messages_acknowledged[self.account] += 1

    def finder(self) -> None:
        state, form = self.random.choice(FINDER)
        self.step("finder", "GET", "/directory/finder", params={"state": state, "form": form, "urgent": "no"})

    def run(self, until: float, stop: threading.Event) -> None:
        journeys = list(WEIGHTS)
        weights = [WEIGHTS[j] for j in journeys]
        while time.monotonic() < until and not stop.is_set():
            getattr(self, self.random.choices(journeys, weights)[0])()


# ---------------------------------------------------------------- signing in

def sign_in_accounts(base: str, instance: Path) -> dict[str, dict[str, str]]:
    """One session per demo account with a second factor, through the real forms (pages.py's sign_in)."""
    from benchmarks.pages import sign_in

    accounts = json.loads((instance / "demo-accounts.json").read_text())
    sessions = {}
    for key, account in accounts.items():
        if not account.get("totp_secret"):
            continue
        session = requests.Session()
        session.headers["Referer"] = base + "/"  # over HTTPS the CSRF check wants a same-site Referer, as browsers send
        sign_in(lambda path, data, s=session: s.post(urljoin(base, path), data=data, allow_redirects=False, verify=False),
                lambda path, s=session: s.get(urljoin(base, path), verify=False).text, account, 0)
        if session.get(urljoin(base, "/messages/"), allow_redirects=False, verify=False).status_code != 200:
            print(f"  {key}: not signed in (skipped)", file=sys.stderr)
            continue
        sessions[key] = {c.name: c.value for c in session.cookies}
    if not sessions:
        raise SystemExit("no demo account could sign in: is the cluster running with its demo data?")
    return sessions


# ---------------------------------------------------------------- the run

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))], 1)


def run_load(base: str, instance: Path, clients: int, duration: float, stop: threading.Event | None = None,
             progress: bool = True) -> tuple[Tally, dict, float]:
    sessions = sign_in_accounts(base, instance)
    names = sorted(sessions)
    tally = Tally()
    stop = stop or threading.Event()
    until = time.monotonic() + duration
    threads = []
    for number in range(clients):
        account = names[number % len(names)]
        client = Client(base, sessions[account], account, tally, seed=number)
        thread = threading.Thread(target=client.run, args=(until, stop), daemon=True)
        threads.append(thread)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if progress:
            done = sum(len(v) for v in tally.times.values())
            elapsed = time.monotonic() - started
            print(f"\r  {elapsed:5.0f} s  {done} requests  {sum(tally.errors.values())} errors", end="",
                  file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return tally, sessions, time.monotonic() - started


def summary(tally: Tally, elapsed: float) -> dict:
    steps = {}
    for step, times in sorted(tally.times.items()):
        steps[step] = {"requests": len(times), "errors": tally.errors.get(step, 0),
                       "p50_ms": round(statistics.median(times), 1), "p95_ms": percentile(times, 0.95),
                       "p99_ms": percentile(times, 0.99)}
    total = sum(len(t) for t in tally.times.values())
    return {"seconds": round(elapsed, 1), "requests": total, "rps": round(total / elapsed, 1),
            "errors": sum(tally.errors.values()), "retried": tally.retried, "steps": steps,
            "error_samples": tally.error_samples}


def check_writes(database_url: str, tally: Tally, messages_before: dict[str, int]) -> dict:
    """Every acknowledged write is in the database: forum replies by their marker, messages by count."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT substring(body_markdown from 'load-[0-9a-f]{32}') FROM forum_posts WHERE body_markdown LIKE %s",
            ("%(load-%",))}
        after = message_counts(conn)
    lost_replies = [m for m in tally.replies_acknowledged if m not in stored]
    lost_messages = {k: n - (after.get(k, 0) - messages_before.get(k, 0))
                     for k, n in tally.messages_acknowledged.items()
                     if after.get(k, 0) - messages_before.get(k, 0) < n}
    return {"replies_acknowledged": len(tally.replies_acknowledged), "replies_lost": len(lost_replies),
            "messages_acknowledged": sum(tally.messages_acknowledged.values()),
            "messages_lost": sum(lost_messages.values())}


def message_counts(conn) -> dict[str, int]:
    """Messages per demo account (by e-mail's local part matching the demo account key's member)."""
    rows = conn.execute("SELECT m.email, count(*) FROM messaging_messages g JOIN members m ON m.id = g.sender_id "
                        "GROUP BY m.email").fetchall()
    return {email: count for email, count in rows}


def account_emails(instance: Path) -> dict[str, str]:
    return {k: v["email"] for k, v in json.loads((instance / "demo-accounts.json").read_text()).items()}


def report(result: dict) -> str:
    lines = [f"{result['requests']} requests in {result['seconds']} s: {result['rps']} req/s, "
             f"{result['errors']} errors, {result['retried']} retried once",
             "", "| step | requests | errors | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for step, row in result["steps"].items():
        lines.append(f"| {step} | {row['requests']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | "
                     f"{row['p99_ms']} |")
    writes = result.get("writes")
    if writes:
        lines += ["", f"acknowledged writes: {writes['replies_acknowledged']} forum replies "
                      f"({writes['replies_lost']} lost), {writes['messages_acknowledged']} messages "
                      f"({writes['messages_lost']} lost)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="https://127.0.0.1:8443")
    parser.add_argument("--instance", default=str(ROOT / ".cluster" / "instance"))
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/network_cluster")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    instance = Path(args.instance)
    import psycopg

    emails = account_emails(instance)
    with psycopg.connect(args.database_url) as conn:
        before = message_counts(conn)
    print(f"Load: {args.clients} clients for {args.duration:.0f} s against {args.base}", file=sys.stderr)
    tally, _, elapsed = run_load(args.base, instance, args.clients, args.duration)
    tally.messages_acknowledged = defaultdict(int, {emails[k]: n for k, n in tally.messages_acknowledged.items()})
    result = summary(tally, elapsed)
    result["writes"] = check_writes(args.database_url, tally, before)
    result["environment"] = {"date": dt.date.today().isoformat(), "clients": args.clients, "base": args.base,
                             "cluster": "2 gunicorn servers x 2 sync workers, nginx, PostgreSQL, Redis, 2 cores"}
    print(report(result))
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.output) if args.output else RESULTS / f"load-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwritten to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
