"""The search relevance test set: nDCG@10 and recall@20 per judged query, and their means, for a search backend.

The judgments (relevance_judgments.yaml) are practitioner queries over the demonstration catalogue with graded
relevant cases. A query is run exactly as the catalogue page runs it (catalogue.cases.queries.search_cases,
sorted by relevance): parsing, synonyms, the engine, the reader's scope and the page's filters all count.

Choices, so that figures compare over time and across backends:
- The reader is a vetted member (a transient Member, never saved), who sees every published case: demo cases are
  public or members-only, and the judgments cover both. Drafts are out of scope for every reader of a listing.
- A backend is measured on a fresh index of the database as it is now: Whoosh in a temporary folder; PostgreSQL
  rebuilt inside the current transaction, which is rolled back afterwards (the live index is left as it was;
  so is anything the session had pending: measure with nothing to commit).
- When the page offers "did you mean" (it does when a query finds fewer than SUGGEST_BELOW cases), the reader
  is taken to follow it: the suggested query's ranking is scored, and the table says so.
- nDCG@10 uses gains 2^grade - 1 and the log2 discount; recall@20 counts relevant cases in the first 20 over
  min(relevant, 20), so a query with more than 20 relevant cases can still reach 1."""
from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import yaml
from flask import current_app
from sqlalchemy import inspect, select

from catalogue.cases import search as services
from catalogue.cases.models import Case
from network.core.db import db
from network.search.backend import SearchBackend

JUDGMENTS_PATH = Path(__file__).resolve().parent / "relevance_judgments.yaml"
# The evaluation set: fictional cases in the style of real case digests (several writers, six languages) and the
# queries people type over them, judged by reading the cases; written before any tuning (README there).
EVALUATION_DIR = Path(__file__).resolve().parent / "evaluation"
KINDS = ("keywords", "question", "inflected", "phrase", "cross_language", "misspelling", "filtered")
SPLITS = ("tune", "holdout")  # tune on the first; the holdout is never looked at while tuning
SETS = ("demo", "evaluation")
NDCG_AT = 10
RECALL_AT = 20
BACKENDS = ("whoosh", "postgres")
GRADES = (1, 2)


class RelevanceError(RuntimeError):
    """The relevance set cannot be measured here (no PostgreSQL, no demonstration catalogue, a bad judgment)."""


@dataclass(frozen=True)
class Judgment:
    """One query and its relevant cases: case reference -> grade (2 highly relevant, 1 relevant)."""

    query: str
    grades: Mapping[str, int]
    kind: str = ""
    rationale: str = ""
    split: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def load_judgments(path: Path = JUDGMENTS_PATH) -> list[Judgment]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    judgments = []
    for entry in data.get("queries") or []:
        grades = {str(ref): int(grade) for ref, grade in (entry.get("relevant") or {}).items()}
        if not str(entry.get("query") or "").strip() or not grades or set(grades.values()) - set(GRADES):
            raise RelevanceError(f"bad judgment in {path.name}: {entry!r}")
        filters = {str(name): tuple(str(v) for v in (values if isinstance(values, list) else [values]))
                   for name, values in (entry.get("filters") or {}).items()}
        judgments.append(Judgment(str(entry["query"]), grades, str(entry.get("kind") or ""),
                                  str(entry.get("rationale") or ""), str(entry.get("split") or ""), filters))
    return judgments


def evaluation_cases(folder: Path = EVALUATION_DIR) -> list[dict]:
    """The evaluation set's cases (cases-*.jsonl), validated against the interchange schema."""
    from catalogue.cases.cli import read_cases

    cases: list[dict] = []
    for path in sorted(folder.glob("cases-*.jsonl")):
        found, problems = read_cases(path.read_bytes().splitlines())
        if problems:
            raise RelevanceError(f"{path.name}: {problems[0]}")
        cases += [data for _line, data in found]
    return cases


def evaluation_judgments(folder: Path = EVALUATION_DIR) -> list[Judgment]:
    """The evaluation set's judged queries (queries-*.yaml), each with its kind and split."""
    judgments = [j for path in sorted(folder.glob("queries-*.yaml")) for j in load_judgments(path)]
    for judgment in judgments:
        if judgment.kind not in KINDS or judgment.split not in SPLITS:
            raise RelevanceError(f"bad kind or split for {judgment.query!r}: {judgment.kind!r} {judgment.split!r}")
    return judgments


