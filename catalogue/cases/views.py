"""Reading the catalogue: the listing with filters and facets, the case page, history, print view, exports, statistics."""
from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from collections.abc import Mapping
from urllib.parse import urlencode

import pycountry
from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import Select, bindparam, func, select

from catalogue.cases import charts, queries, revisions
from catalogue.cases import search as search_services
from catalogue.cases.exports import write_csv, write_jsonl
from catalogue.cases.models import INTERCHANGE_FIELDS, Case, CaseRevision  # also the tables, for migrations
from catalogue.cases.services import can_read_case
from catalogue.cases.statistics import compute
from network.core.access import current_member, ensure, public
from network.core.caching import template_url_for
from network.core.db import db
from network.core.i18n import current_language
from network.core.labels import label as vocabulary_label
from network.core.labels import sorted_by_name, state_label
from network.core.reference import REGION_CODES, provision_subject, region_of
from network.core.reference import language_name as reference_language_name
from network.core.translations import gettext as _  # the request's catalogue, found once
from network.core.translations import request_translations

bp = Blueprint("catalogue", __name__, url_prefix="/cases")

PER_PAGE = 20
# Listing filter -> vocabulary kind of its labels.
VOCABULARY_OF = {"cooperation_form": "cooperation_forms", "crime_type": "crime_types",
                 "legal_basis": "legal_bases", "outcome": "outcomes", "channel": "channels"}


# ---------------------------------------------------------------- labels for templates

LABELS_KEPT = 20_000  # (catalogue, kind, code) -> label; codes come from the data files and the cases
_labels: dict[tuple, str] = {}


def label(kind: str, code: str) -> str:
    """The label of a code in the reader's language: a vocabulary kind (cooperation_forms, ...), a listing filter
    name, "state", "region" or "language". States and vocabularies come from the data files (network.core.labels),
    so the facet, the case page and the pickers say the same.

    Reference data never changes in a process, and a page asks for a hundred labels (facets, States, badges):
    each is looked up once per process and language (the request's catalogue, as cached_fragment keys it),
    instead of finding the reader's language again for every one."""
    key = (request_translations(), kind, code)
    found = _labels.get(key)
    if found is None:
        found = _label(kind, code)
        if len(_labels) < LABELS_KEPT:  # a filter value typed in a URL is looked up, not kept beyond the bound
            _labels[key] = found
    return found


def _label(kind: str, code: str) -> str:
    kind = VOCABULARY_OF.get(kind, kind)
    if kind in ("state", "requesting_state", "requested_state"):
        return state_label(code)
    if kind == "region":
        return vocabulary_label("regions", code) if code != "unknown" else _("Unknown region")
    if kind == "language":
        return _language_name(code)
    return vocabulary_label(kind, code)


def language_name(code: str) -> str:
    """A case's language named in the reader's language (Babel's CLDR names: "espagnol", "西班牙语", "الإسبانية"); in
    English, the ISO 639 name. Kept like a label."""
    return label("language", code)


def _language_name(code: str) -> str:
    base = code.split("-")[0]
    if (reader := current_language()) != "en":
        return reference_language_name(base, reader)
    found = pycountry.languages.get(alpha_2=base) if len(base) == 2 else pycountry.languages.get(alpha_3=base)
    return found.name if found else code


def result_key(case: Case) -> tuple:
    """Everything a case's entry in the listing shows besides a search snippet (`case_result` in
    catalogue/list.html; the template adds the snippet): the key under which the rendered entry is kept
    (network.core.caching.cached_fragment). A field added to the entry is added here."""
    return ("case_result", case.id, case.reference, case.title, case.requesting_state, case.requested_state,
            case.year, case.outcome, case.visibility, tuple(case.cooperation_forms or ()),
            tuple(case.crime_types or ()), case.summary)


