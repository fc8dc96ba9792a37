"""Forms of the forum: topics, replies, edits, join requests and their decisions, moderation, subscriptions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from network.forum.services import BODY_MAX, REASON_MAX, TITLE_MAX

BODY_HELP = _l("Markdown: **bold**, *italic*, lists, > quotes, links. Mention a member with @[Full Name]; "
               "link a catalogue case with [[case:REFERENCE]] and a directory entry with [[authority:KEY]].")


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the topic a title.")),
                                                 Length(min=5, max=TITLE_MAX)],
                        description=_l("Say the problem in a line, e.g. \"Videoconference hearing of a witness in "
                                       "a State that has not yet received the request\"."))
    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write your message.")),
                                                    Length(max=BODY_MAX)], description=BODY_HELP,
                         render_kw={"rows": 8})
    is_question = BooleanField(_l("This is a question: I will mark the answer that solved it"))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(message=_l("Write your reply.")),
                                                       Length(max=BODY_MAX)], description=BODY_HELP,
                         render_kw={"rows": 8})


class EditForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("The message cannot be empty.")),
                                                    Length(max=BODY_MAX)],
                         description=_l("Readers can see the earlier text in the post's edit history."),
                         render_kw={"rows": 12})


class ButtonForm(FlaskForm):
    """A button that only needs its CSRF token."""


class SubscriptionForm(FlaskForm):
    level = RadioField(_l("Follow"), choices=[SelectChoice("watch", _l("Watch")), SelectChoice("default", _l("Default")),
                                              SelectChoice("mute", _l("Mute"))],
                       validators=[InputRequired(message=_l("Choose watch, default or mute."))])


class JoinForm(FlaskForm):
    message = TextAreaField(_l("Why you would like to join (optional)"), validators=[Optional(), Length(max=1000)],
                            description=_l("The group's moderators read it, e.g. your role in the network's work."))


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")), SelectChoice("refuse", _l("Refuse"))],
                          validators=[InputRequired(message=_l("Choose approve or refuse."))])
    reason = TextAreaField(_l("Reason (required to refuse; the member is told)"),
                           validators=[Optional(), Length(max=REASON_MAX)])


class ModerateTopicForm(FlaskForm):
    action = RadioField(_l("Action"), choices=[SelectChoice("lock", _l("Lock")), SelectChoice("unlock", _l("Unlock")), SelectChoice("pin", _l("Pin")),
                                               SelectChoice("unpin", _l("Unpin")), SelectChoice("hide", _l("Hide")), SelectChoice("unhide", _l("Show"))],
                        validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX)])


class HideForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the author is told)"),
                           validators=[DataRequired(message=_l("Give the reason: the author is told.")),
                                       Length(max=REASON_MAX)])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Words"), validators=[Optional(), Length(max=200)])
