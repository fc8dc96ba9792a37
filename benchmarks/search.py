"""Search benchmark: indexing throughput, query latency and memory of each search backend on synthetic catalogues.

    .venv/bin/python benchmarks/search.py [--sizes 1000,10000,100000] [--backends whoosh,postgres,tantivy]
                                          [--queries 240]

Each (backend, size) runs in a process of its own, so that its peak memory (ru_maxrss) is its own. The backends are
driven through the SearchBackend interface with plain SearchDocuments (benchmarks/search_data.py): no Flask app and
no cases table, so reindex figures are the engine's work, not loading cases from the database. Whoosh indexes into
a temporary folder; PostgreSQL into a database of its own on the server of --pg-url, created and dropped here.
Each query of the project's engines runs as the catalogue's search page runs it: in the engine's reading() block,
the typed words' correction first, then the page and its facets (no "did you mean").

tantivy (the Rust engine, benchmarks/search_tantivy.py; `pip install -r benchmarks/requirements.txt`) is the
REFERENCE: the same documents and queries, in a process of its own like the others, with ANY-WORD (OR) semantics
ranked by BM25; every figure of the project's backends is also printed as a ratio to tantivy's at the same size.
Results are printed and written to benchmarks/results/search-<date>.json. Not part of the test suite."""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search_data import Dice, synthetic_catalogue, synthetic_document  # noqa: E402

from network.core.runtime import settle_heap  # noqa: E402
from network.search.backend import ANONYMOUS, SearchBackend, Viewer  # noqa: E402
from network.search.query import parse  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PG_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "max_parallel_workers_per_gather")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_search"
BACKENDS = ("whoosh", "postgres", "tantivy")
REFERENCE = "tantivy"  # the engine the others' figures are divided by
INSTALL_REFERENCE = ".venv/bin/pip install -r benchmarks/requirements.txt"
FACETS = ("cooperation_form", "crime_type", "requesting_state", "requested_state", "region", "legal_basis",
          "outcome")
VETTED = Viewer(member_id=None, vetted=True)
WARM_UP = 10
UPDATE_BATCH = 200  # the indexer's outbox batch
# (kind, backend, size, measure, limit): the targets on the development machine.
TARGETS = (("p95 query latency", "whoosh", 10_000, "p95_ms", 50.0),
           ("p95 query latency", "postgres", 100_000, "p95_ms", 50.0),
           ("full reindex", "whoosh", 10_000, "reindex_seconds", 60.0),
           ("full reindex", "postgres", 10_000, "reindex_seconds", 20.0),
           ("peak RSS", "whoosh", 10_000, "rss_peak_mb", 300.0),
           ("peak RSS", "postgres", 100_000, "rss_peak_mb", 300.0))
PG_RANKINGS = ("rum", "gin")  # PostgreSQL: candidates from the RUM index (where rum is installed), or the GIN path

# ---------------------------------------------------------------- the query mix

