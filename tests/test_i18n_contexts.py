"""Translations that depend on where a word stands (msgctxt), e-mails written whole in the recipient's language, and
dates inside sentences written for the reader's locale."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

# A small French catalogue: the same English word in two contexts, translated differently.
ENTRIES = [
    (("date range end", "To"), "Au"),
    (("message recipient", "To"), "Destinataires"),
    (("date range start", "From"), "Du"),
    (("case status", "Withdrawn"), "Retirée"),
    (("request status", "Withdrawn"), "Retirée par l'autorité requérante"),
    (("directory change status", "Withdrawn"), "Retirée par son auteur"),
    (("application page label", "Answer"), "Réponse"),
    (("authority name", "Name"), "Nom de l'autorité"),
    (("forum group or space name", "Name"), "Nom du groupe"),
    ((None, "Name"), "Nom"),
    ((None, "Hello %(name)s,"), "Bonjour %(name)s,"),
    ((None, "Your account on the Practitioners' Network is suspended until %(date)s."),
     "Votre compte sur le Réseau des praticiens est suspendu jusqu'au %(date)s."),
    ((None, "Reason: %(reason)s"), "Motif : %(reason)s"),
]


@pytest.fixture
def french_app(app, tmp_path):
    """The application with only the small French catalogue above."""
    from app import create_app

    catalogue = Catalog(locale="fr")
    for (context, message), translation in ENTRIES:
        catalogue.add(message, translation, context=context)
    folder = tmp_path / "contexts" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    overrides = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "MASTER_KEY", "SQLALCHEMY_DATABASE_URI",
                                                  "SESSION_COOKIE_SECURE", "MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT",
                                                  "RATELIMIT_STORAGE_URL", "PUBLIC_URL")}
    overrides.update(INSTANCE_PATH=app.instance_path, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "contexts"))
    return create_app(overrides)


def test_a_template_translates_each_context_of_a_word_on_its_own(french_app):
    from flask import render_template_string

    source = ('{{ pgettext("date range end", "To") }}|{{ pgettext("message recipient", "To") }}|'
              '{{ pgettext("authority name", "Name") }}|{{ _("Name") }}|{{ pgettext("date range end", "To") }}')
    with french_app.test_request_context("/?lang=fr"):
        assert render_template_string(source) == "Au|Destinataires|Nom de l'autorité|Nom|Au"
    with french_app.test_request_context("/?lang=en"):
        assert render_template_string(source) == "To|To|Name|Name|To"


def test_pages_show_the_translation_of_their_own_context(french_app):
    import html
    import re

    client = french_app.test_client()
    page = client.get("/cases?lang=fr").get_data(as_text=True)
    labels = {key: html.unescape(text) for key, text in re.findall(r'for="f-year-(\w+)">(.*?)</label>', page)}
    assert labels == {"from": "Du", "to": "Au"}  # the year range, not "Destinataires"


def test_form_labels_and_status_names_carry_their_context(french_app):
    from flask_babel import force_locale

    from network.forum.forms import GroupForm, SpaceForm
    from network.members.forms import AuditFilterForm
    from network.messaging.forms import ComposeForm
    from network.requests.services import STATUS_LABELS

    with french_app.test_request_context("/"), force_locale("fr"):
        assert str(AuditFilterForm.date_to.args[0]) == "Au"
        assert str(AuditFilterForm.date_from.args[0]) == "Du"
        assert str(ComposeForm.recipients.args[0]) == "Destinataires"
        assert str(GroupForm.name.args[0]) == str(SpaceForm.name.args[0]) == "Nom du groupe"
        assert str(STATUS_LABELS["withdrawn"]) == "Retirée par l'autorité requérante"


def test_a_mail_is_written_whole_in_the_recipient_s_language_with_a_date_of_that_language(french_app):
    from flask import render_template

    from network.core.i18n import in_language

    member = SimpleNamespace(name="Ana", suspended_until=datetime(2026, 12, 5, 9, 30), suspended_reason="Spam.")
    with french_app.test_request_context("/"):
        with in_language("fr"):
            french = render_template("mail/members/suspended.txt", member=member)
        english = render_template("mail/members/suspended.txt", member=member)
    assert french.splitlines() == ["Bonjour Ana,", "",
                                   "Votre compte sur le Réseau des praticiens est suspendu jusqu'au 5 décembre 2026.",
                                   "", "Motif : Spam."]
    assert "Your account on the Practitioners' Network is suspended until December 5, 2026." in english


def test_the_suspension_message_at_sign_in_writes_the_date_in_the_page_s_language(app, member):
    from flask_babel import force_locale

    from network.members.services import MembershipError, check_can_sign_in

    member.status, member.suspended_reason = "suspended", "Spam."
    member.suspended_until = datetime(2099, 12, 5)
    with app.test_request_context("/"), force_locale("fr"), pytest.raises(MembershipError) as error:
        check_can_sign_in(member)
    assert "5 décembre 2099" in str(error.value) and "December" not in str(error.value)


def test_a_case_mail_to_a_french_member_has_a_french_subject_whoever_publishes_it(app, member, moderator):
    from sqlalchemy import select

    from catalogue.cases import services
    from network.core.db import db
    from network.core.mail import OutboxMail

    member.language = "fr"
    db.session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        case = services.create_draft(member)
        services.save_draft(case, member, {
            "title": "Extradition for drug trafficking granted under the Convention", "requesting_state": "AUT",
            "requested_state": "NGA", "cooperation_forms": ["extradition"], "legal_bases": ["untoc"],
            "untoc_provisions": ["16"], "crime_types": ["drug_trafficking"], "outcome": "granted", "language": "en",
            "visibility": "public", "summary": "The requesting State asked for the extradition of a national."}, 1)
        services.submit(case, member, anonymised=True)
        services.start_review(case, moderator)
        services.publish(case, moderator)
        db.session.flush()
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == member.email)).all()
    published = [mail for mail in mails if mail.subject == "Votre affaire a été publiée"]
    assert published and published[0].body.startswith(f"Bonjour {member.name},")