def results_key(cases: list, snippets: Mapping[int, str] | None = None) -> tuple | None:
    """The key of a page's entries kept together (`case_results` in catalogue/list.html): every entry's result_key,
    followed by its search snippet for a text query (`snippets`: case id -> snippet; an entry without one shows its
    summary), one fragment rather than one per entry (each asked for in the template costs more than the entry's own
    key); None when the page has no entry."""
    if not cases:
        return None
    if snippets is None:
        return ("case_results", *map(result_key, cases))
    return ("case_results", *((*result_key(case), snippets.get(case.id)) for case in cases))


def filters_key(facets: dict, filters: queries.Filters, sort: str, exact: bool = True) -> tuple:
    """Everything the filter form of the listing shows (`filter_form` in catalogue/list.html): the counts (and
    whether they are exact), the filters chosen and the order, digested. The form's options are a pure function of
    these and the language."""
    content = [facets, exact, sorted(filters.values.items()), filters.q, filters.verbatim, sort]
    digest = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=20).digest()
    return ("catalogue_filters", digest)


def related_key(related: list[queries.RelatedCase]) -> tuple:
    """Everything the related cases' section of a case page shows (`related_list` in catalogue/case.html): each
    related case's fields. A field added to the section is added to RelatedCase, and so here."""
    return ("case_related", *((*other[:4], tuple(other.cooperation_forms), *other[5:]) for other in related))


def case_article_key(case: Case, version: dict, revision_count: int) -> tuple:
    """Everything the article of a case page shows (`case_article` in catalogue/case.html): every field of the
    interchange format, the workflow state and publication date, the language version shown and the number of
    revisions, digested (the texts stay out of the key). A field added to the article is added here."""
    content = [case.status, case.published_at, revision_count, sorted(version.items())]
    content += [getattr(case, name) for name in INTERCHANGE_FIELDS]
    digest = hashlib.blake2b(json.dumps(content, sort_keys=True, default=str).encode(), digest_size=20).digest()
    return ("case_article", case.id, digest)


@bp.app_context_processor
def catalogue_helpers() -> dict:
    return {"case_label": label, "provision_subject": provision_subject, "region_of": region_of,
            "language_name": language_name, "result_key": result_key, "case_article_key": case_article_key,
            "filters_key": filters_key}


# ---------------------------------------------------------------- the listing and its exports

def _query_pairs(drop: tuple[str, ...] = ("page",)) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.args.lists() if key not in drop
            for value in values if value.strip()]


def _listing_url(endpoint: str = "catalogue.listing", drop: tuple[str, ...] = ("page",), **changes: object) -> str:
    pairs = _query_pairs(drop=(*drop, *changes)) + [(k, str(v)) for k, v in changes.items() if v is not None]
    return template_url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")  # the path built once


def _sort() -> str:
    sort, has_words = request.args.get("sort", ""), bool(request.args.get("q", "").strip())
    if sort not in queries.SORTS or (sort == "relevance" and not has_words):
        sort = "relevance" if has_words else "date"
    return sort


def _chips(filters: queries.Filters) -> list[tuple[str, str]]:
    """The active filters as (label, URL of this search without it): the removable chips above the results."""
    chips = []
    if filters.q:
        chips.append((_("Words: %(q)s", q=filters.q), _listing_url(q=None, drop=("page", "q", "sort"))))
    for name in queries.FILTERS:
        for value in filters.get(name):
            if name in ("year_from", "year_to"):
                text = (_("From %(year)s", year=value) if name == "year_from" else _("Until %(year)s", year=value))
                chips.append((text, _listing_url(drop=("page", name))))
                continue
            rest = [(k, v) for k, v in _query_pairs() if not (k == name and queries.normal_value(name, v) == value)]
            if name == "provision":  # "Article 18(13): Designation of a central authority", in the page's language
                subject = provision_subject(value)
                text = _("Article %(article)s", article=value) + (f": {subject}" if subject else "")
            else:
                text = label(name, value)
            chips.append((text, template_url_for("catalogue.listing") + ("?" + urlencode(rest) if rest else "")))
    return chips


