"""Demonstration messaging: `flask demo load` gives every demo account its keys (wrapped under the generated demo
password, recovery key in the accounts file), opens the Austrian ministry's mailbox and leaves a few conversations
that a demo user reads as soon as they sign in; loading again changes nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import current_code, submit


def sign_in_as(app, clock, entry: dict):
    client = app.test_client()
    response = submit(client, "/sign-in", {"email": entry["email"], "password": entry["password"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/verify")
    response = submit(client, "/sign-in/verify", {"code": current_code(entry["totp_secret"], clock)})
    assert response.status_code == 302
    return client


@pytest.mark.persistence
@pytest.mark.config(DEMO_MODE=True)
def test_demo_users_read_their_encrypted_conversations_at_once(app, clock):
    from network.core.db import db
    from network.messaging.keys import parse_recovery_key
    from network.messaging.models import Conversation, MemberKeys

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "8 messaging key sets created" in result.output and "3 conversations created" in result.output
    accounts = json.loads((Path(app.instance_path) / "demo-accounts.json").read_text())
    for entry in accounts.values():
        assert len(parse_recovery_key(entry["messaging_recovery_key"])) == 32

    franz = sign_in_as(app, clock, accounts["focal_aut"])
    inbox = franz.get("/messages/").get_data(as_text=True)
    assert "Extradition request: supplementary information on dual criminality" in inbox  # the mailbox's
    mailbox_id = db.session.scalar(select(Conversation.id).where(Conversation.kind == "mailbox"))
    page = franz.get(f"/messages/{mailbox_id}").get_data(as_text=True)
    assert "Signature verified." in page and "CONFIDENTIAL" in page and "written by <bdi>Franz Fokus</bdi>" in page

    ana = sign_in_as(app, clock, accounts["member_bra"])
    inbox = ana.get("/messages/").get_data(as_text=True)
    assert "Bank records of a shell company" in inbox and "Videoconference hearing of a witness" in inbox
    assert "Extradition request" not in inbox  # not hers
    assert franz.get("/messages/").get_data(as_text=True).count('<a href="/messages/') == 1

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "0 messaging key sets created" in again.output and "0 conversations created" in again.output
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 3
    assert db.session.scalar(select(func.count()).select_from(MemberKeys)) == 8
