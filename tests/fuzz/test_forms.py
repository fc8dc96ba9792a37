"""Every form, fuzzed: each POST rule of the route x role table (tests/test_access_table.py) is sent by a role
that reaches its form, with fields found in the WTForms classes its view uses (and in the page's HTML), filled
from the hostile corpus mixed with generated text.

The property: no 5xx, no traceback in the answer; a refused input (4xx) changes nothing (row counts and the
content of every table but the ones a refusal may legitimately touch: sessions, audit, members' counters)."""
from __future__ import annotations

import hashlib
import inspect
import io
import re
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FileField,
    FloatField,
    FormField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.fields.core import UnboundField

from tests.conftest import csrf_token
from tests.fuzz.found import known_server_error
from tests.fuzz.support import FIGURES, LONG, corpus, hostile_text, invalid_bytes, number_text
from tests.test_access_table import FRESH_CLIENT, ROLES, TABLE, client_as, make_world

# A refusal may touch these (session activity, the audit trail of failures, members' failure counters).
VOLATILE = {"web_sessions", "audit_entries", "members", "forum_topic_reads", "alembic_version"}
CACHE_COLUMNS = ("body_html",)  # a post's rendered HTML is stored when a page first shows it (finding 11)
IGNORED = {"web_sessions", "audit_entries", "forum_topic_reads"}  # rows come and go (sessions, recorded refusals)
# Rows where wrong passwords or codes may lock the client out: a fresh client for each, and they come last.
LAST = {"/reauthenticate", "/account/password", "/sign-in/verify", "/sign-in/enrol", "/messages/restore",
        "/messages/recovery-key"}
PREFERENCE = ("member", "other_member", "focal_point", "moderator", "admin", "applicant", "anonymous")


def reaches_form(expected) -> bool:
    """400 (the form refused an empty submission) or an answer that is not a refusal of access."""
    status = expected if isinstance(expected, int) else expected[0]
    location = None if isinstance(expected, int) else expected[1]
    return status in (200, 400) or (status == 302 and location not in ("/sign-in", "/", "/reauthenticate"))


def route_plan() -> dict[str, list[str]]:
    """role -> URL templates of the POST rows it fuzzes (each row once, by the first role of PREFERENCE that
    gets a 400, else the first that reaches the form)."""
    plan: dict[str, list[str]] = {role: [] for role in ROLES}
    for method, url, expected in TABLE:
        if method != "POST" or (method, url) in FRESH_CLIENT or url.startswith("/api/"):
            continue
        chosen = next((role for role in PREFERENCE if expected[role] == 400), None) or next(
            (role for role in PREFERENCE if reaches_form(expected[role])), None)
        if chosen:
            plan[chosen].append(url)
    for urls in plan.values():
        urls.sort(key=lambda url: any(url.startswith(last) for last in LAST))
    return {role: urls for role, urls in plan.items() if urls}


PLAN = route_plan()


# ---------------------------------------------------------------- which fields a form has

def form_classes(view) -> list[type[Form]]:
    """The WTForms classes named in the view's source (Name(...)), resolved in its module."""
    function = inspect.unwrap(view)
    names = set(re.findall(r"\b([A-Z]\w*Form)\b", inspect.getsource(function)))
    found = []
    for name in sorted(names):
        candidate = function.__globals__.get(name)
        if isinstance(candidate, type) and issubclass(candidate, Form):
            found.append(candidate)
    return found


def unbound_fields(form_class) -> dict[str, UnboundField]:
    return {name: value for name in dir(form_class)
            if isinstance(value := getattr(form_class, name, None), UnboundField) and name != "csrf_token"}


def choice_values(unbound: UnboundField) -> list[str]:
    values = []
    choices = unbound.kwargs.get("choices") or []
    for choice in choices() if callable(choices) else choices:
        value = choice[0] if isinstance(choice, tuple | list) else getattr(choice, "value", choice)
        values.append(str(value))
    return values


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "textarea", "select") and attributes.get("name"):
            self.names.setdefault(attributes["name"], attributes.get("type") or tag)


def html_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return {name: kind for name, kind in parser.names.items() if name != "csrf_token"}


TEXT = hostile_text()
NUMBER = number_text()


