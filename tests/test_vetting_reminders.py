"""Moderators are reminded of applications waiting longer than 48 hours, once a day."""
from __future__ import annotations

import pytest

from network.core.clock import utcnow
from network.core.db import db
from network.members.models import Application, Member
from network.members.passwords import hash_password


@pytest.fixture
def waiting_application(app, authority):
    member = Member(email="waiting@justiz.example.at", name="Wanda Waiting", state="AUT", authority_id=authority.id,
                    practitioner_type="prosecutor", languages=["en"], password_hash=hash_password("x" * 20),
                    status="pending")
    db.session.add(member)
    db.session.flush()
    application = Application(member_id=member.id, reason="I need contacts in West Africa.", status="submitted",
                              submitted_at=utcnow(), email_verified_at=utcnow())
    db.session.add(application)
    db.session.commit()
    return application


def test_no_reminder_before_48_hours(app, mailbox, moderator, waiting_application, clock):
    clock.advance(hours=47)
    result = app.test_cli_runner().invoke(args=["members", "remind"])
    assert result.exit_code == 0, result.output
    assert "0 waiting applications" in result.output
    assert mailbox.to(moderator.email) == []


def test_moderators_are_reminded_after_48_hours_once_a_day(app, mailbox, moderator, waiting_application, clock):
    clock.advance(hours=49)
    runner = app.test_cli_runner()
    assert "1 waiting applications" in runner.invoke(args=["members", "remind"]).output
    body = mailbox.body(moderator.email)
    assert "Wanda Waiting" in body and "/vetting" in body
    mailbox.clear()
    clock.advance(hours=2)
    assert "0 waiting applications" in runner.invoke(args=["members", "remind"]).output
    clock.advance(hours=23)
    assert "1 waiting applications" in runner.invoke(args=["members", "remind"]).output
    assert len(mailbox.to(moderator.email)) == 1


def test_vetting_queue_marks_overdue_applications_oldest_first(app, auth, moderator, waiting_application, clock,
                                                              authority):
    clock.advance(hours=50)
    newer = Member(email="newer@justiz.example.at", name="Nina Newer", state="AUT", authority_id=authority.id,
                   practitioner_type="judge", languages=["fr"], password_hash=hash_password("y" * 20), status="pending")
    db.session.add(newer)
    db.session.flush()
    db.session.add(Application(member_id=newer.id, reason="Extradition requests with Central America.",
                               status="submitted", submitted_at=utcnow(), email_verified_at=utcnow()))
    db.session.commit()
    client = auth.client_for(moderator)
    page = client.get("/vetting").get_data(as_text=True)
    assert page.index("Wanda Waiting") < page.index("Nina Newer")
    assert page.count(">overdue<") == 1
    assert "2 days" in page