TEXT_QUERIES = (
    "extradition", "laundering", "corruption", "witnesses", "cocaine", "ransomware", "antiquities", "piracy",
    "bank records", "shell companies fraud", "central authority draft", "court order account",
    "MLA bank records", "JIT trafficking", "AML", "letter rogatory",
    '"controlled delivery"', '"bank secrecy"', '"dual criminality"',
    "launder*", "extradi*", "crypto*",
    "extradition -fraud", "corruption NOT bribes",
    "entraide judiciaire", "traite des personnes", "blanchiment",
    "decomiso", "trata de personas", "extradicion",
    "экстрадиция", "отмывание денег",
    "extradtion", "laundring", "corupption",
)
# Long queries anyone may type or paste, measured beside the mix (not in its figures): what the bounds on one search's
# cost hold it to (docs/operator-guide.md, "What bounds one search's cost"). Built from the mix's own words.
_WORDS = [w.strip('"*') for q in TEXT_QUERIES for w in q.split() if w.isalpha() and w.isascii() and w.upper() != w]
LONG_QUERIES = {
    "paragraph": " ".join(_WORDS[i % len(_WORDS)] for i in range(200)),
    "or-chain": " OR ".join(_WORDS[i % len(_WORDS)] for i in range(100)),
    "prefixes": " ".join(_WORDS[i % len(_WORDS)][:3] + "*" for i in range(100)),
    "phrases": " ".join(f'"{_WORDS[i % len(_WORDS)]} {_WORDS[(i + 3) % len(_WORDS)]}"' for i in range(50)),
    "misspelt": " ".join(_WORDS[i % len(_WORDS)][:-1] + "q" for i in range(30)),
    "negations": " ".join(f"-{_WORDS[i % len(_WORDS)]}" for i in range(80)) + " extradition",
}
# Questions as practitioners type them (issue 11: a question never returns nothing), measured beside the mix too:
# more concepts than the mix's queries, stop words, several languages.
QUESTIONS = (
    "Has a State refused extradition because the fugitive faced a life sentence?",
    "How can a central authority obtain bank records quickly in a money laundering case?",
    "Which courts accepted evidence from witnesses heard by videoconference?",
    "What happens when the requested State refuses to extradite its own nationals?",
    "Can a joint investigation team share evidence of human trafficking across borders?",
    "Why was a request for mutual legal assistance on cocaine trafficking refused?",
    "Who decides on the confiscation of ransomware proceeds held in cryptocurrency?",
    "¿Qué hacer si el Estado requerido rechaza la extradición por doble incriminación?",
    "Comment obtenir le gel des avoirs d'une société écran à l'étranger ?",
    "Как получить банковские документы по запросу о правовой помощи?",
)
FILTER_CHOICES = {
    "cooperation_form": ("mla", "extradition", "confiscation", "joint_investigation"),
    "crime_type": ("money_laundering", "drug_trafficking", "corruption", "cybercrime", "trafficking_in_persons"),
    "region": ("africa", "americas", "asia", "europe", "oceania"),
    "requesting_state": ("FRA", "MEX", "NGA", "AUS", "THA"),
    "outcome": ("granted", "refused", "pending"),
    "language": ("fr", "es", "ru"),
}


@dataclass(frozen=True)
class BenchQuery:
    kind: str  # text, facet or combined
    text: str
    filters: dict
    facets: tuple[str, ...]
    viewer: Viewer
    page: tuple[int, int]


def _filters(dice: Dice, size: int) -> dict:
    kinds = dice.sample(tuple(FILTER_CHOICES), 1 + dice.below(2))
    filters = {kind: dice.sample(FILTER_CHOICES[kind], 1 + dice.below(2)) for kind in kinds}
    if dice.chance(25):
        low = 2005 + dice.below(15)
        filters["year_from"], filters["year_to"] = [str(low)], [str(low + 1 + dice.below(5))]
    return filters


def query_mix(count: int, size: int, seed: int = 1) -> list[BenchQuery]:
    """A fixed mix: 4 in 10 text only, 3 facet only (no text, facet counts), 3 text with filters and facet counts;
    one in ten text queries is a rare word (a file number); readers alternate anonymous / vetted."""
    mix = []
    for i in range(count):
        dice = Dice(seed, "query", i)
        slot = i % 10
        kind = "text" if slot < 4 else "facet" if slot < 7 else "combined"
        text = dice.choice(TEXT_QUERIES)
        if kind == "text" and dice.chance(10):
            text = f"{1 + dice.below(size):06d}"  # a case's file number: a word found in one case at most
        mix.append(BenchQuery(
            kind=kind, text="" if kind == "facet" else text,
            filters={} if kind == "text" else _filters(dice, size),
            facets=() if kind == "text" else FACETS,
            viewer=VETTED if i % 2 else ANONYMOUS,
            page=(1 + dice.below(3) if dice.chance(20) else 1, 20),
        ))
    return mix


# ---------------------------------------------------------------- measuring

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def latency_summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"count": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "mean_ms": round(sum(ms) / len(ms), 2) if ms else 0.0,
            "max_ms": round(max(ms), 2) if ms else 0.0}


