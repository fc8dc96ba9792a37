"""The 5xx the fuzzing suite found, each with the exact input that reproduced it (tests/fuzz/corpus/found.txt; the
races are in test_bursts.py), kept as tests now that they are fixed. A new find goes in tests/fuzz/found.py and here
as xfail(strict=True) until its fix lands: the fix makes it pass, which fails the run until the marker goes."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token

pytestmark = pytest.mark.persistence


@pytest.mark.parametrize("target", ["99999999999999999999", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠"], ids=["ascii", "arabic-indic"])
def test_merging_into_a_20_digit_topic_number_is_refused_not_a_500(app, auth, forum, moderator, target):
    client = auth.client_for(moderator)
    url = f"/forum/topics/{forum['open_topic'].id}/merge"
    token = csrf_token(client.get(f"/forum/topics/{forum['open_topic'].id}").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "target": target})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/cases/%00", "/api/v1/cases/before%00after", "/api/v1/authorities/%00"])
def test_a_nul_in_an_api_path_parameter_is_not_a_500(app, client, member, db_backend, path):
    from network.core.api import issue_token
    from network.core.db import db

    _token, secret = issue_token(member, "fuzz", ["catalogue:read", "directory:read"], 30)
    db.session.commit()
    response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404 and response.is_json


def test_a_vouch_note_with_a_nul_is_not_a_500(app, auth, member_factory, focal_point, clock, db_backend):
    from network.core.db import db
    from network.members.models import Application

    applicant = member_factory(status="pending", enrolled=False, email="nul@justiz.example.at", name="Applicant")
    application = Application(member_id=applicant.id, reason="I handle mutual legal assistance requests daily.",
                              status="submitted", email_verified_at=clock.now, submitted_at=clock.now)
    db.session.add(application)
    db.session.commit()
    client = auth.client_for(focal_point)
    token = csrf_token(client.get("/vouching").get_data(as_text=True))
    response = client.post(f"/vouching/{application.id}",
                           data={"csrf_token": token, "decision": "vouched", "note": "before\x00after"})
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)


def test_a_moderators_note_with_a_nul_is_not_a_500(app, auth, member, moderator, db_backend):
    client = auth.client_for(moderator)
    page = client.get(f"/forum/members/{member.id}/moderation")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(f"/forum/members/{member.id}/notes", data={"csrf_token": token, "body": "before\x00after"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/cases/%00", "/directory/%00", "/forum/spaces/%00", "/messages/authority/%00"])
def test_a_nul_in_a_page_path_is_not_a_500(app, auth, member, db_backend, path):
    response = auth.client_for(member).get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("other_states", [-169179056136786, True, 1.5], ids=["integer", "true", "float"])
def test_a_case_whose_other_states_is_not_a_list_is_refused_by_the_api(app, client, member, other_states):
    from network.core.api import issue_token
    from network.core.db import db
    from tests.catalogue_support import interchange_case

    _token, secret = issue_token(member, "fuzz", ["catalogue:read", "catalogue:write"], 30)
    db.session.commit()
    response = client.post("/api/v1/cases", json=interchange_case("FOUND-1", other_states=other_states),
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 400, response.status_code


def test_a_case_whose_other_states_is_not_a_list_is_refused_by_the_import_with_its_line(app, tmp_path):
    import json

    from tests.catalogue_support import interchange_case

    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(interchange_case("FOUND-1", other_states=5)) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalogue", "import", str(path)])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and "line 1" in result.output


def test_merging_into_topic_2147483648_is_refused_not_a_500(app, auth, forum, moderator, db_backend):
    client = auth.client_for(moderator)
    token = csrf_token(client.get(f"/forum/topics/{forum['open_topic'].id}").get_data(as_text=True))
    response = client.post(f"/forum/topics/{forum['open_topic'].id}/merge",
                           data={"csrf_token": token, "target": "2147483648"})
    assert response.status_code == 400
