# ruff: noqa: F811 -- the `make_token` fixture is imported from test_api and requested by name
"""Bad input that answered 500 (issue 12, findings 8 and 9): query-string integers are bounded, and JSON nested
deeper than any interchange object is refused with a clear error before Python's parser recurses into it."""
from __future__ import annotations

import json

import pytest

from tests.test_api import bearer, make_token  # noqa: F401 -- a fixture

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("query", ["page=" + "9" * 20, "per_page=" + "9" * 20, "page=100001", "page=\u0663",
                                   "page=-1", "page=1e9", "per_page=0"])
def test_out_of_range_page_numbers_answer_400_not_500(client, query):
    answer = client.get(f"/api/v1/cases?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "invalid_parameter"


def test_the_largest_page_still_answers(client):
    assert client.get("/api/v1/cases?page=100000").status_code == 200
    assert client.get("/api/v1/cases?per_page=500").get_json()["per_page"] == 100  # capped, as documented


def test_json_nested_too_deep_is_a_problem_with_a_line_number():
    from network.core.jsonlines import loads, nesting_depth, read_json_lines

    assert nesting_depth('{"a": [1, {"b": "[[[[ not counted ]]]]"}]}') == 3
    with pytest.raises(ValueError, match="nested deeper"):
        loads(DEEP)
    found, problems = read_json_lines([b'{"reference": "A"}', DEEP.encode()], lambda data: [], "reference", "ref")
    assert len(found) == 1 and problems == ["line 2: not valid JSON (nested deeper than 64 levels)"]


def test_catalogue_import_of_a_deep_line_reports_it_and_imports_nothing(app, tmp_path):
    from catalogue.cases.cli import read_cases

    found, problems = read_cases([DEEP.encode()])
    assert found == [] and problems and problems[0].startswith("line 1:")


def test_the_api_refuses_a_deeply_nested_case_with_400(client, member, make_token):
    headers = {**bearer(make_token(member, scopes=("catalogue:write",))), "Content-Type": "application/json"}
    answer = client.post("/api/v1/cases", data=DEEP, headers=headers)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_json"
    nested = {"title": "x" * 10, "summary": json.dumps({"a": 1})}
    assert client.post("/api/v1/cases", json=nested, headers=headers).status_code == 400  # invalid, not 500


@pytest.mark.parametrize("reference", ["IMP-2020-001\n", "IMP-2020-001\r\n", "IMP\n-2020"])
def test_a_reference_with_a_newline_is_refused(app, reference):
    """Finding 12: the schemas' patterns end with `$`, which Python's re lets match before a final newline."""
    from catalogue.cases.services import validation_errors
    from tests.test_case_import_export import case_data

    assert validation_errors(case_data(reference))
    assert validation_errors(case_data("IMP-2020-001")) == []


def test_an_authority_key_with_a_newline_is_refused(app):
    from network.directory.services import validation_errors
    from tests.test_directory_interchange import entry

    assert validation_errors(entry("KEN-TEST")) == []
    assert any(problem.startswith("key:") for problem in validation_errors(entry("KEN-TEST\n")))


def test_form_patterns_end_at_the_end_of_the_text():
    from catalogue.cases.forms import LANGUAGE_RE, PROVISION_RE
    from network.core.urls import url_problem

    assert PROVISION_RE.match("18(13)") and not PROVISION_RE.match("18(13)\n")
    assert LANGUAGE_RE.match("fr") and not LANGUAGE_RE.match("fr\n")
    assert url_problem("https://example.org/a") is None and url_problem("https://example.org/a\n")


@pytest.mark.parametrize(("domains", "email", "matches"), [
    (["com"], "anyone@gmail.com", False),
    (["co.uk"], "anyone@example.co.uk", False),
    (["gv.at"], "someone@bmj.gv.at", False),
    ([".com."], "anyone@gmail.com", False),
    (["justiz.gv.at"], "officer@justiz.gv.at", True),
    (["justiz.gv.at"], "officer@wien.justiz.gv.at", True),
    (["justiz.gv.at"], "officer@notjustiz.gv.at", False),
])
def test_the_domain_signal_never_matches_through_a_public_suffix(domains, email, matches):
    """Finding 17: an authority whose domain is "com" matched every .com applicant."""
    from network.directory.models import Authority

    assert Authority(key="AUT-X", state="AUT", name="X", email_domains=domains).matches_domain(email) is matches


@pytest.mark.persistence
@pytest.mark.parametrize("q", ["\x00", "min\x00istry", "a\x01b\x7fc", "\x00" * 300])
def test_a_nul_in_the_directory_search_is_not_a_500(app, auth, member, authority, q):
    """Finding 8: a NUL in /directory/?q= answered 500 on PostgreSQL."""
    response = auth.client_for(member).get("/directory/", query_string={"q": q})
    assert response.status_code == 200


@pytest.mark.parametrize("target", ["/cases\r\nSet-Cookie: x=1", "/cases\x00", "/cases\x7f", "/" + "a" * 3000])
def test_a_next_address_with_a_control_character_goes_home(app, target):
    """Finding 8: `next=` with a control character was 500 right after a correct second factor."""
    from network.members.views import _safe_next

    with app.test_request_context():
        assert _safe_next(target) == "/"
        assert _safe_next("/cases?q=extradition") == "/cases?q=extradition"
