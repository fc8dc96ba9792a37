"""JSON API for the catalogue under /api/v1: list, read and submit cases, and their part of the OpenAPI description.

Anonymous callers read public cases; a token of a vetted member with catalogue:read reads members-only ones
too; catalogue:write submits a case as a draft of the token's member. Listing goes through
queries.filtered_cases, the same filters, facets and visibility as the catalogue page."""
from __future__ import annotations

import copy
import functools
import json

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from markupsafe import escape

from catalogue.cases import queries, services
from catalogue.cases import search as search_services
from catalogue.cases.cli import case_problems
from catalogue.cases.models import Case
from network.core import audit, jsonlines
from network.core.api import api_member, api_view, error_response, int_arg, openapi_error, register_openapi
from network.core.reference import REGION_CODES
from network.core.security import csrf
from network.members.access import is_member

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")
bp.record_once(lambda state: register_openapi(state.app, openapi_fragment))  # served by network.core.api

DEFAULT_PER_PAGE = 20
SNIPPET_LENGTH = 240


# ---------------------------------------------------------------- answers

def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """The opening of a text, cut at a word, as HTML (escaped): the snippet of a result found without words."""
    text = " ".join((text or "").split())
    if len(text) > length:
        text = text[:length].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
    return str(escape(text))


def case_summary(case: Case, highlighted: str | None = None) -> dict:
    """One result of the listing: what a reader needs to choose a case, and where to read it whole.
    `highlighted`: the search's snippet (escaped HTML with <mark>), else the opening of the summary."""
    return {
        "reference": case.reference,
        "title": case.title,
        "snippet": str(highlighted) if highlighted is not None else snippet(case.summary),
        "year": case.year,
        "language": case.language,
        "requesting_state": case.requesting_state,
        "requested_state": case.requested_state,
        "cooperation_forms": list(case.cooperation_forms or []),
        "crime_types": list(case.crime_types or []),
        "legal_bases": list(case.legal_bases or []),
        "outcome": case.outcome,
        "duration_days": case.duration_days,
        "visibility": case.visibility,
        "url": url_for("api_cases.get_case", reference=case.reference, _external=True),
    }




# ---------------------------------------------------------------- routes

@bp.get("/cases")
@api_view("catalogue:read")
def list_cases():
    """Published cases the caller may read, filtered, sorted and paged; per_page above 100 is capped to 100."""
    try:
        page = int_arg("page", 1)
        per_page = min(int_arg("per_page", DEFAULT_PER_PAGE), queries.MAX_PER_PAGE)
        filters = queries.parse_filters(request.args.to_dict(flat=False), strict=True)
    except (ValueError, queries.QueryError) as error:
        return error_response(400, "invalid_parameter", str(error))
    sort = request.args.get("sort", "").strip() or ("relevance" if filters.q else "date")
    if sort not in queries.SORTS:
        return error_response(400, "invalid_parameter",
                              _("sort must be one of: %(sorts)s.", sorts=", ".join(queries.SORTS)))
    if filters.q and search_services.over_rate_limit():
        response = error_response(429, "too_many_requests",
                                  _("Too many searches in a short time: wait a minute and try again."))
        response.headers["Retry-After"] = str(current_app.config["SEARCH_RATE_WINDOW"])
        return response
    result = queries.search_cases(api_member("catalogue:read"), filters, sort, page, per_page)
    return jsonify(total=result.total, page=page, per_page=per_page,
                   results=[case_summary(c, result.snippets.get(c.id)) for c in result.cases],
                   corrected_query=result.corrected_query, facets=result.facets, facets_exact=result.facets_exact,
                   total_exact=result.total_exact)


@bp.get("/cases/<reference>")
@api_view("catalogue:read")
def get_case(reference: str):
    """One case in the interchange format (shared/schemas/case.schema.json)."""
    case = services.find_case(reference)
    if case is None or not services.can_read_case(api_member("catalogue:read"), case):
        return error_response(404, "not_found", _("There is no case with this reference that you may read."))
    return jsonify(services.case_to_dict(case))


