"""Requests through the pages: drafting step by step (missing essentials named, the draft saved at each step), the
review, sending, the shared record on both sides, who gets 404, the canary (a request's free text in no table, file,
index, log or mail in the clear), and a burst of two status changes."""
from __future__ import annotations

import io
import logging
import re
import threading
from pathlib import Path

import pytest

from tests.conftest import csrf_token, submit
from tests.requests_support import CANARY, MLA_FIELDS, draft_request, send_request, world  # noqa: F401

# Cheap Argon2 (the tests' own accounts and key wraps; the parameters production uses are tested in test_hardening)
pytestmark = pytest.mark.config(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _start(client) -> int:
    response = submit(client, "/requests/new", {"form": "mla", "measures": ["financial_records"],
                                                "requested_state": "NGA", "requested_authority": "NGA-CA",
                                                "language": "en", "reference": "AUT-2026-17"})
    assert response.status_code == 302, _html(response)[:3000]
    location = response.headers["Location"]
    assert location.endswith("/draft/authorities")
    return int(re.search(r"/requests/(\d+)/", location).group(1))


def _fill_all(client, request_id: int) -> None:
    """Walk every step with MLA_FIELDS, pressing "Save and continue"; the last one leads to the review."""
    url = f"/requests/{request_id}/draft/authorities"
    while "/draft/" in url:
        step = url.rsplit("/", 1)[1]
        page = _html(client.get(url))
        keys = re.findall(r'<textarea[^>]* name="([a-z_]+)"', page)
        response = submit(client, url, {**{k: MLA_FIELDS.get(k, "") for k in keys}, "proceed": "y"})
        assert response.status_code == 302, (step, _html(response)[:3000])
        url = response.headers["Location"]
    assert url.endswith(f"/requests/{request_id}/review")


def test_a_draft_is_walked_step_by_step_and_missing_essentials_are_named(app, auth, world):  # noqa: F811
    from network.core.db import db
    from network.requests import services
    from network.requests.models import CooperationRequest

    client = auth.client_for(world.drafter)
    assert "New request" in _html(client.get("/requests/"))
    request_id = _start(client)
    url = f"/requests/{request_id}/draft/case"
    response = submit(client, url, {"facts": "Transfers abroad.", "proceed": "y"})
    assert response.status_code == 200  # not moved on: the missing essentials are named
    page = _html(response)
    assert "Before you move on, this step still needs" in page
    assert "Subject matter and nature of the proceeding" in page and "Offences and applicable law" in page
    item = db.session.get(CooperationRequest, request_id)
    db.session.refresh(item)
    fields = services.read_content(world.drafter, item, world.privates_of(world.drafter))["fields"]
    assert fields["facts"] == "Transfers abroad."  # saved all the same
    later = submit(client, url, {"facts": "Transfers abroad.", "save": "y"})  # save and continue later
    assert later.status_code == 302 and later.headers["Location"].endswith("/requests/")

    review = _html(client.get(f"/requests/{request_id}/review"))
    assert "Essential information is missing" in review and "Summary of the relevant facts" not in review.split(
        "Essential information is missing")[1].split("</div>")[0]
    refused = submit(client, f"/requests/{request_id}/send", {"channel": "direct"},
                     page=f"/requests/{request_id}/review")
    assert refused.status_code == 400 and "Essential information is missing" in _html(refused)
    db.session.refresh(item)
    assert item.status == "draft" and item.event_count == 0

    _fill_all(client, request_id)
    review = _html(client.get(f"/requests/{request_id}/review"))
    assert "Essential information is missing" not in review and "The requested State" in review
    sent = submit(client, f"/requests/{request_id}/send", {"channel": "diplomatic", "original_sent_on": "2026-03-01"},
                  page=f"/requests/{request_id}/review")
    assert sent.status_code == 302, _html(sent)[:3000]
    db.session.refresh(item)
    assert (item.status, item.original_channel, str(item.original_sent_on)) == ("sent", "diplomatic", "2026-03-01")


def test_both_sides_follow_the_request_and_no_one_else_sees_it(app, auth, world):  # noqa: F811
    item = draft_request(world)
    send_request(app, world, item)
    record = f"/requests/{item.id}"

    nga = auth.client_for(world.nga_holder)
    page = _html(nga.get("/requests/"))
    assert "Incoming" in page and "AUT-2026-17" in page
    assert CANARY in _html(nga.get(record))  # the requested side reads the content
    response = submit(nga, record + "/reference", {"reference": "NGA/MLA/88"}, page=record)
    assert response.status_code == 302
    response = submit(nga, record + "/status", {"status": "received"}, page=record)
    assert response.status_code == 302, _html(response)[:2000]
    response = submit(nga, record + "/status", {"status": "executed", "note": "Records sent, " + CANARY},
                      page=record)
    assert response.status_code == 302

    aut = auth.client_for(world.aut_holder)
    page = _html(aut.get(record))
    assert "Received (acknowledged)" in page and "Executed" in page and "Records sent, " + CANARY in page
    assert "NGA/MLA/88" in page and "3 verified" in page
    assert "Outgoing" in _html(aut.get("/requests/?direction=outgoing"))
    assert "No request matches" in _html(aut.get("/requests/?direction=incoming"))

    for outsider in (world.fra_holder, world.moderator, world.admin):
        client = auth.client_for(outsider)
        for url in (record, record + "/review", record + "/document.docx", f"{record}/draft/authorities"):
            assert client.get(url).status_code == 404, (outsider.email, url)
        token = csrf_token(_html(client.get("/requests/")))
        assert client.post(record + "/status", data={"csrf_token": token, "status": "closed"}).status_code == 404
        assert "AUT-2026-17" not in _html(client.get("/requests/"))


def test_the_document_downloads_as_docx_with_the_drafters_text(app, auth, world):  # noqa: F811
    import docx

    item = draft_request(world)
    client = auth.client_for(world.drafter)
    response = client.get(f"/requests/{item.id}/document.docx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    assert MLA_FIELDS["facts"] in text
    assert client.get(f"/requests/{item.id}/document.html").status_code == 200
    assert client.get(f"/requests/{item.id}/document.exe").status_code == 404


def test_the_status_question_is_one_click(app, auth, world, mailbox):  # noqa: F811
    item = draft_request(world)
    send_request(app, world, item)
    record = f"/requests/{item.id}"
    client = auth.client_for(world.aut_holder)
    mailbox.clear()
    response = submit(client, record + "/status-query", page=record)
    assert response.status_code == 302
    assert "Question on the status" in _html(client.get(record))
    assert "status of request" in mailbox.last(world.nga_holder.email)["Subject"]


def test_the_reminder_periods_are_set_by_a_mailbox_holder(app, auth, world):  # noqa: F811
    from network.requests import services

    client = auth.client_for(world.aut_holder)
    response = submit(client, "/requests/settings", {"acknowledge_days": "5", "status_days": "20"})
    assert response.status_code == 302
    assert (services.settings_for(world.aut.id).acknowledge_days, services.settings_for(world.aut.id).status_days) \
        == (5, 20)
    assert submit(client, "/requests/settings", {"acknowledge_days": "0", "status_days": "20"}).status_code == 400
    assert auth.client_for(world.drafter).get("/requests/settings").status_code == 404


# ---------------------------------------------------------------- the canary

def test_a_requests_free_text_is_in_no_table_file_index_log_or_mail_in_the_clear(
        app, auth, world, mailbox, caplog):  # noqa: F811
    """Draft through the pages with the canary in every field, send, answer with the canary in a note, ask for the
    status, remind; then look for the canary in the database file (every table and index), every file of the instance
    folder (search index, attachments, audit checkpoints), every log record and every mail."""
    from network.core.db import db

    caplog.set_level(logging.DEBUG)
    drafter = auth.client_for(world.drafter)
    request_id = _start(drafter)
    _fill_all(drafter, request_id)
    assert submit(drafter, f"/requests/{request_id}/send", {"channel": "direct"},
                  page=f"/requests/{request_id}/review").status_code == 302
    record = f"/requests/{request_id}"
    nga = auth.client_for(world.nga_holder)
    assert submit(nga, record + "/status", {"status": "received"}, page=record).status_code == 302
    assert submit(nga, record + "/status", {"status": "info_requested", "note": "Which account? " + CANARY},
                  page=record).status_code == 302
    aut = auth.client_for(world.aut_holder)
    assert CANARY in _html(aut.get(record))  # the readers do read it
    assert submit(aut, record + "/status", {"status": "info_supplied", "note": "This one: " + CANARY},
                  page=record).status_code == 302
    assert submit(aut, record + "/status-query", page=record).status_code == 302
    assert "1 request(s)" not in app.test_cli_runner().invoke(args=["requests", "remind"]).output  # nothing due
    db.session.commit()
    db.session.remove()
    db.engine.dispose()  # the WAL checkpointed into the file

    needle = CANARY.encode()
    folder = Path(app.instance_path)
    found = [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert found == [], f"the canary is in the clear in {found}"
    assert not [m["Subject"] for m in mailbox.messages if CANARY in m.as_string()]
    assert mailbox.messages, "mail was sent (status changes), so the check above looked at something"
    assert not [r.getMessage() for r in caplog.records if CANARY in r.getMessage()]


# ---------------------------------------------------------------- a burst of two

@pytest.mark.persistence
def test_two_officers_acknowledging_at_once_record_one_event(app, auth, world, member_factory):  # noqa: F811
    from network.core.db import db
    from network.requests import crypto
    from network.requests.models import CooperationRequest

    item = draft_request(world)
    send_request(app, world, item)
    record = f"/requests/{item.id}"
    first, second = auth.client_for(world.nga_holder), auth.client_for(world.nga_holder)
    tokens = [csrf_token(_html(c.get(record))) for c in (first, second)]
    barrier = threading.Barrier(2)
    statuses: list = [None, None]

    def run(index, client, status):
        barrier.wait()
        statuses[index] = client.post(record + "/status", data={"csrf_token": tokens[index],
                                                                "status": status}).status_code

    threads = [threading.Thread(target=run, args=(0, first, "received")),
               threading.Thread(target=run, args=(1, second, "received"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302, 400]
    db.session.expire_all()
    item = db.session.get(CooperationRequest, item.id)
    assert [e.status for e in item.events] == ["sent", "received"] and crypto.verify_chain(item).ok


# ---------------------------------------------------------------- export as a signed bundle

def test_an_exported_request_verifies_and_a_changed_one_does_not(app, auth, world, tmp_path):  # noqa: F811
    import json

    from tests.requests_support import change

    item = draft_request(world)
    send_request(app, world, item)
    change(app, world, world.nga_holder, item, "received")
    change(app, world, world.nga_holder, item, "executed", "Records sent, " + CANARY)
    client = auth.client_for(world.aut_holder)
    response = client.get(f"/requests/{item.id}/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / "request.json"
    path.write_bytes(response.data)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["requests", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output and "event 3: status executed" in result.output

    bundle = json.loads(response.data)
    bundle["events"][1]["record"]["status"] = "refused"  # a changed event
    path.write_text(json.dumps(bundle))
    result = runner.invoke(args=["requests", "verify", str(path)])
    assert result.exit_code == 1 and "FAILED" in result.output
    bundle = json.loads(response.data)
    del bundle["events"][2]  # the newest event removed, the exporter's signature then fails too
    path.write_text(json.dumps(bundle))
    assert runner.invoke(args=["requests", "verify", str(path)]).exit_code == 1
    assert auth.client_for(world.fra_holder).get(f"/requests/{item.id}/export").status_code == 404


def test_a_finished_request_is_proposed_as_a_catalogue_case_for_anonymising(app, auth, world):  # noqa: F811
    from sqlalchemy import select

    from catalogue.cases.models import Case
    from network.core.db import db
    from tests.requests_support import change

    item = draft_request(world)
    send_request(app, world, item)
    client = auth.client_for(world.aut_holder)
    record = f"/requests/{item.id}"
    assert "Propose as a catalogue case" not in _html(client.get(record))
    assert submit(client, record + "/propose-case", page=record).status_code == 400  # not finished yet
    change(app, world, world.nga_holder, item, "received")
    change(app, world, world.nga_holder, item, "executed")
    assert "Propose as a catalogue case" in _html(client.get(record))
    response = submit(client, record + "/propose-case", page=record)
    assert response.status_code == 302 and "/cases/" in response.headers["Location"]
    case = db.session.scalar(select(Case).where(Case.submitter_id == world.aut_holder.id))
    assert (case.status, case.requesting_state, case.requested_state, case.outcome) == ("draft", "AUT", "NGA",
                                                                                        "granted")
    assert case.cooperation_forms == ["mla"] and MLA_FIELDS["facts"] in case.summary


# ---------------------------------------------------------------- JSON Lines import

IMPORTED = [
    {"direction": "outgoing", "other_authority": "NGA-CA", "form": "mla", "measures": ["evidence"],
     "status": "executed", "requesting_reference": "AUT-2019-4", "sent_on": "2019-03-01",
     "acknowledged_on": "2019-03-08", "completed_on": "2019-09-30", "channel": "diplomatic",
     "fields": {"facts": "Old case of " + CANARY}},
    {"direction": "incoming", "other_authority": "FRA-BEPI", "form": "extradition", "status": "refused",
     "refusal_ground": "other", "requested_reference": "AUT-IN-2020-1", "sent_on": "2020-05-02"},
]


def _import(client, lines: list, name="past.jsonl"):
    import json

    body = "\n".join(json.dumps(line) if not isinstance(line, str) else line for line in lines).encode()
    page = client.get("/requests/import")
    return client.post("/requests/import", data={"csrf_token": csrf_token(_html(page)),
                                                 "file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def test_past_requests_are_imported_whole_into_one_authoritys_register(app, auth, world):  # noqa: F811
    from sqlalchemy import func, select

    from network.core.db import db
    from network.requests import crypto
    from network.requests.models import CooperationRequest

    client = auth.client_for(world.aut_holder)
    refused = _import(client, [IMPORTED[0], {**IMPORTED[1], "form": "piracy"}])
    assert refused.status_code == 400 and "Line 2: unknown form." in _html(refused)
    assert db.session.scalar(select(func.count()).select_from(CooperationRequest)) == 0  # all or nothing
    response = _import(client, IMPORTED)
    assert response.status_code == 302
    page = _html(client.get("/requests/"))
    assert "AUT-2019-4" in page and "AUT-IN-2020-1" in page
    items = list(db.session.scalars(select(CooperationRequest).order_by(CooperationRequest.id)))
    assert [(i.status, i.requesting_state, i.requested_state, i.refusal_ground) for i in items] == [
        ("executed", "AUT", "NGA", ""), ("refused", "FRA", "AUT", "other")]
    assert all(crypto.verify_chain(i).ok and i.events[0].kind == "import" for i in items)
    assert CANARY in _html(client.get(f"/requests/{items[0].id}"))
    assert (items[0].completed_at - items[0].sent_at).days == 213  # the statistics count the past too
    for outsider in (world.nga_holder, world.fra_holder):  # the other sides are not on an imported record
        other = auth.client_for(outsider)
        assert other.get(f"/requests/{items[0].id}").status_code == 404
        assert "AUT-2019-4" not in _html(other.get("/requests/"))
    assert auth.client_for(world.drafter).get("/requests/import").status_code == 404  # not a holder
