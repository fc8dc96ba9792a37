"""The JSON API (/api/v1): visibility by token, token states and scopes, JSON errors, submitting drafts,
paging and filters, the OpenAPI description the answers validate against, and the token pages."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.catalogue_support import interchange_case as case_data
from tests.conftest import csrf_token, submit

pytestmark = pytest.mark.persistence


@pytest.fixture
def catalogue(app):
    """Three public cases and one members-only case, published."""
    from catalogue.cases.services import import_case
    from network.core.db import db

    import_case(case_data("API-PUBLIC-1"))
    import_case(case_data("API-PUBLIC-2", cooperation_forms=["extradition"], untoc_provisions=["16"],
                          requested_state="BRA", request_date="2018-05-01", completion_date="2019-01-10"))
    import_case(case_data("API-PUBLIC-3", crime_types=["fraud"], requesting_state="FRA", request_date="2022-01-01",
                          completion_date="2022-03-01", outcome="refused"))
    import_case(case_data("API-MEMBERS-1", visibility="members", summary="Members-only: " + "x" * 300))
    db.session.commit()


@pytest.fixture
def make_token(app):
    from network.core.api import issue_token
    from network.core.db import db

    def make(member, scopes=("catalogue:read",), days: int | None = 30, name: str = "script"):
        token, secret = issue_token(member, name, list(scopes), days)
        db.session.commit()
        return secret

    return make


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def references(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(item["reference"] for item in response.get_json()["results"])


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


# ---------------------------------------------------------------- visibility and tokens

def test_anonymous_callers_get_public_cases_only(client, catalogue):
    assert references(client.get("/api/v1/cases")) == ["API-PUBLIC-1", "API-PUBLIC-2", "API-PUBLIC-3"]
    assert client.get("/api/v1/cases/API-PUBLIC-1").get_json()["reference"] == "API-PUBLIC-1"
    assert_error(client.get("/api/v1/cases/API-MEMBERS-1"), 404, "not_found")
    assert_error(client.get("/api/v1/cases/NO-SUCH-CASE"), 404, "not_found")


def test_a_member_token_with_catalogue_read_sees_members_only_cases(client, catalogue, member, make_token):
    headers = bearer(make_token(member))
    assert "API-MEMBERS-1" in references(client.get("/api/v1/cases", headers=headers))
    answer = client.get("/api/v1/cases/API-MEMBERS-1", headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["visibility"] == "members"


def test_the_session_cookie_is_ignored_and_never_set_under_the_api(app, auth, catalogue, member):
    browser = auth.client_for(member)
    assert browser.get("/cases/API-MEMBERS-1").status_code == 200  # the site knows the member...
    answer = browser.get("/api/v1/cases/API-MEMBERS-1")  # ...the API does not, without a token
    assert_error(answer, 404, "not_found")
    assert "Set-Cookie" not in answer.headers
    assert "API-MEMBERS-1" not in references(browser.get("/api/v1/cases"))
    assert_error(browser.post("/api/v1/cases", json=case_data("API-NEW-1")), 401, "authentication_required")


def test_an_unknown_or_malformed_token_is_refused_with_401_json(client, catalogue):
    assert_error(client.get("/api/v1/cases", headers=bearer("pat_not-a-real-token")), 401, "invalid_token")
    answer = client.get("/api/v1/cases", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(answer, 401, "invalid_token")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/api/v1/cases/API-PUBLIC-1", headers={"Authorization": "Bearer "}), 401, "invalid_token")


def test_revoked_and_expired_tokens_are_refused(client, catalogue, member, make_token, clock):
    from network.core.api import revoke_token
    from network.core.crypto import token_digest
    from network.core.db import db
    from network.members.models import ApiToken

    revoked = make_token(member)
    record = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == token_digest(revoked)))
    revoke_token(record, member)
    db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=bearer(revoked)), 401, "invalid_token")

    expiring = make_token(member, days=1)
    assert client.get("/api/v1/cases", headers=bearer(expiring)).status_code == 200
    clock.advance(days=1, seconds=1)
    assert_error(client.get("/api/v1/cases", headers=bearer(expiring)), 401, "invalid_token")


def test_the_token_of_a_suspended_member_stops_working(client, catalogue, member, make_token):
    from network.core.db import db

    secret = make_token(member)
    member.status = "suspended"
    db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=bearer(secret)), 401, "invalid_token")


def test_a_token_without_the_scope_gets_403_json(client, catalogue, member, make_token):
    directory_only = make_token(member, scopes=("directory:read",))
    assert_error(client.get("/api/v1/cases", headers=bearer(directory_only)), 403, "insufficient_scope")
    read_only = make_token(member, scopes=("catalogue:read",))
    assert_error(client.post("/api/v1/cases", json=case_data("API-NEW-1"), headers=bearer(read_only)),
                 403, "insufficient_scope")


def test_using_a_token_records_when_it_was_last_used(client, catalogue, member, make_token):
    from network.core.db import db
    from network.members.models import ApiToken

    secret = make_token(member)
    client.get("/api/v1/cases", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.scalar(db.select(ApiToken)).last_used_at is not None


# ---------------------------------------------------------------- submitting drafts

def test_post_creates_a_draft_owned_by_the_tokens_member(client, member, make_token):
    from catalogue.cases.services import find_case

    data = case_data("IGNORED", visibility="members")
    del data["reference"]
    answer = client.post("/api/v1/cases", json=data, headers=bearer(make_token(member, scopes=("catalogue:write",))))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["status"] == "draft" and body["reference"].startswith("CASE-")
    assert answer.headers["Location"].endswith(f"/api/v1/cases/{body['reference']}")
    case = find_case(body["reference"])
    assert case.status == "draft" and case.submitter_id == member.id
    assert case.title == data["title"] and case.cooperation_forms == ["mla"] and case.revisions == []
    assert client.get(f"/api/v1/cases/{body['reference']}").status_code == 404  # a draft is not published


def test_post_keeps_a_reference_given_and_refuses_one_taken(client, catalogue, member, make_token):
    from catalogue.cases.services import find_case
    from network.core.audit import AuditEntry
    from network.core.db import db

    headers = bearer(make_token(member, scopes=("catalogue:read", "catalogue:write")))
    answer = client.post("/api/v1/cases", json=case_data("MY-TOOL-0001"), headers=headers)
    assert answer.status_code == 201
    assert find_case("MY-TOOL-0001").submitter_id == member.id
    assert client.get("/api/v1/cases/MY-TOOL-0001", headers=headers).status_code == 200  # its own draft
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "case.created_via_api")) is not None
    assert_error(client.post("/api/v1/cases", json=case_data("API-PUBLIC-1"), headers=headers), 409, "conflict")


def test_an_invalid_body_gets_400_with_every_problem_and_saves_nothing(client, member, make_token):
    from catalogue.cases.models import Case
    from network.core.db import db

    headers = bearer(make_token(member, scopes=("catalogue:write",)))
    bad = case_data("API-BAD-1", requested_state="XYZ", outcome="won", crime_types=[])
    del bad["title"]
    answer = client.post("/api/v1/cases", json=bad, headers=headers)
    assert_error(answer, 400, "invalid_case")
    problems = answer.get_json()["error"]["problems"]
    assert any("title" in p for p in problems)
    assert any(p.startswith("outcome") for p in problems)
    assert any(p.startswith("crime_types") for p in problems)
    assert any(p.startswith("requested_state") for p in problems)
    assert_error(client.post("/api/v1/cases", data="not json", headers=headers), 400, "invalid_json")
    assert_error(client.post("/api/v1/cases", json=[1, 2], headers=headers), 400, "invalid_json")
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 0


def test_post_without_a_token_is_401(client):
    answer = client.post("/api/v1/cases", json=case_data("API-NEW-1"))
    assert_error(answer, 401, "authentication_required")


# ---------------------------------------------------------------- listing: paging and filters

def test_per_page_above_100_is_capped_to_100(client, catalogue):
    body = client.get("/api/v1/cases?per_page=500").get_json()
    assert body["per_page"] == 100 and body["total"] == 3
    body = client.get("/api/v1/cases?per_page=2&page=2").get_json()
    assert (body["page"], body["per_page"], body["total"], len(body["results"])) == (2, 2, 3, 1)


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=-1", "sort=size", "year_from=soon"])
def test_parameters_that_cannot_be_understood_get_400_json(client, catalogue, query):
    assert_error(client.get(f"/api/v1/cases?{query}"), 400, "invalid_parameter")


def test_values_of_one_filter_are_ored_and_different_filters_anded(client, catalogue):
    assert references(client.get("/api/v1/cases?cooperation_form=mla")) == ["API-PUBLIC-1", "API-PUBLIC-3"]
    assert references(client.get("/api/v1/cases?cooperation_form=mla&cooperation_form=extradition")) == [
        "API-PUBLIC-1", "API-PUBLIC-2", "API-PUBLIC-3"]
    assert references(client.get("/api/v1/cases?cooperation_form=mla&crime_type=money_laundering")) == [
        "API-PUBLIC-1"]
    assert references(client.get("/api/v1/cases?requesting_state=fra&requesting_state=AUT&outcome=refused")) == [
        "API-PUBLIC-3"]
    assert references(client.get("/api/v1/cases?region=americas")) == ["API-PUBLIC-2"]
    assert references(client.get("/api/v1/cases?year_from=2019&year_to=2021")) == ["API-PUBLIC-1"]
    assert references(client.get("/api/v1/cases?provision=16")) == ["API-PUBLIC-2"]
    facets = client.get("/api/v1/cases?cooperation_form=mla").get_json()["facets"]
    assert facets["cooperation_form"] == {"mla": 2, "extradition": 1}  # a facet counts without its own filter
    assert facets["crime_type"] == {"fraud": 1, "money_laundering": 1}


def test_results_are_sorted_by_date_newest_first(client, catalogue):
    results = client.get("/api/v1/cases?sort=date").get_json()["results"]
    assert [r["year"] for r in results] == [2022, 2020, 2018]
    assert results[0]["duration_days"] == 59
    assert results[0]["url"].endswith("/api/v1/cases/API-PUBLIC-3")


# ---------------------------------------------------------------- the OpenAPI description

@pytest.fixture
def spec(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def validator(spec: dict, name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_the_openapi_description_names_the_operations_and_the_bearer_scheme(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        **spec["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"listCases", "getCase", "submitCaseDraft"} <= operations
    parameters = {p["name"] for p in spec["paths"]["/cases"]["get"]["parameters"]}
    assert parameters >= {"q", "cooperation_form", "crime_type", "requesting_state", "requested_state", "region",
                          "legal_basis", "provision", "outcome", "language", "year_from", "year_to", "sort", "page",
                          "per_page"}
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert spec["components"]["schemas"]["Case"]["properties"]["cooperation_forms"]["items"]["enum"][0] == "extradition"


def test_api_answers_validate_against_the_openapi_description(client, spec, catalogue, member, make_token):
    headers = bearer(make_token(member, scopes=("catalogue:read", "catalogue:write")))
    listing = client.get("/api/v1/cases?per_page=500", headers=headers).get_json()
    validator(spec, "CaseList").validate(listing)
    for item in listing["results"]:
        validator(spec, "Case").validate(client.get(item["url"], headers=headers).get_json())
    created = client.post("/api/v1/cases", json=case_data("API-NEW-1"), headers=headers)
    validator(spec, "Created").validate(created.get_json())
    validator(spec, "CaseDraft").validate({k: v for k, v in case_data("X").items() if k != "reference"})
    for answer in (client.get("/api/v1/cases/NOPE"), client.get("/api/v1/cases", headers=bearer("bad")),
                   client.post("/api/v1/cases", json={"title": "x"}, headers=headers),
                   client.get("/api/v1/nowhere")):
        assert answer.status_code >= 400
        validator(spec, "Error").validate(answer.get_json())


# ---------------------------------------------------------------- the token pages

def test_a_member_creates_a_token_sees_it_once_uses_it_and_revokes_it(app, auth, catalogue, member):
    from network.core.audit import AuditEntry
    from network.core.db import db

    browser = auth.client_for(member)
    assert 'href="/account/tokens"' in browser.get("/account/security").get_data(as_text=True)
    page = submit(browser, "/account/tokens", {"name": "Statistics script", "scopes": ["catalogue:read"],
                                               "expires_in_days": "30"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = html.split('id="new-token-value">', 1)[1].split("<", 1)[0]
    assert secret.startswith("pat_") and len(secret) > 40
    listing = browser.get("/account/tokens").get_data(as_text=True)
    assert "Statistics script" in listing and "catalogue:read" in listing and secret not in listing

    assert "API-MEMBERS-1" in references(app.test_client().get("/api/v1/cases", headers=bearer(secret)))
    assert "Never" not in browser.get("/account/tokens").get_data(as_text=True).split("Statistics script")[1][:400]

    token_id = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "api_token.created")).target_id
    revoked = browser.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(browser.get("/account/tokens").get_data(as_text=True))})
    assert revoked.status_code == 302
    assert_error(app.test_client().get("/api/v1/cases", headers=bearer(secret)), 401, "invalid_token")
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "api_token.revoked")) is not None


def test_token_form_problems_answer_400_and_create_nothing(app, auth, member):
    from network.core.db import db
    from network.members.models import ApiToken

    browser = auth.client_for(member)
    assert submit(browser, "/account/tokens", {"name": "x", "scopes": ["root"]}).status_code == 400
    assert submit(browser, "/account/tokens", {"name": "", "scopes": ["catalogue:read"]}).status_code == 400
    assert submit(browser, "/account/tokens", {"name": "x", "scopes": ["catalogue:read"],
                                               "expires_in_days": "5000"}).status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 0


def test_a_member_cannot_revoke_another_members_token(app, auth, member, member_factory, make_token):
    from network.core.db import db
    from network.members.models import ApiToken

    make_token(member)
    token = db.session.scalar(db.select(ApiToken))
    other = auth.client_for(member_factory())
    page = other.get("/account/tokens")
    answer = other.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_creating_a_token_needs_a_recent_sign_in(app, auth, member, clock):
    browser = auth.client_for(member)
    page = browser.get("/account/tokens")
    clock.advance(seconds=app.config["REAUTH_WINDOW"] + 60)
    answer = browser.post("/account/tokens", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                   "name": "late", "scopes": ["catalogue:read"]})
    assert answer.status_code == 302 and "/reauthenticate" in answer.headers["Location"]