def field_strategy(unbound: UnboundField):
    """A value for the field (None: leave it out)."""
    kind = unbound.field_class
    absent = st.just(None)
    if issubclass(kind, MultipleFileField | FileField):
        names = st.one_of(st.sampled_from(corpus("filenames", "scripts")), st.text(max_size=40))
        content = st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"%PDF-1.4\n", *invalid_bytes()]))
        return st.one_of(absent, st.tuples(names, content).map(lambda pair: ("file", *pair)))
    if issubclass(kind, BooleanField | SubmitField):
        return st.sampled_from([None, "y", "1", "on", "\u0000"])
    if issubclass(kind, IntegerField | DecimalField | FloatField):
        return st.one_of(absent, NUMBER)
    if issubclass(kind, DateField):
        return st.one_of(absent, st.dates().map(str), st.sampled_from(["2021-02-30", "9999-12-31", "0000-00-00"]),
                         TEXT)
    if issubclass(kind, SelectMultipleField):
        values = choice_values(unbound)
        one = st.one_of(st.sampled_from(values), TEXT) if values else TEXT
        return st.one_of(absent, st.lists(one, max_size=4).map(lambda items: ("list", items)))
    if issubclass(kind, SelectField | RadioField):
        values = choice_values(unbound)
        return st.one_of(absent, st.sampled_from(values), TEXT) if values else st.one_of(absent, TEXT)
    return st.one_of(absent, TEXT)


def fields_for(app, client, path: str, endpoint: str) -> dict[str, st.SearchStrategy]:
    strategies: dict[str, st.SearchStrategy] = {}
    for form_class in form_classes(app.view_functions[endpoint]):
        for name, unbound in unbound_fields(form_class).items():
            if issubclass(unbound.field_class, FieldList):
                inner = unbound.args[0] if unbound.args else None
                if isinstance(inner, UnboundField) and issubclass(inner.field_class, FormField):
                    for sub, sub_unbound in unbound_fields(inner.args[0]).items():
                        strategies[f"{name}-0-{sub}"] = field_strategy(sub_unbound)
                continue
            strategies.setdefault(name, field_strategy(unbound))
    page = client.get(path)
    if page.status_code == 200 and page.mimetype == "text/html":
        for name, kind in html_fields(page.get_data(as_text=True)).items():
            strategies.setdefault(name, st.sampled_from([None, "y"]) if kind in ("checkbox", "submit")
                                  else st.one_of(st.just(None), TEXT))
    return strategies


# ---------------------------------------------------------------- sending and checking

def wire(value: str) -> bytes:
    """What a hostile client sends: lone surrogates become the bytes UTF-8 would give them (invalid UTF-8)."""
    return value.encode("utf-8", "surrogatepass")