def max_rss_mb() -> float:
    """The process's peak RSS, plus its largest child's (Whoosh's rebuild in worker processes): KiB on Linux."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + children) / 1024, 1)


class TimedDocuments:
    """Yields the generator's documents and keeps the time spent generating them (left out of indexing time)."""

    def __init__(self, documents: Iterable) -> None:
        self._documents = iter(documents)
        self.seconds = 0.0

    def __iter__(self) -> Iterator:
        while True:
            start = time.perf_counter()
            try:
                doc = next(self._documents)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            yield doc


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---------------------------------------------------------------- backends

@contextmanager
def whoosh_backend() -> Iterator[tuple[SearchBackend, Callable[[], None], Callable[[], int]]]:
    from network.search.whoosh_backend import WhooshBackend

    with tempfile.TemporaryDirectory(prefix="bench-whoosh-") as folder:
        path = Path(folder) / "index"
        backend = WhooshBackend(path, writer_timeout=60.0)
        backend.rebuild_processes = 2  # the full reindex as `flask search reindex --processes 2` runs it
        yield backend, lambda: None, lambda: folder_bytes(path)


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _run_migration(connection, filename: str) -> None:
    """A migration's upgrade() on `connection` (its module loaded from migrations/versions, Alembic's `op` stood in
    for by the connection)."""
    import importlib.util

    import sqlalchemy as sa

    spec = importlib.util.spec_from_file_location("bench_migration", ROOT / "migrations" / "versions" / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Op:
        @staticmethod
        def get_bind():
            return connection

        @staticmethod
        def execute(statement: str) -> None:
            connection.execute(sa.text(statement))

    module.op = Op()
    module.upgrade()


@contextmanager
def postgres_backend(url: str, ranking: str = "rum", keep: bool = False) \
        -> Iterator[tuple[SearchBackend, Callable[[], None], Callable[[], int]]]:
    """A database of its own (dropped at the end) holding only the search tables; with `ranking` "rum", the RUM
    index and table settings migration 5e4c0b0a1d12 gives a server that offers the rum extension. With `keep`
    (--pg-keep), the database is left in place at the end, and one left by an earlier run is used again as it is
    (the backend's `bench_reused` is then True: the caller does not reindex it)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from network.search.engine_models import CaseSearch, SearchWord
    from network.search.postgres_backend import RUM_INDEX, PostgresBackend

    target = sa.engine.make_url(_sqlalchemy_url(url))
    name = target.database
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    reused = False
    if keep:
        with admin.connect() as connection:
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                with sa.create_engine(target).connect() as kept:
                    reused = bool(kept.scalar(sa.text("SELECT to_regclass('case_search') IS NOT NULL")))
    if not reused:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    engine = sa.create_engine(target)
    try:
        if reused:
            with Session(engine) as session:
                backend = PostgresBackend(lambda: session)
                backend.bench_reused = True
                yield backend, lambda: session.commit(), lambda: int(session.scalar(sa.text(
                    "SELECT pg_total_relation_size('case_search') + pg_total_relation_size('search_words')")))
                session.rollback()
            return
        CaseSearch.__table__.create(engine)
        SearchWord.__table__.create(engine)
        with engine.begin() as connection:  # as migration 5e4c0b0a1d15 does (PostgreSQL only: not in the models)
            connection.execute(sa.text("CREATE INDEX ix_case_search_filed_on ON case_search "
                                       "(filed_on DESC NULLS LAST, case_id DESC)"))
        with engine.begin() as connection:  # the weight tiers, as migration 5e4c0b0a1d1a makes them (its upgrade)
            _run_migration(connection, "5e4c0b0a1d1a_search_rank_tiers.py")
        with engine.begin() as connection:  # the impact-ordered lists and their triggers (migration d8e2f5a1c6b9)
            _run_migration(connection, "d8e2f5a1c6b9_search_impact_lists.py")
        with engine.begin() as connection:  # the bounds' trigger filters each vector once (migration c6d3a9e2b7f4)
            _run_migration(connection, "c6d3a9e2b7f4_search_bounds_vectors_filtered_once.py")
        with engine.begin() as connection:  # "did you mean"'s words by letter (migration b7d4e1f9a2c3)
            _run_migration(connection, "b7d4e1f9a2c3_search_words_by_letter.py")
        if ranking == "rum":  # as the migration does (its statements, not imported: a migration is frozen)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS rum"))
                connection.execute(sa.text(
                    f"CREATE INDEX {RUM_INDEX} ON case_search USING rum (rank_document rum_tsvector_ops)"))
                connection.execute(sa.text("ALTER TABLE case_search SET (toast_tuple_target = 512)"))
        with Session(engine) as session:
            backend = PostgresBackend(lambda: session)
            backend.exclusive_rebuild = True  # the full reindex as `flask search reindex --exclusive` runs it

            def commit() -> None:
                session.commit()
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(sa.text("VACUUM ANALYZE case_search"))
                    connection.execute(sa.text("VACUUM ANALYZE search_words"))

            def size() -> int:
                return int(session.scalar(sa.text(
                    "SELECT pg_total_relation_size('case_search') + pg_total_relation_size('search_words')")))

            yield backend, commit, size
            session.rollback()
    finally:
        engine.dispose()
        if not keep:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def tantivy_backend() -> Iterator[tuple[object, Callable[[], None], Callable[[], int]]]:
    """The reference engine (search_tantivy.TantivyReference: rebuild, index and search like a SearchBackend)."""
    from search_tantivy import TantivyReference

    with tempfile.TemporaryDirectory(prefix="bench-tantivy-") as folder:
        path = Path(folder) / "index"
        yield TantivyReference(path), lambda: None, lambda: folder_bytes(path)


def measure(backend_name: str, size: int, queries: int, seed: int, pg_url: str, pg_ranking: str = "rum",
            pg_keep: bool = False) -> dict:
    """One backend at one size: reindex, an update batch, the query mix, memory."""
    baseline = max_rss_mb()
    mix = query_mix(queries, size, seed)
    contexts = {"whoosh": whoosh_backend, "postgres": lambda: postgres_backend(pg_url, pg_ranking, pg_keep),
                "tantivy": tantivy_backend}
    context = contexts[backend_name]()
    with context as (backend, commit, index_bytes):
        documents = TimedDocuments(synthetic_catalogue(size, seed))
        start = time.perf_counter()
        if getattr(backend, "bench_reused", False):  # --pg-keep: indexed by an earlier run (reindex not measured)
            indexed, reindex = size, 0.0
        else:
            indexed = backend.rebuild(documents)
            commit()
            reindex = time.perf_counter() - start - documents.seconds
        after_index = max_rss_mb()

        changed = TimedDocuments(synthetic_document(n, seed + 1) for n in range(1, min(size, UPDATE_BATCH) + 1))
        start = time.perf_counter()
        backend.index(changed)
        commit()
        update = time.perf_counter() - start - changed.seconds

        def run(query: BenchQuery) -> int:
            if backend_name == REFERENCE:
                hits = backend.search(query.text, query.filters, facets=query.facets, page=query.page,
                                      viewer=query.viewer)
                return hits.total
            # What the catalogue's search page runs (catalogue.cases.queries._engine_page): inside the engine's
            # reading() block (PostgreSQL: one planner setting, each word looked up once), the correction of the
            # typed words (search.corrected: without the filters), then the page and its facets, no "did you mean".
            with backend.reading():
                text = parse(query.text) if query.text else query.text
                if text:
                    text = backend.correction(text, {}, query.viewer) or text
                hits = backend.search(text, query.filters, facets=query.facets, page=query.page,
                                      viewer=query.viewer, suggest=False)
            if backend_name == "postgres":
                backend.session.rollback()  # one transaction per request, as in the app
            return hits.total

        settle_heap()  # as the application server's process does once it is built (network/core/runtime.py)
        for query in mix[:WARM_UP]:
            run(query)
        timings: dict[str, list[float]] = {"text": [], "facet": [], "combined": []}
        found = []
        slowest = []
        for query in mix:
            start = time.perf_counter()
            found.append(run(query))
            elapsed = time.perf_counter() - start
            timings[query.kind].append(elapsed)
            slowest.append((round(elapsed * 1000, 1), query.kind, query.text, query.filters, found[-1]))
        after_queries = max_rss_mb()

        def beside(texts: Iterable[str]) -> list[float]:
            """Each text searched once (anonymous, every facet, the first page), in ms."""
            times = []
            for text in texts:
                start = time.perf_counter()
                run(BenchQuery(kind="text", text=text, filters={}, facets=FACETS, viewer=ANONYMOUS, page=(1, 20)))
                times.append(round((time.perf_counter() - start) * 1000, 1))
            return times

        long_queries = dict(zip(LONG_QUERIES, beside(LONG_QUERIES.values()), strict=True))
        questions = beside(QUESTIONS)

        tracemalloc.start()
        for query in mix[:50]:
            run(query)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stored = index_bytes()

    every = [t for values in timings.values() for t in values]
    return {
        "backend": backend_name, "size": size, "seed": seed,
        **({"ranking": pg_ranking} if backend_name == "postgres" else {}),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],  # the machine may be shared: say how busy
        "index": {"documents": indexed, "reindex_seconds": round(reindex, 3),
                  "docs_per_second": round(indexed / reindex, 1) if reindex else None,
                  **({"reused": True} if getattr(backend, "bench_reused", False) else {}),
                  "generation_seconds_excluded": round(documents.seconds, 2),
                  f"update_{UPDATE_BATCH}_seconds": round(update, 3), "index_mb": round(stored / 2 ** 20, 1),
                  "index_bytes": stored},
        "queries": {**latency_summary(every), "mean_hits": round(sum(found) / len(found), 1) if found else 0,
                    "by_kind": {kind: latency_summary(values) for kind, values in timings.items()},
                    "slowest": [{"ms": ms, "kind": kind, "text": text, "filters": filters, "hits": hits}
                                for ms, kind, text, filters, hits in sorted(slowest, key=lambda s: -s[0])[:10]],
                    "long_queries_ms": long_queries, "long_max_ms": max(long_queries.values()),
                    "questions_ms": dict(zip(QUESTIONS, questions, strict=True)),
                    "questions_median_ms": round(percentile(questions, 50), 1), "questions_max_ms": max(questions)},
        "memory": {"rss_baseline_mb": baseline, "rss_after_reindex_mb": after_index,
                   "rss_peak_mb": max(after_index, after_queries),
                   "tracemalloc_query_peak_mb": round(traced_peak / 2 ** 20, 2)},
    }


# ---------------------------------------------------------------- driving

def environment(pg_url: str, backends: list[str]) -> dict:
    import whoosh

    info = {"date": date.today().isoformat(), "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in os.getloadavg()], "whoosh": ".".join(str(v) for v in whoosh.__version__),
            "project_query_semantics": project_semantics()}
    if REFERENCE in backends:
        from search_tantivy import version

        info["tantivy"] = version()
    if "postgres" in backends:
        import sqlalchemy as sa

        engine = sa.create_engine(sa.engine.make_url(_sqlalchemy_url(pg_url)).set(database="postgres"))
        try:
            with engine.connect() as connection:
                info["postgresql"] = connection.execute(sa.text("SHOW server_version")).scalar()
                # the server's memory settings (the figures depend on them: docs/operator-guide.md, "PostgreSQL")
                info["postgresql_settings"] = {name: connection.execute(sa.text(f"SHOW {name}")).scalar()
                                               for name in PG_SETTINGS}
        finally:
            engine.dispose()
    return info


def in_subprocess(backend: str, size: int, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", f"{backend}:{size}", "--queries", str(args.queries),
               "--seed", str(args.seed), "--pg-url", args.pg_url, "--pg-ranking", args.pg_ranking,
               *(["--pg-keep"] if args.pg_keep else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our own script)
    if done.returncode != 0:
        return {"backend": backend, "size": size, "error": (done.stderr or done.stdout).strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_targets(results: list[dict]) -> list[dict]:
    verdicts = []
    for label, backend, size, measure_name, limit in TARGETS:
        found = next((r for r in results if r["backend"] == backend and r["size"] == size and "error" not in r), None)
        if found is None:
            verdicts.append({"target": f"{label} {backend} {size:,}", "limit": limit, "value": None,
                             "met": None})
            continue
        value = next(found[part][measure_name] for part in ("queries", "index", "memory")
                     if measure_name in found[part])
        verdicts.append({"target": f"{label} {backend} {size:,}", "limit": limit, "value": value,
                         "met": value <= limit})
    return verdicts


def project_semantics() -> str:
    """How the project's parser (network/search/query.py, as checked out) combines two bare words."""
    try:
        from network.search.query import parse

        root = type(parse("bank secrecy", synonyms=False).root).__name__
    except Exception as error:  # noqa: BLE001 (the parser is being rewritten: say so rather than stop)
        return f"unknown ({type(error).__name__})"
    return {"And": "AND (every word required)", "Or": "OR (any word, ranked)"}.get(root, root)


# (label, path into a result, shown as): every figure of the table, divided by tantivy's at the same size.
RATIO_MEASURES = (
    ("reindex s", ("index", "reindex_seconds"), "s"), ("docs/s", ("index", "docs_per_second"), "n"),
    (f"update {UPDATE_BATCH} s", ("index", f"update_{UPDATE_BATCH}_seconds"), "s"),
    ("index MB", ("index", "index_bytes"), "mb"),
    ("p50 ms", ("queries", "p50_ms"), "ms"), ("p95 ms", ("queries", "p95_ms"), "ms"),
    ("p99 ms", ("queries", "p99_ms"), "ms"), ("mean ms", ("queries", "mean_ms"), "ms"),
    ("text p95 ms", ("queries", "by_kind", "text", "p95_ms"), "ms"),
    ("facet p95 ms", ("queries", "by_kind", "facet", "p95_ms"), "ms"),
    ("comb p95 ms", ("queries", "by_kind", "combined", "p95_ms"), "ms"),
    ("long max ms", ("queries", "long_max_ms"), "ms"),  # the slowest of LONG_QUERIES (not in the mix's figures)
    ("question p50 ms", ("queries", "questions_median_ms"), "ms"),  # QUESTIONS (not in the mix's figures either)
    ("question max ms", ("queries", "questions_max_ms"), "ms"),
    ("RSS peak MB", ("memory", "rss_peak_mb"), "n"), ("heap MB", ("memory", "tracemalloc_query_peak_mb"), "n"),
    ("mean hits", ("queries", "mean_hits"), "n"),
)


def _figure(result: dict, path: tuple[str, ...]) -> float | None:
    value: object = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) else None


