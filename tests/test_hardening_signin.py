"""Hardening of signing in (issue 12, findings 1, 2, 16, 18, 22): throttles that reserve before they work, single-use
codes taken by compare-and-set, a second-factor counter of the owner's own device, equal work and rate limits on
/apply and /password/forgot with mail sent after the response, and the two ways a view refuses.

Bursts are real threads (one test client each) released together; a gate inside the checked function holds every
request that reached it until each request of the burst either reached it or finished, so the old check-then-act
code lets the whole burst through every time, and the fixed code lets through no more than the limit."""
from __future__ import annotations

import os
import threading
import traceback
import uuid

import pytest
from flask import Response
from sqlalchemy import event, func, select
from wtforms import Form, StringField

from network.core import audit
from network.core.audit import AuditEntry
from network.core.db import db
from network.core.errors import DomainError, refused_and_recorded
from network.core.forms import show_domain_error
from network.core.mail import OutboxMail
from network.core.ratelimit import MemoryCounter, RedisCounter
from network.members import passwords, services, totp
from network.members.models import Member, RecoveryCode
from tests.conftest import TEST_PASSWORD, csrf_token, current_code, submit
from tests.test_core import REDIS_URL, _redis_available

STORAGES = [pytest.param({"RATELIMIT_STORAGE_URL": "memory://"}, id="memory"),
            pytest.param({"RATELIMIT_STORAGE_URL": REDIS_URL}, id="redis")]


@pytest.fixture
def storage(app):
    """The app's rate-limit storage, emptied of the keys these tests use (Redis keeps them between tests)."""
    url = app.config["RATELIMIT_STORAGE_URL"]
    if url.startswith("redis://"):
        if not _redis_available():
            if os.environ.get("CI"):
                pytest.fail("Redis is required in CI at " + REDIS_URL)
            pytest.skip("Redis not reachable at " + REDIS_URL)
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        for prefix in ("signin", "mfa", "reset", "apply"):
            for key in connection.scan_iter(f"network:rl:{prefix}:*"):
                connection.delete(key)
    return url


def html(response) -> str:
    return response.get_data(as_text=True)


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


class Gate:
    """Wraps a function: a call waits until each of `n` requests reached it or finished without it."""

    def __init__(self, n: int) -> None:
        self.n, self.calls, self.settled = n, 0, 0
        self.lock, self.open, self.local = threading.Lock(), threading.Event(), threading.local()

    def settle(self) -> None:
        with self.lock:
            self.settled += 1
            if self.settled >= self.n:
                self.open.set()

    def reach(self) -> None:
        with self.lock:
            self.calls += 1
        if not getattr(self.local, "reached", False):
            self.local.reached = True
            self.settle()
        self.open.wait(timeout=30)

    def wrap(self, function):
        def gated(*args, **kwargs):
            self.reach()
            return function(*args, **kwargs)

        return gated

    def finished(self) -> None:
        """A request of the burst is over: if it never reached the gate, it no longer holds the others."""
        if not getattr(self.local, "reached", False):
            self.settle()


def burst(clients: list, send, gate: Gate | None = None) -> list:
    """Send one request per client from its own thread, all released at once; the responses, in order."""
    barrier = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = send(index, clients[index])
        except BaseException as error:  # noqa: BLE001 (reported below, with the others)
            errors.append(error)
        finally:
            if gate is not None:
                gate.finished()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, "".join(traceback.format_exception(errors[0]))
    return responses


def statuses(responses) -> list[int]:
    return sorted(response.status_code for response in responses)


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def unique_address() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def token_of(client, url: str) -> str:
    return csrf_token(html(client.get(url)))


def wrong_codes(secret: str) -> list[str]:
    step = totp.current_step()
    valid = {totp.code_at(secret, s) for s in (step - 1, step, step + 1)}
    return [code for code in ("000000", "111111", "222222", "333333") if code not in valid][:2]


