"""Hardening: response headers and cookies on a crawl (error pages included), CSRF on every POST route,
no state change on GET, generic error pages, sessions (token size, rotation, timeouts), the password
policy and hashing, TOTP single use, and models that agree with the migrations."""
from __future__ import annotations

import gzip
import re
import secrets
import string
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from tests.conftest import csrf_token, submit
from tests.test_access_table import TABLE, make_world

GET_URLS = [url for method, url, _ in TABLE if method == "GET"]
POST_URLS = [url for method, url, _ in TABLE if method == "POST"]
# Browsers post violation reports without a token (it only logs, throttled); the JSON API takes bearer tokens
# only and never reads the session cookie, so there is no session for a forged request to ride on.
CSRF_EXEMPT = {"/csp-report", "/api/v1/cases"}
WATCHED_TABLES = ("members", "applications", "role_grants", "vouches", "recovery_codes")
LEAKS = ("Traceback", 'File "', "sqlalchemy", "SELECT ", "no_such_table", "werkzeug", "jinja2", "secret-detail")
STATIC_PREFIXES = ("/static/", "/bootstrap/static/")


@pytest.fixture
def world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin, focal_point):
    return make_world(app, clock, auth, member_factory, authority, other_authority, member, moderator, admin,
                      focal_point)


class RecordingClient(FlaskClient):
    """Keeps every response (read whole and closed), so tests can inspect every Set-Cookie a flow produced."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responses = []

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        self.responses.append(response)
        return response


class HttpsClient(RecordingClient):
    """Talks to https://localhost and, like a browser, sends the page it is on as Referer with a form,
    unless that page's Referrer-Policy forbids it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.page: tuple[str, str] | None = None  # (URL, its Referrer-Policy)

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", "https://localhost")
            if kwargs.get("method") == "POST" and self.page and self.page[1] != "no-referrer":
                kwargs.setdefault("headers", {}).setdefault("Referer", self.page[0])
        response = super().open(*args, **kwargs)
        if response.request.method == "GET" and response.mimetype == "text/html":
            self.page = (response.request.url, response.headers.get("Referrer-Policy", ""))
        return response


def recording_client(app, cls=RecordingClient):
    app.test_client_class = cls
    try:
        return app.test_client()
    finally:
        app.test_client_class = None


def fresh_app_with_failing_routes(app):
    """A new application on the same database, with routes that fail the way code does (before any request,
    as Flask requires): an exception carrying a detail, and a broken SQL statement."""
    from app import create_app
    from network.core.access import public
    from network.core.db import db

    fresh = create_app(dict(app.config))

    @public
    def boom():
        raise RuntimeError("secret-detail: the vault key is 1234")

    @public
    def boom_sql():
        db.session.execute(text("SELECT secret_column FROM no_such_table WHERE id = 1"))
        return "unreachable"

    fresh.add_url_rule("/boom", "boom", boom)
    fresh.add_url_rule("/boom-sql", "boom_sql", boom_sql)
    return fresh


# ---------------------------------------------------------------- headers and cookies

def csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def cookie_problems(response, path: str) -> list[str]:
    problems = []
    for header in response.headers.getlist("Set-Cookie"):
        attributes = {a.strip().split("=", 1)[0].lower() for a in header.split(";")[1:]}
        name = header.split("=", 1)[0]
        if "httponly" not in attributes:
            problems.append(f"{path}: cookie {name} without HttpOnly")
        if "samesite" not in attributes:
            problems.append(f"{path}: cookie {name} without SameSite")
    return problems


PUBLIC_PAGES = ("/", "/cases", "/cases/statistics")  # and a case's own pages: ETag and no-cache for visitors


