"""State names and vocabulary labels in every page come from the UN's data in the page's language (issue 13, items
4 and 5): State pickers offer the 195 States (no territory) under the UN's names, sorted for the reader; the
catalogue facet, the case page, the directory and the finder say the same name for the same code; vocabulary labels
are the Convention's terms in the page's language; long multi-selects are marked for the filter box."""
from __future__ import annotations

import html
import re

import pytest

from network.core.reference import un_state_name, un_states, vocabulary_label

pytestmark = pytest.mark.persistence

TERRITORIES = ("ATA", "BVT", "HKG")  # Antarctica, Bouvet Island, Hong Kong: places, not States


def options(page: str, select_id: str) -> list[tuple[str, str]]:
    """(value, text) of the options of the select with this id."""
    found = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select #{select_id}"
    return [(value, html.unescape(text).strip())
            for value, text in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', found.group(1), re.S)]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_application_form_offers_the_un_states_in_the_page_language(client, language):
    page = client.get(f"/apply?lang={language}").get_data(as_text=True)
    offered = [entry for entry in options(page, "state") if entry[0]]
    assert ("VNM", un_state_name("VNM", language)) in offered
    assert ("DEU", un_state_name("DEU", language)) in offered
    assert not {code for code, _name in offered} & set(TERRITORIES)
    assert offered == list(un_states(language))  # the 195 States, in the reader's order
    types = dict(options(page, "practitioner_type"))
    assert types["judge"] == vocabulary_label("practitioner_types", "judge", language)


def test_the_catalogue_facet_and_the_case_page_say_the_same_name(client, member, moderator):
    from catalogue.cases import services
    from catalogue.cases.models import Case
    from network.core.clock import utcnow
    from network.core.db import db

    case = Case(reference="CASE-NAMES-1", submitter_id=member.id, status="draft")
    db.session.add(case)
    services.apply_data(case, {
        "title": "Bank records obtained for a laundering case", "language": "en",
        "summary": "Mutual legal assistance for bank records, granted in four months.",
        "requesting_state": "DEU", "requested_state": "VNM", "other_states": ["TUR"], "cooperation_forms": ["mla"],
        "legal_bases": ["untoc"], "crime_types": ["money_laundering"], "outcome": "granted", "visibility": "public"})
    case.status, case.published_at = "published", utcnow()
    db.session.commit()
    for language in ("fr", "ar", "en"):
        listing = client.get(f"/cases?lang={language}").get_data(as_text=True)
        facet = dict(options(listing, "f-requested_state"))
        name = un_state_name("VNM", language)
        assert facet["VNM"] == f"{name} (1)"
        assert dict(options(listing, "f-requesting_state"))["DEU"] == f"{un_state_name('DEU', language)} (1)"
        shown = html.unescape(client.get(f"/cases/CASE-NAMES-1?lang={language}").get_data(as_text=True))
        assert name in shown and un_state_name("DEU", language) in shown and un_state_name("TUR", language) in shown
        form = vocabulary_label("cooperation_forms", "mla", language)
        assert form in shown and form in html.unescape(listing)
        assert vocabulary_label("crime_types", "money_laundering", language) in shown
    assert "Vietnam" not in listing  # the ISO common name is never shown


def test_the_finder_lists_states_and_only_listed_territories(app, member, authority_factory, auth):
    authority_factory("HKG", "Department of Justice (Hong Kong SAR)", ("doj.example.hk",), key="HKG-DOJ")
    client = auth.client_for(member)
    page = client.get("/directory/finder?lang=fr").get_data(as_text=True)
    offered = dict(options(page, "finder-state"))
    assert offered["VNM"] == un_state_name("VNM", "fr")
    assert offered["HKG"] == un_state_name("HKG", "fr")  # a territory whose authority is listed
    assert "ATA" not in offered and "BVT" not in offered
    assert html.unescape(vocabulary_label("cooperation_forms", "mla", "fr")) in html.unescape(page)
    state_page = html.unescape(client.get("/directory/states/AUT?lang=ar").get_data(as_text=True))
    assert un_state_name("AUT", "ar") in state_page


def test_the_to_list_names_authority_and_state_sorted_by_state(app, member_factory, authority_factory):
    """The message "To" list: "Name — Authority — State" in the page's language, the counterparts of one State
    together (sorted by the State's name as the reader sorts it), and marked for the filter box."""
    from flask import render_template_string
    from flask_babel import refresh

    from network.messaging.forms import ComposeForm

    vietnam = authority_factory("VNM", "Ministry of Public Security", ("mps.example.vn",), key="VNM-MPS")
    germany = authority_factory("DEU", "Federal Office of Justice", ("bfj.example.de",), key="DEU-BFJ")
    people = [member_factory(name="Nguyen Van An", authority=vietnam), member_factory(name="Anna Schmidt",
              authority=germany), member_factory(name="Bao Tran", authority=vietnam), member_factory(name="Zoe")]
    for language in ("fr", "ar"):
        with app.test_request_context(f"/messages/new?lang={language}"):
            refresh()  # the test's application context outlives each request: choose the locale again
            form = ComposeForm(people)
            texts = [text for _value, text, *_attributes in form.recipients.choices]
            assert f"Nguyen Van An — Ministry of Public Security — {un_state_name('VNM', language)}" in texts
            order = {name: n for n, (_code, name) in enumerate(un_states(language))}
            positions = [order[text.rsplit(" — ", 1)[-1]] for text in texts]
            assert positions == sorted(positions)  # grouped and sorted by State
            assert texts.index(f"Bao Tran — Ministry of Public Security — {un_state_name('VNM', language)}") + 1 \
                == texts.index(f"Nguyen Van An — Ministry of Public Security — {un_state_name('VNM', language)}")
            rendered = render_template_string('{% from "macros.html" import field %}{{ field(form.recipients) }}',
                                              form=form)
            select = re.search(r"<select[^>]*>", rendered).group(0)
            assert "multiple" in select and "data-filterable" in select and 'name="recipients"' in select
            assert re.search(r'data-count-template="[^"]*%\(shown\)s[^"]*%\(total\)s', select)


def test_the_application_form_still_accepts_the_same_values(client, app):
    """The filter box only adds to the page: the native select multiple is there and submits its values."""
    page = client.get("/apply").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="languages"[^>]*>', page).group(0)
    assert "multiple" in select and "data-filterable" in select and 'name="languages"' in select
    assert "js/multiselect.js" in page
