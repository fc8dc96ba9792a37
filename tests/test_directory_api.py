"""The directory's JSON API (/api/v1/authorities): tokens of vetted members with directory:read only (401/403 JSON
otherwise), the same entries in the same order as the directory page's listing, paging, JSON errors, and answers that
validate against the OpenAPI description, which the network assembles from each API module's part."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import submit

pytestmark = pytest.mark.persistence


@pytest.fixture
def directory(app, authority, other_authority):
    """The demonstration directory (56 entries, 35 States), completing the fixtures' AUT-MOJ and NGA-CA."""
    from network.core.db import db
    from network.directory.demo import load_demo_directory

    load_demo_directory()
    db.session.commit()


@pytest.fixture
def make_token(app):
    from network.core.api import issue_token
    from network.core.db import db

    def make(member, scopes=("directory:read",), days: int | None = 30):
        _token, secret = issue_token(member, "directory script", list(scopes), days)
        db.session.commit()
        return secret

    return make


@pytest.fixture
def headers(member, make_token) -> dict:
    return bearer(make_token(member))


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


def all_keys(client, headers: dict, query: str = "") -> list[str]:
    """Every key the listing gives for the query, page after page."""
    keys, page = [], 1
    while True:
        answer = client.get(f"/api/v1/authorities?{query}&per_page=7&page={page}", headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        keys += [item["key"] for item in body["results"]]
        if page * 7 >= body["total"]:
            assert len(keys) == body["total"]
            return keys
        page += 1


def page_keys(query: str) -> list[str]:
    """The keys the directory page lists for the same query string, through its own listing function."""
    from urllib.parse import parse_qs

    from network.directory import queries

    filters = queries.parse_filters(parse_qs(query), strict=True)
    return [authority.key for authority in queries.filtered_authorities(filters)]


# ---------------------------------------------------------------- tokens and scopes

@pytest.mark.parametrize("url", ["/api/v1/authorities", "/api/v1/authorities/AUT-MOJ"])
def test_without_a_token_or_with_a_bad_one_the_answer_is_401_json(client, directory, url):
    answer = client.get(url)
    assert_error(answer, 401, "authentication_required")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get(url, headers=bearer("pat_not-a-real-token")), 401, "invalid_token")
    assert_error(client.get(url, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "invalid_token")


@pytest.mark.parametrize("url", ["/api/v1/authorities", "/api/v1/authorities/AUT-MOJ"])
def test_a_token_without_directory_read_gets_403_json(client, directory, member, make_token, url):
    answer = client.get(url, headers=bearer(make_token(member, scopes=("catalogue:read", "catalogue:write"))))
    assert_error(answer, 403, "insufficient_scope")
    assert "insufficient_scope" in answer.headers["WWW-Authenticate"]


def test_revoked_tokens_and_tokens_of_suspended_members_stop_working(client, directory, member, make_token):
    from network.core.api import revoke_token
    from network.core.db import db
    from network.members.models import ApiToken

    revoked = make_token(member)
    revoke_token(db.session.scalar(db.select(ApiToken)), member)
    db.session.commit()
    assert_error(client.get("/api/v1/authorities", headers=bearer(revoked)), 401, "invalid_token")
    live = make_token(member)
    assert client.get("/api/v1/authorities", headers=bearer(live)).status_code == 200
    member.status = "suspended"
    db.session.commit()
    assert_error(client.get("/api/v1/authorities", headers=bearer(live)), 401, "invalid_token")


def test_a_signed_in_browser_without_a_token_is_refused(auth, directory, member):
    browser = auth.client_for(member)
    assert browser.get("/directory/AUT-MOJ").status_code == 200  # the site knows the member...
    answer = browser.get("/api/v1/authorities/AUT-MOJ")  # ...the API does not, without a token
    assert_error(answer, 401, "authentication_required")
    assert "Set-Cookie" not in answer.headers


# ---------------------------------------------------------------- the listing matches the page

@pytest.mark.parametrize("query", [
    "",
    "designation=som_sea&designation=drugs_sea",
    "region=africa&channel=interpol",
    "group=latin_american_caribbean&available_24_7=1",
    "group=eastern_european&group=african&language=fr",
    "instrument=DRUGS1988&state=col&state=THA",
    "stale=1",
    "stale=0&designation=untoc_extradition",
    "q=ministry+justice",
    "language=es&channel=network&region=americas&region=europe",
])
def test_the_listing_gives_the_pages_entries_in_the_pages_order(client, directory, headers, query):
    expected = page_keys(query)
    assert all_keys(client, headers, query) == expected
    if query not in ("", "q=ministry+justice"):
        assert 0 < len(expected) < len(page_keys(""))  # each filter narrows the list without emptying it


@pytest.mark.parametrize("query", ["designation=som_sea&designation=drugs_sea", "region=africa&stale=0",
                                   "group=western_european_others&language=fr"])
def test_the_listing_names_the_authorities_the_directory_page_shows_in_its_order(auth, client, directory, headers,
                                                                                  member, query):
    import re

    html = auth.client_for(member).get(f"/directory/?{query}").get_data(as_text=True)
    on_page = list(dict.fromkeys(re.findall(r'href="/directory/([A-Z]{3}-[A-Z0-9-]+)"', html)))
    assert on_page and all_keys(client, headers, query) == on_page


def test_each_result_is_the_entry_with_its_staleness_and_links(client, directory, headers):
    from network.directory.interchange import find_authority

    results = client.get("/api/v1/authorities?per_page=100", headers=headers).get_json()["results"]
    by_key = {item["key"]: item for item in results}
    assert by_key["GHA-AG"]["stale"] is True and "last_verified" not in by_key["GHA-AG"]  # never verified
    assert by_key["FRA-OCRTIS"]["stale"] is True and by_key["AUT-MOJ"]["stale"] is False
    item = by_key["AUT-MOJ"]
    assert {k: v for k, v in item.items() if k not in ("stale", "url", "page_url")} == \
        find_authority("AUT-MOJ").to_interchange()
    assert item["url"] == "http://localhost/api/v1/authorities/AUT-MOJ"
    assert item["page_url"] == "http://localhost/directory/AUT-MOJ"


def test_per_page_is_capped_to_100_and_pages_slice_the_same_order(client, directory, headers):
    body = client.get("/api/v1/authorities?per_page=500", headers=headers).get_json()
    assert body["per_page"] == 100 and body["page"] == 1 and body["total"] == len(body["results"]) == 56
    everything = [item["key"] for item in body["results"]]
    second = client.get("/api/v1/authorities?per_page=10&page=2", headers=headers).get_json()
    assert (second["page"], second["per_page"], second["total"]) == (2, 10, 56)
    assert [item["key"] for item in second["results"]] == everything[10:20]
    beyond = client.get("/api/v1/authorities?page=99", headers=headers).get_json()
    assert beyond["results"] == [] and beyond["total"] == 56


@pytest.mark.parametrize("query", ["state=XYZ", "designation=secret_police", "group=nordic", "region=atlantis",
                                   "instrument=GATT", "channel=pigeon", "available_24_7=perhaps", "stale=sometimes",
                                   "page=0", "page=x", "per_page=-1"])
def test_parameters_that_cannot_be_understood_get_400_json(client, directory, headers, query):
    assert_error(client.get(f"/api/v1/authorities?{query}", headers=headers), 400, "invalid_parameter")


def test_one_entry_by_key_with_its_page_and_404_for_an_unknown_key(client, directory, headers):
    from network.directory.interchange import find_authority

    answer = client.get("/api/v1/authorities/COL-ARC", headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body == {**find_authority("COL-ARC").to_interchange(), "stale": False,
                    "url": "http://localhost/api/v1/authorities/COL-ARC",
                    "page_url": "http://localhost/directory/COL-ARC"}
    assert client.get("/api/v1/authorities/col-arc", headers=headers).get_json()["key"] == "COL-ARC"
    assert_error(client.get("/api/v1/authorities/AUT-NOWHERE", headers=headers), 404, "not_found")


# ---------------------------------------------------------------- the OpenAPI description

@pytest.fixture
def spec(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def validator(spec: dict, name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_the_description_has_the_directory_operations_beside_the_catalogues(spec):
    from network.directory import queries
    from network.directory.services import SCHEMA_PATH

    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    assert {"listAuthorities", "getAuthority", "listCases", "getCase", "submitCaseDraft", "openapi"} <= set(operations)
    listing = spec["paths"]["/authorities"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {*queries.FILTERS, "page", "per_page"}
    assert listing["security"] == [{"bearerAuth": ["directory:read"]}]
    assert spec["paths"]["/authorities/{key}"]["get"]["security"] == [{"bearerAuth": ["directory:read"]}]
    assert {"401", "403", "404"} <= set(spec["paths"]["/authorities/{key}"]["get"]["responses"])
    assert "directory:read" in spec["components"]["securitySchemes"]["bearerAuth"]["description"]
    vendored = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert spec["components"]["schemas"]["Authority"] == {k: v for k, v in vendored.items()
                                                          if k not in ("$schema", "$id")}
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert [tag["name"] for tag in spec["tags"]] == ["directory"]


def test_directory_answers_validate_against_the_description(client, spec, directory, headers, member, make_token):
    listing = client.get("/api/v1/authorities?per_page=100", headers=headers).get_json()
    validator(spec, "AuthorityList").validate(listing)
    for item in listing["results"]:
        validator(spec, "AuthorityEntry").validate(item)
        entry = {k: v for k, v in item.items() if k not in ("stale", "url", "page_url")}
        validator(spec, "Authority").validate(entry)  # what `directory import` reads
    validator(spec, "AuthorityEntry").validate(client.get(listing["results"][0]["url"], headers=headers).get_json())
    wrong_scope = bearer(make_token(member, scopes=("catalogue:read",)))
    for answer in (client.get("/api/v1/authorities"), client.get("/api/v1/authorities", headers=bearer("bad")),
                   client.get("/api/v1/authorities", headers=wrong_scope),
                   client.get("/api/v1/authorities?state=XYZ", headers=headers),
                   client.get("/api/v1/authorities/AUT-NOWHERE", headers=headers)):
        assert answer.status_code >= 400
        validator(spec, "Error").validate(answer.get_json())


def test_the_description_is_assembled_from_registered_parts_and_refuses_a_path_given_twice(app):
    from network.core.api import OPENAPI_FRAGMENTS_KEY, assemble_openapi

    fragments = app.extensions[OPENAPI_FRAGMENTS_KEY]
    names = [fragment.__module__ for fragment in fragments]
    assert names == ["network.directory.api", "catalogue.cases.api"]
    document = assemble_openapi(fragments)
    assert list(document["paths"])[-1] == "/openapi.json"
    assert list(document["components"]["schemas"])[-1] == "Error"
    with pytest.raises(ValueError, match="contributed twice"):
        assemble_openapi([*fragments, fragments[0]])


# ---------------------------------------------------------------- the token page

def test_a_member_creates_a_directory_token_on_the_tokens_page_and_reads_the_directory(app, auth, directory, member):
    browser = auth.client_for(member)
    tokens_page = browser.get("/account/tokens").get_data(as_text=True)
    assert 'value="directory:read"' in tokens_page
    assert 'href="/api/v1/openapi.json"' in tokens_page
    page = submit(browser, "/account/tokens", {"name": "Directory sync", "scopes": ["directory:read"],
                                               "expires_in_days": "30"})
    assert page.status_code == 200
    secret = page.get_data(as_text=True).split('id="new-token-value">', 1)[1].split("<", 1)[0]
    api = app.test_client()
    assert api.get("/api/v1/authorities/NGA-CA", headers=bearer(secret)).get_json()["name"].startswith("Central")
    assert_error(api.get("/api/v1/cases", headers=bearer(secret)), 403, "insufficient_scope")