def header_problems(response, path: str, signed_in: bool = True) -> list[str]:
    headers = response.headers
    problems = []
    csp = headers.get("Content-Security-Policy")
    if not csp:
        problems.append(f"{path}: no Content-Security-Policy")
    else:
        if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
            problems.append(f"{path}: CSP allows unsafe code: {csp}")
        directives = csp_directives(csp)
        if directives.get("object-src") != ["'none'"]:
            problems.append(f"{path}: object-src is not 'none'")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"{path}: frame-ancestors is not 'none'")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{path}: no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in ("no-referrer", "same-origin", "strict-origin",
                                              "strict-origin-when-cross-origin"):
        problems.append(f"{path}: weak or missing Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if headers.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append(f"{path}: no Cross-Origin-Opener-Policy: same-origin")
    cache = headers.get("Cache-Control", "")
    public = path in PUBLIC_PAGES or path.startswith("/cases/")
    revalidated = cache == "no-cache" and headers.get("ETag") and "Cookie" in headers.get("Vary", "")
    if path.startswith(STATIC_PREFIXES):
        if "immutable" in cache and "v=" not in response.request.query_string.decode():
            problems.append(f"{path}: cached for good without a fingerprint in its URL")
    elif "no-store" not in cache and not (public and not signed_in and response.status_code in (200, 304)
                                          and revalidated):
        problems.append(f"{path}: no Cache-Control: no-store ({cache!r})")
    return problems + cookie_problems(response, path)


def crawl_paths(world) -> list[str]:
    paths = [url.format(**world["ids"], current_session="x") for url in GET_URLS]
    return paths + ["/no-such-page", "/static/css/app.css", "/bootstrap/static/css/bootstrap.min.css",
                    "/boom", "/boom-sql"]


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_crawled_response_carries_the_security_headers(app, auth, world, role):
    fresh = fresh_app_with_failing_routes(app)
    client = recording_client(fresh)
    if role == "admin":
        auth.sign_in(client, world["actors"]["admin"])
    statuses = {}
    for path in crawl_paths(world):
        statuses[path] = client.get(path).status_code
    assert statuses["/no-such-page"] == 404
    assert statuses["/boom"] == statuses["/boom-sql"] == 500
    assert statuses["/static/css/app.css"] == 200
    problems = []
    for response in client.responses:  # the sign-in flow's responses too
        problems += header_problems(response, response.request.path, signed_in=role != "anonymous")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/boom", "/boom-sql"])
def test_a_server_error_shows_a_generic_page_without_trace_or_sql(app, path):
    fresh = fresh_app_with_failing_routes(app)
    response = fresh.test_client().get(path)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    for leak in LEAKS:
        assert leak not in page, leak


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_over_https_the_session_cookie_is_host_prefixed_and_secure(app, auth, member):
    client = recording_client(app, HttpsClient)
    auth.sign_in(client, member)
    client.get("/account/security")
    cookies = {}
    for response in client.responses:
        assert response.request.scheme == "https"
        for header in response.headers.getlist("Set-Cookie"):
            parsed = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                cookies.setdefault(name, []).append((header, morsel))
    assert "__Host-session" in cookies and "session" not in cookies
    assert "__Host-device" in cookies
    for name, seen in cookies.items():
        assert name.startswith("__Host-"), name
        for header, morsel in seen:
            assert morsel["secure"], header
            assert morsel["httponly"], header
            assert morsel["samesite"], header
            assert morsel["path"] == "/", header
            assert not morsel["domain"], header


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_over_https_every_response_has_hsts_of_a_year_with_subdomains(app, auth, member):
    client = recording_client(app, HttpsClient)
    auth.sign_in(client, member)
    for path in ("/", "/account/security", "/no-such-page", "/healthz", "/static/css/app.css"):
        client.get(path)
    for response in client.responses:
        hsts = response.headers.get("Strict-Transport-Security", "")
        match = re.search(r"max-age=(\d+)", hsts)
        assert match and int(match.group(1)) >= 31536000, (response.request.path, hsts)
        assert "includesubdomains" in hsts.lower(), (response.request.path, hsts)


# ---------------------------------------------------------------- CSRF and safe methods

CSRF_REJECTED = "The form had expired or did not come from this site"


def row_counts() -> dict[str, int]:
    from network.core.db import db

    return {table: db.session.scalar(select(func.count()).select_from(text(table))) for table in WATCHED_TABLES}


def _post_paths(app, client, world):
    from tests.test_access_table import session_id_of

    current = session_id_of(app, client)
    return [url.format(**world["ids"], current_session=current) for url in POST_URLS if url not in CSRF_EXEMPT]


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
def test_every_post_route_refuses_a_request_without_a_token(app, auth, world, role):
    client = app.test_client()
    client.get("/sign-in")
    if role != "anonymous":
        auth.sign_in(client, world["actors"][role])
    before = row_counts()
    failures = []
    for path in _post_paths(app, client, world):
        response = client.post(path, data={"decision": "approve", "note": "x", "reason": "x"})
        if response.status_code != 400 or CSRF_REJECTED not in response.get_data(as_text=True):
            failures.append(f"POST {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert row_counts() == before
    assert client.get("/account/security").status_code == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ["member", "admin"])
def test_every_post_route_refuses_the_token_of_another_session(app, auth, world, role):
    client = auth.client_for(world["actors"][role])
    other = auth.client_for(world["actors"]["moderator"])
    foreign_token = csrf_token(other.get("/account/security").get_data(as_text=True))
    own_token = csrf_token(client.get("/account/security").get_data(as_text=True))
    assert foreign_token != own_token
    before = row_counts()
    failures = []
    for path in _post_paths(app, client, world):
        response = client.post(path, data={"csrf_token": foreign_token})
        if response.status_code != 400 or CSRF_REJECTED not in response.get_data(as_text=True):
            failures.append(f"POST {path}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert row_counts() == before


def test_csp_report_is_the_only_post_route_without_csrf(app):
    from network.core.security import csrf

    exempt = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods
              and f"{app.view_functions[rule.endpoint].__module__}.{app.view_functions[rule.endpoint].__name__}"
              in csrf._exempt_views}
    assert exempt == CSRF_EXEMPT


@pytest.mark.parametrize("role", ["anonymous", "applicant", "member", "focal_point", "moderator", "admin"])
def test_get_routes_add_no_rows(app, auth, world, role):
    client = app.test_client()
    if role != "anonymous":
        auth.sign_in(client, world["actors"][role])
    changed = []
    for url in GET_URLS:
        if url == "/audit":  # browsing the audit log is itself audited, by design
            continue
        path = url.format(**world["ids"])
        before = row_counts()
        client.get(path)
        after = row_counts()
        if after != before:
            changed.append(f"GET {path}: {before} -> {after}")
    assert not changed, "\n".join(changed)


# ---------------------------------------------------------------- error pages and health

def _no_leak(response) -> None:
    page = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in page, (response.status_code, leak)
    assert f"Error {response.status_code}" in page


def test_error_pages_for_400_401_403_404_405_and_429_show_no_trace(app, client, auth, member, moderator):
    _no_leak(client.post("/sign-out"))  # 400: no CSRF token
    client.get("/sign-in")
    responses = {400: client.post("/sign-out"), 404: client.get("/no-such-page"), 405: client.get("/sign-out")}
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    responses[401] = client.post("/account/password", data={"csrf_token": token})
    for _ in range(app.config["LOGIN_ACCOUNT_LIMIT"]):
        assert submit(client, "/sign-in", {"email": moderator.email, "password": "wrong password, wrong"}).status_code == 401
    responses[429] = submit(client, "/sign-in", {"email": moderator.email, "password": "wrong password, wrong"})
    member_client = auth.client_for(member)
    responses[403] = member_client.get("/vetting")
    for code, response in responses.items():
        assert response.status_code == code
        if code == 429:  # the sign-in form again, with the reason
            assert "Too many attempts" in response.get_data(as_text=True)
            assert "Traceback" not in response.get_data(as_text=True)
        else:
            _no_leak(response)


def test_healthz_reports_database_and_mail_as_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["mail"]["ok"] is True
    assert body["checks"]["mail"]["transport"] == "smtp"


# ---------------------------------------------------------------- sessions

def _session_token(app, client) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else ""


def test_session_token_has_at_least_256_bits_of_url_safe_randomness(app, client, auth, member):
    client.get("/sign-in")
    assert _session_token(app, client) == ""  # nothing worth a record yet (issue 12, finding 19)
    submit(client, "/sign-in", {"email": member.email, "password": member.password})
    password_step_token = _session_token(app, client)
    auth.sign_in(client, member)
    signed_in_token = _session_token(app, client)
    for token in (password_step_token, signed_in_token):
        assert len(token) >= len(secrets.token_urlsafe(32))  # 43 characters: 256 bits
        assert set(token) <= set(string.ascii_letters + string.digits + "-_")


def test_session_token_is_rotated_at_sign_in_and_the_old_one_is_dead(app, client, auth, member):
    from network.core.crypto import token_digest
    from network.core.db import db
    from network.core.sessions import WebSession

    submit(client, "/sign-in", {"email": member.email, "password": member.password})
    before = _session_token(app, client)  # the first record: the sign-in in progress (issue 12, finding 19)
    auth.sign_in(client, member)
    after = _session_token(app, client)
    assert before and after and before != after
    db.session.expire_all()
    assert db.session.get(WebSession, token_digest(before)) is None
    assert db.session.get(WebSession, token_digest(after)).member_id == member.id

    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], before)
    response = replay.get("/account/security")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def test_idle_session_ends_after_thirty_minutes(app, client, auth, member, clock):
    assert app.config["SESSION_IDLE_TIMEOUT"] <= 30 * 60
    auth.sign_in(client, member)
    clock.advance(minutes=29)
    assert client.get("/account/security").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/account/security")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def test_active_session_still_ends_after_twelve_hours(app, client, auth, member, clock):
    assert app.config["SESSION_ABSOLUTE_TIMEOUT"] <= 12 * 3600
    auth.sign_in(client, member)
    started = clock.now
    while True:
        clock.advance(minutes=20)
        response = client.get("/account/security")
        if clock.now - started <= timedelta(hours=12):
            assert response.status_code == 200, clock.now - started
            continue
        assert response.status_code == 302, clock.now - started
        assert urlsplit(response.headers["Location"]).path == "/sign-in"
        break
    assert clock.now - started < timedelta(hours=12, minutes=21)


