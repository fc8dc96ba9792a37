"""Routes for the inbox, writing and reading conversations, the recovery key and the export of a conversation."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from network.core.access import current_member, ensure, requires
from network.core.db import db
from network.core.forms import show_domain_error
from network.members.access import is_member
from network.members.models import Member
from network.messaging import lifecycle, services
from network.messaging.forms import ComposeForm, RecoveryConfirmForm, ReplyForm, RestoreForm
from network.messaging.models import Conversation

bp = Blueprint("messages", __name__, url_prefix="/messages")


def _not_ready(member: Member):
    """Messaging needs the member's keys unlocked in this session and the recovery key confirmed."""
    if not lifecycle.has_session_keys(member):
        return render_template("messaging/locked.html")
    current = lifecycle.current_keys(member)
    if current is not None and current.recovery_confirmed_at is None:
        return redirect(url_for("messages.recovery_key"))
    return None


def _conversation_for(member: Member, conversation_id: int) -> Conversation:
    conversation = db.get_or_404(Conversation, conversation_id)
    ensure(services.is_participant(member, conversation))  # 404 for everyone else, moderators and admins included
    return conversation


def _handling(form) -> services.Handling:
    return services.Handling(confidential=form.confidential.data, limited_use=form.limited_use.data)


@bp.get("/")
@requires(is_member)
def inbox():
    member = current_member()
    if (stop := _not_ready(member)) is not None:
        return stop
    return render_template("messaging/inbox.html", rows=services.inbox(member))


@bp.route("/new", methods=["GET", "POST"])
@requires(is_member)
def compose():
    member = current_member()
    if (stop := _not_ready(member)) is not None:
        return stop
    people = services.possible_recipients(member)
    form = ComposeForm(people)
    if request.method == "GET" and request.args.get("to", "").isdigit():
        form.recipients.data = [int(request.args["to"])]
    if not form.validate_on_submit():
        return render_template("messaging/compose.html", form=form), 400 if request.method == "POST" else 200
    chosen = [m for m in people if m.id in set(form.recipients.data)]
    try:
        conversation = services.start_conversation(member, chosen, form.subject.data, form.text.data,
                                                   _handling(form), urgent=form.urgent.data)
    except services.MessagingError as error:
        show_domain_error(form, error)
        return render_template("messaging/compose.html", form=form), 400
    flash(_("Your message was encrypted and sent."), "success")
    return redirect(url_for("messages.conversation", conversation_id=conversation.id))


@bp.get("/<int:conversation_id>")
@requires(is_member)
def conversation(conversation_id: int):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    shown = services.read_conversation(member, found)
    people = [p.member for p in found.participants if p.member_id]
    subject = next((item.subject for item in shown[:1] if item.ok), None)
    return render_template("messaging/conversation.html", conversation=found, shown=shown, people=people,
                           subject=subject, form=ReplyForm())


@bp.post("/<int:conversation_id>/reply")
@requires(is_member)
def reply(conversation_id: int):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    form = ReplyForm()
    if not form.validate_on_submit():
        shown = services.read_conversation(member, found)
        people = [p.member for p in found.participants if p.member_id]
        subject = next((item.subject for item in shown[:1] if item.ok), None)
        return render_template("messaging/conversation.html", conversation=found, shown=shown, people=people,
                               subject=subject, form=form), 400
    try:
        services.reply(member, found, form.text.data, _handling(form), urgent=form.urgent.data)
    except services.MessagingError as error:
        show_domain_error(form, error)
        flash(error.message, "danger")
        return redirect(url_for("messages.conversation", conversation_id=found.id))
    flash(_("Your reply was encrypted and sent."), "success")
    return redirect(url_for("messages.conversation", conversation_id=found.id))


@bp.get("/<int:conversation_id>/export")
@requires(is_member)
def export(conversation_id: int):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    data = services.export_conversation(member, found)
    return Response(data, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="conversation-{found.id}.json"', "Cache-Control": "no-store"})


@bp.route("/recovery-key", methods=["GET", "POST"])
@requires(is_member)
def recovery_key():
    member = current_member()
    if not lifecycle.has_session_keys(member):
        return render_template("messaging/locked.html")
    shown = lifecycle.recovery_key_to_show(member)
    if shown is None:
        return redirect(url_for("messages.inbox"))
    form = RecoveryConfirmForm()
    if not form.validate_on_submit():
        return render_template("messaging/recovery_key.html", form=form, shown=shown), \
            400 if request.method == "POST" else 200
    try:
        lifecycle.confirm_recovery_key(member, form.group.data)
    except lifecycle.KeysError as error:
        form.group.errors = [error.message]
        return render_template("messaging/recovery_key.html", form=form, shown=shown), 400
    flash(_("Your recovery key is confirmed. It is not shown again."), "success")
    return redirect(url_for("messages.inbox"))


@bp.route("/restore", methods=["GET", "POST"])
@requires(is_member)
def restore():
    member = current_member()
    if not lifecycle.has_session_keys(member):
        return render_template("messaging/locked.html")
    form = RestoreForm()
    if not form.validate_on_submit():
        return render_template("messaging/restore.html", form=form), 400 if request.method == "POST" else 200
    try:
        lifecycle.restore_with_recovery_key(member, form.recovery_key.data, form.password.data)
    except lifecycle.KeysError as error:
        show_domain_error(form, error)
        return render_template("messaging/restore.html", form=form), 400
    flash(_("Your earlier keys are restored: messages sent to them are readable again."), "success")
    return redirect(url_for("messages.inbox"))