@contextmanager
def evaluation_catalogue() -> Iterator[set[int]]:
    """The evaluation cases imported, published, in the current transaction only (rolled back afterwards, with
    anything else the session had pending: measure with nothing to commit); yields their ids."""
    from catalogue.cases.services import import_case

    try:
        ids = {import_case(data, "search evaluation")[0].id for data in evaluation_cases()}
        db.session.flush()
        yield ids
    finally:
        db.session.rollback()


# ---------------------------------------------------------------- the measures

def dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int = NDCG_AT) -> float:
    """Normalised discounted cumulative gain of the first k results (1.0: the ideal order)."""
    ideal = dcg([2 ** g - 1 for g in sorted(grades.values(), reverse=True)[:k]])
    if not ideal:
        return 0.0
    return dcg([2 ** grades.get(ref, 0) - 1 for ref in ranked[:k]]) / ideal


def recall(ranked: Sequence[str], grades: Mapping[str, int], k: int = RECALL_AT) -> float:
    """Share of the relevant cases found in the first k results, out of at most k."""
    if not grades:
        return 0.0
    return len(set(ranked[:k]) & set(grades)) / min(len(grades), k)


@dataclass
class QueryResult:
    judgment: Judgment
    ranked: list[str]  # references of the first RECALL_AT results
    total: int
    followed: str | None = None  # the "did you mean" query scored instead of the one typed

    @property
    def ndcg(self) -> float:
        return ndcg(self.ranked, self.judgment.grades)

    @property
    def recall(self) -> float:
        return recall(self.ranked, self.judgment.grades)


