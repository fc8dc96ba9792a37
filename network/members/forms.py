"""Forms for applying, signing in, the second factor, passwords, vetting and account management."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from network.core.forms import Form, one_line
from network.core.labels import state_choices, vocabulary_choices, working_language_choices

EMAIL = [DataRequired(message=_l("Enter your e-mail address.")), Length(max=254),
         Email(message=_l("Enter a valid e-mail address, like name@ministry.gov."), check_deliverability=False)]


class ApplicationForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(message=_l("Enter your full name.")),
                                                    Length(max=200), one_line])
    email = EmailField(_l("Official e-mail address"), validators=EMAIL,
                       description=_l("Use the address your authority gave you: moderators check its domain."))
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Choose a password.")),
                                                         Length(max=128)],
                             description=_l("At least 12 characters. A phrase of several words is easy to remember."))
    state = SelectField(_l("State"), validators=[InputRequired(message=_l("Choose your State."))])
    authority = SelectField(_l("Authority"), validators=[Optional()],
                            description=_l("If your authority is not listed, choose “Not listed” and name it below."))
    authority_other = StringField(_l("Authority name, if not listed"), validators=[Length(max=300), one_line])
    position = StringField(_l("Position"), validators=[DataRequired(message=_l("Enter your position.")),
                                                       Length(max=200), one_line])
    practitioner_type = SelectField(_l("You are"), validators=[InputRequired(message=_l("Choose what you are."))])
    languages = SelectMultipleField(_l("Working languages"),
                                    validators=[DataRequired(message=_l("Choose at least one working language."))])
    reason = TextAreaField(_l("Why do you want to join?"),
                           validators=[DataRequired(message=_l("Tell the moderators why you want to join.")),
                                       Length(min=20, max=3000, message=_l("Write between 20 and 3,000 characters."))])
    referee_email = EmailField(_l("Referee (optional)"), validators=[Optional(), Length(max=254),
                               Email(message=_l("Enter a valid e-mail address."), check_deliverability=False)],
                               description=_l("The e-mail address of a colleague who is already a member."))
    submit = SubmitField(_l("Apply"))

    def __init__(self, authorities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("Choose…"))] + state_choices()  # the UN's names, in the reader's language
        # An authority's name is a proper name: isolated from the page's direction (dir="auto", issue 13).
        self.authority.choices = [("", _l("Choose…"))] + [(str(a.id), a.name, {"dir": "auto"}) for a in authorities] + [
            ("other", _l("Not listed"))]
        self.authority.render_kw = {"data-states": json.dumps({str(a.id): a.state for a in authorities})}
        self.practitioner_type.choices = [("", _l("Choose…"))] + vocabulary_choices("practitioner_types")
        self.languages.choices = working_language_choices()  # named in the reader's language

    def validate_state(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose your State."))

    def validate_practitioner_type(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose what you are."))

    def validate_authority(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose your authority, or “Not listed”."))
        if field.data == "other" and not (self.authority_other.data or "").strip():
            self.authority_other.errors = list(self.authority_other.errors) + [
                _l("Name your authority if it is not in the list.")]
            raise ValidationError(_l("Name your authority below."))

    def validate_languages(self, field) -> None:
        if len(field.data or []) > 20:
            raise ValidationError(_l("Choose at most 20 languages."))


class SignInForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL)
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                         Length(max=1024)])
    submit = SubmitField(_l("Sign in"))


class CodeForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter the code.")), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True})
    submit = SubmitField(_l("Continue"))


class ReauthForm(Form):
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                         Length(max=1024)])
    code = StringField(_l("Authentication code"), validators=[DataRequired(message=_l("Enter the code.")),
                                                              Length(max=40)],
                       render_kw={"autocomplete": "one-time-code"})
    submit = SubmitField(_l("Confirm"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    code = StringField(_l("Authentication code"), validators=[DataRequired(message=_l("Enter the code.")),
                                                              Length(max=40)],
                       render_kw={"autocomplete": "one-time-code"})
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL)
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(message=_l("Choose a password.")),
                                                             Length(max=128)])
    submit = SubmitField(_l("Set the new password"))


class DecisionForm(Form):
    # Nothing chosen beforehand: a moderator who only meant to read must not approve by pressing the button.
    decision = SelectField(_l("Decision"), choices=lambda: [("", _l("Choose…")), ("approve", _l("Approve")),
                                                            ("reject", _l("Reject")),
                                                            ("info", _l("Ask for more information"))],
                           validators=[InputRequired(message=_l("Choose a decision: approve, reject or ask for "
                                                                "more information."))])
    note = TextAreaField(_l("Note, reason or question"), validators=[Length(max=3000)],
                         description=_l("A reason is required to reject; a question to ask for information. "
                                        "The applicant receives it by e-mail."))
    submit = SubmitField(_l("Record the decision"))


class VouchForm(Form):
    decision = SelectField(_l("Your answer"), choices=lambda: [("vouched", _l("I vouch for this colleague")),
                                                               ("declined", _l("I do not vouch"))])
    note = TextAreaField(_l("Note for the moderators (optional)"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Send"))


class RefereeForm(Form):
    decision = SelectField(_l("Your answer"), choices=lambda: [("confirmed", _l("I confirm this applicant")),
                                                               ("declined", _l("I do not confirm"))])
    note = TextAreaField(_l("Note for the moderators (optional)"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Send"))


class AnswerForm(Form):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(message=_l("Write your answer.")),
                                                          Length(max=5000)])
    submit = SubmitField(_l("Send the answer"))


class SuspendForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=1000)])
    until = DateField(_l("Until (optional)"), validators=[Optional()],
                      description=_l("Leave empty to suspend until a moderator reinstates the member."))
    submit = SubmitField(_l("Suspend"))


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=1000)])
    submit = SubmitField(_l("Close the account"))


# A role's short name where a member's roles are listed (the members list, the manage page), in the reader's language.
ROLE_NAMES = {"member": _l("Member"), "moderator": _l("Moderator"), "admin": _l("Administrator"),
              "focal_point": _l("Focal point")}


def role_name(code: str) -> str:
    """`{{ grant.role|role_name }}`: the role's name in the reader's language (the code itself if unknown)."""
    return str(ROLE_NAMES.get(code, code))


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=lambda: [("moderator", _l("Moderator")), ("admin", _l("Administrator")),
                                                    ("focal_point", _l("Focal point of an authority"))])
    authority = SelectField(_l("Authority (for a focal point)"), validators=[Optional()])
    submit = SubmitField(_l("Grant"))

    def __init__(self, authorities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An authority's name is a proper name: isolated from the page's direction (dir="auto", issue 13).
        self.authority.choices = [("", "—")] + [(str(a.id), a.name, {"dir": "auto"}) for a in authorities]


class ConfirmForm(Form):
    """A bare form: a button and its CSRF token."""

    submit = SubmitField(_l("Confirm"))


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=80)])
    actor = StringField(_l("Actor e-mail"), validators=[Optional(), Length(max=254)])
    target_type = StringField(_l("Target type"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_lp("date range start", "From"), validators=[Optional()])
    date_to = DateField(_lp("date range end", "To"), validators=[Optional()])
    submit = SubmitField(_l("Filter"))
