"""Forms for starting a draft, its steps (built from the definitions), sending, status changes, references and the
reminder periods."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from network.core.forms import Form, HelpWithSyntax, file_names, one_line
from network.core.labels import state_label
from network.requests import definitions
from network.requests.services import (
    CHANNELS,
    DOCUMENT_LANGUAGES,
    MAX_NOTE,
    MAX_REFERENCE,
    REFUSAL_GROUNDS,
    STATUS_LABELS,
)

LANGUAGE_LABELS = {"en": "English", "fr": "Français", "es": "Español", "ru": "Русский", "ar": "العربية",
                   "zh": "中文"}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewRequestForm(Form):
    form = SelectField(_l("Form of request"), validators=[DataRequired(message=_l("Choose a form of request."))])
    measures = MultiCheckboxField(_l("Measures"), validate_choice=False, description=_l(
        "For mutual legal assistance, every measure you ask for; for extradition, whether provisional arrest is "
        "asked first."))
    requested_state = SelectField(_l("Requested State"),
                                  validators=[DataRequired(message=_l("Choose the requested State."))])
    requested_authority = SelectField(_l("Requested authority"), validate_choice=False, description=_l(
        "Leave empty to address the competent authority the directory's finder names for this State and form."))
    language = SelectField(_l("Language of the document"), choices=[SelectChoice(c, LANGUAGE_LABELS[c]) for c in DOCUMENT_LANGUAGES],
                           description=_l("A language the requested State accepts (article 18 (14)): the formal "
                                          "parts of the document are written in it."))
    reference = StringField(_l("Your reference"), validators=[Optional(), Length(max=MAX_REFERENCE), one_line])
    urgent = BooleanField(_l("Urgent"))
    confidential = BooleanField(_l("Confidential (art. 18 (20))"))
    limited_use = BooleanField(_l("Limitation on use (art. 18 (19))"))
    submit = SubmitField(_l("Start the draft"))

    def __init__(self, states, authorities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.choices = [SelectChoice("", "—")] + [SelectChoice(code, str(f.label))
                                                       for code, f in definitions.FORMS.items()]
        measures = []
        for code in definitions.FORMS:
            measures += [SelectChoice(m.code, f"{definitions.FORMS[code].label}: {m.label}")
                         for m in definitions.measure_choices(code)]
        self.measures.choices = measures
        self.requested_state.choices = [SelectChoice("", "—")] + [SelectChoice(c, n) for c, n in states]
        self.requested_authority.choices = [SelectChoice("", _l("The competent authority (finder)"))] + [
            SelectChoice(a.key, f"{state_label(a.state)} — {a.name}", {"dir": "auto"}) for a in authorities]  # a name


def step_form(step: definitions.StepDef) -> type[Form]:
    """A form class with one text area per field of the step, its guidance as description."""

    class StepForm(Form):
        save = SubmitField(_l("Save and continue later"))
        proceed = SubmitField(_l("Save and continue"))

    for key, _rule in step.fields:
        found = definitions.FIELDS[key]
        setattr(StepForm, key, TextAreaField(found.label, validators=[Optional(), Length(max=definitions.MAX_FIELD)],
                                             description=found.guidance, render_kw={"rows": found.rows}))
    return StepForm


class SendForm(Form):
    channel = SelectField(_l("Channel of the formal original"), choices=[SelectChoice(c, c) for c in CHANNELS],
                          description=_l("The formal original still travels by the channel the requested State "
                                         "requires; the register records which, and when."))
    original_sent_on = DateField(_l("Date the formal original was (or will be) sent"), validators=[Optional()])
    submit = SubmitField(_l("Send the advance copy"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from network.requests.services import channel_label

        self.channel.choices = [SelectChoice(c, channel_label(c)) for c in CHANNELS]


class StatusForm(Form):
    status = SelectField(_l("New status"), validators=[DataRequired(message=_l("Choose the new status."))])
    ground = SelectField(_l("Ground for refusal (if refused)"), choices=[SelectChoice("", "—")] + [
        SelectChoice(code, text) for code, text in REFUSAL_GROUNDS.items()], validate_choice=False,
        description=_l("Kept in the clear for the statistics; the reasons themselves go in the note."))
    note = TextAreaField(_l("Note (encrypted)"), validators=[Optional(), Length(max=MAX_NOTE)],
                         description=_l("Reasons for a refusal or postponement, the information requested or "
                                        "supplied: sealed for the two authorities' mailbox holders."),
                         render_kw={"rows": 4})
    submit = SubmitField(_l("Sign and record"))

    def __init__(self, allowed, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", "—")] + [SelectChoice(s, str(STATUS_LABELS[s])) for s in allowed]


class ReferenceForm(Form):
    reference = StringField(_l("Your reference"), validators=[Optional(), Length(max=MAX_REFERENCE), one_line])
    submit = SubmitField(_l("Save the reference"))


class ConfirmForm(Form):
    submit = SubmitField(_l("Confirm"))


class SettingsForm(Form):
    acknowledge_days = IntegerField(_l("Remind when an outgoing request is not acknowledged within (days)"),
                                    validators=[DataRequired(), NumberRange(min=1, max=365)])
    status_days = IntegerField(_l("Remind when no status arrives within (days)"),
                               validators=[DataRequired(), NumberRange(min=1, max=365)])
    submit = SubmitField(_l("Save the periods"))


class ImportForm(Form):
    file = FileField(_l("JSON Lines file"), validators=[file_names], description=HelpWithSyntax(_l(
        "One request per line (%(guide)s gives the keys). Every line is checked first: the file is imported "
        "whole or not at all."), guide="docs/requests.md"))
    submit = SubmitField(_l("Import into the register"))
