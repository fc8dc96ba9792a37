"""Forms for writing, answering, confirming the recovery key and restoring earlier keys."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from network.core.forms import Form, file_names, one_line
from network.core.labels import sorted_by_name, state_label
from network.messaging.services import MAX_REASON, MAX_SUBJECT, MAX_TEXT


def _no_control_characters(form, field) -> None:
    if field.data and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


class HandlingFields:
    confidential = BooleanField(_l("Confidential: the requested State keeps this request and its content "
                                   "confidential (art. 18 (20))"))
    limited_use = BooleanField(_l("Limitation on use: not to be used for other investigations, prosecutions or "
                                  "proceedings without prior consent (art. 18 (19))"))
    urgent = BooleanField(_l("Urgent: the recipients get an e-mail saying you wrote (never what)"))
    attachments = MultipleFileField(_l("Attach files (optional)"), validators=[file_names],
                                    description=_l("Up to 5 files of at most 25 MB each, encrypted like the message."))


def recipient_choices(people) -> list[tuple[int, str, dict[str, str]]]:
    """The "To" list: "Name — Authority — State" (the UN's name of the State, in the reader's language), sorted by
    State, then by name, so that a reader finds the counterparts of one State together, and the filter box above
    the list (static/js/app.js) finds them by any of the three. Each option is a person's and an authority's
    name: isolated from the page's direction (dir="auto", issue 13)."""
    def text(member) -> str:
        parts = [member.name, member.authority_name, state_label(member.state)]
        return " — ".join(part for part in parts if part)

    ordered = sorted_by_name(sorted_by_name(people, lambda m: m.name), lambda m: state_label(m.state))
    return [(m.id, text(m), {"dir": "auto"}) for m in ordered]


class ComposeForm(HandlingFields, Form):
    recipients = SelectMultipleField(_lp("message recipient", "To"), coerce=int,
                                     validators=[DataRequired(message=_l("Choose at least one recipient."))],
                                     description=_l("Vetted members; up to 49 recipients."))
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("Enter a subject.")),
                                                     Length(max=MAX_SUBJECT), one_line])
    text = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write your message.")),
                                                    Length(max=MAX_TEXT), _no_control_characters],
                         render_kw={"rows": 10})
    submit = SubmitField(_l("Encrypt and send"))

    def __init__(self, people, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipients.choices = recipient_choices(people)


class ReplyForm(HandlingFields, Form):
    text = TextAreaField(_l("Reply"), validators=[DataRequired(message=_l("Write your reply.")),
                                                  Length(max=MAX_TEXT), _no_control_characters],
                         render_kw={"rows": 6})
    submit = SubmitField(_l("Encrypt and send"))


class RecoveryConfirmForm(Form):
    group = StringField(_l("Type the last group of your recovery key"),
                        validators=[DataRequired(message=_l("Type the group.")), Length(max=20)],
                        render_kw={"autocomplete": "off", "spellcheck": "false"})
    saved = BooleanField(_l("I have written down or printed my recovery key and keep it somewhere safe"),
                         validators=[DataRequired(message=_l("Confirm that you saved the recovery key."))])
    submit = SubmitField(_l("Confirm"))


class RestoreForm(Form):
    recovery_key = StringField(_l("Recovery key"), validators=[DataRequired(message=_l("Enter your recovery key.")),
                                                               Length(max=120)],
                               render_kw={"autocomplete": "off", "spellcheck": "false"})
    password = PasswordField(_l("Your current password"),
                             validators=[DataRequired(message=_l("Enter your password.")), Length(max=1024)])
    submit = SubmitField(_l("Restore my earlier messages"))


class MailboxComposeForm(HandlingFields, Form):
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("Enter a subject.")),
                                                     Length(max=MAX_SUBJECT), one_line])
    text = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write your message.")),
                                                    Length(max=MAX_TEXT), _no_control_characters],
                         render_kw={"rows": 10})
    submit = SubmitField(_l("Encrypt and send"))


class GrantForm(Form):
    member = SelectField(_l("Give access to"), coerce=int)
    submit = SubmitField(_l("Give access"))

    def __init__(self, people, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member.choices = [(m.id, m.name, {"dir": "auto"}) for m in people]  # names, isolated (issue 13)


class ConfirmForm(Form):
    """A button that changes something: the CSRF token only."""

    submit = SubmitField(_l("Confirm"))


class ReportForm(Form):
    reason = TextAreaField(_l("What is wrong with this message?"),
                           validators=[DataRequired(message=_l("Say why you report it.")), Length(max=MAX_REASON),
                                       _no_control_characters], render_kw={"rows": 4})
    disclose = BooleanField(_l("I understand that the text of this message is forwarded, decrypted, to the "
                               "moderators with my report"),
                            validators=[DataRequired(message=_l("Confirm that the text is forwarded."))])
    submit = SubmitField(_l("Report to the moderators"))
