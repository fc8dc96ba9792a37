"""Bursts: the same single-use or one-at-a-time action sent by N threads released together by a barrier (one test
client each, signed in beforehand), on SQLite (a file database) and PostgreSQL.

Check-then-act points covered here (sign-in throttles, second-factor codes and audit appends have their own tests
in tests/test_hardening_*.py): a password-reset link used twice, an e-mail verification link followed twice, an
applicant's answer sent twice, a focal point vouching twice, two focal points proposing a change to the same entry
(one open proposal per authority), case drafts created at once (references). The property: no 5xx, and the
action takes effect once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.fuzz.support import FIGURES, LONG, burst

pytestmark = pytest.mark.persistence

N = 8 if LONG else 4
ROUNDS = 5 if LONG else 3

# Each race below was found by this suite and is fixed (issue 12): a reset link used by several clients at once, an
# e-mail verification link followed twice, an applicant's answer sent twice, a double vouch, two focal points
# proposing at once. A new one is marked xfail(strict=True) until its fix lands.


def audit_count(action: str) -> int:
    from network.core.audit import AuditEntry
    from network.core.db import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def count(model, *where) -> int:
    from network.core.db import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def statuses(results) -> list:
    return [result.status_code if hasattr(result, "status_code") else repr(result) for result in results]


def no_server_error(name: str, results) -> list[str]:
    bad = [status for status in statuses(results) if not isinstance(status, int) or status >= 500]
    for status in bad:
        FIGURES.server_error(f"burst {name}", "(burst)", status if isinstance(status, int) else 0, str(status))
    return bad


def repeat(name: str, one_round) -> None:
    """Up to ROUNDS bursts (one_round(attempt) -> a description of the race, or None), stopping at the first race:
    a race that shows only sometimes is still seen, and an xfail(strict) test does not pass by luck."""
    race = None
    for attempt in range(ROUNDS):
        race = one_round(attempt)
        FIGURES.burst(name, race)
        if race is not None:
            break
    assert race is None, race


def anonymous_clients(app, page: str, count_: int) -> list[tuple]:
    """count_ cookie-holding clients, each with the CSRF token of the page."""
    made = []
    for _index in range(count_):
        client = app.test_client()
        response = client.get(page)
        made.append((client, csrf_token(response.get_data(as_text=True)) if response.status_code == 200 else ""))
    return made


# ---------------------------------------------------------------- single-use links

def make_application(member_factory, clock, label: str, **fields):
    from network.core.db import db
    from network.members.models import Application

    applicant = member_factory(status="pending", enrolled=False, email=f"{label}@justiz.example.at", name=label)
    application = Application(member_id=applicant.id, reason="I handle mutual legal assistance requests daily.",
                              **fields)
    db.session.add(application)
    db.session.commit()
    return applicant, application


def test_a_password_reset_link_used_twice_at_once_sets_one_password(app, member):
    from network.core.db import db
    from network.members.services import make_link_token

    def one_round(attempt: int) -> str | None:
        db.session.refresh(member)
        before = audit_count("password.reset")
        token = make_link_token("password-reset", {"m": member.id, "h": member.password_hash[-16:]})
        url = f"/password/reset/{token}"
        clients = anonymous_clients(app, url, N)
        results = burst(N, lambda index: clients[index][0].post(url, data={
            "csrf_token": clients[index][1], "password": f"a new long passphrase {attempt}-{index} for the burst"}))
        bad = no_server_error("password reset link", results)
        accepted = [status for status in statuses(results) if status == 302]
        resets = audit_count("password.reset") - before
        if bad or len(accepted) != 1 or resets != 1:
            return f"{len(accepted)} resets accepted, {resets} audited, 5xx: {bad} ({statuses(results)})"
        return None

    repeat("password reset link used twice", one_round)


def test_an_email_verification_link_followed_twice_at_once_verifies_once(app, member_factory, focal_point, clock):
    from network.members.services import make_link_token

    def one_round(attempt: int) -> str | None:
        applicant, application = make_application(member_factory, clock, f"verify{attempt}", status="unverified")
        before = audit_count("application.email_verified")
        url = f"/apply/verify/{make_link_token('verify-email', {'a': application.id, 'e': applicant.email})}"
        clients = [app.test_client() for _index in range(N)]
        results = burst(N, lambda index: clients[index].get(url))
        bad = no_server_error("e-mail verification link", results)
        verified = audit_count("application.email_verified") - before
        if bad or verified != 1:
            return f"verified {verified} times (audit), 5xx: {bad} ({statuses(results)})"
        return None

    repeat("e-mail verification link followed twice", one_round)


def test_an_applicants_answer_sent_twice_at_once_is_recorded_once(app, member_factory, clock):
    from network.members.services import make_link_token

    def one_round(attempt: int) -> str | None:
        _applicant, application = make_application(
            member_factory, clock, f"asked{attempt}", status="info_requested", email_verified_at=clock.now,
            submitted_at=clock.now, info_question="Which unit?", info_requested_at=clock.now)
        before = audit_count("application.info_answered")
        token = make_link_token("info-request", {"a": application.id,
                                                 "t": application.info_requested_at.isoformat()})
        url = f"/apply/answer/{token}"
        clients = anonymous_clients(app, url, N)
        results = burst(N, lambda index: clients[index][0].post(url, data={
            "csrf_token": clients[index][1], "answer": f"The MLA unit, answer {index}"}))
        bad = no_server_error("information answer", results)
        answered = audit_count("application.info_answered") - before
        if bad or answered != 1:
            return f"answered {answered} times (audit), 5xx: {bad} ({statuses(results)})"
        return None

    repeat("applicant's answer sent twice", one_round)


# ---------------------------------------------------------------- one at a time

def test_a_focal_point_vouching_twice_at_once_leaves_one_vouch(app, auth, member_factory, focal_point, clock):
    from network.members.models import Vouch

    clients = []
    for _index in range(N):
        client = auth.client_for(focal_point)
        clients.append((client, csrf_token(client.get("/vouching").get_data(as_text=True))))

    def one_round(attempt: int) -> str | None:
        _applicant, application = make_application(member_factory, clock, f"vouch{attempt}", status="submitted",
                                                   email_verified_at=clock.now, submitted_at=clock.now)
        url = f"/vouching/{application.id}"
        results = burst(N, lambda index: clients[index][0].post(url, data={
            "csrf_token": clients[index][1], "decision": "vouched", "note": f"burst {index}"}))
        bad = no_server_error("vouching", results)
        vouches = count(Vouch, Vouch.application_id == application.id)
        if bad or vouches != 1:
            return f"{vouches} vouches stored, 5xx: {bad} ({statuses(results)})"
        return None

    repeat("vouching twice", one_round)


def test_focal_points_proposing_at_once_leave_one_open_proposal(app, member_factory, authority):
    from network.core.db import db
    from network.directory import changes
    from network.directory.models import Authority, AuthorityChange
    from network.directory.services import record_version
    from network.members.models import Member

    record_version(authority, "import")
    db.session.commit()
    proposers = [member_factory(roles=("focal_point",), email=f"focal{index}@justiz.example.at").id
                 for index in range(N)]
    proposed = (AuthorityChange.authority_id == authority.id, AuthorityChange.status == "proposed")
    # Read here, once: the fixture's object belongs to this thread's session, and each commit expires it; a thread
    # touching it would refresh it through that session, at the same time as the others (not what is tested).
    authority_id, entry = authority.id, authority.to_interchange()

    def propose(index: int, attempt: int):
        with app.test_request_context():
            try:
                changes.propose(db.session.get(Authority, authority_id), db.session.get(Member, proposers[index]),
                                {**entry, "phone": f"+43 1 000 {attempt}{index}",
                                 "designations": ["untoc_mla_central"]}, f"New telephone number {index}")
                db.session.commit()
                return "proposed"
            except changes.DirectoryError as error:
                db.session.rollback()
                return f"refused: {error.message}"
            finally:
                db.session.remove()

    def one_round(attempt: int) -> str | None:
        for change in db.session.scalars(select(AuthorityChange).where(*proposed)):  # a clean slate each round
            change.status = "withdrawn"
        db.session.commit()
        results = burst(N, lambda index: propose(index, attempt))
        errors = [result for result in results if isinstance(result, BaseException)]
        for error in errors:
            FIGURES.server_error("burst directory proposals", "(burst)", 0, repr(error))
        open_count = count(AuthorityChange, *proposed)
        if errors or open_count != 1:
            return f"{open_count} open proposals for one authority, errors: {errors!r:.300} ({results!r:.300})"
        return None

    repeat("one open proposal per authority", one_round)


def test_case_drafts_created_at_once_get_distinct_references(app, auth, member):
    from catalogue.cases.models import Case
    from network.core.db import db

    clients = []
    for _index in range(N):
        client = auth.client_for(member)
        clients.append((client, csrf_token(client.get("/cases/new").get_data(as_text=True))))

    def one_round(attempt: int) -> str | None:
        before = count(Case, Case.submitter_id == member.id)
        results = burst(N, lambda index: clients[index][0].post("/cases/new", data={"csrf_token": clients[index][1]}))
        bad = no_server_error("new case drafts", results)
        references = set(db.session.scalars(select(Case.reference).where(Case.submitter_id == member.id)))
        made = count(Case, Case.submitter_id == member.id) - before
        if bad or made != N or len(references) != before + N:
            return f"{made} drafts, {len(references) - before} new references for {N} requests, 5xx: {bad}"
        return None

    repeat("case references allocated at once", one_round)