@dataclass
class Report:
    backend: str
    results: list[QueryResult] = field(default_factory=list)

    @property
    def mean_ndcg(self) -> float:
        return sum(r.ndcg for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def mean_recall(self) -> float:
        return sum(r.recall for r in self.results) / len(self.results) if self.results else 0.0

    def as_dict(self) -> dict:
        return {"backend": self.backend, "ndcg@10": round(self.mean_ndcg, 4), "recall@20": round(self.mean_recall, 4),
                "queries": [{"query": r.judgment.query, "ndcg@10": round(r.ndcg, 4), "recall@20": round(r.recall, 4),
                             "found": r.total, "followed": r.followed, "top10": r.ranked[:NDCG_AT]}
                            for r in self.results]}


# ---------------------------------------------------------------- backends

def postgres_available() -> bool:
    return db.engine.dialect.name == "postgresql"


@contextmanager
def fresh_backend(name: str, only: set[int] | None = None) -> Iterator[SearchBackend]:
    """A backend of that name holding every case of the database as it is now (see the module docstring), or only
    the cases of `only`."""
    from catalogue.cases.search import all_documents as every_document

    def all_documents(session):
        return (doc for doc in every_document(session) if only is None or doc.id in only)

    if name not in BACKENDS:
        raise RelevanceError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == "whoosh":
        from network.search.whoosh_backend import WhooshBackend

        with tempfile.TemporaryDirectory(prefix="relevance-") as folder:
            backend = WhooshBackend(Path(folder) / "index", writer_timeout=30.0)
            backend.rebuild(all_documents(db.session))
            yield backend
        return
    if not postgres_available():
        raise RelevanceError(
            f"the PostgreSQL backend needs the database on PostgreSQL, and this one is {db.engine.dialect.name}: "
            "set DATABASE_URL=postgresql://... (migrated, with `flask --app app demo load` run)")
    if not inspect(db.engine).has_table("case_search"):
        raise RelevanceError("the database has no case_search table: run `flask --app app db upgrade`")
    from network.search.postgres_backend import PostgresBackend

    backend = PostgresBackend(lambda: db.session)
    try:
        # Read every case before writing: the rebuild writes through the session that reads them.
        backend.rebuild(list(all_documents(db.session)))  # in this transaction only: rolled back below
        yield backend
    finally:
        db.session.rollback()


@contextmanager
def searching_with(backend: SearchBackend) -> Iterator[None]:
    """The catalogue page's search, served by `backend` for the duration (and not checked against the database:
    the backend is fresh). The search services have no public way to pick a backend: this sets their state."""
    state = current_app.extensions[services.EXTENSION]
    saved = dict(state)
    state.update(backend=backend, checked=True)
    try:
        yield
    finally:
        state.clear()
        state.update(saved)


def vetted_reader():
    """A vetted member who is nobody in particular: sees every published case, public or members-only."""
    from network.members.models import Member

    return Member(status="active")


# ---------------------------------------------------------------- measuring

def check_catalogue(judgments: Sequence[Judgment]) -> None:
    """The judged cases must be in the database, published."""
    wanted = {ref for j in judgments for ref in j.grades}
    found = set(db.session.scalars(select(Case.reference).where(Case.reference.in_(sorted(wanted)),
                                                                 Case.status == "published")))
    missing = sorted(wanted - found)
    if missing:
        raise RelevanceError(f"{len(missing)} judged cases are not published in this database ({missing[0]}, ...): "
                             "load the demonstration catalogue with `flask --app app demo load`")


def run_query(judgment: Judgment, reader) -> QueryResult:
    """The page's first RECALL_AT results for the query, following "did you mean" when the page offers it."""
    from catalogue.cases.queries import search_cases

    filters = {name: list(values) for name, values in judgment.filters.items()}
    page = search_cases(reader, {"q": [judgment.query], **filters}, sort="relevance", page=1, per_page=RECALL_AT)
    followed = None
    if page.suggestion:
        suggested = search_cases(reader, {"q": [page.suggestion], **filters}, sort="relevance", page=1,
                                 per_page=RECALL_AT)
        if suggested.total > page.total:
            page, followed = suggested, page.suggestion
    return QueryResult(judgment, [case.reference for case in page.cases], page.total,
                       followed or page.corrected_query)


def evaluate(backend_name: str, judgments: Sequence[Judgment] | None = None, reader=None) -> Report:
    """Every judged query through the page's search, on a fresh index of `backend_name`."""
    judgments = list(judgments) if judgments is not None else load_judgments()
    check_catalogue(judgments)
    reader = reader if reader is not None else vetted_reader()
    report = Report(backend_name)
    with fresh_backend(backend_name) as backend, searching_with(backend):
        report.results = [run_query(judgment, reader) for judgment in judgments]
    return report


def evaluate_set(backend_name: str, judgments: Sequence[Judgment] | None = None, reader=None) -> Report:
    """The evaluation set's queries (all, or `judgments`) over its own cases only, on a fresh index of
    `backend_name`; nothing of it stays in the database or the live index."""
    judgments = list(judgments) if judgments is not None else evaluation_judgments()
    reader = reader if reader is not None else vetted_reader()
    report = Report(backend_name)
    with evaluation_catalogue() as ids:
        with fresh_backend(backend_name, only=ids) as backend, searching_with(backend):
            report.results = [run_query(judgment, reader) for judgment in judgments]
    return report


@dataclass(frozen=True)
class Figures:
    queries: int
    ndcg: float
    recall: float
    zero: float  # share of queries that found nothing


def figures(results: Sequence[QueryResult]) -> Figures:
    n = len(results)
    if not n:
        return Figures(0, 0.0, 0.0, 0.0)
    return Figures(n, sum(r.ndcg for r in results) / n, sum(r.recall for r in results) / n,
                   sum(1 for r in results if r.total == 0) / n)


def breakdown(report: Report) -> dict[str, dict[str, Figures]]:
    """split (tune, holdout, all) -> kind (each of KINDS, and "all") -> figures."""
    out: dict[str, dict[str, Figures]] = {}
    for split in (*SPLITS, "all"):
        chosen = [r for r in report.results if split == "all" or r.judgment.split == split]
        out[split] = {kind: figures([r for r in chosen if r.judgment.kind == kind]) for kind in KINDS}
        out[split]["all"] = figures(chosen)
    return out


def kind_table(reports: Sequence[Report]) -> str:
    """Per kind and split: nDCG@10, recall@20 and the share of zero-result queries, for each backend."""
    lines = []
    for report in reports:
        parts = breakdown(report)
        head = f"{report.backend:<15}" + "".join(f" | {split:^27}" for split in parts)
        lines += [head, f"{'':<15}" + " | n   nDCG@10 R@20  zero    " * len(parts), "-" * len(head)]
        for kind in (*KINDS, "all"):
            row = f"{kind:<15}"
            for split in parts:
                f = parts[split][kind]
                row += f" | {f.queries:<3} {f.ndcg:6.3f}  {f.recall:5.3f} {f.zero:5.1%}  "
            lines.append(row)
        lines.append("")
    return "\n".join(lines)


def table(reports: Sequence[Report]) -> str:
    """Per query: nDCG@10, recall@20 and cases found for each backend; then the means."""
    width = max([len(j.judgment.query) for r in reports for j in r.results] + [5])
    head = f"{'query':<{width}}" + "".join(f" | {r.backend:>8} nDCG  R@20  found" for r in reports)
    lines = [head, "-" * len(head)]
    notes: list[str] = []
    for i, first in enumerate(reports[0].results if reports else []):
        row = f"{first.judgment.query:<{width}}"
        for report in reports:
            result = report.results[i]
            mark = "*" if result.followed else " "
            row += f" | {'':>8} {result.ndcg:4.2f}  {result.recall:4.2f} {result.total:>5}{mark}"
            if result.followed:
                notes.append(f"* {report.backend}: {result.judgment.query!r} -> did you mean {result.followed!r}")
        lines.append(row)
    lines.append("-" * len(head))
    lines.append(f"{'mean':<{width}}" + "".join(f" | {'':>8} {r.mean_ndcg:4.2f}  {r.mean_recall:4.2f}      "
                                                 for r in reports))
    return "\n".join(lines + notes)


@click.command("relevance")
@click.option("--backend", "choice", type=click.Choice([*BACKENDS, "both"]), default="both", show_default=True,
              help="The backend(s) to measure; postgres needs DATABASE_URL pointing at PostgreSQL.")
@click.option("--set", "which", type=click.Choice([*SETS, "both"]), default="both", show_default=True,
              help="demo: the 27 judged queries over the demonstration catalogue (a regression floor); evaluation: "
                   "the evaluation set (its own cases, imported for the measurement only), per kind and split.")
@click.option("--queries", "show_queries", is_flag=True, help="Also list every query's figures.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def relevance_command(choice: str, which: str, show_queries: bool, as_json: bool) -> None:
    """nDCG@10, recall@20 and the share of queries finding nothing: over the demonstration catalogue of this
    database (`flask --app app demo load`; catalogue/search/relevance_judgments.yaml) and over the evaluation set
    (catalogue/search/evaluation), per query kind, for the tuning split and the untouched holdout."""
    output: dict[str, list] = {}
    for set_name in SETS if which == "both" else (which,):
        reports = []
        for name in BACKENDS if choice == "both" else (choice,):
            if name == "postgres" and not postgres_available():
                message = (f"The postgres backend needs DATABASE_URL pointing at PostgreSQL (this database is "
                           f"{db.engine.dialect.name}).")
                if choice != "both":
                    raise click.ClickException(message)
                click.echo(f"Skipped: {message}", err=True)
                continue
            try:
                with click.progressbar(length=1, label=f"Measuring {set_name} on {name}", file=click.get_text_stream(
                        "stderr")) as bar:
                    reports.append(evaluate(name) if set_name == "demo" else evaluate_set(name))
                    bar.update(1)
            except RelevanceError as error:
                if which == "both" and set_name == "demo":
                    click.echo(f"Skipped the demo set: {error}", err=True)
                    break
                raise click.ClickException(str(error)) from error
        output[set_name] = reports
    if as_json:
        data = {}
        for set_name, reports in output.items():
            data[set_name] = [report.as_dict() for report in reports]
            if set_name == "evaluation":
                for entry, report in zip(data[set_name], reports, strict=True):
                    entry["by_split_and_kind"] = {
                        split: {kind: {"queries": f.queries, "ndcg@10": round(f.ndcg, 4),
                                       "recall@20": round(f.recall, 4), "zero_results": round(f.zero, 4)}
                                for kind, f in kinds.items()} for split, kinds in breakdown(report).items()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for set_name, reports in output.items():
        if not reports:
            continue
        click.echo(f"== {set_name} set ==")
        if set_name == "demo" or show_queries:
            click.echo(table(reports))
        if set_name == "evaluation":
            click.echo(kind_table(reports))
        for report in reports:
            zero = figures(report.results).zero
            click.echo(f"{set_name}, {report.backend}: nDCG@{NDCG_AT} {report.mean_ndcg:.3f}, recall@{RECALL_AT} "
                       f"{report.mean_recall:.3f}, zero results {zero:.1%} over {len(report.results)} queries")
