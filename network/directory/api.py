"""JSON API for the directory under /api/v1: list and read authorities (token scope directory:read), and the
directory's part of the OpenAPI description.

The directory is for vetted members only, so unlike the catalogue every call needs a token. Listing goes through
queries.parse_filters and queries.filtered_authorities, the very functions of the directory page, so the API and
the page always give the same entries in the same order."""
from __future__ import annotations

import copy
import functools
import json

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _

from network.core.api import api_view, error_response, int_arg, openapi_error, register_openapi
from network.directory import queries, services
from network.directory.interchange import find_authority
from network.directory.models import Authority
from network.directory.states import REGIONAL_GROUPS
from network.members.access import is_member

bp = Blueprint("api_directory", __name__, url_prefix="/api/v1")
bp.record_once(lambda state: register_openapi(state.app, openapi_fragment))  # served by network.core.api

SCOPE = "directory:read"
DEFAULT_PER_PAGE = 20


# ---------------------------------------------------------------- answers

def authority_entry(authority: Authority) -> dict:
    """The entry in the interchange format, whether it is stale, and where to find it in the API and on the site."""
    return {
        **authority.to_interchange(),
        "stale": services.is_stale(authority),
        "url": url_for("api_directory.get_authority", key=authority.key, _external=True),
        "page_url": url_for("directory.authority", key=authority.key, _external=True),
    }




# ---------------------------------------------------------------- routes

@bp.get("/authorities")
@api_view(SCOPE, is_member, token_required=True)
def list_authorities():
    """Entries matching the filters of the directory page, in its order, paged; per_page above 100 is capped."""
    try:
        page = int_arg("page", 1)
        per_page = min(int_arg("per_page", DEFAULT_PER_PAGE), queries.MAX_PER_PAGE)
        filters = queries.parse_filters(request.args.to_dict(flat=False), strict=True)
    except (ValueError, queries.DirectoryQueryError) as error:
        return error_response(400, "invalid_parameter", str(error))
    total, shown = queries.paged(queries.filtered_authorities(filters), page, per_page)
    return jsonify(total=total, page=page, per_page=per_page, results=[authority_entry(a) for a in shown])


@bp.get("/authorities/<key>")
@api_view(SCOPE, is_member, token_required=True)
def get_authority(key: str):
    """One entry in the interchange format, with whether it is stale and its page on the site."""
    authority = find_authority(key.upper())
    if authority is None:
        return error_response(404, "not_found", _("There is no authority with this key in the directory."))
    return jsonify(authority_entry(authority))


# ---------------------------------------------------------------- the OpenAPI description

@functools.cache
def authority_schema() -> dict:
    """The interchange format (network/reference/authority.schema.json, a copy of the shared schema)."""
    schema = json.loads(services.SCHEMA_PATH.read_text(encoding="utf-8"))
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def _filter_parameters() -> list[dict]:
    props = authority_schema()["properties"]
    listed = {
        "state": ("State (ISO 3166-1 alpha-3).", {"type": "string", "pattern": "^[A-Za-z]{3}$"}),
        "region": ("UN M49 region of the State.", {"enum": list(queries.REGIONS)}),
        "group": ("UN regional group of the State.", {"enum": list(REGIONAL_GROUPS)}),
        "designation": ("Designation the authority holds.", {"enum": props["designations"]["items"]["enum"]}),
        "instrument": ("Instrument one of its designations rests on (UNTOC, a Protocol, the 1988 Convention).",
                       {"enum": list(queries.INSTRUMENTS)}),
        "channel": ("Channel through which it accepts requests.", {"enum": props["channels"]["items"]["enum"]}),
        "language": ("Language in which it accepts requests (BCP 47; en also finds en-GB).",
                     {"type": "string", "maxLength": 20}),
    }
    parameters: list[dict] = [
        {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
         "description": "Words to find in the authority's name, its parent body or its key (every word must "
                        "appear)."},
    ]
    for name, (text, item) in listed.items():
        parameters.append({"name": name, "in": "query", "required": False, "style": "form", "explode": True,
                           "description": text + " Repeat the parameter to OR its values; different filters are "
                                                 "AND-ed.",
                           "schema": {"type": "array", "items": item}})
    flag = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}
    parameters += [
        {"name": "available_24_7", "in": "query", "required": False, "schema": flag,
         "description": "true: only authorities that receive requests around the clock."},
        {"name": "stale", "in": "query", "required": False, "schema": flag,
         "description": "true: only entries not verified for twelve months (or never); false: only current ones."},
        {"name": "page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
        {"name": "per_page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
         "description": "At most 100: a larger value is capped to 100 (the answer says so)."},
    ]
    return parameters


@functools.cache
def _openapi_fragment() -> str:
    authority = authority_schema()
    entry = copy.deepcopy(authority)
    entry["title"] = "An entry of the directory as the API gives it: the interchange format, plus its state and links"
    entry["required"] = [*authority["required"], "stale", "url", "page_url"]
    entry["properties"].update({
        "stale": {"type": "boolean", "description": "Not verified for twelve months, or never."},
        "url": {"type": "string", "format": "uri", "description": "The entry in this API."},
        "page_url": {"type": "string", "format": "uri", "description": "The authority's page on the site."},
    })
    security = [{"bearerAuth": [SCOPE]}]
    fragment = {
        "info": {
            "description": "The directory of competent national authorities (central authorities for mutual legal "
                           "assistance, authorities for extradition and the other designations under UNTOC, its "
                           "Protocols and the 1988 Convention): for vetted members only, with a token holding the "
                           "scope directory:read. The listing takes the filters of the directory page and gives "
                           "the same entries in the same order.",
        },
        "tags": [{"name": "directory", "description": "Competent national authorities."}],
        "components": {
            "schemas": {
                "Authority": authority,
                "AuthorityEntry": entry,
                "AuthorityList": {
                    "type": "object", "required": ["total", "page", "per_page", "results"],
                    "additionalProperties": False,
                    "properties": {
                        "total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/AuthorityEntry"}},
                    },
                },
            },
        },
        "paths": {
            "/authorities": {
                "get": {
                    "operationId": "listAuthorities",
                    "tags": ["directory"],
                    "summary": "Filter the directory, by State name then authority name, as the directory page does",
                    "security": security,
                    "parameters": _filter_parameters(),
                    "responses": {
                        "200": {"description": "One page of entries.",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/AuthorityList"}}}},
                        "400": openapi_error("A parameter could not be understood (an unknown code, a page that "
                                             "is not a positive number)."),
                        "401": openapi_error("No token, or a token unknown, revoked or expired."),
                        "403": openapi_error("The token lacks the scope directory:read."),
                    },
                },
            },
            "/authorities/{key}": {
                "get": {
                    "operationId": "getAuthority",
                    "tags": ["directory"],
                    "summary": "One entry in the interchange format, with its state and its page on the site",
                    "security": security,
                    "parameters": [{"name": "key", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": authority["properties"]["key"]["pattern"]},
                                    "description": "The entry's stable key, e.g. AUT-MOJ."}],
                    "responses": {
                        "200": {"description": "The entry.",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/AuthorityEntry"}}}},
                        "401": openapi_error("No token, or a token unknown, revoked or expired."),
                        "403": openapi_error("The token lacks the scope directory:read."),
                        "404": openapi_error("No authority with this key."),
                    },
                },
            },
        },
    }
    return json.dumps(fragment)


def openapi_fragment() -> dict:
    """The directory's part of /api/v1/openapi.json (a fresh copy: callers may change it)."""
    return json.loads(_openapi_fragment())