# ---------------------------------------------------------------- passwords

ALPHABET = string.ascii_letters + string.digits + string.punctuation + " éøßЖжλ漢字😀"


def random_password(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def test_passwords_shorter_than_twelve_characters_are_rejected(app):
    from network.members.passwords import password_problems

    for length in range(1, 12):
        for _ in range(20):
            assert password_problems(random_password(length)), length


def test_passwords_of_twelve_to_128_characters_are_accepted(app):
    from network.members.passwords import common_passwords, password_problems

    common = common_passwords()
    for length in range(12, 129):
        for _ in range(5):
            password = random_password(length)
            assert password.lower() not in common
            assert password_problems(password) == [], (length, password)


def test_passwords_longer_than_128_characters_are_rejected(app):
    from network.members.passwords import password_problems

    for _ in range(20):
        assert password_problems(random_password(129))
    assert password_problems("a" * 1000)


def test_the_three_thousand_most_common_passwords_are_all_rejected(app):
    from network.members.passwords import COMMON_PASSWORDS, password_problems

    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        entries = [line.strip() for _, line in zip(range(3000), handle, strict=False)]
    assert len(entries) == 3000
    accepted = [entry for entry in entries if not password_problems(entry)]
    assert accepted == []


def test_common_passwords_of_policy_length_are_rejected_for_being_common(app):
    from network.members.passwords import COMMON_PASSWORDS, password_problems

    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        long_ones = [line.strip() for line in handle if len(line.strip()) >= 12][:200]
    assert long_ones
    for entry in long_ones:
        for variant in (entry, entry.upper()):
            problems = password_problems(variant)
            assert problems and "common" in problems[0], variant


@pytest.mark.config(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=19456)  # the tests' own default is the cheapest cost
def test_stored_hashes_are_argon2id_with_enough_memory_and_passes(member):
    from config import defaults

    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", member.password_hash)
    assert match, member.password_hash
    memory, passes, _ = map(int, match.groups())
    assert memory >= 19456 and passes >= 2
    assert defaults.ARGON2_MEMORY_COST >= 19456 and defaults.ARGON2_TIME_COST >= 2


def test_a_password_is_verified_whole_never_truncated(app):
    from network.members.passwords import hash_password, verify_password

    password = random_password(100)
    stored = hash_password(password)
    assert verify_password(stored, password)
    assert not verify_password(stored, password[:99])
    assert not verify_password(stored, password[:72])
    assert not verify_password(stored, password[:72] + random_password(28))


# ---------------------------------------------------------------- TOTP

def test_a_totp_step_is_accepted_once_and_never_replayed(app, clock):
    from network.members import totp

    secret = totp.new_secret()
    for _ in range(100):
        clock.advance(seconds=30)
        code = totp.code_at(secret, totp.current_step())
        step = totp.match_step(secret, code, None)
        assert step == totp.current_step()
        assert totp.match_step(secret, code, step) is None


def test_totp_codes_two_or_more_steps_away_are_refused(app, clock):
    from network.members import totp

    refused = 0
    for _ in range(50):
        clock.advance(seconds=30)
        secret = totp.new_secret()
        now = totp.current_step()
        accepted = {totp.code_at(secret, s) for s in (now - 1, now, now + 1)}
        for offset in (-10, -3, -2, 2, 3, 10):
            code = totp.code_at(secret, now + offset)
            if code in accepted:  # a one-in-a-million collision with a current code
                continue
            assert totp.match_step(secret, code, None) is None, offset
            refused += 1
        for offset in (-1, 0, 1):
            assert totp.match_step(secret, totp.code_at(secret, now + offset), None) is not None
    assert refused >= 290


# ---------------------------------------------------------------- models and migrations

@pytest.mark.persistence
def test_models_agree_with_migrations(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from network.core.db import db, include_object

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}), db.metadata)
    assert diff == []
