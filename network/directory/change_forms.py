"""Forms for keeping the directory current: the proposed entry, the moderator's decisions, re-confirmation."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from network.core.forms import Form, HelpWithSyntax, link, one_item_per_line, one_line
from network.core.labels import vocabulary_choices
from network.core.urls import url_problem
from network.directory.models import is_public_suffix
from network.directory.services import designation_basis

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
MAX_LINES = 200  # lists typed one per line: more than any real entry needs


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _words(text: str | None) -> list[str]:
    return [word for word in re.split(r"[\s,;]+", text or "") if word]


def _designation_choices() -> list[SelectChoice]:
    return [SelectChoice(code, f"{label} ({designation_basis(code)})") for code, label in vocabulary_choices("designations")]


def _channel_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in vocabulary_choices("channels")]


def _max_lines(form, field) -> None:
    if len(_lines(field.data)) > MAX_LINES:
        raise ValidationError(_l("At most %(n)d lines.", n=MAX_LINES))


class EntryForm(Form):
    """Every field of an entry a focal point may change (the key and the State are fixed)."""

    base_version = HiddenField()
    name = StringField(_l("Name of the authority"), validators=[DataRequired(), Length(min=3, max=300), one_line])
    parent_body = StringField(_l("Part of (ministry or office)"), validators=[Length(max=300), one_line])
    designations = CheckboxesField(_l("Designations"), choices=[],
                                   description=_l("Each designation with the provision it rests on. At least one."))
    address = TextAreaField(_l("Address"), validators=[Length(max=1000)], render_kw={"rows": 3})
    phone = StringField(_l("Telephone"), validators=[Length(max=60), one_line])
    email = StringField(_l("E-mail"), validators=[Length(max=254), one_line])
    email_domains = TextAreaField(_l("Official e-mail domains"), validators=[Length(max=5000), _max_lines,
                                                                             one_item_per_line],
                                  render_kw={"rows": 2},
                                  description=_l("One per line, e.g. justice.example.org. Used to vet applicants."))
    website = StringField(_l("Website"), validators=[Length(max=500), link],
                          description=HelpWithSyntax(_l("A full address beginning with %(https)s or %(http)s."),
                                                       https="https://", http="http://"))
    languages = StringField(_l("Languages accepted for requests"), validators=[Length(max=300), one_line],
                            description=_l("Language codes separated by spaces or commas, e.g. en fr es."))
    channels = CheckboxesField(_l("Channels"), choices=[])
    accepts_untoc_as_legal_basis = RadioField(
        _l("Does the State take the Convention as legal basis?"), default="unknown",
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No")),
                 SelectChoice("unknown", _l("Not stated"))])
    urgent_requests = TextAreaField(_l("Urgent requests"), validators=[Length(max=2000)], render_kw={"rows": 3},
                                    description=_l("How urgent requests are received, e.g. by e-mail in advance."))
    available_24_7 = BooleanField(_l("Available 24 hours a day, 7 days a week"))
    time_zone = StringField(_l("Time zone"), validators=[Length(max=64), one_line],
                            description=_l("IANA name, e.g. Europe/Vienna or America/Bogota."))
    office_hours = StringField(_l("Office hours"), validators=[Length(max=200), one_line])
    legal_requirements = TextAreaField(_l("Legal and procedural requirements"), validators=[Length(max=50000)],
                                       render_kw={"rows": 10},
                                       description=_l("Markdown: **bold**, lists with -, links."))
    national_laws = TextAreaField(_l("National laws"), validators=[Length(max=50000), _max_lines, one_item_per_line],
                                  render_kw={"rows": 4},
                                  description=_l("One per line: Title | https://address (the address is optional)."))
    treaties = TextAreaField(_l("Treaties and arrangements"), validators=[Length(max=50000), _max_lines,
                                                                          one_item_per_line],
                             render_kw={"rows": 4}, description=_l("One per line."))
    note = TextAreaField(_l("What changed, and why"),
                         validators=[DataRequired(message=_l("Explain the change for the moderator.")),
                                     Length(max=2000)], render_kw={"rows": 3},
                         description=_l("The moderator reads this note; it is kept with the approved version."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.designations.choices = _designation_choices()
        self.channels.choices = _channel_choices()

    def validate_designations(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one designation."))

    def validate_languages(self, field) -> None:
        bad = [code for code in _words(field.data) if not LANGUAGE_RE.match(code)]
        if bad:
            raise ValidationError(_l("Not a language code: %(codes)s (use codes such as en, fr, pt-BR).",
                                     codes=", ".join(bad[:5])))

    def validate_national_laws(self, field) -> None:
        for number, line in enumerate(_lines(field.data), start=1):
            title, _sep, url = (part.strip() for part in line.partition("|"))
            if not title:
                raise ValidationError(_l("Line %(n)d: the title is missing.", n=number))
            if len(title) > 500:
                raise ValidationError(_l("Line %(n)d: the title is longer than 500 characters.", n=number))
            problem = url_problem(url) if url else None
            if problem:
                raise ValidationError(_l("Line %(n)d: the address %(problem)s.", n=number, problem=problem))

    def validate_treaties(self, field) -> None:
        for number, line in enumerate(_lines(field.data), start=1):
            if len(line) > 500:
                raise ValidationError(_l("Line %(n)d is longer than 500 characters.", n=number))

    def validate_email_domains(self, field) -> None:
        for domain in _lines(field.data):
            if len(domain) > 253 or " " in domain or "." not in domain:
                raise ValidationError(_l("Not a domain: %(d)s", d=domain[:60]))
            if is_public_suffix(domain):
                raise ValidationError(_l("%(d)s is a public suffix (anyone can register under it): give the "
                                         "authority's own domain.", d=domain[:60]))

    def base_version_number(self) -> int | None:
        try:
            return int(self.base_version.data)
        except (TypeError, ValueError):
            return None

    def entry(self) -> dict:
        """The form as an interchange dict (key, State and last_verified are added by the service)."""
        laws = []
        for line in _lines(self.national_laws.data):
            title, _sep, url = (part.strip() for part in line.partition("|"))
            laws.append({"title": title, "url": url} if url else {"title": title})
        untoc = {"yes": True, "no": False}.get(self.accepts_untoc_as_legal_basis.data)
        return {
            "name": (self.name.data or "").strip(),
            "parent_body": (self.parent_body.data or "").strip(),
            "designations": list(dict.fromkeys(self.designations.data or [])),
            "address": (self.address.data or "").strip(),
            "phone": (self.phone.data or "").strip(),
            "email": (self.email.data or "").strip(),
            "email_domains": list(dict.fromkeys(d.lower() for d in _lines(self.email_domains.data))),
            "website": (self.website.data or "").strip(),
            "languages": list(dict.fromkeys(_words(self.languages.data))),
            "channels": list(dict.fromkeys(self.channels.data or [])),
            "accepts_untoc_as_legal_basis": untoc,
            "urgent_requests": (self.urgent_requests.data or "").strip(),
            "available_24_7": bool(self.available_24_7.data),
            "time_zone": (self.time_zone.data or "").strip(),
            "office_hours": (self.office_hours.data or "").strip(),
            "legal_requirements": (self.legal_requirements.data or "").strip(),
            "national_laws": laws,
            "treaties": list(dict.fromkeys(_lines(self.treaties.data))),
        }

    @staticmethod
    def initial(entry: dict, base_version: int) -> dict:
        """Form data from an interchange dict (the current entry, or a proposal being edited)."""
        untoc = entry.get("accepts_untoc_as_legal_basis")
        return {
            "base_version": str(base_version),
            "name": entry.get("name", ""),
            "parent_body": entry.get("parent_body", ""),
            "designations": list(entry.get("designations") or []),
            "address": entry.get("address", ""),
            "phone": entry.get("phone", ""),
            "email": entry.get("email", ""),
            "email_domains": "\n".join(entry.get("email_domains") or []),
            "website": entry.get("website", ""),
            "languages": " ".join(entry.get("languages") or []),
            "channels": list(entry.get("channels") or []),
            "accepts_untoc_as_legal_basis": "unknown" if untoc is None else ("yes" if untoc else "no"),
            "urgent_requests": entry.get("urgent_requests", ""),
            "available_24_7": bool(entry.get("available_24_7")),
            "time_zone": entry.get("time_zone", ""),
            "office_hours": entry.get("office_hours", ""),
            "legal_requirements": entry.get("legal_requirements", ""),
            "national_laws": "\n".join(f"{law.get('title', '')} | {law['url']}" if law.get("url")
                                       else law.get("title", "") for law in entry.get("national_laws") or []
                                       if isinstance(law, dict)),
            "treaties": "\n".join(entry.get("treaties") or []),
        }


class ApproveForm(Form):
    note = StringField(_l("Note to the focal point (optional)"),
                       validators=[Optional(), Length(max=2000), one_line])


class ReturnForm(Form):
    reason = TextAreaField(_l("Why is the change returned?"),
                           validators=[DataRequired(message=_l("Tell the focal point why the change is returned.")),
                                       Length(max=2000)], render_kw={"rows": 3},
                           description=_l("The focal point receives this by e-mail and can propose again."))


class ReconfirmForm(Form):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=1000), one_line])
