"""The requested State beside the drafter (network/requests/guidance.py): the panel names the finder's competent
authority with what its demo directory entry says; each checkable requirement passes on a draft that meets it and
fails, with a translated message, on one that does not; precedents come from the catalogue's registered provider
within the reader's scope; the panel macro renders it all escaped."""
from __future__ import annotations

import pytest
from flask import render_template_string

from tests.catalogue_support import interchange_case

pytestmark = pytest.mark.persistence

DEMO_KEYS = ("NGA-CA", "NGA-NDLEA", "MAR-DAPG", "IDN-MOL")


@pytest.fixture
def directory(app):
    """Four entries of the demonstration directory, exactly as `demo load` creates them, and two made up here:
    one that states no urgent procedure and asks for legalised documents, one that says none is needed."""
    from network.core.db import db
    from network.directory import services
    from network.directory.demo import demo_entries

    for entry in demo_entries():
        if entry["key"] in DEMO_KEYS:
            services.create_authority(entry, source="demo")
    services.create_authority({
        "key": "KEN-TEST", "state": "KEN", "name": "Test Central Authority <b>Kenya</b>",
        "designations": ["untoc_mla_central"], "languages": ["en", "sw"], "channels": ["diplomatic"],
        "legal_requirements": "Requests must be signed and sealed. Supporting documents must be legalised or bear "
                              "an apostille.\n\nTranslations need not be certified."}, source="demo")
    services.create_authority({
        "key": "GHA-TEST", "state": "GHA", "name": "Test Central Authority Ghana",
        "designations": ["untoc_mla_central"], "languages": ["en"], "channels": ["direct"],
        "legal_requirements": "No legalisation or apostille is required."}, source="demo")
    db.session.commit()


def facts(**changes):
    from network.requests.guidance import DraftFacts

    values = {"language": "en", "channel": "direct", "urgent": False, "form": "mla"}
    values.update(changes)
    return DraftFacts(**values)


def check(panel, code: str, **changes):
    from network.requests.guidance import checkable_requirements

    found = [c for c in checkable_requirements(panel, facts(**changes)) if c.code == code]
    return found[0] if found else None


# ---------------------------------------------------------------- the panel

def test_panel_shows_the_finders_competent_authority_and_its_entry(app, directory):
    from network.directory.finder import find_competent
    from network.requests.guidance import requested_state_panel

    panel = requested_state_panel("NGA", "mla", None)
    assert panel.authority.key == find_competent("NGA", "mla").competent[0].key == "NGA-CA"
    assert panel.found and panel.article == "UNTOC art. 18" and panel.state_name == "Nigeria"
    assert panel.languages == ("en",) and panel.channels == ("direct", "diplomatic", "network")
    assert "advance copy by e-mail" in panel.urgent_procedure
    assert panel.accepts_convention is True and "Mutual legal assistance" in panel.requirements
    assert "<h2>Mutual legal assistance</h2>" in str(panel.requirements_html)
    assert [a.key for a in panel.alternatives] == ["NGA-NDLEA"]  # the drugs central authority, as the finder says

    extradition = requested_state_panel("IDN", "extradition", None)
    assert extradition.authority.key == "IDN-MOL" and extradition.accepts_convention is False

    for state, form in (("NGA", "no_such_form"), ("XXX", "mla"), ("", "")):
        empty = requested_state_panel(state, form, None)
        assert empty.authority is None and empty.languages == () and empty.precedents == ()


# ---------------------------------------------------------------- checkable requirements

def test_language_check_passes_in_an_accepted_language_and_names_them_when_not(app, directory):
    from network.requests.guidance import requested_state_panel

    panel = requested_state_panel("MAR", "mla", None)  # accepts Arabic and French
    assert check(panel, "language", language="fr").ok and check(panel, "language", language="ar").ok
    refused = check(panel, "language", language="en")
    assert not refused.ok
    assert "Arabic" in refused.message and "French" in refused.message and "English" in refused.message


def test_channel_check_passes_for_an_accepted_channel_and_fails_otherwise(app, directory):
    from network.requests.guidance import requested_state_panel

    panel = requested_state_panel("NGA", "mla", None)
    assert check(panel, "channel", channel="diplomatic").ok
    refused = check(panel, "channel", channel="interpol")
    assert not refused.ok and "INTERPOL" in refused.message
    assert not check(panel, "channel", channel="").ok  # not chosen yet


def test_urgent_check_needs_a_stated_urgent_procedure(app, directory):
    from network.requests.guidance import requested_state_panel

    nigeria = requested_state_panel("NGA", "mla", None)
    assert check(nigeria, "urgent", urgent=False) is None  # not urgent: nothing to check
    passed = check(nigeria, "urgent", urgent=True)
    assert passed.ok and "duty officer" in passed.detail
    failed = check(requested_state_panel("KEN", "mla", None), "urgent", urgent=True)
    assert not failed.ok and "no urgent procedure" in failed.message