def _number(value: float, unit: str = "n") -> str:
    if unit == "mb":
        value = value / 2 ** 20
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.3f}"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2f}x"


def add_ratios(results: list[dict]) -> None:
    """Each project result gets `relative_to_tantivy`: its figure / tantivy's at the same size (None when tantivy
    did not run at that size or its figure is 0)."""
    reference = {r["size"]: r for r in results if r["backend"] == REFERENCE and "error" not in r}
    for r in results:
        if r["backend"] == REFERENCE or "error" in r or r["size"] not in reference:
            r.pop("relative_to_tantivy", None)
            continue
        ratios = {}
        for _label, path, _unit in RATIO_MEASURES:
            mine, theirs = _figure(r, path), _figure(reference[r["size"]], path)
            ratios[".".join(path)] = round(mine / theirs, 3) if mine is not None and theirs else None
        r["relative_to_tantivy"] = ratios


def reference_notes(environment_info: dict) -> list[str]:
    semantics = environment_info.get("project_query_semantics", "unknown")
    notes = [f"tantivy {environment_info.get('tantivy', '?')} is the reference: same documents, same query list "
             "and warm-up, a process of its own; each ratio is the backend's figure divided by tantivy's at the "
             "same size (above 1x: slower, bigger, more; docs/s below 1x: slower)."]
    if semantics.startswith("AND"):
        notes.append("Query semantics differ: the project's engines require every word (AND) today; tantivy runs "
                     "with ANY-WORD (OR) semantics anyway, ranked by BM25 (the project's target), so it finds more "
                     "cases per query (mean hits) and counts facets over more of them.")
    else:
        notes.append(f"Query semantics: the project's parser as checked out combines bare words with {semantics}; "
                     "tantivy: ANY-WORD (OR), bare words optional, ranked by BM25 (field boosts 4/3/2/1).")
    notes += [
        "tantivy gets no synonyms (neither index-time tokens nor query expansion), stems every language as English "
        "(en_stem) beside a folded unstemmed field, and offers no \"did you mean\" (the project's engines look for "
        "one below 3 hits): cross-language queries (\"blanchiment\", \"extradicion\", \"AML\") find fewer "
        "cases there.",
        "tantivy indexes on 1 thread (its merges run in background threads and are waited for); the total comes "
        "from its Count collector, facet counts from one terms aggregation over a fast field of facet tokens.",
        "RSS peak: the benchmark process only (PostgreSQL's server memory is not in it). heap MB: Python "
        "allocations only (tracemalloc): tantivy's Rust heap is not in it.",
    ]
    settings = environment_info.get("postgresql_settings")
    if settings:
        notes.append("PostgreSQL's server: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + " (a "
                     "shared_buffers smaller than the search tables, index MB above, reads their pages from the "
                     "operating system's cache at each first touch: docs/operator-guide.md, \"PostgreSQL\").")
    return notes


def print_ratios(results: list[dict], environment_info: dict) -> None:
    reference = {r["size"]: r for r in results if r["backend"] == REFERENCE and "error" not in r}
    others = list(dict.fromkeys(r["backend"] for r in results if r["backend"] != REFERENCE))
    if not reference:
        if any(r["backend"] == REFERENCE for r in results):
            print("\nno ratios: the tantivy runs failed")
        return
    width = 26
    print("\nRelative to tantivy (the reference engine): each figure, then (backend / tantivy)")
    for size, ref in reference.items():
        rows = {r["backend"]: r for r in results if r["size"] == size and r["backend"] != REFERENCE}
        head = f"{f'{size:,} cases':<15}{'tantivy':>12}" + "".join(f"{b + ' (x tantivy)':>{width}}" for b in others)
        print()
        print(head)
        print("-" * len(head))
        for label, path, unit in RATIO_MEASURES:
            theirs = _figure(ref, path)
            line = f"{label:<15}{_number(theirs, unit) if theirs is not None else '-':>12}"
            for backend in others:
                r = rows.get(backend)
                if r is None or "error" in r:
                    line += f"{'failed' if r is not None else '-':>{width}}"
                    continue
                mine = _figure(r, path)
                ratio = mine / theirs if mine is not None and theirs else None
                line += f"{(_number(mine, unit) if mine is not None else '-') + ' (' + _times(ratio) + ')':>{width}}"
            print(line)
    print()
    for note in reference_notes(environment_info):
        print(f"* {note}")


def print_table(results: list[dict], verdicts: list[dict]) -> None:
    head = (f"{'backend':<9}{'cases':>8}{'reindex s':>11}{'docs/s':>9}{'upd200 s':>10}{'index MB':>10}"
            f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'text p95':>10}{'facet p95':>10}{'comb p95':>10}"
            f"{'RSS MB':>9}{'heap MB':>9}")
    print(head)
    print("-" * len(head))
    for r in results:
        if "error" in r:
            print(f"{r['backend']:<9}{r['size']:>8}  failed: {r['error'].splitlines()[-1] if r['error'] else '?'}")
            continue
        i, q, m = r["index"], r["queries"], r["memory"]
        kinds = q["by_kind"]
        print(f"{r['backend']:<9}{r['size']:>8}{i['reindex_seconds']:>11.2f}{i['docs_per_second'] or 0:>9.0f}"
              f"{i[f'update_{UPDATE_BATCH}_seconds']:>10.2f}{i['index_mb']:>10.1f}{q['p50_ms']:>9.1f}"
              f"{q['p95_ms']:>9.1f}{q['p99_ms']:>9.1f}{kinds['text']['p95_ms']:>10.1f}"
              f"{kinds['facet']['p95_ms']:>10.1f}{kinds['combined']['p95_ms']:>10.1f}{m['rss_peak_mb']:>9.0f}"
              f"{m['tracemalloc_query_peak_mb']:>9.1f}")
    print()
    for v in verdicts:
        state = "not measured" if v["met"] is None else "met" if v["met"] else "MISSED"
        value = "" if v["value"] is None else f"{v['value']:.1f}"
        print(f"target {v['target']}: {value} (limit {v['limit']:.0f}) {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="catalogue sizes, comma-separated")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="whoosh, postgres, tantivy (the reference), comma-separated")
    parser.add_argument("--queries", type=int, default=240, help="timed queries per backend and size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="database to create (and drop) for the PostgreSQL backend")
    parser.add_argument("--pg-ranking", choices=PG_RANKINGS, default="rum",
                        help="PostgreSQL: rank candidates from the RUM index (the rum extension must be installed) "
                             "or through the GIN path (as without the extension)")
    parser.add_argument("--pg-keep", action="store_true",
                        help="PostgreSQL: keep the database at the end, and use one kept by an earlier run as it "
                             "is (not reindexed: its reindex figures are then 0)")
    parser.add_argument("--runs", help="explicit backend:size pairs instead of sizes x backends, e.g. "
                                       "whoosh:1000,whoosh:10000,postgres:100000")
    parser.add_argument("--output", help="JSON file (default benchmarks/results/search-<date>.json)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # backend:size, run by the driver in a subprocess
    args = parser.parse_args(argv)

    if args.worker:
        backend, size = args.worker.split(":")
        print(json.dumps(measure(backend, int(size), args.queries, args.seed, args.pg_url, args.pg_ranking,
                                 args.pg_keep)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    runs = [(b, size) for size in sizes for b in backends]
    if args.runs:
        runs = [(pair.split(":")[0].strip(), int(pair.split(":")[1].replace("_", ""))) for pair in args.runs.split(",")]
        sizes, backends = sorted({size for _b, size in runs}), sorted({b for b, _size in runs})
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    if REFERENCE in backends:
        try:
            import tantivy  # noqa: F401 (a benchmark-only dependency)
        except ImportError:
            parser.error(f"the reference engine tantivy is not installed: {INSTALL_REFERENCE} "
                         f"(or leave it out: --backends whoosh,postgres)")
    output = Path(args.output) if args.output else RESULTS / f"search-{date.today().isoformat()}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {"environment": environment(args.pg_url, backends),
              "parameters": {"sizes": sizes, "backends": backends, "queries": args.queries, "seed": args.seed,
                             "pg_ranking": args.pg_ranking,
                             "warm_up": WARM_UP, "facets": list(FACETS)},
              "results": [], "targets": []}
    if REFERENCE in backends:
        report["reference"] = {"engine": REFERENCE, "version": report["environment"].get("tantivy"),
                               "notes": reference_notes(report["environment"])}
    for backend, size in runs:
        print(f"... {backend} at {size:,} cases", file=sys.stderr, flush=True)
        started = time.perf_counter()
        report["results"].append(in_subprocess(backend, size, args))
        report["results"][-1]["wall_seconds"] = round(time.perf_counter() - started, 1)
        report["targets"] = check_targets(report["results"])
        add_ratios(report["results"])
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")  # so far
    results, verdicts = report["results"], report["targets"]
    print_table(results, verdicts)
    print_ratios(results, report["environment"])
    print(f"\nWritten to {output}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
