"""Hostile input by class (issue 12, findings 4, 5 and 12): one URL rule (http, https and mailto only, no quotes,
control characters or spaces, a host for http(s), a length bound) on every way in and again when a stored link is
shown; one single-line rule (no line breaks, NUL, line separators or bidi overrides) for every name, title and
subject in forms, imports and the API; a byte-order mark refused with its line number."""
# ruff: noqa: F811 -- fixtures imported from other test modules are requested by name
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.catalogue_support import interchange_case
from tests.conftest import submit
from tests.test_case_workflow import ESSENTIALS, make_case, member_client  # noqa: F401 -- fixtures
from tests.test_directory_changes import ENTRY, all_changes, entry, fp, propose  # noqa: F401 -- fixtures
from tests.test_messaging_flow import ready  # noqa: F401 -- a fixture

# ---------------------------------------------------------------- the corpus, by class

UNSAFE_URLS = {
    "javascript": "javascript:alert(document.cookie)",
    "javascript, mixed case": "JaVaScRiPt:alert(1)",
    "javascript, leading space": " javascript:alert(1)",
    "javascript, tab inside": "java\tscript:alert(1)",
    "vbscript": "vbscript:msgbox(1)",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file": "file:///etc/passwd",
    "double quote": 'https://example.org/"onmouseover="alert(1)',
    "single quote": "https://example.org/'onmouseover='alert(1)",
    "angle brackets": "https://example.org/<script>alert(1)</script>",
    "backtick": "https://example.org/`x`",
    "backslash": "https:\\\\evil.example\\x",
    "space in host": "https://exa mple.org/",
    "CR LF": "https://example.org/\r\nSet-Cookie: x=1",
    "NUL": "https://example.org/\x00",
    "bidi override": "https://example.org/\u202etxt.exe",
    "no host": "https:///etc/passwd",
    "no slashes": "http:example.org",
    "protocol-relative": "//evil.example/x",
    "relative": "/directory/AUT-MOJ",
    "user before host": "https://trusted.example.org@evil.example/",
    "bad host": "https://exa_mple..org/",
    "bad port": "https://example.org:99999/",
    "too long": "https://example.org/" + "a" * 600,
    "mailto without address": "mailto:",
    "mailto with headers": "mailto:ca@justice.example.org?bcc=everyone@evil.example",
    "mailto with encoded line break": "mailto:ca@justice.example.org%0ABcc:x@evil.example",
}
SAFE_URLS = [
    "https://www.justice.example.ng/central-authority",
    "http://laws.example.fr/cpp?article=694&lang=fr#s2",
    "HTTPS://RIS.EXAMPLE.AT/ARHG",
    "https://example.org:8443/a%20b",
    "https://[2001:db8::1]/mla",
    "https://例え.jp/法令",
    "mailto:mla@justice.example.org",
]
NOT_ONE_LINE = {
    "CR LF": "Ministry of Justice\r\nBcc: everyone@evil.example",
    "NUL": "Ministry of\x00 Justice",
    "U+2028": "Ministry of Justice\u2028Bcc: everyone@evil.example",
    "U+202E": "Ministry of Justice \u202egpj.exe",
}
ONE_LINE = ["Федеральное министерство юстиции", "وزارة العدل", "司法部 国际合作司", "وزارت دادگستری می\u200cخواهم",
            "Ministère de la Justice — Entraide pénale internationale"]

LINE_ERROR = "one line"  # what every single-line refusal says


def count(model) -> int:
    from network.core.db import db

    return db.session.scalar(select(func.count()).select_from(model))