def test_certification_and_authentication_checks_quote_the_entry(app, directory):
    from network.requests.guidance import requested_state_panel

    nigeria = requested_state_panel("NGA", "mla", None)  # "A translation certified by the requesting authority..."
    assert check(nigeria, "certification", certified=True).ok
    failed = check(nigeria, "certification", certified=None)
    assert not failed.ok and "certified" in failed.detail
    assert check(nigeria, "authentication") is None  # the entry says nothing about legalisation

    kenya = requested_state_panel("KEN", "mla", None)
    assert check(kenya, "authentication", authenticated=True).ok
    failed = check(kenya, "authentication", authenticated=False)
    assert not failed.ok and "apostille" in failed.detail
    assert check(kenya, "certification") is None  # "Translations need not be certified."
    assert check(requested_state_panel("GHA", "mla", None), "authentication") is None  # "No legalisation..."


def test_legal_basis_check_when_the_convention_is_not_accepted(app, directory):
    from network.requests.guidance import requested_state_panel

    indonesia = requested_state_panel("IDN", "extradition", None)
    assert not check(indonesia, "legal_basis", relies_on_convention=True).ok
    assert check(indonesia, "legal_basis", relies_on_convention=False) is None
    assert check(requested_state_panel("NGA", "mla", None), "legal_basis", relies_on_convention=True).ok


def test_messages_are_translated_into_the_interface_language(app, directory):
    from network.requests.guidance import requested_state_panel

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        from flask_babel import refresh

        app.config["BABEL_DEFAULT_LOCALE"] = "fr"
        refresh()
        panel = requested_state_panel("MAR", "mla", None)
        refused = check(panel, "language", language="en")
        assert "arabe" in refused.message and "français" in refused.message  # language names in French


# ---------------------------------------------------------------- precedents

def test_precedents_come_from_the_catalogue_within_the_readers_scope(app, directory, member):
    from catalogue.cases.services import create_draft, import_case
    from network.core.db import db
    from network.requests.guidance import requested_state_panel

    import_case(interchange_case("PREC-PUBLIC", title="Bank records from Nigeria", obstacles="Slow banks.",
                                 solutions="A liaison magistrate chased them."))
    import_case(interchange_case("PREC-MEMBERS", title="Members-only precedent", visibility="members"))
    import_case(interchange_case("PREC-OTHER-STATE", requested_state="BRA"))
    import_case(interchange_case("PREC-OTHER-FORM", cooperation_forms=["extradition"]))
    draft = create_draft(member)
    draft.title, draft.requested_state, draft.cooperation_forms = "Unpublished draft", "NGA", ["mla"]
    db.session.commit()

    with app.test_request_context():
        anonymous = requested_state_panel("NGA", "mla", None)
        vetted = requested_state_panel("NGA", "mla", member)
        extradition = requested_state_panel("NGA", "extradition", member)
    assert [p.reference for p in anonymous.precedents] == ["PREC-PUBLIC"]
    assert sorted(p.reference for p in vetted.precedents) == ["PREC-MEMBERS", "PREC-PUBLIC"]
    public = anonymous.precedents[0]
    assert public.title == "Bank records from Nigeria" and public.link == "/cases/PREC-PUBLIC"
    assert public.obstacles == "Slow banks." and public.solutions == "A liaison magistrate chased them."
    assert [p.reference for p in extradition.precedents] == ["PREC-OTHER-FORM"]


# ---------------------------------------------------------------- the macro

def test_panel_macro_renders_the_panel_and_checks_escaped(app, directory, member):
    from network.requests.guidance import checkable_requirements, requested_state_panel

    with app.test_request_context():
        panel = requested_state_panel("KEN", "mla", member)
        checks = checkable_requirements(panel, facts(language="fr", channel="diplomatic", urgent=True))
        html = render_template_string(
            '{% from "requests/panel.html" import state_panel with context %}{{ state_panel(panel, checks) }}',
            panel=panel, checks=checks)
        nothing = render_template_string('{% from "requests/panel.html" import state_panel with context %}'
                                         '{{ state_panel(none) }}')
    assert "Test Central Authority &lt;b&gt;Kenya&lt;/b&gt;" in html and "<b>Kenya</b>" not in html
    assert 'href="/directory/KEN-TEST"' in html
    assert 'data-code="language"' in html and "request-check-problem" in html and "request-check-ok" in html
    assert "English, Swahili" in html and "Diplomatic channels" in html
    assert "No published case in the catalogue" in html
    assert nothing.strip() == ""
