"""Request statistics against a hand-counted set: counts by form and State pair, median days to acknowledgement and
to completion by form, refusals by ground; and the page, for an authority's holders and for the network."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.requests_support import change, draft_request, send_request, world  # noqa: F401

# Cheap Argon2 (the tests' own accounts and key wraps; the parameters production uses are tested in test_hardening)
pytestmark = pytest.mark.config(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)

T0 = datetime(2026, 1, 1, 9, 0)

def _request(form, pair, status="sent", ack=None, end=None, ground="", sent=True):
    return SimpleNamespace(form=form, requesting_state=pair[0], requested_state=pair[1], status=status,
                           sent_at=T0 if sent else None, refusal_ground=ground,
                           acknowledged_at=T0 + timedelta(days=ack) if ack is not None else None,
                           completed_at=T0 + timedelta(days=end) if end is not None else None)


def test_the_figures_are_the_hand_counted_ones():
    from network.requests.statistics import compute

    requests = [
        _request("mla", ("AUT", "NGA"), "executed", ack=2, end=40),
        _request("mla", ("AUT", "NGA"), "refused", ack=4, end=90, ground="essential_interests"),
        _request("mla", ("BRA", "NGA"), "received", ack=9),
        _request("mla", ("AUT", "FRA"), "refused", ack=1, end=30, ground="essential_interests"),
        _request("extradition", ("AUT", "NGA"), "refused", ack=3, end=120, ground="other"),
        _request("extradition", ("FRA", "AUT")),
        _request("mla", ("AUT", "NGA"), "draft", sent=False),  # a draft is not counted
    ]
    figures = compute(requests)
    assert figures["total"] == 6
    assert figures["by_form"] == [("mla", 4), ("extradition", 2)]
    assert figures["by_pair"] == [(("AUT", "NGA"), 3), (("AUT", "FRA"), 1), (("BRA", "NGA"), 1), (("FRA", "AUT"), 1)]
    # mla acknowledgements 2, 4, 9, 1 -> median 3.0; completions 40, 90, 30 -> 40; extradition 3 and 120, one each
    assert figures["acknowledgement_by_form"] == [("mla", 3.0, 4), ("extradition", 3.0, 1)]
    assert figures["completion_by_form"] == [("mla", 40.0, 3), ("extradition", 120.0, 1)]
    assert figures["refusals_by_ground"] == [("essential_interests", 2), ("other", 1)]
    assert figures["by_status"] == {"executed": 1, "refused": 3, "received": 1, "sent": 1}


def test_the_page_counts_the_authoritys_requests_and_the_networks(app, auth, world, clock):  # noqa: F811
    from network.requests import services

    first = draft_request(world)
    send_request(app, world, first)
    clock.advance(days=2)
    change(app, world, world.nga_holder, first, "received")
    clock.advance(days=5)
    with pytest.raises(services.RequestError, match="ground for refusal"):
        change(app, world, world.nga_holder, first, "refused", "Not our competence.")
    change(app, world, world.nga_holder, first, "refused", "Not our competence.", ground="other")
    draft_request(world, reference="AUT-2026-99")  # a draft: not counted

    page = auth.client_for(world.aut_holder).get("/requests/statistics").get_data(as_text=True)
    assert "Federal Ministry of Justice" in page and page.count("One request sent.") == 2  # the authority, the network
    assert "Another ground" in page and "<svg" in page and "Median days from sending" in page
    outsider = auth.client_for(world.fra_holder).get("/requests/statistics").get_data(as_text=True)
    assert page.count("One request sent.") == 2 and outsider.count("One request sent.") == 1  # the network only
    assert "Not our competence" not in page + outsider  # the reasons are content