def html(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the URL rule

@pytest.mark.parametrize("url", UNSAFE_URLS.values(), ids=UNSAFE_URLS.keys())
def test_the_url_rule_refuses_each_hostile_link_with_a_reason(url):
    from network.core.urls import link_url, url_problem

    assert url_problem(url), url
    assert link_url(url) is None


@pytest.mark.parametrize("url", SAFE_URLS)
def test_the_url_rule_keeps_ordinary_links(url):
    from network.core.urls import link_url, url_problem

    assert url_problem(url) is None
    assert link_url(url) == url


def test_the_interchange_schemas_check_uri_date_and_email_formats(app):
    from network.directory.services import validation_errors

    entry = {**ENTRY, "website": "javascript:alert(1)", "last_verified": "2025-02-30", "email": "no address",
             "national_laws": [{"title": "Code of Criminal Procedure", "url": "data:text/html,<script>"}]}
    problems = "\n".join(validation_errors(entry))
    for field in ("website:", "national_laws.0.url:", "last_verified:", "email:"):
        assert field in problems, (field, problems)
    assert "javascript" in problems and "http" in problems  # the reason names the schemes accepted


def test_directory_import_refuses_every_hostile_link_by_line_and_imports_nothing(app, tmp_path):
    from network.directory.models import Authority

    lines = []
    for number, url in enumerate(UNSAFE_URLS.values()):
        entry = {**ENTRY, "key": f"AUT-W{number}", "website": url}
        if number % 2:
            entry = {**ENTRY, "key": f"AUT-W{number}", "national_laws": [{"title": "Act", "url": url}]}
        lines.append(json.dumps(entry))
    path = tmp_path / "authorities.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["directory", "import", str(path)])
    assert result.exit_code != 0 and "nothing was imported" in result.output
    for number in range(len(lines)):
        where = "website:" if number % 2 == 0 else "national_laws.0.url:"
        assert f"line {number + 1}: {where}" in result.output, (number, result.output)
    assert count(Authority) == 0


@pytest.mark.parametrize("url", ['https://bmj.example.at/"onmouseover="alert(1)', "https://bmj.example.at/<b>",
                                 "vbscript:msgbox(1)", "https://user@bmj.example.at/"])
def test_the_directory_form_refuses_a_hostile_website_or_law_address(auth, entry, fp, url):
    client = auth.client_for(fp)
    response = propose(client, website=url)
    assert response.status_code == 400 and 'id="website-error"' in html(response)
    response = propose(client, national_laws=f"Extradition Act | {url}")
    assert response.status_code == 400 and 'id="national_laws-error"' in html(response)
    assert all_changes() == []


def test_a_hostile_link_stored_earlier_is_shown_as_text_never_as_a_link(app, auth, member):
    """The rendering half of the rule: an entry written before the rule (or straight into the database)."""
    from network.core.db import db
    from network.directory.models import Authority

    db.session.add(Authority(key="AUT-OLD", state="AUT", name="Old Ministry of Justice", email_domains=[],
                             website="javascript:alert(document.cookie)", email='ca@old.example?bcc=x@evil.example',
                             national_laws=[{"title": "Old Act", "url": "data:text/html,<script>alert(1)</script>"},
                                            {"title": "Good Act", "url": "https://ris.example.at/arhg"}]))
    db.session.commit()
    client = auth.client_for(member)
    for url in ("/directory/AUT-OLD", "/directory/print?state=AUT", "/directory/states/AUT"):
        page = html(client.get(url))
        assert "Old Ministry of Justice" in page, url
        assert 'href="javascript:' not in page and 'href="data:' not in page, url
        assert 'href="mailto:ca@old.example?' not in page, url
        if url != "/directory/states/AUT":
            assert "javascript:alert(document.cookie)" in page  # shown, as text
            assert "Old Act" in page and 'href="https://ris.example.at/arhg"' in page, url


# ---------------------------------------------------------------- one line: forms

def _field_refuses(form, name: str, value: str) -> list[str]:
    field = form[name]
    field.data, field.raw_data, field.errors = value, [value], []
    field.validate(form)
    return [str(error) for error in field.errors]


ONE_ITEM_PER_LINE = ("treaties", "national_laws", "email_domains", "other_instruments")


def single_line_fields(app, case):
    """(form, field) of every form field that is a name, a title or a subject."""
    from catalogue.cases import forms as case_forms
    from network.directory import change_forms
    from network.forum import forms as forum_forms
    from network.members import forms as member_forms
    from network.messaging import forms as message_forms

    return [
        (member_forms.ApplicationForm([], formdata=None), "name"),
        (member_forms.ApplicationForm([], formdata=None), "authority_other"),
        (member_forms.ApplicationForm([], formdata=None), "position"),
        (change_forms.EntryForm(formdata=None), "name"),
        (change_forms.EntryForm(formdata=None), "parent_body"),
        (change_forms.EntryForm(formdata=None), "phone"),
        (change_forms.EntryForm(formdata=None), "email"),
        (change_forms.EntryForm(formdata=None), "office_hours"),
        (change_forms.EntryForm(formdata=None), "time_zone"),
        (change_forms.EntryForm(formdata=None), "treaties"),
        (change_forms.EntryForm(formdata=None), "national_laws"),
        (change_forms.EntryForm(formdata=None), "email_domains"),
        (change_forms.ApproveForm(formdata=None), "note"),
        (change_forms.ReconfirmForm(formdata=None), "note"),
        (forum_forms.TopicForm(formdata=None), "title"),
        (forum_forms.GroupForm(formdata=None), "name"),
        (forum_forms.SpaceForm(formdata=None), "name"),
        (forum_forms.ModerateTopicForm(formdata=None), "reason"),
        (message_forms.ComposeForm([], formdata=None), "subject"),
        (message_forms.MailboxComposeForm(formdata=None), "subject"),
        (case_forms.EssentialsForm(case, formdata=None), "title"),
        (case_forms.DepthForm(case, formdata=None), "keywords"),
        (case_forms.DepthForm(case, formdata=None), "source"),
        (case_forms.DepthForm(case, formdata=None), "other_instruments"),
        (case_forms.TranslationForm(formdata=None), "title"),
        (case_forms.PublishForm(formdata=None), "note"),
    ]


def test_every_name_title_and_subject_field_refuses_text_that_is_not_one_line(app, member, make_case):
    case = make_case(member)
    with app.test_request_context():
        for form, name in single_line_fields(app, case):
            for kind, value in NOT_ONE_LINE.items():
                if kind == "CR LF" and name in ONE_ITEM_PER_LINE:
                    continue  # the line break between two items of a list
                errors = _field_refuses(form, name, value)
                assert any(LINE_ERROR in error for error in errors), (type(form).__name__, name, kind, errors)
            for value in ONE_LINE:
                errors = _field_refuses(form, name, value)
                assert not any(LINE_ERROR in error for error in errors), (type(form).__name__, name, value, errors)


@pytest.mark.persistence
@pytest.mark.parametrize("kind", NOT_ONE_LINE)
def test_apply_refuses_a_name_that_is_not_one_line_and_stores_nothing(app, authority, kind):
    from network.members.models import Member
    from tests.test_membership_flow import application_data

    before = count(Member)
    response = submit(app.test_client(), "/apply", application_data(authority, name=NOT_ONE_LINE[kind]))
    assert response.status_code == 400
    assert 'id="name-error"' in html(response) and LINE_ERROR in html(response)
    assert count(Member) == before


@pytest.mark.parametrize("kind", NOT_ONE_LINE)
def test_the_directory_form_refuses_a_name_that_is_not_one_line(auth, entry, fp, kind):
    response = propose(auth.client_for(fp), name=NOT_ONE_LINE[kind])
    assert response.status_code == 400 and 'id="name-error"' in html(response) and LINE_ERROR in html(response)
    assert all_changes() == []


@pytest.mark.persistence
@pytest.mark.parametrize("kind", NOT_ONE_LINE)
def test_a_forum_topic_title_that_is_not_one_line_is_refused(auth, forum, kind):
    from network.forum.models import Topic

    before = count(Topic)
    response = submit(auth.client_for(forum["member"]), "/forum/spaces/mla/new",
                      {"title": NOT_ONE_LINE[kind], "body": "What does the requested State need?"})
    assert response.status_code == 400 and 'id="title-error"' in html(response) and LINE_ERROR in html(response)
    assert count(Topic) == before


def test_a_message_subject_that_is_not_one_line_is_refused(app, member_factory, ready):
    from network.messaging.models import Message

    alice, bob = member_factory(name="Alice Prosecutor"), member_factory(name="Bob Judge")
    client = ready(alice)
    ready(bob)
    for kind, value in NOT_ONE_LINE.items():
        response = submit(client, "/messages/new", {"recipients": [str(bob.id)], "subject": value, "text": "Hello"})
        assert response.status_code == 400, kind
        assert 'id="subject-error"' in html(response) and LINE_ERROR in html(response), kind
    assert count(Message) == 0


def test_a_case_title_that_is_not_one_line_is_refused_by_the_wizard(app, member, member_client, make_case):
    from network.core.db import db

    case = make_case(member)
    for kind, value in NOT_ONE_LINE.items():
        response = submit(member_client, f"/cases/drafts/{case.reference}/step/1",
                          {**ESSENTIALS, "title": value, "action": "save"})
        assert response.status_code == 400, kind
        assert 'id="title-error"' in html(response) and LINE_ERROR in html(response), kind
    db.session.expire_all()
    assert db.session.get(type(case), case.id).title == ESSENTIALS["title"]


# ---------------------------------------------------------------- one line: imports and the API

@pytest.mark.parametrize("kind", NOT_ONE_LINE)
def test_imports_refuse_names_and_titles_that_are_not_one_line(app, kind):
    from catalogue.cases.cli import read_cases
    from network.directory.interchange import read_file

    value = NOT_ONE_LINE[kind]
    entries = [{**ENTRY, "name": value}, {**ENTRY, "key": "AUT-B", "parent_body": value},
               {**ENTRY, "key": "AUT-C", "national_laws": [{"title": value}]}, {**ENTRY, "key": "AUT-D",
                                                                                  "treaties": [value]}]
    found, problems = read_file("\n".join(json.dumps(e) for e in entries).encode())
    assert found == []
    for number, field in enumerate(("name", "parent_body", "national_laws.0.title", "treaties.0"), start=1):
        assert any(p.startswith(f"line {number}: {field}:") and LINE_ERROR in p for p in problems), (field, problems)

    cases = [interchange_case("CASE-1", title=value), interchange_case("CASE-2", source=value),
             interchange_case("CASE-3", keywords=[value]), interchange_case("CASE-4", other_instruments=[value]),
             interchange_case("CASE-5", translations={"fr": {"title": value, "summary": "Résumé " * 5}})]
    found, problems = read_cases([json.dumps(c).encode() for c in cases])
    assert found == []
    for number, field in enumerate(("title", "source", "keywords.0", "other_instruments.0", "translations.fr.title"),
                                   start=1):
        assert any(p.startswith(f"line {number}: {field}:") and LINE_ERROR in p for p in problems), (field, problems)


@pytest.mark.persistence
def test_the_api_refuses_a_case_title_that_is_not_one_line(app, member):
    from catalogue.cases.models import Case
    from network.core.api import issue_token
    from network.core.db import db

    _token, secret = issue_token(member, "script", ["catalogue:write"], 30)
    db.session.commit()
    client = app.test_client()
    for kind, value in NOT_ONE_LINE.items():
        answer = client.post("/api/v1/cases", json=interchange_case("API-LINE-1", title=value),
                             headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 400, (kind, answer.get_data(as_text=True))
        problems = answer.get_json()["error"]["problems"]
        assert any(p.startswith("title:") and LINE_ERROR in p for p in problems), (kind, problems)
    assert count(Case) == 0


# ---------------------------------------------------------------- a byte-order mark

def test_a_byte_order_mark_is_refused_with_its_line_number(app):
    from network.core.jsonlines import read_json_lines

    found, problems = read_json_lines([b'\xef\xbb\xbf{"reference": "A"}', b'{"reference": "B"}'], lambda data: [],
                                      "reference", "reference")
    assert problems == ["line 1: starts with a byte order mark (BOM); save the file as UTF-8 without BOM"]
    assert [number for number, _data in found] == [2]


def test_catalogue_import_of_a_file_with_a_bom_imports_nothing(app, tmp_path):
    from catalogue.cases.models import Case

    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(interchange_case("BOM-0001")).encode() + b"\n")
    result = app.test_cli_runner().invoke(args=["catalogue", "import", str(path)])
    assert result.exit_code != 0 and "line 1: starts with a byte order mark (BOM)" in result.output
    assert count(Case) == 0


# ---------------------------------------------------------------- one line: file names

@pytest.mark.parametrize("kind", ["NUL", "U+2028", "U+202E"])  # a CR LF cannot reach a multipart file name
def test_a_file_whose_name_is_not_one_line_is_refused_with_the_post(auth, forum, kind):
    import io

    from network.forum.models import Topic

    name = {"NUL": "bank\x00records.pdf", "U+2028": "bank\u2028records.pdf", "U+202E": "bank-records\u202efdp.exe"}
    before = count(Topic)
    client = auth.client_for(forum["member"])
    response = submit(client, "/forum/spaces/mla/new",
                      {"title": "Bank records from a shell company", "body": "The records are attached.",
                       "attachment": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), name[kind])},
                      content_type="multipart/form-data")
    assert response.status_code == 400, kind
    assert 'id="attachment-error"' in html(response) and LINE_ERROR in html(response), kind
    assert count(Topic) == before


