"""Two application servers on one PostgreSQL and one Redis (issue 16, acceptance): what one server writes or knows,
the other serves. Attachments (uploaded through one, downloaded through the other), sessions (signed in on one,
recognised and signed out on the other), throttles (the limit counts across both) and search (a case published
through one is found through the other).

Two `create_app` apps in one process, each with its own instance folder (nothing on one machine's disk may be
needed by the other), sharing only the database, Redis and the keys, as servers behind a proxy do. They need a real
PostgreSQL and Redis: CI fails without them (CI=true), a local run without them skips and says why."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import TEST_PASSWORD, Auth, _base_config, _truncate_postgres, csrf_token, submit
from tests.test_messaging_flow import _html, confirm_recovery_key

REDIS_URL = os.environ.get("TEST_SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/13")  # a Redis database of its own


def _require(what: str, available: bool) -> None:
    """PostgreSQL is required the same way by `postgres_migrated` (conftest)."""
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI for the two-server tests")
        pytest.skip(f"{what} is not reachable: the two-server tests need it")


def _redis():
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError:
        return None
    return connection


class Cluster:
    """Two apps (a, b) on one database; `db(app)` runs a block in an app's context."""

    def __init__(self, a, b, redis) -> None:
        self.a, self.b, self.redis = a, b, redis
        self.n = 0

    def member(self, app, name: str):
        """A vetted member with an authenticator, created through app's own session."""
        from network.core import clock as clock_module
        from network.core.crypto import seal
        from network.core.db import db
        from network.directory.models import Authority
        from network.members import services, totp

        self.n += 1
        with app.app_context():
            authority = db.session.query(Authority).filter_by(key="AUT-MOJ").one()
            member = services.create_member(f"{name}{self.n}.{os.getpid()}@justiz.example.at", f"{name.title()} "
                                            f"{self.n}", TEST_PASSWORD, "AUT", "prosecutor", authority,
                                            roles=("member",))
            member.secret = totp.new_secret()
            member.totp_secret = seal(member.secret.encode(), f"totp:{member.id}")
            member.mfa_enrolled_at = clock_module.utcnow()
            member.status = "active"
            db.session.commit()
            return SimpleNamespace(id=member.id, email=member.email, name=member.name, status=member.status,
                                   password=TEST_PASSWORD, secret=member.secret)


@pytest.fixture(scope="module")
def cluster(postgres_migrated, tmp_path_factory, smtp_server):
    """The test process's scratch PostgreSQL database (conftest), emptied; two apps with separate instance folders
    on it, their throttles in Redis."""
    redis = _redis()
    _require(f"Redis ({REDIS_URL})", redis is not None)
    from app import create_app
    from network.core.db import db

    _truncate_postgres(postgres_migrated)
    root = tmp_path_factory.mktemp("cluster")
    apps = []
    for name in ("a", "b"):
        config = _base_config(root / name, postgres_migrated, smtp_server.port)
        config["RATELIMIT_STORAGE_URL"] = REDIS_URL
        apps.append(create_app(config))
    with apps[0].app_context():
        from network.directory.models import Authority

        db.session.add(Authority(key="AUT-MOJ", state="AUT", name="Federal Ministry of Justice",
                                 email_domains=["justiz.example.at"]))
        db.session.commit()
    for key in redis.scan_iter("network:rl:*"):
        redis.delete(key)
    try:
        yield Cluster(apps[0], apps[1], redis)
    finally:
        for application in apps:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def _signed_in(cluster_app, member, clock):
    client = cluster_app.test_client()
    Auth(cluster_app, clock).sign_in(client, member)
    return client


def _carry_session(source, target) -> None:
    """Give the target client the source's cookies, as a browser sends its cookies to whichever server the proxy
    picks."""
    for name in ("session", "csrf", "device"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_an_attachment_uploaded_through_one_server_is_downloaded_through_the_other(cluster, clock):
    alice, bob = cluster.member(cluster.a, "alice"), cluster.member(cluster.b, "bob")
    a = _signed_in(cluster.a, alice, clock)
    confirm_recovery_key(a)
    b = _signed_in(cluster.b, bob, clock)
    confirm_recovery_key(b)
    content = b"Bank records\n" + os.urandom(700 * 1024)  # three 256 KiB chunks
    # Encoded in memory: the test client would spool a body this large to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": csrf_token(_html(a.get("/messages/new"))),
                                       "recipients": str(bob.id), "subject": "Records", "text": "Attached.",
                                       "attachments": FileStorage(io.BytesIO(content), "records.bin")})
    response = a.post("/messages/new", input_stream=io.BytesIO(body), content_length=len(body),
                      content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, _html(response)[:2000]
    conversation = response.headers["Location"].rsplit("/", 1)[1]
    page = _html(b.get(f"/messages/{conversation}"))
    link = re.search(r'href="(/messages/\d+/files/\d+/f-[0-9a-f]{32})"', page).group(1)
    download = b.get(link)
    assert download.status_code == 200, _html(download)[:1000]
    assert download.data == content
    assert int(download.headers["Content-Length"]) == len(content)
    assert a.get(link).data == content  # and the sender's copy through the first
    for app in (cluster.a, cluster.b):  # neither server keeps it on its own disk
        assert not list(Path(app.instance_path).rglob("f-*"))


def test_a_session_started_on_one_server_is_recognised_and_ended_on_the_other(cluster, clock):
    carol = cluster.member(cluster.a, "carol")
    a = _signed_in(cluster.a, carol, clock)
    b = cluster.b.test_client()
    assert b.get("/account/security").status_code == 302  # not signed in on b by itself
    _carry_session(a, b)
    page = b.get("/account/security")
    assert page.status_code == 200 and carol.name in _html(page)
    signed_out = submit(b, "/sign-out", page="/account/security")
    assert signed_out.status_code == 302
    after = a.get("/account/security")  # the record is gone for every server: a's copy of the cookie is dead
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]


def test_sign_in_failures_count_across_both_servers(cluster, clock):
    dave = cluster.member(cluster.a, "dave")
    a, b = cluster.a.test_client(), cluster.b.test_client()
    limit = cluster.a.config["LOGIN_ACCOUNT_LIMIT"]
    for n in range(limit):  # alternately on each server: neither alone reaches the limit
        client = a if n % 2 else b
        response = submit(client, "/sign-in", {"email": dave.email, "password": "wrong password " + str(n)})
        assert response.status_code == 401, response.status_code
    refused = submit(b, "/sign-in", {"email": dave.email, "password": dave.password})
    assert refused.status_code == 429 and "Too many attempts" in _html(refused)
    refused = submit(a, "/sign-in", {"email": dave.email, "password": dave.password})
    assert refused.status_code == 429


def test_a_case_published_through_one_server_is_found_through_the_other(cluster, clock):
    from network.core.db import db
    from tests.search_support import make_case

    erin, frank = cluster.member(cluster.a, "erin"), cluster.member(cluster.a, "frank")
    word = f"sequestration{os.getpid()}"
    with cluster.a.app_context():
        from network.members.models import Member

        submitter, reviewer = db.session.get(Member, erin.id), db.session.get(Member, frank.id)
        make_case(submitter, reviewer, f"AUT-{os.getpid()}-1", title=f"Assets frozen by {word} order",
                  summary=f"The {word} was granted in three weeks.")
        assert cluster.a.config["SEARCH_BACKEND"] in ("", "postgres")
    b = _signed_in(cluster.b, frank, clock)
    found = b.get(f"/cases?q={word}")
    assert found.status_code == 200 and f"AUT-{os.getpid()}-1" in _html(found)
