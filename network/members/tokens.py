"""A member's personal access tokens for the JSON API: list, create (shown once), revoke."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from network.core.access import current_member, ensure, requires
from network.core.api import (
    MAX_EXPIRY_DAYS,
    SCOPES,
    TokenError,
    issue_token,
    member_tokens,
    revoke_token,
    token_state,
)
from network.core.db import db
from network.core.forms import Form, one_line, show_domain_error
from network.members.access import is_member
from network.members.forms import ConfirmForm
from network.members.models import ApiToken

bp = Blueprint("tokens", __name__)


class TokenForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the token a name.")), Length(max=100),
                                               one_line],
                       description=_l("What the token is for, e.g. “Case statistics script”."))
    scopes = SelectMultipleField(_l("What it may do"), widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput(),
                                 validators=[DataRequired(message=_l("Choose at least one scope."))])
    expires_in_days = IntegerField(_l("Expires after (days)"), default=90,
                                   validators=[Optional(), NumberRange(min=1, max=MAX_EXPIRY_DAYS)],
                                   description=_l("Leave empty for a token that does not expire."))
    submit = SubmitField(_l("Create token"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = [(code, str(label)) for code, label in SCOPES.items()]


def _page(form: TokenForm, secret: str | None = None, status: int = 200, new_token: ApiToken | None = None):
    member = current_member()
    return render_template("members/tokens.html", form=form, tokens=member_tokens(member), scopes=SCOPES,
                           secret=secret, new_token=new_token, token_state=token_state,
                           revoke_form=ConfirmForm()), status


@bp.get("/account/tokens")
@requires(is_member)
def tokens():
    return _page(TokenForm(formdata=None))


@bp.post("/account/tokens")
@requires(is_member, fresh=True)
def create_token():
    """Minting a credential that outlives the session asks for a recent sign-in, like recovery codes do."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        token, secret = issue_token(current_member(), form.name.data, list(form.scopes.data or []),
                                    form.expires_in_days.data)
    except TokenError as error:
        show_domain_error(form, error)
        return _page(form, status=400)
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return _page(TokenForm(formdata=None), secret=secret, new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires(is_member)
def revoke(token_id: int):
    member = current_member()
    token = db.session.get(ApiToken, token_id)
    ensure(token is not None and token.member_id == member.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    revoke_token(token, member)
    flash(_("The token “%(name)s” was revoked.", name=token.name), "success")
    return redirect(url_for("tokens.tokens"))