def post(client, path: str, token: str, values: dict):
    files = {name: value for name, value in values.items() if isinstance(value, tuple) and value[0] == "file"}
    if files:  # multipart: werkzeug encodes the parts, so text is made encodable
        data: dict = {"csrf_token": token}
        for name, value in values.items():
            if value is None:
                continue
            if name in files:
                data[name] = (io.BytesIO(value[2]), wire(value[1]).decode("utf-8", "replace") or "x")
            elif isinstance(value, tuple):
                data[name] = [wire(item).decode("utf-8", "replace") for item in value[1]]
            else:
                data[name] = wire(value).decode("utf-8", "replace")
        return client.post(path, data=data, content_type="multipart/form-data")
    pairs = [("csrf_token", token)]
    for name, value in values.items():
        if value is None:
            continue
        for item in (value[1] if isinstance(value, tuple) else [value]):
            pairs.append((name, item))
    body = "&".join(f"{quote_from_bytes(wire(name))}={quote_from_bytes(wire(item))}" for name, item in pairs)
    return client.post(path, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")


def snapshot() -> dict[str, tuple]:
    """Row count and content digest of every table (counts only for the VOLATILE ones)."""
    from network.core.db import db

    db.session.rollback()
    state = {}
    connection = db.session.connection()
    inspector = sa.inspect(connection)
    for table in inspector.get_table_names():
        columns = [column["name"] for column in inspector.get_columns(table)
                   if not column["name"].startswith(CACHE_COLUMNS)]
        listed = ", ".join(f'"{name}"' for name in columns)
        rows = connection.execute(sa.text(f'SELECT {listed} FROM "{table}"')).all()  # noqa: S608 (the schema's names)
        digest = "" if table in VOLATILE else hashlib.sha256(
            repr(sorted(repr(tuple(row)) for row in rows)).encode()).hexdigest()
        ignored = table in IGNORED or table.startswith("audit")  # the audit chain: entries, head, checkpoints
        state[table] = (0 if ignored else len(rows), "" if ignored else digest)
    db.session.rollback()
    return state


def changed(before: dict, after: dict) -> list[str]:
    return sorted(table for table in set(before) | set(after) if before.get(table) != after.get(table))


def half_signed_in(app, auth, world, clock, enrolled: bool):
    """A client that gave a member's right password and now stands before the second factor (or enrolment)."""
    from tests.conftest import submit

    if enrolled:
        person = world["actors"]["member"]
    else:
        person = world["factory"](email="unenrolled@justiz.example.at", name="Not Enrolled", enrolled=False)
    client = app.test_client()
    response = submit(client, "/sign-in", {"email": person.email, "password": person.password})
    assert response.status_code == 302, response.status_code
    return client, csrf_token(client.get("/sign-in/verify" if enrolled else "/sign-in/enrol").get_data(as_text=True))


# The rows the table cannot give: the second-factor forms need a half-signed-in client; resolving a report needs one.
EXTRA = {"pending_second_factor": ["/sign-in/verify"], "pending_enrolment": ["/sign-in/enrol"],
         "moderator": ["/messages/reports/{report}/resolve"]}


class Clients:
    """One signed-in client per role, made again for the rows that may end its session."""

    def __init__(self, app, auth, world, clock) -> None:
        self.app, self.auth, self.world, self.clock = app, auth, world, clock
        self.cache: dict[str, tuple] = {}

    def get(self, role: str, url: str):
        if role.startswith("pending_"):
            made = half_signed_in(self.app, self.auth, self.world, self.clock, role == "pending_second_factor")
        elif any(url.startswith(last) for last in LAST) or role not in self.cache:
            made = client_as(self.app, self.auth, self.world, role)
            if not any(url.startswith(last) for last in LAST):
                self.cache[role] = made
        else:
            return self.cache[role]
        # signed in from 127.0.0.1, fuzzed from an address of the role's own: the failures the fuzzing causes
        # (wrong passwords, codes) never throttle the next sign-in by address
        made[0].environ_base["REMOTE_ADDR"] = f"192.0.2.{1 + sorted(ROLES + tuple(EXTRA)).index(role)}"
        return made


def fuzz_route(app, clients, world, role, url, problems):
    client, token = clients.get(role, url)
    ids = {**world["ids"], "current_session": "none"}
    path = url.format(**ids)
    endpoint = app.url_map.bind("localhost").match(path.split("?")[0], method="POST")[0]
    strategies = fields_for(app, client, path, endpoint)
    name = f"POST {url} ({role})"
    state = {"now": snapshot()}

    @given(values=st.fixed_dictionaries(strategies))
    def one(values):
        response = post(client, path, token, values)
        FIGURES.tried("form", name)
        text = response.get_data(as_text=True)
        if response.status_code >= 500 or "Traceback (most recent call last)" in text:
            FIGURES.server_error(name, values, response.status_code, text[-800:])
            finding = known_server_error(f"POST {url}", values)
            if finding is None:  # a known one has its own xfail(strict) test in test_found.py
                problems.append(f"{name}: {response.status_code} for {values!r:.300}")
            state["now"] = snapshot()
            return
        after = snapshot()
        if 400 <= response.status_code < 500 and response.status_code != 429:
            moved = changed(state["now"], after)
            if moved:
                problems.append(f"{name}: refused with {response.status_code} but changed {moved} "
                                f"for {values!r:.300}")
        state["now"] = after

    one()


def test_every_form_refuses_hostile_input_without_a_5xx_or_a_change(app, auth, world, clock):
    """One world for every role (building one per role would double the run): each role's rows in turn."""
    problems: list[str] = []
    clients = Clients(app, auth, world, clock)
    for role in sorted({*PLAN, *EXTRA}):
        for url in [*EXTRA.get(role, []), *PLAN.get(role, [])]:
            fuzz_route(app, clients, world, role, url, problems)
    assert not problems, "\n".join(problems[:20])


if LONG:  # `make fuzz`: the forms on PostgreSQL too
    test_every_form_refuses_hostile_input_without_a_5xx_or_a_change = pytest.mark.persistence(
        test_every_form_refuses_hostile_input_without_a_5xx_or_a_change)


@pytest.fixture
def world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin, focal_point):
    from network.core.db import db
    from network.messaging.models import MessageReport

    made = make_world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin,
                      focal_point)
    report = MessageReport(message_id=made["ids"]["first_message"], reporter_id=made["actors"]["other_member"].id,
                           reason="Reported by the fuzzing world", forwarded_text="Can you expedite?")
    db.session.add(report)
    db.session.commit()
    made["ids"]["report"] = report.id
    made["factory"] = member_factory
    return made


def test_the_plan_covers_every_post_rule_with_a_form(app):
    """Every POST rule whose view uses a WTForms class is fuzzed by some role (the API has its own test)."""
    adapter = app.url_map.bind("localhost")
    from tests.test_access_table import _DUMMY_IDS

    planned = {adapter.match(url.format(report=1, **_DUMMY_IDS).split("?")[0], method="POST")[0]
               for urls in [*PLAN.values(), *EXTRA.values()] for url in urls}
    missing = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint not in planned and not rule.rule.startswith("/api/"):
            if form_classes(app.view_functions[rule.endpoint]):
                missing.append(rule.rule)
    allowed = {"/sign-out", "/account/sessions/<session_id>/revoke"}  # they end the session: test_access_table
    assert set(missing) <= allowed, f"POST rules with a form that no role fuzzes: {sorted(set(missing) - allowed)}"
