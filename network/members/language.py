"""The language menu's two routes: a visitor's choice goes in a cookie, a member's in their profile as well.

Kept apart from the members' views because every page links here and nothing else does. It works without
JavaScript: a visitor follows a link (`GET /language/<code>?next=...`), which only sets a cookie in their own browser
(no server state, so a link is enough and public pages keep no per-visitor token, which would defeat their ETag);
a signed-in member submits a small form (`POST /language`, CSRF-protected), because it changes their profile.
Both send the reader back to the page they were on, through the members' same-site redirect check.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from network.core.access import current_member, public
from network.core.db import db
from network.core.errors import render_error
from network.core.forms import Form
from network.core.i18n import AUTONYMS, LANGUAGES, remember_language, served_languages
from network.members.models import Member
from network.members.views import _safe_next as safe_next

bp = Blueprint("language", __name__)


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=[SelectChoice(code, AUTONYMS[code]) for code in LANGUAGES],
                           validators=[DataRequired()])
    next = HiddenField()

    def validate_language(self, field) -> None:
        if field.data not in served_languages():
            from wtforms.validators import ValidationError

            raise ValidationError(_l("The platform is not available in this language yet."))


def choose_language(member: Member, language: str) -> None:
    """Store the member's interface language (pages on every device, and their e-mails). Not audited: it changes
    nothing anyone else sees and grants nothing."""
    if language not in served_languages():
        raise ValueError(f"not a served language: {language!r}")
    member.language = language
    db.session.flush()


@bp.get("/language/<code>")
@public
def switch(code: str):
    """A visitor's choice (a member's too, for this browser: their profile still wins, see `choose`)."""
    from flask import request

    if code not in served_languages():
        abort(404)
    return remember_language(redirect(safe_next(request.args.get("next"))), code)


@bp.post("/language")
@public
def choose():
    form = LanguageForm()
    if not form.validate_on_submit():
        problems = [str(error) for errors in form.errors.values() for error in errors]
        return render_error(400, " ".join(problems) or None)
    member = current_member()
    if member is not None:
        choose_language(member, form.language.data)
    return remember_language(redirect(safe_next(form.next.data)), form.language.data)