@bp.get("")
@public
def listing():
    member = current_member()
    filters = queries.parse_filters(request.args.to_dict(flat=False))
    if filters.q and search_services.over_rate_limit():
        abort(429)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
    result = queries.search_cases(member, filters, _sort(), page, PER_PAGE, listing=True)
    total, facets = result.total, result.facets
    pages = max(1, math.ceil(total / PER_PAGE))

    def state_options(name: str) -> list[tuple[str, str, int]]:
        """The States of a select: those in the results (counted without this filter), and the chosen ones."""
        counts = {**{code: 0 for code in filters.get(name)}, **facets[name]}
        return sorted_by_name(((code, label("state", code), n) for code, n in counts.items()), lambda option: option[1])

    return render_template(
        "catalogue/list.html", cases=result.cases, total=total, facets=facets, filters=filters, page=page,
        pages=pages, sort=result.sort, per_page=PER_PAGE, snippets=result.snippets, suggestion=result.suggestion,
        chips=_chips(filters), page_url=lambda n: _listing_url(page=n),
        sort_url=lambda s: _listing_url(sort=s),
        suggestion_url=_listing_url(drop=("page", "q", "verbatim"), q=result.suggestion) if result.suggestion else None,
        corrected_query=result.corrected_query, typed_query=result.typed_query,
        verbatim_url=_listing_url(drop=("page", "q", "verbatim"), q=result.typed_query, verbatim=1)
        if result.typed_query else None,
        csv_url=_listing_url("catalogue.export_csv", drop=("page",)),
        jsonl_url=_listing_url("catalogue.export_jsonl", drop=("page",)),
        region_codes=REGION_CODES, state_options=state_options, facets_exact=result.facets_exact,
        total_exact=result.total_exact, results_key=results_key(result.cases, result.snippets or None),
    )


def _export_cases() -> list[Case]:
    filters = queries.parse_filters(request.args.to_dict(flat=False))
    if filters.q and search_services.over_rate_limit():
        abort(429)
    return queries.matching_cases(current_member(), filters, _sort())


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/export.csv")
@public
def export_csv():
    out = io.StringIO(newline="")
    write_csv(_export_cases(), out)
    return _download(out.getvalue(), "text/csv", "catalogue-cases.csv")


@bp.get("/export.jsonl")
@public
def export_jsonl():
    out = io.StringIO(newline="")
    write_jsonl(_export_cases(), out)
    return _download(out.getvalue(), "application/x-ndjson", "catalogue-cases.jsonl")


# ---------------------------------------------------------------- statistics

CHARTS_KEPT = 64  # the figures of a few scopes (visitors, members) in a few languages
_charts: dict[tuple, tuple[dict, list[str]]] = {}
FIGURES_KEPT = 16  # the figures of a few sets of rows (visitors', vetted members'; before and after a change)
_figures: dict[str, dict] = {}


@bp.get("/statistics")
@public
def statistics():
    # The figures are a pure function of the rows read (the reader's visible cases, lists undecoded): kept per
    # process under a digest of the rows (another scope or a change reads other rows: another key; the rows
    # themselves would weigh megabytes at 10,000 cases), which keys the charts (with the language) and the
    # rendered sections (cached_fragment) too.
    rows = queries.case_figure_rows(current_member())
    digest = hashlib.blake2b(repr(rows).encode(), digest_size=20).hexdigest()
    figures = _figures.get(digest)
    if figures is None:
        figures = compute(queries.figures_of(rows))
        if len(_figures) >= FIGURES_KEPT:
            _figures.clear()
        _figures[digest] = figures
    key = (request_translations(), digest)
    kept = _charts.get(key)
    if kept is None:
        if len(_charts) >= CHARTS_KEPT:
            _charts.clear()
        kept = _charts[key] = _charts_of(figures)
    chart, region_names = kept
    return render_template("catalogue/stats.html", figures=figures, chart=chart, region_names=region_names,
                           sections_key=("catalogue_statistics", digest))