@bp.post("/cases")
@csrf.exempt  # bearer tokens only: the session cookie is never read under /api/ (network.core.api)
@api_view("catalogue:write", is_member, token_required=True)
def create_case():
    """Submit a case as a draft of the token's member; the member completes and submits it on the site."""
    member = api_member("catalogue:write")
    try:
        data = jsonlines.loads(request.get_data(cache=False)) if request.is_json else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return error_response(400, "invalid_json", _("Send one case as a JSON object (Content-Type: application/json)."))
    given = data.get("reference")
    problems = case_problems({**data, "reference": given or "CASE-0000-000000"})
    if problems:
        response = jsonify(error={"code": "invalid_case", "message": _("The case has problems; nothing was saved."),
                                  "problems": problems})
        response.status_code = 400
        return response
    if given and services.find_case(given) is not None:
        return error_response(409, "conflict", _("A case with this reference exists already."))
    case = services.create_draft(member, language=data["language"])
    if given:
        case.reference = given
    services.apply_data(case, data)
    audit.record("case.created_via_api", case, actor=member, reference=case.reference,
                 token=request_token_id())
    response = jsonify(reference=case.reference, status=case.status,
                       url=url_for("api_cases.get_case", reference=case.reference, _external=True),
                       privacy_warnings=[{"field": w["field"], "kind": w["kind"]}
                                         for w in services.privacy_warnings(case)])
    response.status_code = 201
    response.headers["Location"] = url_for("api_cases.get_case", reference=case.reference, _external=True)
    return response


def request_token_id() -> int | None:
    from flask import g

    token = g.get("api_token")
    return token.id if token is not None else None


# ---------------------------------------------------------------- the OpenAPI description

@functools.cache
def _case_schema() -> dict:
    schema = json.loads(services.SCHEMA_PATH.read_text(encoding="utf-8"))
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def _filter_parameters() -> list[dict]:
    props = _case_schema()["properties"]
    enums = {
        "cooperation_form": props["cooperation_forms"]["items"]["enum"],
        "crime_type": props["crime_types"]["items"]["enum"],
        "legal_basis": props["legal_bases"]["items"]["enum"],
        "outcome": props["outcome"]["enum"],
        "region": list(REGION_CODES),
    }
    described = {
        "cooperation_form": "Form of cooperation.", "crime_type": "Crime type.", "legal_basis": "Legal basis.",
        "requesting_state": "Requesting State (ISO 3166-1 alpha-3).",
        "requested_state": "Requested State (ISO 3166-1 alpha-3).",
        "region": "UN M49 region of the requesting or the requested State.",
        "provision": "UNTOC provision relied on, e.g. 16(4); an article (18) or a paragraph (18(13)) also finds its "
                     "parts (18(13), 18(13)(a)).",
        "outcome": "Outcome.",
        "language": "A language the case can be read in (BCP 47): its own language or one of its translations'.",
    }
    parameters = []
    for name, text in described.items():
        item: dict = {"type": "string"}
        if name in enums:
            item["enum"] = enums[name]
        elif name in ("requesting_state", "requested_state"):
            item["pattern"] = "^[A-Za-z]{3}$"
        parameters.append({"name": name, "in": "query", "required": False, "style": "form", "explode": True,
                           "description": text + " Repeat the parameter to OR its values; different filters are"
                                                 " AND-ed.",
                           "schema": {"type": "array", "items": item}})
    for name in ("year_from", "year_to"):
        parameters.append({"name": name, "in": "query", "required": False,
                           "description": "Cases filed under this year or " + ("later." if name == "year_from"
                                                                               else "earlier."),
                           "schema": {"type": "integer", "minimum": 1, "maximum": 9999}})
    return parameters


_error = openapi_error