def pending_clients(app, member, n: int, address: str) -> list[tuple]:
    """n browsers that entered the member's password and wait at the second factor, with their form tokens."""
    clients = []
    for _ in range(n):
        client = client_at(app, address)
        response = submit(client, "/sign-in", {"email": member.email, "password": TEST_PASSWORD})
        assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/verify")
        clients.append((client, token_of(client, "/sign-in/verify")))
    return clients


# ---------------------------------------------------------------- 1. reserve, then verify

@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_reservation_counts_and_adds_in_one_step_under_a_burst(kind):
    if kind == "redis" and not _redis_available():
        pytest.skip("Redis not reachable at " + REDIS_URL)
    rate = MemoryCounter() if kind == "memory" else RedisCounter(REDIS_URL)
    key = f"test:{uuid.uuid4()}"
    granted = burst(list(range(20)), lambda index, _: rate.reserve(key, 60, 5))
    assert len([g for g in granted if g]) == 5
    assert rate.count(key, 60) == 5
    rate.release(key, next(g for g in granted if g))
    assert rate.count(key, 60) == 4
    assert rate.reserve(key, 60, 5) is not None and rate.reserve(key, 60, 5) is None
    rate.reset(key)


@pytest.mark.persistence
@pytest.mark.parametrize("app", STORAGES, indirect=True)
def test_a_burst_of_password_guesses_is_verified_at_most_up_to_the_limit(app, storage, member_factory,
                                                                         monkeypatch):
    member = member_factory(email=f"{uuid.uuid4().hex[:12]}@justiz.example.at")
    address = unique_address()
    guesses = [f"wrong guess number {i:02d}" for i in range(19)] + [TEST_PASSWORD]
    clients = [client_at(app, address) for _ in guesses]
    tokens = [token_of(client, "/sign-in") for client in clients]
    gate = Gate(len(clients))
    monkeypatch.setattr(passwords, "verify_password", gate.wrap(passwords.verify_password))

    email = member.email
    responses = burst(clients, lambda i, client: client.post("/sign-in", data={
        "csrf_token": tokens[i], "email": email, "password": guesses[i]}), gate)

    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    codes = statuses(responses)
    assert gate.calls <= limit, f"{gate.calls} passwords were checked against a limit of {limit}"
    assert len([c for c in codes if c in (302, 401)]) <= limit and codes.count(429) >= len(guesses) - limit, codes
    assert set(codes) <= {302, 401, 429}, codes
    if 302 not in codes:  # the right password came too late in the burst: the account stays closed to it
        late = client_at(app, address)
        response = submit(late, "/sign-in", {"email": member.email, "password": TEST_PASSWORD})
        assert response.status_code == 429 and "Too many attempts" in html(response)


