"""Submitting and reviewing cases: the wizard saves at every step, the privacy check, each transition of the
workflow and who may make it, the e-mail each one sends, and the revision kept at publication."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_token, submit

ESSENTIALS = {
    "title": "Extradition for drug trafficking granted under the Convention",
    "requesting_state": "AUT", "requested_state": "NGA", "cooperation_forms": ["extradition"],
    "legal_bases": ["untoc", "reciprocity"], "untoc_provisions": "16, 16(4)", "crime_types": ["drug_trafficking"],
    "outcome": "granted", "language": "en", "visibility": "public",
    "summary": "The requesting State asked for the extradition of a national of a third State for drug trafficking.",
}
COMPLETE = {**ESSENTIALS, "untoc_provisions": ["16", "16(4)"]}


def path_of(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


@pytest.fixture
def make_case(app):
    """A case of `member` in the given status, made through the services (as the workflow would)."""
    from catalogue.cases import services
    from network.core.db import db

    def make(member, status: str = "draft", reviewer=None, **values):
        with app.test_request_context():
            case = services.create_draft(member)
            services.save_draft(case, member, {**COMPLETE, **values}, 1)
            if status != "draft":
                services.submit(case, member, anonymised=True)
            if status in ("in_review", "published", "withdrawn"):
                services.start_review(case, reviewer)
            if status in ("published", "withdrawn"):
                services.publish(case, reviewer)
            if status == "withdrawn":
                services.withdraw(case, reviewer, "Duplicate of another case.")
            db.session.commit()
        return case

    return make


@pytest.fixture
def member_client(auth, member):
    return auth.client_for(member)


@pytest.fixture
def moderator_client(auth, moderator):
    return auth.client_for(moderator)


def reload(case):
    from network.core.db import db

    db.session.expire_all()
    return db.session.get(type(case), case.id)


# ---------------------------------------------------------------- starting and the wizard

def test_a_member_starts_a_draft_and_lands_on_step_one(app, member, member_client):
    from catalogue.cases.models import Case
    from network.core.db import db

    assert member_client.get("/cases/new").status_code == 200
    response = submit(member_client, "/cases/new")
    assert response.status_code == 302
    case = db.session.scalars(db.select(Case)).one()
    assert (case.status, case.submitter_id, case.wizard_step) == ("draft", member.id, 1)
    assert path_of(response) == f"/cases/drafts/{case.reference}/step/1"
    assert member_client.get(path_of(response)).status_code == 200


@pytest.mark.persistence
def test_step_one_saves_the_essentials_and_advances_the_wizard(app, member, member_client, make_case):
    case = make_case(member, title="", summary="", cooperation_forms=[], untoc_provisions=[])
    url = f"/cases/drafts/{case.reference}/step/1"
    response = submit(member_client, url, {**ESSENTIALS, "action": "next"})
    assert response.status_code == 302
    assert path_of(response) == f"/cases/drafts/{case.reference}/step/2"
    case = reload(case)
    assert case.title == ESSENTIALS["title"]
    assert case.cooperation_forms == ["extradition"]
    assert case.legal_bases == ["untoc", "reciprocity"]
    assert case.untoc_provisions == ["16", "16(4)"]
    assert (case.visibility, case.outcome, case.requested_state) == ("public", "granted", "NGA")
    assert case.wizard_step == 2
    page = member_client.get(url).get_data(as_text=True)
    assert 'value="Extradition for drug trafficking granted under the Convention"' in page
    assert "Article 16(4)" in page  # the provision shown with its subject


@pytest.mark.persistence
def test_step_two_saves_the_optional_depth(app, member, member_client, make_case):
    case = make_case(member, outcome="partially_granted")
    response = submit(member_client, f"/cases/drafts/{case.reference}/step/2", {
        "request_date": "2021-03-01", "decision_date": "2021-05-10", "completion_date": "2021-07-01",
        "channels": ["direct", "interpol"], "refusal_grounds": "Dual criminality was not met for one count.",
        "obstacles": "Translation of the request took two months.", "solutions": "Informal consultation first.",
        "lessons_learned": "Consult before sending.", "keywords": "dual criminality, translation, dual criminality",
        "other_states": ["BEL", "FRA"], "other_instruments": "Bilateral treaty of 1990\n\n",
        "source": "Central authority of Austria", "action": "next",
    })
    assert response.status_code == 302
    assert path_of(response).endswith("/step/3")
    case = reload(case)
    assert (case.request_date.isoformat(), case.completion_date.isoformat()) == ("2021-03-01", "2021-07-01")
    assert case.duration_days == 122
    assert case.channels == ["direct", "interpol"]
    assert case.refusal_grounds == "Dual criminality was not met for one count."
    assert case.keywords == ["dual criminality", "translation"]
    assert case.other_states == ["BEL", "FRA"]
    assert case.other_instruments == ["Bilateral treaty of 1990"]
    assert case.wizard_step == 3


@pytest.mark.persistence
def test_step_three_adds_edits_and_removes_translations(app, member, member_client, make_case):
    case = make_case(member)
    url = f"/cases/drafts/{case.reference}/step/3"
    french = {"title": "Extradition pour trafic de drogues accordée", "summary": "L'État requérant a demandé l'extradition."}
    response = submit(member_client, url, {"translations-0-language": "fr", "translations-0-title": french["title"],
                                           "translations-0-summary": french["summary"], "action": "save"})
    assert response.status_code == 302 and path_of(response) == url
    assert reload(case).translations == {"fr": french}

    page = member_client.get(url).get_data(as_text=True)
    assert 'name="translations-1-language"' in page  # a new empty slot next to the existing one
    response = submit(member_client, url, {
        "translations-0-language": "fr", "translations-0-title": french["title"] + " (révisé)",
        "translations-0-summary": french["summary"], "translations-1-language": "es",
        "translations-1-title": "Extradición concedida por tráfico", "translations-1-summary":
        "El Estado requirente solicitó la extradición.", "action": "next"})
    assert response.status_code == 302 and path_of(response).endswith("/step/4")
    case = reload(case)
    assert set(case.translations) == {"fr", "es"}
    assert case.translations["fr"]["title"].endswith("(révisé)")
    assert case.wizard_step == 4

    response = submit(member_client, url, {
        "translations-0-language": "es", "translations-0-title": case.translations["es"]["title"],
        "translations-0-summary": case.translations["es"]["summary"], "translations-1-language": "fr",
        "translations-1-title": "x", "translations-1-summary": "y", "translations-1-remove": "y", "action": "save"})
    assert response.status_code == 302
    assert set(reload(case).translations) == {"es"}


def test_a_translation_in_the_language_of_the_case_is_refused(app, member, member_client, make_case):
    case = make_case(member)
    response = submit(member_client, f"/cases/drafts/{case.reference}/step/3", {
        "translations-0-language": "en", "translations-0-title": "Another English title",
        "translations-0-summary": "Another English summary of the case.", "action": "save"})
    assert response.status_code == 400
    assert "This is the language of the case itself." in response.get_data(as_text=True)
    assert reload(case).translations == {}


def test_save_as_draft_stays_on_the_step_and_back_goes_to_the_previous_one(app, member, member_client, make_case):
    case = make_case(member)
    url = f"/cases/drafts/{case.reference}/step/2"
    saved = submit(member_client, url, {"obstacles": "Slow translation.", "action": "save"})
    assert path_of(saved) == url
    assert "Draft saved." in member_client.get(url).get_data(as_text=True)
    back = submit(member_client, url, {"obstacles": "Slow translation and late answers.", "action": "back"})
    assert path_of(back) == f"/cases/drafts/{case.reference}/step/1"
    case = reload(case)
    assert case.obstacles == "Slow translation and late answers."
    assert case.wizard_step == 2


@pytest.mark.persistence
@pytest.mark.parametrize("bad", [
    {"untoc_provisions": "18, article eighteen, 18(x)"},
    {"requesting_state": "XXX"},
    {"cooperation_forms": ["teleportation"]},
    {"title": "Abc"},
    {"summary": "Too short."},
    {"requested_state": "AUT"},
    {"action": ""},
])
def test_bad_input_on_step_one_answers_400_and_stores_nothing(app, member, member_client, make_case, bad):
    case = make_case(member)
    before = reload(case)
    snapshot = (before.title, before.summary, list(before.untoc_provisions), before.requesting_state,
                before.requested_state, list(before.cooperation_forms), before.updated_at)
    response = submit(member_client, f"/cases/drafts/{case.reference}/step/1",
                      {**ESSENTIALS, "title": "A changed title that should not be kept", "action": "next", **bad})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    after = reload(case)
    assert (after.title, after.summary, list(after.untoc_provisions), after.requesting_state, after.requested_state,
            list(after.cooperation_forms), after.updated_at) == snapshot


def test_bad_dates_on_step_two_answer_400_and_store_nothing(app, member, member_client, make_case):
    case = make_case(member)
    response = submit(member_client, f"/cases/drafts/{case.reference}/step/2", {
        "request_date": "2021-03-01", "completion_date": "2020-01-01", "obstacles": "Kept?", "action": "next"})
    assert response.status_code == 400
    assert "Completion cannot come before the request." in response.get_data(as_text=True)
    assert reload(case).obstacles == ""
    response = submit(member_client, f"/cases/drafts/{case.reference}/step/2",
                      {"request_date": "2021-02-30", "action": "next"})
    assert response.status_code == 400
    assert reload(case).request_date is None


def test_another_member_cannot_open_a_draft(app, auth, member, member_factory, make_case):
    case = make_case(member)
    other = auth.client_for(member_factory())
    for step in (1, 2, 3, 4):
        assert other.get(f"/cases/drafts/{case.reference}/step/{step}").status_code == 404
    token = csrf_token(other.get("/cases/mine").get_data(as_text=True))
    response = other.post(f"/cases/drafts/{case.reference}/step/1",
                          data={**ESSENTIALS, "title": "Hijacked title", "action": "save", "csrf_token": token})
    assert response.status_code == 404
    assert other.post(f"/cases/drafts/{case.reference}/submit",
                      data={"anonymised": "y", "csrf_token": token}).status_code == 404
    assert reload(case).title == ESSENTIALS["title"]


def test_a_reviewer_cannot_edit_a_submitters_draft(app, member, moderator, moderator_client, make_case):
    from catalogue.cases import services

    case = make_case(member)
    assert moderator_client.get(f"/cases/drafts/{case.reference}/step/1").status_code == 404
    token = csrf_token(moderator_client.get("/cases/review").get_data(as_text=True))
    response = moderator_client.post(f"/cases/drafts/{case.reference}/step/1",
                                     data={**ESSENTIALS, "title": "Edited by the reviewer", "action": "save",
                                           "csrf_token": token})
    assert response.status_code == 404
    assert moderator_client.get(f"/cases/{case.reference}/review").status_code == 404  # a draft is not for review
    with pytest.raises(services.CaseError):
        services.save_draft(case, moderator, {"title": "Edited by the reviewer"}, 1)
    assert reload(case).title == ESSENTIALS["title"]


def test_a_submitted_case_is_no_longer_open_in_the_wizard(app, member, member_client, moderator, make_case):
    case = make_case(member, status="submitted")
    response = member_client.get(f"/cases/drafts/{case.reference}/step/1")
    assert response.status_code == 302 and path_of(response) == "/cases/mine"


# ---------------------------------------------------------------- the privacy check and submission

PERSONAL = ("The defendant John Smith was reached at john.smith@example.com or +43 1 234 5678; his passport "
            "P12345678 is on file 2345/2021 of the prosecution.")


def test_the_privacy_check_warns_about_each_kind_of_personal_data(app, member, member_client, make_case):
    case = make_case(member, summary=PERSONAL)
    page = member_client.get(f"/cases/drafts/{case.reference}/step/4").get_data(as_text=True)
    warnings = page.split('id="privacy-warnings"')[1].split("</div>")[0]
    for what, excerpt in [("an e-mail address", "john.smith@example.com"), ("a phone number", "+43 1 234 5678"),
                          ("a passport-like or ID number", "P12345678"), ("a case-file number", "2345/2021"),
                          ("a personal name next to a word such as defendant or victim", "defendant John Smith")]:
        assert f"looks like {what}" in warnings, what
        assert excerpt in warnings, excerpt
    assert "Summary" in warnings
    assert f"/cases/drafts/{case.reference}/step/1" in warnings  # each warning links to the step that fixes it


def test_an_anonymised_case_passes_the_privacy_check(app, member, member_client, make_case):
    case = make_case(member)
    page = member_client.get(f"/cases/drafts/{case.reference}/step/4").get_data(as_text=True)
    assert "The privacy check found no e-mail address" in page


def test_submission_needs_the_anonymisation_confirmation(app, member, member_client, moderator, mailbox, make_case):
    case = make_case(member)
    url = f"/cases/drafts/{case.reference}/submit"
    page = f"/cases/drafts/{case.reference}/step/4"
    refused = submit(member_client, url, {}, page=page)
    assert refused.status_code == 400
    assert "Confirm that the case contains no personal data." in refused.get_data(as_text=True)
    assert reload(case).status == "draft"
    assert not mailbox.to(moderator.email)
    accepted = submit(member_client, url, {"anonymised": "y"}, page=page)
    assert accepted.status_code == 302 and path_of(accepted) == "/cases/mine"
    case = reload(case)
    assert case.status == "submitted" and case.anonymised_confirmed_at is not None


def test_an_incomplete_case_cannot_be_submitted_and_step_four_links_to_the_fix(app, member, member_client, make_case):
    case = make_case(member, crime_types=[], summary="")
    page = member_client.get(f"/cases/drafts/{case.reference}/step/4").get_data(as_text=True)
    problems = page.split('id="completeness-problems"')[1].split("</div>")[0]
    assert "Crime types is missing." in problems
    assert "Summary is missing." in problems
    assert f"/cases/drafts/{case.reference}/step/1" in problems
    response = submit(member_client, f"/cases/drafts/{case.reference}/submit", {"anonymised": "y"},
                      page=f"/cases/drafts/{case.reference}/step/4")
    assert response.status_code == 400
    assert "The case is not complete" in response.get_data(as_text=True)
    assert reload(case).status == "draft"


@pytest.mark.persistence
def test_submitting_mails_the_moderators(app, member, member_client, moderator, mailbox, make_case):
    case = make_case(member)
    submit(member_client, f"/cases/drafts/{case.reference}/submit", {"anonymised": "y"},
           page=f"/cases/drafts/{case.reference}/step/4")
    message = mailbox.last(moderator.email)
    assert message["Subject"] == "A case was submitted for review"
    assert case.reference in mailbox.body(moderator.email)
    assert mailbox.link(moderator.email, f"/cases/{case.reference}/review")
    assert not mailbox.to(member.email)


# ---------------------------------------------------------------- review

def test_the_review_queue_is_oldest_first_and_leaves_out_own_submissions(app, auth, clock, member, member_factory,
                                                                         moderator, make_case):
    older = make_case(member, status="submitted", title="The older submitted case")
    clock.advance(hours=2)
    newer = make_case(member_factory(), status="submitted", title="The newer submitted case")
    own = make_case(moderator, status="submitted", title="The moderator's own case")
    page = auth.client_for(moderator).get("/cases/review").get_data(as_text=True)
    assert page.index(older.reference) < page.index(newer.reference)
    assert own.reference not in page


def test_a_member_cannot_review_or_publish(app, member, member_factory, auth, moderator, make_case):
    case = make_case(member_factory(), status="submitted")
    client = auth.client_for(member)
    assert client.get("/cases/review").status_code == 403
    assert client.get(f"/cases/{case.reference}/review").status_code == 403
    for action in ("start", "publish", "changes"):
        assert submit(client, f"/cases/{case.reference}/review/{action}", {"note": "ok"},
                      page="/cases/mine").status_code == 403
    assert reload(case).status == "submitted"


def test_a_moderator_cannot_publish_a_case_they_submitted(app, moderator, moderator_client, make_case):
    case = make_case(moderator, status="submitted")
    page = moderator_client.get(f"/cases/{case.reference}/review")
    assert page.status_code == 200
    assert "another moderator reviews and publishes it" in page.get_data(as_text=True)
    for action in ("start", "publish"):
        response = submit(moderator_client, f"/cases/{case.reference}/review/{action}", page="/cases/review")
        assert response.status_code == 400
    assert reload(case).status == "submitted"
    assert not reload(case).revisions


@pytest.mark.persistence
def test_starting_the_review_mails_the_submitter(app, member, moderator, moderator_client, mailbox, make_case):
    case = make_case(member, status="submitted")
    response = submit(moderator_client, f"/cases/{case.reference}/review/start",
                      page=f"/cases/{case.reference}/review")
    assert response.status_code == 302
    case = reload(case)
    assert (case.status, case.reviewer_id) == ("in_review", moderator.id)
    assert mailbox.last(member.email)["Subject"] == "Your case is being reviewed"
    assert moderator.name in mailbox.body(member.email)


def test_asking_for_changes_needs_a_note(app, member, moderator, moderator_client, mailbox, make_case):
    case = make_case(member, status="in_review", reviewer=moderator)
    response = submit(moderator_client, f"/cases/{case.reference}/review/changes", {"note": "  "},
                      page=f"/cases/{case.reference}/review")
    assert response.status_code == 400
    assert "Tell the submitter what to change." in response.get_data(as_text=True)
    assert reload(case).status == "in_review"
    assert not mailbox.to(member.email)


@pytest.mark.persistence
def test_asking_for_changes_sends_the_case_back_with_the_note(app, member, member_client, moderator,
                                                              moderator_client, mailbox, make_case):
    case = make_case(member, status="in_review", reviewer=moderator)
    note = "Say which article of the Convention was the legal basis of the extradition."
    response = submit(moderator_client, f"/cases/{case.reference}/review/changes", {"note": note},
                      page=f"/cases/{case.reference}/review")
    assert response.status_code == 302
    case = reload(case)
    assert (case.status, case.review_note) == ("changes_requested", note)
    assert mailbox.last(member.email)["Subject"] == "Changes requested to your case"
    assert note in mailbox.body(member.email)
    mine = member_client.get("/cases/mine").get_data(as_text=True)
    assert note in mine and "Make the changes" in mine
    # The submitter changes and submits again; it is back in the queue.
    saved = submit(member_client, f"/cases/drafts/{case.reference}/step/1",
                   {**ESSENTIALS, "untoc_provisions": "16, 16(4), 16(13)", "action": "next"})
    assert saved.status_code == 302
    submit(member_client, f"/cases/drafts/{case.reference}/submit", {"anonymised": "y"},
           page=f"/cases/drafts/{case.reference}/step/4")
    assert reload(case).status == "submitted"
    assert case.reference in moderator_client.get("/cases/review").get_data(as_text=True)


@pytest.mark.persistence
def test_publishing_keeps_a_revision_with_the_interchange_data(app, member, moderator, moderator_client, mailbox,
                                                               make_case):
    from catalogue.cases import services

    case = make_case(member, status="in_review", reviewer=moderator)
    response = submit(moderator_client, f"/cases/{case.reference}/review/publish", {"note": "First publication"},
                      page=f"/cases/{case.reference}/review")
    assert response.status_code == 302
    assert path_of(response) == f"/cases/{case.reference}"
    case = reload(case)
    assert case.status == "published" and case.published_at is not None
    [revision] = case.revisions
    assert (revision.number, revision.published_by_id, revision.note) == (1, moderator.id, "First publication")
    assert revision.data == services.case_to_dict(case)
    assert not services.validation_errors(revision.data)
    assert mailbox.last(member.email)["Subject"] == "Your case was published"
    assert mailbox.link(member.email, f"/cases/{case.reference}")


def test_the_review_page_shows_the_submitter_the_privacy_warnings_and_the_history(app, member, moderator,
                                                                                  moderator_client, make_case):
    case = make_case(member, status="in_review", reviewer=moderator, summary=PERSONAL)
    page = moderator_client.get(f"/cases/{case.reference}/review").get_data(as_text=True)
    assert member.name in page and member.email in page
    assert "looks like an e-mail address" in page
    history = page.split('id="case-history"')[1]
    assert history.index("Draft started") < history.index("Submitted") < history.index("Review started")


# ---------------------------------------------------------------- withdrawal and revision

@pytest.mark.persistence
def test_a_moderator_withdraws_with_a_reason_and_the_submitter_is_told(app, member, moderator, moderator_client,
                                                                       mailbox, make_case):
    case = make_case(member, status="published", reviewer=moderator)
    mailbox.clear()
    refused = submit(moderator_client, f"/cases/{case.reference}/withdraw", {"reason": ""})
    assert refused.status_code == 400
    assert reload(case).status == "published"
    response = submit(moderator_client, f"/cases/{case.reference}/withdraw",
                      {"reason": "The requesting State asked to take it down."})
    assert response.status_code == 302
    assert reload(case).status == "withdrawn"
    assert mailbox.last(member.email)["Subject"] == "Your case was withdrawn"
    assert "The requesting State asked to take it down." in mailbox.body(member.email)


def test_the_submitter_may_withdraw_but_another_member_may_not(app, auth, member, member_client, member_factory,
                                                                moderator, make_case):
    case = make_case(member, status="published", reviewer=moderator)
    other = auth.client_for(member_factory())
    assert other.get(f"/cases/{case.reference}/withdraw").status_code == 404
    token = csrf_token(other.get("/cases/mine").get_data(as_text=True))
    assert other.post(f"/cases/{case.reference}/withdraw",
                      data={"reason": "Not mine", "csrf_token": token}).status_code == 404
    assert reload(case).status == "published"
    response = submit(member_client, f"/cases/{case.reference}/withdraw", {"reason": "Superseded by a new case."})
    assert response.status_code == 302 and path_of(response) == "/cases/mine"
    assert reload(case).status == "withdrawn"


@pytest.mark.persistence
def test_revising_reopens_a_published_case_as_a_draft_and_keeps_its_revisions(app, member, member_client,
                                                                               moderator, make_case):
    case = make_case(member, status="published", reviewer=moderator)
    response = submit(member_client, f"/cases/{case.reference}/revise", page="/cases/mine")
    assert response.status_code == 302
    assert path_of(response) == f"/cases/drafts/{case.reference}/step/1"
    case = reload(case)
    assert case.status == "draft" and len(case.revisions) == 1


def test_only_the_submitter_may_revise(app, auth, member, member_factory, moderator, moderator_client, make_case):
    case = make_case(member, status="published", reviewer=moderator)
    other = auth.client_for(member_factory())
    assert submit(other, f"/cases/{case.reference}/revise", page="/cases/mine").status_code == 404
    assert submit(moderator_client, f"/cases/{case.reference}/revise", page="/cases/mine").status_code == 404
    assert reload(case).status == "published"


def test_my_cases_shows_each_status_and_the_next_step(app, member, member_client, moderator, make_case):
    draft = make_case(member, title="A draft still being written")
    submitted = make_case(member, status="submitted", title="A case waiting for review")
    published = make_case(member, status="published", reviewer=moderator, title="A case already published")
    page = member_client.get("/cases/mine").get_data(as_text=True)
    assert f"/cases/drafts/{draft.reference}/step/1" in page and "Continue the draft" in page
    assert "Waiting for a reviewer" in page and submitted.reference in page
    assert f'href="/cases/{published.reference}"' in page and "View the published case" in page
    assert f"/cases/{published.reference}/revise" in page


def test_the_navigation_offers_submitting_and_reviewing(app, member_client, moderator_client):
    member_page = member_client.get("/cases/mine").get_data(as_text=True)
    assert re.search(r'href="/cases/new">Submit a case<', member_page)
    assert 'href="/cases/mine">My cases<' in member_page
    assert "Case review" not in member_page
    assert 'href="/cases/review">Case review<' in moderator_client.get("/cases/mine").get_data(as_text=True)