@functools.cache
def _openapi_fragment() -> str:
    case = _case_schema()
    draft = copy.deepcopy(case)
    draft["title"] = "A case submitted as a draft (the interchange format; reference optional)"
    draft["required"] = [field for field in case["required"] if field != "reference"]
    string_list = {"type": "array", "items": {"type": "string"}}
    facet = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    summary = {
        "type": "object",
        "required": ["reference", "title", "snippet", "year", "language", "requesting_state", "requested_state",
                     "cooperation_forms", "crime_types", "legal_bases", "outcome", "duration_days", "visibility",
                     "url"],
        "additionalProperties": False,
        "properties": {
            "reference": {"type": "string"}, "title": {"type": "string"},
            "snippet": {"type": "string",
                        "description": "HTML, text escaped: with q, the passage of the case with the most words of "
                                       "the query, each found word in <mark>...</mark>; without q, the opening "
                                       "of the summary."},
            "year": {"type": ["integer", "null"], "description": "Year of the request (else decision, completion)."},
            "language": {"type": "string"}, "requesting_state": {"type": "string"},
            "requested_state": {"type": "string"}, "cooperation_forms": string_list, "crime_types": string_list,
            "legal_bases": string_list, "outcome": {"type": "string"},
            "duration_days": {"type": ["integer", "null"], "description": "Days from request to completion."},
            "visibility": {"enum": ["public", "members"]},
            "url": {"type": "string", "format": "uri", "description": "The case in the interchange format."},
        },
    }
    fragment = {
        "info": {
            "description": "The case catalogue: cases of international cooperation in criminal matters (UNTOC). "
                           "Anonymous callers read public cases; a token with the scope catalogue:read also reads "
                           "members-only cases, and with catalogue:write submits cases as drafts.",
        },
        "components": {
            "schemas": {
                "Case": case,
                "CaseDraft": draft,
                "CaseSummary": summary,
                "CaseList": {
                    "type": "object", "required": ["total", "total_exact", "page", "per_page", "results", "facets",
                                 "facets_exact"],
                    "additionalProperties": False,
                    "properties": {
                        "total": {"type": "integer", "minimum": 0},
                        "total_exact": {
                            "type": "boolean",
                            "description": "false when the search engine estimated total because q found more "
                                           "cases than it counts exactly (PostgreSQL, above 10,000 matches, as "
                                           "Elasticsearch's track_total_hits): total is then an estimate "
                                           "(within a few per cent, never 10,000 or less). Pages past the real "
                                           "end answer no results.",
                        },
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
                        "corrected_query": {
                            "type": ["string", "null"],
                            "description": "When a word of q found nothing the caller may read and a close word "
                                           "did, q with those words corrected: the results are this query's "
                                           "(\"Showing results for ...\"). null when q was searched as given. "
                                           "Send verbatim=1 to search q exactly as given.",
                        },
                        "facets": {
                            "type": "object",
                            "required": ["cooperation_form", "crime_type", "requesting_state", "requested_state",
                                         "region", "legal_basis", "outcome", "year"],
                            "additionalProperties": facet,
                            "description": "Code -> number of cases, each over the results of q and every "
                                           "filter except the facet's own.",
                        },
                        "facets_exact": {
                            "type": "boolean",
                            "description": "false when the search engine estimated the facet counts from a sample "
                                           "because q found very many cases (PostgreSQL, above 5,000 matches): each "
                                           "count is then approximate (at least 1, at most total).",
                        },
                    },
                },
                "Created": {
                    "type": "object", "required": ["reference", "status", "url", "privacy_warnings"],
                    "additionalProperties": False,
                    "properties": {
                        "reference": {"type": "string"}, "status": {"const": "draft"},
                        "url": {"type": "string", "format": "uri"},
                        "privacy_warnings": {
                            "type": "array",
                            "description": "Likely personal data found in the text: remove it before submitting.",
                            "items": {"type": "object", "required": ["field", "kind"],
                                      "properties": {"field": {"type": "string"}, "kind": {"type": "string"}}},
                        },
                    },
                },
            },
        },
        "paths": {
            "/cases": {
                "get": {
                    "operationId": "listCases",
                    "summary": "Search and filter the published cases the caller may read",
                    "security": [{}, {"bearerAuth": ["catalogue:read"]}],
                    "parameters": [
                        {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
                         "description": "Words or a question to find, the search box's query language: words are "
                                        "optional and ranked (cases with more of them, in stronger fields and "
                                        "closer together, first); +word, \"an exact phrase\" in double quotes "
                                        "and a AND b make words required; OR between alternatives; -word or NOT "
                                        "word leaves cases out; word* matches word beginnings; stop words and the "
                                        "words of a question are dropped outside quotes; abbreviations, synonyms "
                                        "and translations (MLA, JIT, letter rogatory, entraide judiciaire, ...) "
                                        "are expanded, inside quotes too; inflections (English, French, Spanish, "
                                        "Russian, Arabic) and accents are ignored; Chinese is matched by character "
                                        "pairs; misspelt words are corrected (see corrected_query). At most 500 "
                                        "characters. A client address may send 60 searches with q a minute; more "
                                        "answer 429."},
                        {"name": "verbatim", "in": "query", "required": False,
                         "schema": {"type": "boolean", "default": False},
                         "description": "1 or true: search q exactly as given, without correcting its words."},
                        *_filter_parameters(),
                        {"name": "sort", "in": "query", "required": False,
                         "schema": {"enum": list(queries.SORTS)},
                         "description": "relevance (best match first: title counts more than keywords, "
                                        "keywords more than the summary, the summary more than obstacles, "
                                        "solutions and lessons; the default with q) or date (newest first; the "
                                        "default without q, and what relevance means without q); title "
                                        "(alphabetical)."},
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
                         "description": "At most 100: a larger value is capped to 100 (the answer says so)."},
                    ],
                    "responses": {
                        "200": {"description": "One page of results, with facet counts.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseList"}}}},
                        "400": _error("A parameter could not be understood."),
                        "401": _error("The token given is unknown, revoked or expired."),
                        "403": _error("The token given lacks the scope catalogue:read."),
                        "429": _error("Too many searches with q from this address in a minute (Retry-After)."),
                    },
                },
                "post": {
                    "operationId": "submitCaseDraft",
                    "summary": "Save a case as a draft of the token's member",
                    "description": "The member then checks it, confirms it is anonymised and submits it for "
                                   "review on the site. A reference is assigned when none is given.",
                    "security": [{"bearerAuth": ["catalogue:write"]}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CaseDraft"}}}},
                    "responses": {
                        "201": {"description": "The draft was saved.",
                                "headers": {"Location": {"description": "The draft's address in this API.",
                                                         "schema": {"type": "string", "format": "uri"}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Created"}}}},
                        "400": _error("The body is not a valid case: error.problems lists every problem."),
                        "401": _error("No token, or a token unknown, revoked or expired."),
                        "403": _error("The token lacks the scope catalogue:write, or its member may not submit."),
                        "409": _error("A case with the reference given exists already."),
                    },
                },
            },
            "/cases/{reference}": {
                "get": {
                    "operationId": "getCase",
                    "summary": "One case in the interchange format",
                    "security": [{}, {"bearerAuth": ["catalogue:read"]}],
                    "parameters": [{"name": "reference", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The case.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}},
                        "401": _error("The token given is unknown, revoked or expired."),
                        "403": _error("The token given lacks the scope catalogue:read."),
                        "404": _error("No case with this reference that the caller may read."),
                    },
                },
            },
        },
    }
    return json.dumps(fragment)


def openapi_fragment() -> dict:
    """The catalogue's part of /api/v1/openapi.json: its paths and schemas (a fresh copy: callers may change it)."""
    return json.loads(_openapi_fragment())
