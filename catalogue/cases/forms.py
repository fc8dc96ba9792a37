"""Forms of the submission wizard (one per step), the confirmation before submitting, and the reviewers' decisions."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as SubForm  # a form inside a form (FormField): no CSRF token of its own
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from catalogue.cases.models import Case
from network.core.forms import Form, one_item_per_line, one_line
from network.core.labels import state_choices, state_label, vocabulary_choices, working_language_choices

# The same patterns and limits as shared/schemas/case.schema.json, so the wizard refuses what the schema would.
PROVISION_RE = re.compile(r"^[0-9]{1,2}(\([0-9]{1,2}\))?(\([a-z]\))?\Z")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
ACTIONS = ("next", "save", "back")

# Which wizard step holds each field of the interchange format (validation problems link back to it).
FIELD_STEPS = {
    "title": 1, "summary": 1, "language": 1, "requesting_state": 1, "requested_state": 1, "cooperation_forms": 1,
    "legal_bases": 1, "untoc_provisions": 1, "crime_types": 1, "outcome": 1, "visibility": 1,
    "request_date": 2, "decision_date": 2, "completion_date": 2, "channels": 2, "refusal_grounds": 2,
    "obstacles": 2, "solutions": 2, "lessons_learned": 2, "keywords": 2, "other_states": 2,
    "other_instruments": 2, "source": 2, "translations": 3,
}
FIELD_LABELS = {
    "title": _l("Title"), "summary": _l("Summary"), "language": _l("Language of the case"),
    "requesting_state": _l("Requesting State"), "requested_state": _l("Requested State"),
    "cooperation_forms": _l("Forms of cooperation"), "legal_bases": _l("Legal bases"),
    "untoc_provisions": _l("Provisions of the Convention relied on"), "crime_types": _l("Crime types"),
    "outcome": _l("Outcome"), "visibility": _l("Who may read the case"), "request_date": _l("Date of the request"),
    "decision_date": _l("Date of the decision"), "completion_date": _l("Date of completion"),
    "channels": _l("Channels"), "refusal_grounds": _l("Grounds for refusal"),
    "obstacles": _l("Main obstacles encountered"), "solutions": _l("Solutions found"),
    "lessons_learned": _l("Lessons learned"), "keywords": _l("Keywords"), "other_states": _l("Other States involved"),
    "other_instruments": _l("Other instruments"), "source": _l("Source"), "translations": _l("Translations"),
}
PRIVACY_KIND_LABELS = {
    "email": _l("an e-mail address"),
    "phone": _l("a phone number"),
    "document_number": _l("a passport-like or ID number"),
    "file_number": _l("a case-file number"),
    "personal_name": _l("a personal name next to a word such as defendant or victim"),
}
REFUSAL_OUTCOMES = ("refused", "partially_granted")


# ---------------------------------------------------------------- helpers

class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes (rendered as a fieldset by the wizard's choice_group macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _vocabulary_choices(kind: str) -> list[tuple[str, object]]:
    return vocabulary_choices(kind)  # the Convention's terms in the reader's language (vocabulary_labels.yaml)


def _with_current(choices: list, current: str | None, name=lambda code: code) -> list:
    """Keep a value that is not among the offered choices (an imported code) selectable, so saving keeps it."""
    if current and current not in {choice[0] for choice in choices}:
        return [*choices, (current, name(current))]
    return choices


def split_list(text: str | None) -> list[str]:
    """Comma-separated values, trimmed, empty ones and repeats dropped, order kept."""
    seen: list[str] = []
    for part in (text or "").split(","):
        value = part.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def split_lines(text: str | None) -> list[str]:
    seen: list[str] = []
    for line in (text or "").splitlines():
        value = line.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def parse_provisions(text: str | None) -> list[str]:
    """ "18, 18 (13), art. 16(4)" -> ["18", "18(13)", "16(4)"]: spaces and a leading "art." are forgiven."""
    found = []
    for value in split_list(text):
        value = re.sub(r"\s+", "", value)
        value = re.sub(r"^(?i:art(?:icle)?\.?)", "", value)
        if value not in found:
            found.append(value)
    return found


def _length_if_given(minimum: int, maximum: int):
    """Empty is allowed in a draft (step 4 says what is missing); a value must fit the schema's limits."""

    def check(form, field) -> None:
        value = (field.data or "").strip()
        if value and not minimum <= len(value) <= maximum:
            raise ValidationError(_l("Write between %(min)d and %(max)d characters.", min=minimum, max=maximum))

    return check