@pytest.mark.persistence
@pytest.mark.parametrize("app", STORAGES, indirect=True)
def test_a_burst_of_wrong_codes_is_checked_at_most_up_to_the_limit(app, storage, clock, member_factory,
                                                                   monkeypatch):
    member = member_factory(email=f"{uuid.uuid4().hex[:12]}@justiz.example.at")
    waiting = pending_clients(app, member, 8, unique_address())
    gate = Gate(len(waiting))
    monkeypatch.setattr(totp, "match_step", gate.wrap(totp.match_step))

    wrong = wrong_codes(member.secret)
    responses = burst(waiting, lambda i, pair: pair[0].post("/sign-in/verify", data={
        "csrf_token": pair[1], "code": wrong[i % 2]}), gate)

    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    codes = statuses(responses)
    assert gate.calls <= limit, f"{gate.calls} codes were checked against a limit of {limit}"
    assert codes.count(429) >= len(waiting) - limit and set(codes) <= {400, 429}, codes
    client = waiting[0][0]
    response = submit(client, "/sign-in", {"email": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    response = submit(client, "/sign-in/verify", {"code": current_code(member.secret, clock)})
    assert response.status_code == 429 and "Too many wrong codes" in html(response)


@pytest.mark.config(LOGIN_ADDRESS_LIMIT=3, LOGIN_ACCOUNT_LIMIT=2)
def test_correct_passwords_give_their_reservations_back(app, client, member):
    """Only failures count: more sign-ins with the right password than either limit allows all pass."""
    for _ in range(app.config["LOGIN_ADDRESS_LIMIT"] + 1):
        response = submit(client, "/sign-in", {"email": member.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, html(response)[:500]


# ---------------------------------------------------------------- 2. one code, one session

@pytest.mark.persistence
def test_one_authenticator_code_sent_by_several_sessions_at_once_signs_in_exactly_one(app, clock, member,
                                                                                      monkeypatch):
    waiting = pending_clients(app, member, 4, unique_address())
    code = current_code(member.secret, clock)
    gate = Gate(len(waiting))
    monkeypatch.setattr(totp, "match_step", gate.wrap(totp.match_step))

    responses = burst(waiting, lambda i, pair: pair[0].post("/sign-in/verify", data={
        "csrf_token": pair[1], "code": code}), gate)

    assert statuses(responses) == [302, 400, 400, 400]
    assert len(entries("sign_in.succeeded")) == 1
    db.session.expire_all()
    assert db.session.get(Member, member.id).totp_last_step == totp.current_step()


@pytest.mark.persistence
def test_one_recovery_code_sent_by_several_sessions_at_once_signs_in_exactly_one(app, member):
    recovery = services.regenerate_recovery_codes(db.session.get(Member, member.id))[0]
    db.session.commit()
    waiting = pending_clients(app, member, 4, unique_address())
    gate = Gate(len(waiting))
    listener = lambda target, context: gate.reach()  # noqa: E731 (every session has read the unused code)
    event.listen(RecoveryCode, "load", listener)
    try:
        responses = burst(waiting, lambda i, pair: pair[0].post("/sign-in/verify", data={
            "csrf_token": pair[1], "code": recovery}), gate)
    finally:
        event.remove(RecoveryCode, "load", listener)

    assert statuses(responses) == [302, 400, 400, 400]
    assert len(entries("mfa.recovery_code_used")) == 1 and len(entries("sign_in.succeeded")) == 1
    assert count(RecoveryCode) - services.recovery_codes_left(db.session.get(Member, member.id)) == 1


# ---------------------------------------------------------------- 16. the owner's device keeps its own counter

def test_a_strangers_wrong_codes_do_not_lock_the_owners_device_out(app, auth, clock, member):
    owner = auth.client_for(member)
    assert submit(owner, "/sign-out", page="/").status_code == 302
    stranger = client_at(app, unique_address())
    assert submit(stranger, "/sign-in", {"email": member.email, "password": TEST_PASSWORD}).status_code == 302
    for _ in range(app.config["LOGIN_ACCOUNT_LIMIT"]):
        assert submit(stranger, "/sign-in/verify", {"code": wrong_codes(member.secret)[0]}).status_code == 400
    response = submit(stranger, "/sign-in/verify", {"code": current_code(member.secret, clock)})
    assert response.status_code == 429 and "Too many wrong codes" in html(response)  # the stranger is locked out

    auth.sign_in(owner, member)
    assert owner.get("/account/security").status_code == 200


# ---------------------------------------------------------------- 18. equal work, limits, mail after the response

def application(authority, email: str) -> dict:
    return {"name": "Grace Hopper", "email": email, "password": "a long and unusual passphrase", "state": "AUT",
            "authority": str(authority.id), "authority_other": "", "position": "Public prosecutor",
            "practitioner_type": "prosecutor", "languages": ["en"], "reason": "Requests with West Africa.",
            "referee_email": ""}


def test_apply_hashes_the_password_once_for_a_known_and_once_for_an_unknown_address(app, client, authority,
                                                                                     member, monkeypatch):
    calls: list[str] = []
    real = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda password: calls.append(password) or real(password))
    for email in (member.email, "new.applicant@justiz.example.at"):
        calls.clear()
        response = submit(client, "/apply", application(authority, email), buffered=True)
        assert response.status_code == 302 and response.headers["Location"].endswith("/apply/sent")
        assert len(calls) == 1, f"{len(calls)} hashes for {email}"


@pytest.mark.config(APPLY_ADDRESS_LIMIT=2)
def test_applications_from_one_address_are_limited_with_a_clear_429(app, client, authority):
    for n in range(2):
        response = submit(client, "/apply", application(authority, f"applicant{n}@justiz.example.at"), buffered=True)
        assert response.status_code == 302
    members = count(Member)
    response = submit(client, "/apply", application(authority, "applicant9@justiz.example.at"), buffered=True)
    assert response.status_code == 429 and "Too many applications" in html(response)
    assert count(Member) == members


def test_reset_mail_leaves_only_after_the_response_has_gone(app, client, mailbox, member):
    token = token_of(client, "/password/forgot")
    response = client.post("/password/forgot", data={"csrf_token": token, "email": member.email})
    assert response.status_code == 200
    assert mailbox.to(member.email) == []
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == member.email)).sent_at is None
    response.close()  # what the WSGI server does once the response is sent
    assert "/password/reset/" in mailbox.link(member.email, "/password/reset/")


def test_application_mail_leaves_only_after_the_response_has_gone(app, client, mailbox, authority, member):
    for email in (member.email, "new.applicant@justiz.example.at"):
        token = token_of(client, "/apply")
        response = client.post("/apply", data={"csrf_token": token, **application(authority, email)})
        assert response.status_code == 302 and mailbox.to(email) == []
        response.close()
        assert len(mailbox.to(email)) == 1


def test_forgot_takes_the_same_path_for_known_and_unknown_addresses(app, client, mailbox, member, monkeypatch):
    calls: list[dict] = []
    real = services.make_link_token
    monkeypatch.setattr(services, "make_link_token", lambda purpose, payload: calls.append(payload) or
                        real(purpose, payload))
    pages = []
    for email in ("nobody@justiz.example.at", member.email):
        calls.clear()
        pages.append(html(submit(client, "/password/forgot", {"email": email}, buffered=True)))
        assert len(calls) == 1
    assert pages[0] == pages[1]
    assert mailbox.to("nobody@justiz.example.at") == [] and len(mailbox.to(member.email)) == 1


@pytest.mark.persistence
def test_a_burst_of_reset_requests_mails_the_member_at_most_the_limit(app, mailbox, member):
    address = unique_address()
    clients = [client_at(app, address) for _ in range(40)]
    tokens = [token_of(client, "/password/forgot") for client in clients]

    email = member.email
    responses = burst(clients, lambda i, client: client.post(
        "/password/forgot", data={"csrf_token": tokens[i], "email": email}, buffered=True))
    assert set(statuses(responses)) == {200}
    assert len({html(r) for r in responses}) == 1, "a throttled request must look like the others"
    sent = len(mailbox.to(member.email))
    assert 1 <= sent <= app.config["PASSWORD_RESET_RECIPIENT_LIMIT"], f"{sent} reset mails"


@pytest.mark.config(PASSWORD_RESET_ADDRESS_LIMIT=3)
def test_reset_requests_from_one_address_are_limited_across_recipients(app, mailbox, member_factory):
    client = client_at(app, unique_address())
    people = [member_factory() for _ in range(5)]
    for person in people:
        response = submit(client, "/password/forgot", {"email": person.email}, buffered=True)
        assert response.status_code == 200
    assert sum(1 for person in people if mailbox.to(person.email)) == 3


# ---------------------------------------------------------------- 22. refused, nothing changed / refused and recorded

class OneField(Form):
    code = StringField()


def test_refused_and_recorded_keeps_what_the_request_recorded_and_show_domain_error_keeps_nothing(app, member):
    for helper, kept in ((refused_and_recorded, 1), (show_domain_error, 0)):
        with app.test_request_context("/sign-in/verify", method="POST"):
            audit.record("test.refusal", None, actor=None, helper=helper.__name__)
            form = OneField()
            helper(form, DomainError("That code is not right.", field="code"))
            assert form.code.errors == ["That code is not right."]
            app.process_response(Response())
        assert len([e for e in entries("test.refusal") if e.details_dict["helper"] == helper.__name__]) == kept


def test_refused_and_recorded_shows_an_error_without_a_field_at_the_named_field_or_at_the_top(app):
    with app.test_request_context("/", method="POST"):
        form = OneField()
        refused_and_recorded(form, DomainError("Too many wrong codes."), field="code")
        assert form.code.errors == ["Too many wrong codes."]
        refused_and_recorded(form, DomainError("Too many attempts."))
        from flask import get_flashed_messages

        assert get_flashed_messages() == ["Too many attempts."]


def test_a_refused_sign_in_is_recorded(app, client, member):
    response = submit(client, "/sign-in", {"email": member.email, "password": "not the password at all"})
    assert response.status_code == 401
    assert [e.actor_id for e in entries("sign_in.failed")] == [member.id]


def test_a_wrong_current_password_on_the_password_page_is_recorded(app, auth, clock, member):
    client = auth.client_for(member)
    response = submit(client, "/account/password", {
        "current_password": "not the password at all", "new_password": "another quite different passphrase",
        "code": current_code(member.secret, clock)}, page="/account/password")
    assert response.status_code == 400 and "current password is not right" in html(response)
    assert len(entries("password.change_refused")) == 1


def test_a_refused_recovery_key_confirmation_keeps_the_key_it_shows(app, auth, member):
    """A session that never saw the recovery key is issued a new one by the page that refuses its answer: the key
    on screen must be the one stored, so this refusal keeps what the request did."""
    import json
    import re

    from network.messaging import lifecycle
    from network.messaging.keys import unwrap_with_recovery_key

    second = auth.client_for(member)  # the first sign-in makes the keys and the recovery key to show
    with second.session_transaction() as stored_session:
        stored_session.pop(lifecycle.SESSION_RECOVERY_KEY)  # this session lost it
    token = token_of(second, "/account/security")
    response = second.post("/messages/recovery-key", data={"csrf_token": token, "group": "AAAAAAA", "saved": "y"})
    assert response.status_code == 400 and "not group" in html(response)
    shown = re.search(r'id="recovery-key">([A-Z2-7-]+)<', html(response)).group(1)
    db.session.expire_all()
    stored = lifecycle.key_sets(db.session.get(Member, member.id))[0].recovery_wrapped
    assert unwrap_with_recovery_key(json.loads(stored), shown, member_id=member.id)


def test_a_refused_application_leaves_nothing(app, client, authority, other_authority):
    members, logged = count(Member), count(AuditEntry)
    data = application(authority, "someone@justiz.example.at") | {"authority": str(other_authority.id)}
    response = submit(client, "/apply", data, buffered=True)
    assert response.status_code == 400 and "another State" in html(response)
    assert count(Member) == members and count(AuditEntry) == logged


def test_password_guesses_on_the_reauthentication_page_are_throttled(app, auth, clock, member):
    """Whoever holds a stolen session cannot guess the password at Argon2's speed on /reauthenticate: the sign-in
    account counter counts these guesses too, and past its limit even the right password waits."""
    client = auth.client_for(member)
    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    for _ in range(limit):
        answer = submit(client, "/reauthenticate", {"password": "not the password at all", "code": "000000"})
        assert answer.status_code == 400
    answer = submit(client, "/reauthenticate", {"password": member.password,
                                                "code": current_code(member.secret, clock)})
    assert answer.status_code == 429
    assert len(entries("reauth.failed")) == limit and len(entries("reauth.throttled")) == 1


def test_current_password_guesses_on_the_password_page_are_throttled(app, auth, clock, member):
    """The password page's "current password" is a password check too: counted like a sign-in."""
    client = auth.client_for(member)
    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    data = {"new_password": "another quite different passphrase", "code": "000000"}
    for _ in range(limit):
        answer = submit(client, "/account/password", {"current_password": "not the password at all", **data})
        assert answer.status_code == 400 and "current password is not right" in html(answer)
    answer = submit(client, "/account/password", {**data, "current_password": member.password,
                                                  "code": current_code(member.secret, clock)})
    assert answer.status_code == 429
    assert len(entries("password.change_refused")) == limit and len(entries("reauth.throttled")) == 1
