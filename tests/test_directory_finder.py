"""The finder: each form of cooperation leads to the authority holding the right designation; when the State has
none, the answer says so and suggests its central authority for mutual legal assistance, or its other authorities."""
from __future__ import annotations

import re

import pytest

from network.directory.finder import ROUTES, FinderError, find_competent


def entry(key: str, name: str, designations: list[str], **fields) -> dict:
    data = {"key": key, "state": key[:3], "name": name, "designations": designations, "languages": ["en"],
            "channels": ["direct"], "last_verified": "2025-12-01"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def directory(app):
    """France holds one authority per designation, so each answer shows which designation it used; Kenya only a
    central authority; Peru only a firearms contact; Brazil nothing."""
    from network.core.db import db
    from network.directory.services import create_authority

    for data in (
        entry("FRA-CA", "French Central Authority", ["untoc_mla_central"], available_24_7=True,
              urgent_requests="Call the duty officer; the original follows by post.",
              legal_requirements="Requests need **dual criminality** for coercive measures.",
              accepts_untoc_as_legal_basis=True, languages=["fr", "en"], channels=["direct", "interpol"]),
        entry("FRA-EXT", "French Extradition Office", ["untoc_extradition"], accepts_untoc_as_legal_basis=False,
              urgent_requests="Provisional arrest requests through INTERPOL.", time_zone="Europe/Paris",
              office_hours="Mon-Fri 09:00-17:00"),
        entry("FRA-PRISON", "French Office for Sentenced Persons", ["untoc_sentenced_persons"]),
        entry("FRA-ASSETS", "French Asset Recovery Agency", ["untoc_confiscation"]),
        entry("FRA-DRUGS", "French Drugs Office", ["drugs_extradition", "drugs_mla_central"]),
        entry("FRA-SEA", "French Maritime Prefecture", ["som_sea", "drugs_sea"]),
        entry("KEN-ODPP", "Kenyan Office of the Director of Public Prosecutions", ["untoc_mla_central"],
              last_verified="2023-05-01"),
        entry("PER-FIRE", "Peruvian Firearms Control Agency", ["firearms_contact"]),
    ):
        create_authority(data, source="import")
    db.session.commit()


# Form -> (competent, alternatives, suggestions, suggestion kind) for France.
MLA_FORM = (["FRA-CA"], ["FRA-DRUGS"], [], "")
EXPECTED_FOR_FRANCE = {
    "extradition": (["FRA-EXT"], ["FRA-DRUGS"], [], ""),
    "mla": MLA_FORM,
    "videoconference": MLA_FORM,
    "spontaneous_information": MLA_FORM,
    "joint_investigation": MLA_FORM,
    "special_techniques": MLA_FORM,
    "transfer_of_proceedings": MLA_FORM,
    "confiscation": (["FRA-ASSETS"], [], [], ""),
    "asset_sharing": (["FRA-ASSETS"], [], [], ""),
    "sentenced_persons": (["FRA-PRISON"], [], [], ""),
    "law_enforcement": ([], [], ["FRA-CA"], "mla_central"),
}


def keys(authorities) -> list[str]:
    return [a.key for a in authorities]


def test_every_form_of_cooperation_has_a_route():
    from network.core.reference import vocabulary_labels

    assert set(ROUTES) == set(vocabulary_labels("cooperation_forms")) == set(EXPECTED_FOR_FRANCE)
    designations = set(vocabulary_labels("designations"))
    for route in ROUTES.values():
        assert set(route.designations) <= designations and set(route.alternatives) <= designations


@pytest.mark.parametrize("form", sorted(EXPECTED_FOR_FRANCE))
def test_each_form_of_cooperation_finds_the_authority_holding_its_designation(directory, form):
    competent, alternatives, suggestions, kind = EXPECTED_FOR_FRANCE[form]
    answer = find_competent("FRA", form, urgent=False)
    assert answer.state.code == "FRA" and answer.form == form
    assert keys(answer.competent) == competent
    assert keys(answer.alternatives) == alternatives
    assert keys(answer.suggestions) == suggestions
    assert answer.suggestion_kind == kind
    assert answer.found is bool(competent)
    assert answer.designated_under_convention is (form != "law_enforcement")


@pytest.mark.parametrize("form", sorted(set(EXPECTED_FOR_FRANCE) - {"mla", "videoconference", "spontaneous_information",
                                                                    "joint_investigation", "special_techniques",
                                                                    "transfer_of_proceedings", "law_enforcement"}))
def test_without_the_designation_the_central_authority_is_suggested(directory, form):
    answer = find_competent("KEN", form, urgent=False)
    assert not answer.found
    assert keys(answer.suggestions) == ["KEN-ODPP"] and answer.suggestion_kind == "mla_central"


def test_without_a_central_authority_the_states_other_authorities_are_suggested(directory):
    answer = find_competent("PER", "extradition", urgent=False)
    assert not answer.found and answer.suggestion_kind == "other"
    assert keys(answer.suggestions) == ["PER-FIRE"]


def test_a_state_without_any_authority_gets_an_empty_answer(directory):
    answer = find_competent("BRA", "mla", urgent=True)
    assert not answer.found and not answer.suggestions and answer.suggestion_kind == "none"


def test_urgent_questions_put_authorities_reachable_24_7_first(app, directory):
    from network.core.db import db
    from network.directory.services import create_authority

    create_authority(entry("FRA-AAA", "AAA Prosecutor General", ["untoc_mla_central"]), source="import")
    db.session.commit()
    assert keys(find_competent("FRA", "mla", urgent=False).competent) == ["FRA-AAA", "FRA-CA"]
    assert keys(find_competent("FRA", "mla", urgent=True).competent) == ["FRA-CA", "FRA-AAA"]
    assert not find_competent("FRA", "mla", urgent=True).none_round_the_clock
    assert find_competent("FRA", "extradition", urgent=True).none_round_the_clock


def test_unknown_states_and_forms_are_refused(directory):
    with pytest.raises(FinderError):
        find_competent("XYZ", "mla")
    with pytest.raises(FinderError):
        find_competent("FRA", "teleportation")


# ---------------------------------------------------------------- the page

@pytest.fixture
def reader(auth, member):
    return auth.client_for(member)


def test_the_finder_page_explains_its_mapping(reader, directory):
    response = reader.get("/directory/finder")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "How the finder decides" in html
    assert "No designation under the Convention" in html  # law enforcement
    assert html.count("<tr>") == len(ROUTES) + 1


def test_the_answer_says_what_an_urgent_request_needs(reader, directory):
    response = reader.get("/directory/finder?state=FRA&form=mla&urgent=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The competent authority" in html and "French Central Authority" in html
    assert "French, English" in html and "Through INTERPOL" in html
    assert "Call the duty officer" in html and "Yes, around the clock" in html
    assert "<strong>dual criminality</strong>" in html
    assert re.search(r"Takes the Convention as legal basis</dt><dd>Yes", html)
    assert "French Drugs Office" in html and "Also possibly competent" in html
    # No demo authority has opened its mailbox: the answer says so and links nowhere (tests/test_messaging_mailboxes.py).
    assert "This authority has not opened its mailbox yet" in html
    assert "Write to this authority" not in html and "/messages/authority/" not in html
    assert re.search(r'<option value="FRA" selected>', html) and 'id="urgent-yes" value="1" checked' in html


def test_a_request_that_is_not_urgent_leaves_out_the_urgent_procedure(reader, directory):
    html = reader.get("/directory/finder?state=FRA&form=extradition&urgent=0").get_data(as_text=True)
    assert "French Extradition Office" in html
    assert "Provisional arrest requests through INTERPOL" not in html
    assert re.search(r"Local time <strong><time[^>]*>10:00</time></strong>\s*\(Europe/Paris\), ", html)


def main_of(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


@pytest.mark.persistence
def test_a_kept_answer_card_follows_the_minute_the_entry_and_the_mailbox(app, reader, directory, clock):
    """Answer cards are kept per process under what they show: the next minute shows the next local time, a change
    written straight into the database shows at once, and so does a mailbox that opens; kept equals rendered."""
    from sqlalchemy import select, update

    from network.core import caching
    from network.core.db import db
    from network.directory.models import Authority
    from network.messaging.models import AuthorityMailboxKey

    path = "/directory/finder?state=FRA&form=extradition&urgent=0"
    caching._fragments.clear()
    first = reader.get(path).get_data(as_text=True)
    assert re.search(r"<time[^>]*>10:00</time>", first)
    assert [key[2] for key in caching._fragments if key[1] == "finder_card"] == [
        a.id for a in db.session.scalars(select(Authority).where(Authority.key.in_(("FRA-EXT", "FRA-DRUGS")))
                                         .order_by(Authority.key.desc()))]  # competent, then the alternative
    assert main_of(reader.get(path).get_data(as_text=True)) == main_of(first)  # (the bar holds a fresh CSRF token)
    clock.advance(minutes=1)
    assert re.search(r"<time[^>]*>10:01</time>", reader.get(path).get_data(as_text=True))
    with db.engine.begin() as connection:  # another process's change
        connection.execute(update(Authority).where(Authority.key == "FRA-EXT").values(phone="+33 1 00 00 00 00"))
    changed = reader.get(path).get_data(as_text=True)
    assert "+33 1 00 00 00 00" in changed and "This authority has not opened its mailbox yet" in changed
    caching._fragments.clear()
    assert main_of(reader.get(path).get_data(as_text=True)) == main_of(changed)

    extradition = db.session.scalar(select(Authority).where(Authority.key == "FRA-EXT"))
    # A key whose holders have all left: the mailbox is unattended (the state alone; its own tests open real ones).
    db.session.add(AuthorityMailboxKey(authority_id=extradition.id, key_version=1, public_key="{}"))
    db.session.commit()
    page = reader.get(path).get_data(as_text=True)
    card = page[page.index('aria-labelledby="fa-FRA-EXT"'):]
    card = card[:card.index("</section>")]
    assert "No officer of this authority reads its mailbox at present" in card
    assert "This authority has not opened its mailbox yet" not in card


def test_no_designated_authority_is_said_plainly_with_the_central_authority_suggested(reader, directory):
    html = reader.get("/directory/finder?state=KEN&form=extradition&urgent=0").get_data(as_text=True)
    assert ("The directory records no authority of Kenya designated as “Authority for extradition” "
            "(UNTOC art. 16).") in html
    assert "Suggested: the central authority for mutual legal assistance" in html
    assert "Kenyan Office of the Director of Public Prosecutions" in html
    assert "This entry may be out of date." in html  # verified 2023


def test_a_state_with_no_entry_at_all_says_so(reader, directory):
    html = reader.get("/directory/finder?state=BRA&form=mla&urgent=1").get_data(as_text=True)
    assert "No authority of Brazil is recorded in the directory." in html


def test_law_enforcement_points_to_interpol_and_the_central_authority(reader, directory):
    html = reader.get("/directory/finder?state=FRA&form=law_enforcement").get_data(as_text=True)
    assert "The Convention designates no authority for this form of cooperation." in html
    assert "INTERPOL" in html and "French Central Authority" in html


@pytest.mark.parametrize("query, message", [
    ("state=XYZ&form=mla", "XYZ is not a State in the list."),
    ("state=FRA&form=teleportation", "“teleportation” is not a form of cooperation the finder knows."),
    ("state=&form=mla", "Choose the requested State."),
    ("state=FRA", "Choose the form of cooperation."),
    ("state=FRA&form=mla&urgent=maybe", "Say whether the request is urgent: yes or no."),
    ("state=%3Cscript%3E&form=%3Cscript%3Ealert(1)%3C/script%3E", "is not a form of cooperation"),
])
def test_invalid_questions_get_a_clear_message_not_an_error(reader, directory, query, message):
    response = reader.get(f"/directory/finder?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "<script>alert" not in html