def test_a_message_attachment_whose_name_is_not_one_line_is_refused(app):
    import io

    from werkzeug.datastructures import FileStorage

    from network.messaging.forms import ComposeForm

    with app.test_request_context():
        form = ComposeForm([], formdata=None)
        field = form.attachments
        field.data = [FileStorage(io.BytesIO(b"x"), "notes.txt"), FileStorage(io.BytesIO(b"x"), "invoice\u202efdp.exe")]
        field.raw_data = field.data
        assert not field.validate(form) and LINE_ERROR in str(field.errors)
        field.data = field.raw_data = [FileStorage(io.BytesIO(b"x"), "سجلات مصرفية.pdf")]
        field.errors = []
        assert field.validate(form)


@pytest.mark.parametrize("kind", sorted(NOT_ONE_LINE))
def test_an_api_token_name_that_is_not_one_line_is_refused(app, auth, member, kind):
    from sqlalchemy import func, select

    from network.core.api import ApiToken
    from network.core.db import db

    client = auth.client_for(member)
    answer = submit(client, "/account/tokens", {"name": NOT_ONE_LINE[kind], "scopes": ["catalogue:read"],
                                                "expires_in_days": "30"})
    assert answer.status_code == 400, answer.status_code
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_nul_in_any_field_of_a_case_is_refused_by_the_api_naming_the_field(app, member):
    """PostgreSQL cannot store a NUL: a summary or a list item holding one is refused with the field's name, as a
    title is (with the single-line rule's words), and nothing is stored."""
    from catalogue.cases.models import Case
    from network.core.api import issue_token
    from network.core.db import db

    _token, secret = issue_token(member, "script", ["catalogue:write"], 30)
    db.session.commit()
    answer = app.test_client().post(
        "/api/v1/cases", json=interchange_case("API-NUL-1", summary="Bank records\x00 obtained.",
                                               keywords=["assets", "bank\x00records"]),
        headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 400
    problems = answer.get_json()["error"]["problems"]
    assert any(p.startswith("summary:") and "NUL" in p for p in problems), problems
    assert any(p.startswith("keywords.1:") for p in problems), problems
    assert count(Case) == 0


def test_a_number_larger_than_any_row_in_any_address_is_not_found(app, auth, admin):
    """Every route with a number in its address, asked by the platform's administrator: a number
    above the database's integer names nothing (404), never an overflow in a query (500) nor a page."""
    from werkzeug.routing import IntegerConverter

    client = auth.client_for(admin)
    tried = 0
    for rule in app.url_map.iter_rules():
        numbers = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        if not numbers or "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m, numbers=numbers: "1" + "0" * 20 if m.group(1) in numbers else "x",
                      rule.rule)
        assert client.get(path).status_code == 404, path
        tried += 1
    assert tried >= 20  # the forum, messages, requests, the directory's changes, the catalogue's files...
