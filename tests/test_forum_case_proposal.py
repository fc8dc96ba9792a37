"""From discussion to precedent: the author of a solved question proposes it as a catalogue case; the catalogue's
handler (registered through network.forum.hooks: the network never imports the catalogue) creates a pre-filled draft
and the author goes on in the case wizard."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import submit
from tests.test_forum import audit_actions, html

BUTTON = "Propose as a catalogue case"


def _solve(forum):
    from network.core.db import db
    from network.forum import services

    answer = services.reply(forum["insider"], forum["open_topic"], "Call the central authority's duty line first.")
    services.mark_answer(forum["member"], answer)
    db.session.commit()
    return forum["open_topic"]


@pytest.mark.persistence
def test_the_author_of_a_solved_question_proposes_it_and_lands_in_the_case_wizard(app, auth, forum):
    from catalogue.cases.models import Case
    from network.core.db import db

    topic = _solve(forum)
    client = auth.client_for(forum["member"])
    topic_url = f"/forum/topics/{topic.id}"
    assert BUTTON in html(client.get(topic_url))
    response = submit(client, f"{topic_url}/propose-case", {}, page=topic_url)
    assert response.status_code == 302
    match = re.search(r"/cases/drafts/([A-Z0-9-]+)/step/1$", response.headers["Location"])
    assert match, response.headers["Location"]
    case = db.session.scalar(select(Case).where(Case.reference == match.group(1)))
    assert case.status == "draft" and case.submitter_id == forum["member"].id
    assert case.title == topic.title
    assert "Looking for advice." in case.summary and "duty line" in case.summary and "Irene Insider" in case.summary
    assert f"/forum/topics/{topic.id}" in case.source
    assert client.get(response.headers["Location"]).status_code == 200
    assert {"forum.case_proposed", "case.drafted_from_forum"} <= set(audit_actions())


def test_only_the_author_of_a_solved_question_may_propose_it(app, auth, forum):
    topic = forum["open_topic"]
    topic_url = f"/forum/topics/{topic.id}"
    author = auth.client_for(forum["member"])
    assert BUTTON not in html(author.get(topic_url))  # not solved yet
    assert submit(author, f"{topic_url}/propose-case", {}, page=topic_url).status_code == 403
    _solve(forum)
    for who in ("insider", "moderator", "outsider"):
        client = auth.client_for(forum[who])
        assert BUTTON not in html(client.get(topic_url)), who
        assert submit(client, f"{topic_url}/propose-case", {}, page=topic_url).status_code == 403, who


def test_without_a_registered_handler_the_forum_offers_nothing(app, auth, forum):
    from network.forum.hooks import EXTENSION

    topic = _solve(forum)
    app.extensions.pop(EXTENSION)
    client = auth.client_for(forum["member"])
    topic_url = f"/forum/topics/{topic.id}"
    assert BUTTON not in html(client.get(topic_url))
    assert submit(client, f"{topic_url}/propose-case", {}, page=topic_url).status_code == 404


def test_the_network_never_imports_the_catalogue():
    root = Path(__file__).resolve().parent.parent
    offenders = [str(path) for path in (root / "network").rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+catalogue\b", path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert not offenders
