"""Demonstration requests: `flask demo load` leaves fictional requests in each status between the Austrian ministry
and Nigeria's central authority, signed and chained, with ages and an overdue mark, readable by their officers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.test_messaging_demo import sign_in_as


@pytest.mark.config(DEMO_MODE=True, ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)
def test_demo_load_leaves_a_register_in_every_status(app, clock):
    from network.core.db import db
    from network.requests import crypto
    from network.requests.models import STATUSES, CooperationRequest

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "13 requests created" in result.output
    items = list(db.session.scalars(select(CooperationRequest)))
    assert {item.status for item in items} == set(STATUSES)
    assert all(crypto.verify_chain(item).ok for item in items)
    assert "0 requests created" in runner.invoke(args=["demo", "load"]).output  # idempotent

    accounts = json.loads((Path(app.instance_path) / "demo-accounts.json").read_text())
    franz = sign_in_as(app, clock, accounts["focal_aut"])
    page = franz.get("/requests/").get_data(as_text=True)
    assert page.count("AUT-DEMO-") == 13 and "No acknowledgement" in page
    ngozi = sign_in_as(app, clock, accounts["focal_nga"])
    page = ngozi.get("/requests/?direction=incoming").get_data(as_text=True)
    assert page.count("AUT-DEMO-") == 12  # not the draft
    refused = db.session.scalar(select(CooperationRequest).where(CooperationRequest.requesting_reference
                                                                 == "AUT-DEMO-02"))
    assert "prohibit the hearing for a similar offence" in ngozi.get(f"/requests/{refused.id}").get_data(as_text=True)