def _charts_of(figures: dict) -> tuple[dict, list[str]]:
    regions = figures["regions"]
    region_names = [label("region", code) for code in regions]
    chart = {
        "year": charts.column_chart([(str(year), n) for year, n in figures["by_year"]],
                                    _("Published cases by year")),
        "form": charts.bar_chart([(label("cooperation_forms", c), n) for c, n in figures["by_form"]],
                                 _("Published cases by form of cooperation")),
        "crime": charts.bar_chart([(label("crime_types", c), n) for c, n in figures["by_crime_type"]],
                                  _("Published cases by crime type")),
        "regions": charts.heat_map(region_names, region_names,
                                   [[figures["matrix"][r][c] for c in regions] for r in regions],
                                   _("Cases by region of the requesting State (rows) and requested State (columns)"),
                                   row_heading=_("Requesting"), column_heading=_("Requested")),
        "duration": charts.bar_chart([(label("cooperation_forms", c), m) for c, m, _n in figures["duration_by_form"]],
                                     _("Median duration in days, request to completion, by form of cooperation"),
                                     unit=_("days")),
    }
    return chart, region_names


# ---------------------------------------------------------------- one case

def _readable_case(reference: str) -> Case:
    """The case the URL names, or 404 when absent or not visible to the reader (never 403)."""
    return _readable_row(reference, _case_statement(False))[0]


@functools.lru_cache(maxsize=2)
def _case_statement(counting_revisions: bool) -> Select:
    """The case of a reference (bound), and how many revisions it has (not the revisions: each holds the whole case
    as JSON) when `counting_revisions`: built once per process."""
    columns = [select(func.count()).where(CaseRevision.case_id == Case.id).scalar_subquery()] \
        if counting_revisions else []
    return select(Case, *columns).where(Case.reference == bindparam("reference"))


def _readable_row(reference: str, statement: Select) -> tuple:
    """The row of `statement` (a Case first) for the reference the URL names, or 404 as _readable_case."""
    found = db.session.execute(statement, {"reference": reference}).first()
    if found is None:
        abort(404)
    ensure(can_read_case(current_member(), found[0]))
    return tuple(found)


def _version(case: Case) -> dict:
    """The language version asked for (?lang=), else the original."""
    lang = request.args.get("lang", "")
    translation = (case.translations or {}).get(lang) if lang != case.language else None
    if translation:
        return {"lang": lang, "title": translation.get("title", ""), "summary": translation.get("summary", ""),
                "original": False}
    return {"lang": case.language, "title": case.title, "summary": case.summary, "original": True}


@bp.get("/<reference>")
@public
def case_page(reference: str):
    case, revision_count = _readable_row(reference, _case_statement(True))
    related = queries.related_cases(current_member(), case)
    return render_template("catalogue/case.html", case=case, version=_version(case), related=related,
                           revision_count=revision_count, related_key=related_key(related))


@bp.get("/<reference>/print")
@public
def print_case(reference: str):
    case = _readable_case(reference)
    return render_template("catalogue/print.html", case=case, version=_version(case))


@bp.get("/<reference>/history")
@public
def history(reference: str):
    case = _readable_case(reference)
    member = current_member()
    shown = revisions.readable_revisions(member, case)  # a members-only revision stays members-only
    return render_template("catalogue/history.html", case=case, revisions=list(reversed(shown)),
                           show_names=bool(member and member.is_vetted))


def _revision_number(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 6:
        abort(400)
    return int(value)


@bp.get("/<reference>/diff")
@public
def diff(reference: str):
    case = _readable_case(reference)
    # Only revisions the reader may read themselves: one published members-only stays so once the case is public.
    numbered = {revision.number: revision for revision in revisions.readable_revisions(current_member(), case)}
    first, second = _revision_number("from"), _revision_number("to")
    if first is None and second is None:
        if not numbered:
            abort(404)
        second = max(numbered)
        first = max((n for n in numbered if n < second), default=second)
    elif first is None or second is None:
        abort(400)
    if first not in numbered or second not in numbered:
        abort(404)
    old, new = numbered[first], numbered[second]
    fields = revisions.compare(old.data, new.data)
    return render_template("catalogue/history_diff.html", case=case, old=old, new=new, numbers=sorted(numbered),
                           changed=[f for f in fields if f.changed], unchanged=[f for f in fields if not f.changed])
