"""Showing a refused operation on its form: nothing of the request is kept, the message goes to its field. And the
validators every form shares: one line of text for names, titles and subjects; the URL rule for links."""
from __future__ import annotations

import re

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.validators import ValidationError

from network.core.db import mark_failed
from network.core.errors import DomainError
from network.core.security import FormCSRF
from network.core.text import code_point, first_control
from network.core.urls import url_problem

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def one_line(form, field) -> None:  # noqa: ARG001 (a WTForms validator)
    """A name, title or subject: one line of text, without CR, LF, NUL, U+2028 or a bidi override such as U+202E
    (network.core.text)."""
    found = first_control(field.data) if isinstance(field.data, str) else None
    if found is not None:
        raise ValidationError(_l("Write this on one line: remove the line break or invisible control character "
                                 "(%(code)s).", code=code_point(found)))


def one_item_per_line(form, field) -> None:  # noqa: ARG001 (a WTForms validator)
    """A list typed one item per line: each line is one line of text. Only CR and LF separate the items; a NUL, a
    line separator (U+2028) or a bidi override inside the text is refused, never taken as a separator."""
    for number, line in enumerate(_LINE_BREAK.split(str(field.data or "")), start=1):
        found = first_control(line)
        if found is not None:
            raise ValidationError(_l("Line %(n)d: write each item on one line, without invisible control "
                                     "characters (%(code)s).", n=number, code=code_point(found)))


def file_names(form, field) -> None:  # noqa: ARG001 (a WTForms validator for FileField and MultipleFileField)
    """Each uploaded file's name is one line of text: a name with a bidi override (report\u202efdp.exe shows as
    reportexe.pdf), a line break or a NUL is refused rather than silently changed."""
    uploads = field.data if isinstance(field.data, list) else [field.data]
    for upload in uploads:
        found = first_control(getattr(upload, "filename", None) or "")
        if found is not None:
            raise ValidationError(_l("Rename the file: its name holds a line break or an invisible control character "
                                     "(%(code)s), so it is not one line of text.", code=code_point(found)))


def link(form, field) -> None:  # noqa: ARG001 (a WTForms validator)
    """An address stored and shown as a link: the URL rule of network.core.urls (empty is left to Optional)."""
    value = (field.data or "").strip() if isinstance(field.data, str) else ""
    problem = url_problem(value) if value else None
    if problem:
        raise ValidationError(_l("This address %(problem)s.", problem=problem))


def show_domain_error(form, error: DomainError) -> None:
    """Roll the request back and put the error at its field (or at the top of the page when it names none)."""
    mark_failed()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "danger")


LARGEST_INTEGER = 2**31 - 1  # PostgreSQL's integer: a larger number cannot name a row, a count or a day


class Form(FlaskForm):
    """The base of every form of the platform, for what no field may hold whatever its own rules say: a NUL
    (U+0000) in text (no field needs one, and PostgreSQL cannot store one: it answered 500 where a field had no
    rule of its own), and a whole number beyond a database integer (it answered 500 where it named a row)."""

    class Meta:
        csrf_class = FormCSRF  # Flask-WTF's CSRF, its token signed once per session secret (network/core/security.py)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if field.errors:
                continue
            values = field.data if isinstance(field.data, list | tuple) else [field.data]
            if any(isinstance(value, str) and "\x00" in value for value in values):
                field.errors = [*field.errors, _l("Remove the NUL character (U+0000) from this field.")]
                valid = False
            elif any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > LARGEST_INTEGER for v in values):
                field.errors = [*field.errors, _l("This number is too large.")]
                valid = False
        return valid


class HelpWithSyntax:
    """A field's help (a lazy string) whose %(name)s placeholders are syntax a member types literally, the same in
    every language: shown as <code> (not translated, left to right) in the page, as plain text elsewhere."""

    def __init__(self, message, **syntax: str) -> None:
        self.message = message
        self.syntax = syntax

    def __str__(self) -> str:
        return str(self.message) % self.syntax

    def __html__(self) -> Markup:
        code = {name: Markup('<code dir="ltr">%s</code>') % text for name, text in self.syntax.items()}
        return escape(str(self.message)) % code
