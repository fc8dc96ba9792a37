"""Forms of the forum: topics, replies, edits, join requests and their decisions, moderation (flags, decisions,
notes, move, merge), subscriptions, notification preferences, and creating groups and spaces."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from network.core.forms import Form, HelpWithSyntax, file_names, one_line
from network.forum.services import (
    BODY_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    REASON_MAX,
    SLUG_MAX,
    SLUG_MIN,
    SLUG_PATTERN,
    TITLE_MAX,
)

BODY_HELP = HelpWithSyntax(_l("Markdown: **bold**, *italic*, lists, > quotes, links. Mention a member with @[Full Name]; "
                              "link a catalogue case with %(case)s and a directory entry with %(authority)s."),
                           case="[[case:REFERENCE]]", authority="[[authority:KEY]]")

ATTACHMENT_HELP = _l("PDF, PNG, JPEG, DOCX, XLSX, ODT or TXT, up to 10 MB. Readers of the topic can download it.")


class TopicForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the topic a title.")),
                                                 Length(min=5, max=TITLE_MAX), one_line],
                        description=_l("Say the problem in a line, e.g. \"Videoconference hearing of a witness in "
                                       "a State that has not yet received the request\"."))
    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write your message.")),
                                                    Length(max=BODY_MAX)], description=BODY_HELP,
                         render_kw={"rows": 8})
    is_question = BooleanField(_l("This is a question: I will mark the answer that solved it"))
    attachment = FileField(_l("Attach a file (optional)"), description=ATTACHMENT_HELP, validators=[file_names])


class ReplyForm(Form):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(message=_l("Write your reply.")),
                                                       Length(max=BODY_MAX)], description=BODY_HELP,
                         render_kw={"rows": 8})
    attachment = FileField(_l("Attach a file (optional)"), description=ATTACHMENT_HELP, validators=[file_names])


class EditForm(Form):
    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("The message cannot be empty.")),
                                                    Length(max=BODY_MAX)],
                         description=_l("Readers can see the earlier text in the post's edit history."),
                         render_kw={"rows": 12})


class ButtonForm(Form):
    """A button that only needs its CSRF token."""


class SubscriptionForm(Form):
    level = RadioField(_l("Follow"), choices=[SelectChoice("watch", _l("Watch")), SelectChoice("default", _l("Default")),
                                              SelectChoice("mute", _l("Mute"))],
                       validators=[InputRequired(message=_l("Choose watch, default or mute."))])


class JoinForm(Form):
    message = TextAreaField(_l("Why you would like to join (optional)"), validators=[Optional(), Length(max=1000)],
                            description=_l("The group's moderators read it, e.g. your role in the network's work."))


class DecisionForm(Form):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")), SelectChoice("refuse", _l("Refuse"))],
                          validators=[InputRequired(message=_l("Choose approve or refuse."))])
    reason = TextAreaField(_l("Reason (required to refuse; the member is told)"),
                           validators=[Optional(), Length(max=REASON_MAX)])


class ModerateTopicForm(Form):
    action = RadioField(_l("Action"), choices=[SelectChoice("lock", _l("Lock")), SelectChoice("unlock", _l("Unlock")), SelectChoice("pin", _l("Pin")),
                                               SelectChoice("unpin", _l("Unpin")), SelectChoice("hide", _l("Hide")), SelectChoice("unhide", _l("Show"))],
                        validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX), one_line])


class HideForm(Form):
    reason = TextAreaField(_l("Reason (the author is told)"),
                           validators=[DataRequired(message=_l("Give the reason: the author is told.")),
                                       Length(max=REASON_MAX)])


class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Words"), validators=[Optional(), Length(max=200)])


class FlagForm(Form):
    reason = TextAreaField(_l("What is wrong with this post? (the moderators read it)"),
                           validators=[DataRequired(message=_l("Say what is wrong with the post.")),
                                       Length(min=5, max=REASON_MAX)])


class FlagDecisionForm(Form):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("agree", _l("Agree: hide the post (the author is told why and can edit it)")),
        SelectChoice("disagree", _l("Disagree: close the flag")),
        SelectChoice("silence", _l("Agree and silence the author in the forum")),
        SelectChoice("suspend", _l("Agree and suspend the author's account (platform moderators)"))],
        validators=[InputRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(_l("Reason (the author is told; optional to disagree)"),
                           validators=[Optional(), Length(max=REASON_MAX)])
    days = IntegerField(_l("Days of silence"), validators=[Optional(), NumberRange(min=1, max=365)], default=7)


class NoteForm(Form):
    body = TextAreaField(_l("Note for the moderators (the member never sees it)"),
                         validators=[DataRequired(message=_l("Write the note first.")), Length(max=4000)])


class MoveForm(Form):
    space = SelectField(_l("Move to the space"), choices=[], validators=[InputRequired()])


class MergeForm(Form):
    target = IntegerField(_l("Merge into topic number"), validators=[InputRequired(), NumberRange(min=1)])


class PreferencesForm(Form):
    email_mode = RadioField(_l("E-mail me about forum activity"), choices=[
        SelectChoice("immediate", _l("Immediately, one e-mail for each")),
        SelectChoice("digest", _l("Once a day, in a digest")),
        SelectChoice("off", _l("Never (I look at the bell in the platform)"))],
        validators=[InputRequired(message=_l("Choose how to be told."))])


GROUP_ROLE_CHOICES = [SelectChoice("member", _l("Member")), SelectChoice("space_moderator", _l("Space moderator"))]


class GroupMemberForm(Form):
    email = StringField(_l("E-mail address of the vetted member"),
                        validators=[DataRequired(message=_l("Give the member's e-mail address.")), Email(),
                                    Length(max=254)])
    role = SelectField(_l("Role in the group"), choices=GROUP_ROLE_CHOICES, validators=[InputRequired()])


class GroupRoleForm(Form):
    role = SelectField(_l("Role"), choices=[*GROUP_ROLE_CHOICES, SelectChoice("remove", _l("Remove from the group"))],
                       validators=[InputRequired()])


SLUG_HELP = HelpWithSyntax(_l("Lowercase letters, digits and hyphens, e.g. %(example)s. It is part of the addresses "
                              "and cannot be changed later."), example="working-group-cyber")


def _slug_field() -> StringField:
    return StringField(_l("Short name (in addresses)"), description=SLUG_HELP, validators=[
        DataRequired(message=_l("Give the short name used in addresses.")),
        Length(min=SLUG_MIN, max=SLUG_MAX, message=_l("The short name has %(min)d to %(max)d characters.",
                                                      min=SLUG_MIN, max=SLUG_MAX)),
        Regexp(SLUG_PATTERN, message=_l("Use lowercase letters, digits and hyphens only (no spaces, no hyphen at "
                                        "either end), e.g. %(example)s.", example="working-group-cyber"))])


class GroupForm(Form):
    slug = _slug_field()
    name = StringField(_lp("forum group or space name", "Name"), validators=[DataRequired(message=_l("Give a name.")), Length(max=NAME_MAX),
                                               one_line],
                       description=_l("e.g. \"WACAP — West African network of central authorities and "
                                      "prosecutors\"."))
    description = TextAreaField(_l("Description (optional)"), validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                render_kw={"rows": 3})


ACCESS_CHOICES = [
    SelectChoice("open", _l("Open: every vetted member sees it, replies and starts topics")),
    SelectChoice("restricted", _l("Restricted (padlock): only the moderating group's members see it; others may ask "
                                  "to join"))]


class SpaceForm(Form):
    """Editing a space; the moderating group's choices are filled in by the view."""

    name = StringField(_lp("forum group or space name", "Name"),
                       validators=[DataRequired(message=_l("Give a name.")), Length(max=NAME_MAX), one_line])
    description = TextAreaField(_l("Description (optional)"), validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                description=_l("Shown under the space's name in the forum."), render_kw={"rows": 3})
    access = RadioField(_l("Who may see it"), choices=ACCESS_CHOICES, default="open",
                        validators=[InputRequired(message=_l("Choose open or restricted."))])
    group = SelectField(_l("Moderating group"), choices=[], validators=[Optional()],
                        description=_l("Its space moderators moderate the space and decide on requests to join. "
                                       "Required for a restricted space."))

    def validate_group(self, field) -> None:
        if self.access.data == "restricted" and not field.data:
            raise ValidationError(_l("A restricted space needs a moderating group: its members are the ones who "
                                     "see it."))


class NewSpaceForm(SpaceForm):
    slug = _slug_field()
