"""Role limits (issue 12, finding 14): only administrators act on moderators and administrators, administrators
reinstate, the last active administrator stays (also under two requests at once), and operators reinstate from
the command line."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token


def _post(client, url: str, data: dict | None = None):
    token = csrf_token(client.get("/account/security").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def _status(member) -> str:
    from network.core.db import db
    from network.members.models import Member

    db.session.expire_all()
    return db.session.get(Member, member.id).status


def _audited(action: str, member) -> list:
    from network.core.audit import AuditEntry
    from network.core.db import db

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                            AuditEntry.target_id == str(member.id))))


@pytest.fixture
def second_moderator(member_factory):
    return member_factory(roles=("moderator",), authority=None, email="moderator2@network.example.org")


@pytest.fixture
def second_admin(member_factory):
    return member_factory(roles=("admin",), authority=None, email="admin2@network.example.org")


# ---------------------------------------------------------------- who acts on whom

@pytest.mark.parametrize("target", ["admin", "second_moderator"])
def test_a_moderator_cannot_suspend_an_administrator_or_another_moderator(request, auth, moderator, target):
    victim = request.getfixturevalue(target)
    client = auth.client_for(moderator)
    response = _post(client, f"/members/{victim.id}/suspend", {"reason": "Taking over the platform."})
    assert response.status_code == 403
    assert _status(victim) == "active"
    assert not _audited("member.suspended", victim)


def test_a_moderator_still_suspends_and_reinstates_a_member(auth, moderator, member):
    client = auth.client_for(moderator)
    assert _post(client, f"/members/{member.id}/suspend", {"reason": "Left the ministry."}).status_code == 302
    assert _status(member) == "suspended"
    assert _post(client, f"/members/{member.id}/reinstate").status_code == 302
    assert _status(member) == "active"


def test_a_moderator_cannot_reinstate_a_suspended_moderator(app, auth, moderator, second_moderator, admin):
    admin_client = auth.client_for(admin)
    assert _post(admin_client, f"/members/{second_moderator.id}/suspend", {"reason": "Inquiry."}).status_code == 302
    response = _post(auth.client_for(moderator), f"/members/{second_moderator.id}/reinstate")
    assert response.status_code == 403
    assert _status(second_moderator) == "suspended"


def test_an_administrator_suspends_a_moderator_and_reinstates_them(auth, admin, moderator, mailbox):
    client = auth.client_for(admin)
    assert _post(client, f"/members/{moderator.id}/suspend", {"reason": "Inquiry."}).status_code == 302
    assert _status(moderator) == "suspended"
    response = _post(client, f"/members/{moderator.id}/reinstate")
    assert response.status_code == 302
    assert _status(moderator) == "active"
    assert [entry.actor_label for entry in _audited("member.reinstated", moderator)] == [admin.email]


def test_the_manage_page_offers_a_moderator_no_suspension_of_an_administrator(auth, moderator, admin):
    page = auth.client_for(moderator).get(f"/members/{admin.id}/manage").get_data(as_text=True)
    assert f"/members/{admin.id}/suspend" not in page
    assert "Only administrators suspend, reinstate or close the accounts of moderators" in page


def test_the_forum_cannot_suspend_an_administrator_either(app, moderator, admin):
    from network.forum.moderation import ForumError, suspend_author

    with pytest.raises(ForumError, match="Only administrators act on moderators and administrators"):
        suspend_author(moderator, admin, "Spam")
    assert _status(admin) == "active"


def test_only_an_administrator_gives_a_role_even_when_the_service_is_called_directly(app, moderator, member):
    from network.members import services

    with pytest.raises(services.MembershipError, match="Only administrators give roles"):
        services.grant_role(member, "moderator", moderator)
    assert not member.has_role("moderator")


# ---------------------------------------------------------------- the last active administrator

def _at_once(*calls):
    """Run the calls in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _prepared(client, url: str, data: dict):
    token = csrf_token(client.get("/account/security").get_data(as_text=True))
    return lambda: client.post(url, data={"csrf_token": token, **data}).status_code


@pytest.mark.persistence
@pytest.mark.parametrize("action", ["suspend", "deactivate"])
def test_two_administrators_acting_on_each_other_at_once_leave_one_active(app, auth, admin, second_admin, action):
    first, second = auth.client_for(admin), auth.client_for(second_admin)
    data = {"reason": "Inquiry."}
    statuses = _at_once(_prepared(first, f"/members/{second_admin.id}/{action}", data),
                        _prepared(second, f"/members/{admin.id}/{action}", data))
    assert statuses == [302, 302]  # the refused one is sent back to the manage page with the reason
    assert [_status(admin), _status(second_admin)].count("active") == 1


@pytest.mark.persistence
def test_two_administrators_withdrawing_each_others_role_at_once_leave_one(app, auth, admin, second_admin):
    from network.core.db import db
    from network.members.models import RoleGrant

    def admin_grant(member):
        return db.session.scalar(select(RoleGrant.id).where(RoleGrant.member_id == member.id,
                                                            RoleGrant.role == "admin"))

    first, second = auth.client_for(admin), auth.client_for(second_admin)
    _at_once(_prepared(first, f"/members/{second_admin.id}/roles/{admin_grant(second_admin)}/withdraw", {}),
             _prepared(second, f"/members/{admin.id}/roles/{admin_grant(admin)}/withdraw", {}))
    db.session.expire_all()
    holders = db.session.scalars(select(RoleGrant.member_id).where(RoleGrant.role == "admin")).all()
    assert len(holders) == 1


# ---------------------------------------------------------------- operators

def test_an_operator_reinstates_a_suspended_administrator_from_the_command_line(app, admin, second_admin, auth, mailbox):
    client = auth.client_for(second_admin)
    assert _post(client, f"/members/{admin.id}/suspend", {"reason": "Mistake."}).status_code == 302
    assert _status(admin) == "suspended"

    result = app.test_cli_runner().invoke(args=["members", "reinstate", admin.email.upper()])
    assert result.exit_code == 0, result.output
    assert "active again" in result.output
    assert _status(admin) == "active"
    entry = _audited("member.reinstated", admin)[-1]
    assert entry.actor_label == "cli" and entry.actor_id is None
    assert "active again" in mailbox.last(admin.email)["Subject"]


@pytest.mark.parametrize("email", ["nobody@example.org", "active"])
def test_the_reinstate_command_refuses_an_unknown_or_active_member_and_changes_nothing(app, admin, email):
    result = app.test_cli_runner().invoke(args=["members", "reinstate", admin.email if email == "active" else email])
    assert result.exit_code == 1
    assert ("no member" in result.output) if email != "active" else ("Only suspended or lapsed" in result.output)
    assert not _audited("member.reinstated", admin)