def _no_control_characters(form, field) -> None:
    if field.data and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


class WizardForm(Form):
    """A step of the wizard: which button was pressed is part of the form."""

    action = StringField(validators=[InputRequired(), AnyOf(ACTIONS)])

    def values(self) -> dict:
        """The step's fields in the interchange format, for services.save_draft."""
        raise NotImplementedError


# ---------------------------------------------------------------- step 1: the essentials

class EssentialsForm(WizardForm):
    title = StringField(_l("Title"), validators=[_length_if_given(5, 300), one_line],
                        description=_l("A short description of the case, without names: "
                                       "e.g. “Extradition for drug trafficking granted on the basis of the Convention”."))
    requesting_state = SelectField(_l("Requesting State"), validators=[Optional()])
    requested_state = SelectField(_l("Requested State"), validators=[Optional()])
    cooperation_forms = CheckboxesField(_l("Forms of cooperation"), validators=[Optional()])
    legal_bases = CheckboxesField(_l("Legal bases"), validators=[Optional()],
                                  description=_l("Every basis relied on: the Convention, a treaty, reciprocity…"))
    untoc_provisions = StringField(_l("Provisions of the Convention relied on"), validators=[Length(max=500)],
                                   description=_l("Articles and paragraphs, separated by commas, e.g. 18, 18(13), 16(4)."))
    crime_types = CheckboxesField(_l("Crime types"), validators=[Optional()])
    outcome = SelectField(_l("Outcome"), validators=[Optional()])
    language = SelectField(_l("Language of the case"), validators=[InputRequired()],
                           description=_l("The language of the title and summary. Add other versions at step 3."))
    visibility = RadioField(_l("Who may read the case"), validators=[InputRequired()],
                            choices=lambda: [("members", _l("Members of the network only")),
                                             ("public", _l("Anyone, the public included"))])
    summary = TextAreaField(_l("Summary"), validators=[_length_if_given(20, 50000), _no_control_characters],
                            render_kw={"rows": 8},
                            description=_l("The facts and the procedure, anonymised: no names of persons, "
                                           "no file numbers, no contact details."))

    def __init__(self, case: Case, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choose = [("", _l("Choose…"))]
        states = state_choices()  # the 195 States (no territories), named and sorted for the reader
        self.requesting_state.choices = _with_current(choose + states, case.requesting_state, state_label)
        self.requested_state.choices = _with_current(choose + states, case.requested_state, state_label)
        self.cooperation_forms.choices = _vocabulary_choices("cooperation_forms")
        self.legal_bases.choices = _vocabulary_choices("legal_bases")
        self.crime_types.choices = _vocabulary_choices("crime_types")
        self.outcome.choices = choose + _vocabulary_choices("outcomes")
        self.language.choices = _with_current(working_language_choices(), case.language)

    @classmethod
    def for_case(cls, case: Case) -> EssentialsForm:
        return cls(case, data={
            "title": case.title, "requesting_state": case.requesting_state, "requested_state": case.requested_state,
            "cooperation_forms": case.cooperation_forms, "legal_bases": case.legal_bases,
            "untoc_provisions": ", ".join(case.untoc_provisions or []), "crime_types": case.crime_types,
            "outcome": case.outcome, "language": case.language or "en", "visibility": case.visibility or "members",
            "summary": case.summary,
        })

    def validate_untoc_provisions(self, field) -> None:
        wrong = [p for p in parse_provisions(field.data) if not PROVISION_RE.fullmatch(p)]
        if wrong:
            raise ValidationError(_l("Write each provision as an article number with its paragraph and "
                                     "subparagraph if any, like 18, 18(13) or 16(4)(a). Not understood: %(wrong)s",
                                     wrong=", ".join(wrong)))

    def validate_language(self, field) -> None:
        if not LANGUAGE_RE.fullmatch(field.data or ""):
            raise ValidationError(_l("Choose a language."))

    def validate_requested_state(self, field) -> None:
        if field.data and field.data == self.requesting_state.data:
            raise ValidationError(_l("The requested State must differ from the requesting State."))

    def values(self) -> dict:
        return {
            "title": (self.title.data or "").strip(), "summary": (self.summary.data or "").strip(),
            "language": self.language.data, "requesting_state": self.requesting_state.data or "",
            "requested_state": self.requested_state.data or "", "cooperation_forms": list(self.cooperation_forms.data or []),
            "legal_bases": list(self.legal_bases.data or []),
            "untoc_provisions": parse_provisions(self.untoc_provisions.data),
            "crime_types": list(self.crime_types.data or []), "outcome": self.outcome.data or "",
            "visibility": self.visibility.data,
        }


# ---------------------------------------------------------------- step 2: the optional depth

class DepthForm(WizardForm):
    request_date = DateField(_l("Date of the request"), validators=[Optional()])
    decision_date = DateField(_l("Date of the decision"), validators=[Optional()])
    completion_date = DateField(_l("Date of completion"), validators=[Optional()],
                                description=_l("When the request was executed or the case closed."))
    channels = CheckboxesField(_l("Channels of transmission"), validators=[Optional()])
    refusal_grounds = TextAreaField(_l("Grounds for refusal"), validators=[Length(max=5000), _no_control_characters],
                                    render_kw={"rows": 3})
    obstacles = TextAreaField(_l("Main obstacles encountered"), validators=[Length(max=20000), _no_control_characters],
                              render_kw={"rows": 4})
    solutions = TextAreaField(_l("Solutions found"), validators=[Length(max=20000), _no_control_characters],
                              render_kw={"rows": 4}, description=_l("How the obstacles were overcome."))
    lessons_learned = TextAreaField(_l("Lessons learned"), validators=[Length(max=20000), _no_control_characters],
                                    render_kw={"rows": 4},
                                    description=_l("Good practices and lessons for other practitioners."))
    keywords = StringField(_l("Keywords"), validators=[Length(max=2000), one_line],
                           description=_l("Separated by commas, e.g. bank records, dual criminality."))
    other_states = SelectMultipleField(_l("Other States involved"), validators=[Optional()], render_kw={"size": 6},
                                       description=_l("Hold Ctrl (or ⌘) to choose several."))
    other_instruments = TextAreaField(_l("Other instruments"), validators=[Length(max=5000), one_item_per_line],
                                      render_kw={"rows": 3},
                                      description=_l("One per line: treaties or other instruments relied on."))
    source = StringField(_l("Source"), validators=[Length(max=300), one_line],
                         description=_l("Where the case comes from, e.g. your authority or a publication."))

    def __init__(self, case: Case, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.channels.choices = _vocabulary_choices("channels")
        self.other_states.choices = state_choices()
        for code in case.other_states or []:
            self.other_states.choices = _with_current(self.other_states.choices, code, state_label)
        if case.outcome not in REFUSAL_OUTCOMES:
            del self.refusal_grounds  # asked only when the request was (partly) refused

    @classmethod
    def for_case(cls, case: Case) -> DepthForm:
        return cls(case, data={
            "request_date": case.request_date, "decision_date": case.decision_date,
            "completion_date": case.completion_date, "channels": case.channels,
            "refusal_grounds": case.refusal_grounds, "obstacles": case.obstacles, "solutions": case.solutions,
            "lessons_learned": case.lessons_learned, "keywords": ", ".join(case.keywords or []),
            "other_states": case.other_states, "other_instruments": "\n".join(case.other_instruments or []),
            "source": case.source,
        })

    def validate_decision_date(self, field) -> None:
        if field.data and self.request_date.data and field.data < self.request_date.data:
            raise ValidationError(_l("The decision cannot come before the request."))

    def validate_completion_date(self, field) -> None:
        if field.data and self.request_date.data and field.data < self.request_date.data:
            raise ValidationError(_l("Completion cannot come before the request."))

    def validate_keywords(self, field) -> None:
        wrong = [k for k in split_list(field.data) if not 2 <= len(k) <= 60]
        if wrong:
            raise ValidationError(_l("Each keyword has 2 to 60 characters: %(wrong)s", wrong=", ".join(wrong)))

    def validate_other_instruments(self, field) -> None:
        if any(len(line) > 300 for line in split_lines(field.data)):
            raise ValidationError(_l("Name each instrument in at most 300 characters."))

    def validate_other_states(self, field) -> None:
        case = self.case
        if {case.requesting_state, case.requested_state} & set(field.data or []):
            raise ValidationError(_l("List here only States other than the requesting and requested States."))

    def values(self) -> dict:
        values = {
            "request_date": self.request_date.data.isoformat() if self.request_date.data else None,
            "decision_date": self.decision_date.data.isoformat() if self.decision_date.data else None,
            "completion_date": self.completion_date.data.isoformat() if self.completion_date.data else None,
            "channels": list(self.channels.data or []), "obstacles": (self.obstacles.data or "").strip(),
            "solutions": (self.solutions.data or "").strip(),
            "lessons_learned": (self.lessons_learned.data or "").strip(), "keywords": split_list(self.keywords.data),
            "other_states": list(self.other_states.data or []),
            "other_instruments": split_lines(self.other_instruments.data), "source": (self.source.data or "").strip(),
        }
        if "refusal_grounds" in self:
            values["refusal_grounds"] = (self.refusal_grounds.data or "").strip()
        return values


# ---------------------------------------------------------------- step 3: translations

class TranslationForm(SubForm):
    language = SelectField(_l("Language"), validators=[Optional()])
    title = StringField(_l("Title"), validators=[_length_if_given(5, 300), one_line])
    summary = TextAreaField(_l("Summary"), validators=[_length_if_given(20, 50000), _no_control_characters],
                            render_kw={"rows": 5})
    remove = BooleanField(_l("Remove this translation"))

    def validate(self, extra_validators=None) -> bool:
        if self.remove.data:  # a version being removed need not be valid
            return True
        return super().validate(extra_validators)


class TranslationsForm(WizardForm):
    translations = FieldList(FormField(TranslationForm), min_entries=1, max_entries=30)

    def __init__(self, case: Case, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        offered = [("", _l("Choose…"))] + working_language_choices()
        for code in (case.translations or {}):
            offered = _with_current(offered, code)
        for entry in self.translations:
            entry.form.language.choices = offered

    @classmethod
    def for_case(cls, case: Case) -> TranslationsForm:
        entries = [{"language": lang, "title": version.get("title", ""), "summary": version.get("summary", "")}
                   for lang, version in sorted((case.translations or {}).items())]
        entries.append({"language": "", "title": "", "summary": ""})  # one empty slot for a new language
        return cls(case, data={"translations": entries})

    def validate_translations(self, field) -> None:
        seen: set[str] = set()
        problem = False
        for entry in field:
            sub = entry.form
            if sub.remove.data:
                continue
            lang, title, summary = sub.language.data or "", (sub.title.data or "").strip(), \
                (sub.summary.data or "").strip()
            if not lang:
                if title or summary:
                    sub.language.errors = [*sub.language.errors, _l("Choose the language of this version.")]
                    problem = True
                continue
            if lang == self.case.language:
                sub.language.errors = [*sub.language.errors, _l("This is the language of the case itself.")]
                problem = True
            elif lang in seen:
                sub.language.errors = [*sub.language.errors, _l("This language is already translated above.")]
                problem = True
            seen.add(lang)
            if not title:
                sub.title.errors = [*sub.title.errors, _l("Translate the title.")]
                problem = True
            if not summary:
                sub.summary.errors = [*sub.summary.errors, _l("Translate the summary.")]
                problem = True
        if problem:
            raise ValidationError(_l("Correct the translations marked below."))

    def values(self) -> dict:
        translations = {}
        for entry in self.translations:
            sub = entry.form
            if sub.remove.data or not sub.language.data:
                continue
            translations[sub.language.data] = {"title": sub.title.data.strip(), "summary": sub.summary.data.strip()}
        return {"translations": translations}


# ---------------------------------------------------------------- step 4, review and withdrawal

class SubmitCaseForm(Form):
    anonymised = BooleanField(_l("I confirm the case is anonymised"),
                              validators=[DataRequired(message=_l("Confirm that the case contains no personal data."))],
                              description=_l("No names of persons, no contact details, no file, passport or "
                                             "identity numbers: nothing that identifies a person."))


class ChangesForm(Form):
    note = TextAreaField(_l("What should the submitter change?"),
                         validators=[DataRequired(message=_l("Tell the submitter what to change.")),
                                     Length(max=5000)], render_kw={"rows": 4},
                         description=_l("The submitter receives this note by e-mail."))


class PublishForm(Form):
    note = StringField(_l("Note on this revision (optional)"), validators=[Length(max=1000), one_line],
                       description=_l("Shown in the case's history, e.g. “first publication”."))


class WithdrawForm(Form):
    reason = TextAreaField(_l("Reason for withdrawing"),
                           validators=[DataRequired(message=_l("Give a reason.")), Length(max=2000)],
                           render_kw={"rows": 3},
                           description=_l("Kept in the audit log; the submitter is told by e-mail."))
