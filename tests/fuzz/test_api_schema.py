"""schemathesis over the OpenAPI document the app serves (/api/v1/openapi.json), against the WSGI app in-process,
with a bearer token holding every scope: data that fits the schema and data that does not, for every operation.

The property: no 5xx; the answer's status code, content type and body are the ones the document describes."""
from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
import schemathesis
from hypothesis import given
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import FailureGroup, not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.catalogue_support import interchange_case
from tests.fuzz.found import known_server_error
from tests.fuzz.support import FIGURES, LONG, corpus

pytestmark = pytest.mark.persistence

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture
def bearer(app, member, authority):
    """A member's token with every scope the API knows, and a few cases and authorities to find."""
    from catalogue.cases.services import import_case
    from network.core.api import issue_token
    from network.core.db import db
    from network.directory.models import AuthorityDesignation

    # the conftest's authority is made without designations, which the interchange schema never allows
    db.session.add(AuthorityDesignation(authority_id=authority.id, code="untoc_mla_central"))
    import_case(interchange_case("API-FUZZ-1"))
    import_case(interchange_case("API-FUZZ-2", visibility="members"))
    _token, secret = issue_token(member, "fuzz", ["catalogue:read", "catalogue:write", "directory:read"], 30)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())
    return found


def test_the_document_names_operations(app):
    names = {f"{operation.method.upper()} {operation.path}" for operation in operations(app)}
    assert {"GET /cases", "POST /cases"} <= {name.replace("/api/v1", "") for name in names}, names


def fuzz_operation(operation, mode, bearer, problems: list[str]) -> None:
    name = f"{operation.method.upper()} {operation.full_path} ({mode.value})"

    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        response = case.call(headers=bearer)
        FIGURES.tried("api", name)
        if response.status_code >= 500:
            FIGURES.server_error(name, case.as_curl_command(), response.status_code, response.text[-800:])
            body = case.body if isinstance(case.body, dict) else {}
            if known_server_error(f"{operation.method.upper()} {operation.full_path}", body):
                return  # test_found.py has it, xfail(strict) until the fix
        try:
            case.validate_response(response, checks=CHECKS, headers=bearer)
        except (AssertionError, FailureGroup) as failure:  # schemathesis's Failure is an AssertionError
            problems.append(f"{name}: {failure!s:.300}: " + "; ".join(
                str(inner).splitlines()[0] for inner in getattr(failure, "exceptions", [failure])))

    try:
        one()
    except Unsatisfiable:  # no data can break this operation's schema (nothing to negate)
        FIGURES.tried("api", name, 0)


@pytest.mark.parametrize("mode", MODES, ids=[mode.value for mode in MODES])
def test_every_api_operation_answers_as_its_document_says(app, bearer, mode):
    problems: list[str] = []
    for operation in operations(app):
        fuzz_operation(operation, mode, bearer, problems)
    assert not problems, "\n\n".join(problems[:10])


# ---------------------------------------------------------------- the corpus in every parameter

PARAMETER_CLASSES = ("numbers", "control", "sql", "separators", "surrogates", "header-injection", "url-schemes")


def corpus_values() -> list[str]:
    """All of PARAMETER_CLASSES for `make fuzz`; the numbers and a few of each other class for `make test`."""
    if LONG:
        return [*corpus(*PARAMETER_CLASSES), "x" * 5000, "1" * 1000]
    return [*corpus("numbers"), *[value for name in PARAMETER_CLASSES[1:] for value in corpus(name)[:2]], "x" * 5000]


def encoded(value: str) -> str:
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")


def test_every_parameter_takes_each_hostile_value_without_a_5xx(app, client, bearer):
    """Each query and path parameter of each operation the document names gets every corpus value of the classes
    that matter for parameters (numbers of every size and script, control characters, SQL, ...)."""
    document = client.get("/api/v1/openapi.json").get_json()
    base = document.get("servers", [{"url": ""}])[0]["url"].rstrip("/")
    problems = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post") or not isinstance(operation, dict):
                continue
            parameters = [p for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                          if "$ref" not in p]
            name = f"{method.upper()} {base}{path}"
            for parameter in parameters:
                for value in corpus_values():
                    target = base + path
                    query = ""
                    for other in parameters:
                        if other["in"] == "path":
                            sample = value if other is parameter else "AUT-MOJ" if "key" in other["name"] \
                                else "API-FUZZ-1"
                            target = target.replace("{" + other["name"] + "}", encoded(sample))
                    if parameter["in"] == "query":
                        query = f"?{parameter['name']}={encoded(value)}"
                    elif parameter["in"] != "path":
                        continue
                    call = client.post if method == "post" else client.get
                    response = call(target + query, headers=bearer, **({"json": {}} if method == "post" else {}))
                    FIGURES.tried("api", f"{name} [{parameter['name']} from the corpus]")
                    if response.status_code >= 500:
                        FIGURES.server_error(name, f"{parameter['name']}={value!r:.100}", response.status_code,
                                             response.get_data(as_text=True)[-500:])
                        if not known_server_error(name, {parameter["name"]: value}):  # test_found.py has those
                            problems.append(f"{name}: {response.status_code} for {parameter['name']}={value!r:.100}")
    assert not problems, "\n".join(problems[:20])
