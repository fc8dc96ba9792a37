"""Routes for the inbox, writing and reading conversations (with members and authority mailboxes), attachments,
mailbox access, key verification, reports to moderators, the recovery key and the export of a conversation."""
from __future__ import annotations

from babel.support import Translations
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from network.core import counters, translations
from network.core.access import current_member, ensure, requires
from network.core.db import db
from network.core.errors import refused_and_recorded
from network.core.filenames import disposition
from network.core.forms import show_domain_error
from network.core.i18n import isolate_filter, list_separator
from network.core.security import csrf_token
from network.directory.models import Authority
from network.forum.render import linked_plain_text, resolve_reference_titles, text_references
from network.members.access import is_member, is_moderator
from network.members.models import Member
from network.messaging import lifecycle, mailboxes, services, verification
from network.messaging import tasks as messaging_tasks
from network.messaging.forms import (
    ComposeForm,
    ConfirmForm,
    GrantForm,
    MailboxComposeForm,
    RecoveryConfirmForm,
    ReplyForm,
    ReportForm,
    RestoreForm,
)
from network.messaging.models import Conversation, Message, MessageReport

bp = Blueprint("messages", __name__, url_prefix="/messages")

UPLOAD_ENDPOINTS = {"messages.compose", "messages.reply", "messages.write_to_authority"}
FORM_ALLOWANCE = 256 * 1024  # the text fields of the form, beyond the files


def _upload_limit() -> None:
    """Forms that carry attachments may be far larger than MAX_CONTENT_LENGTH: raise the limit for them alone,
    before anything (the CSRF check) reads the body. Larger requests answer 413."""
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        config = current_app.config
        request.max_content_length = (int(config.get("MESSAGING_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))
                                      * int(config.get("MESSAGING_MAX_ATTACHMENTS", 5)) + FORM_ALLOWANCE)


def _register_upload_limit(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


bp.record_once(_register_upload_limit)


def _register_demo(state) -> None:
    from network.members.demo import register_loader
    from network.messaging.demo import load_demo_messaging

    register_loader(state.app, load_demo_messaging)


bp.record_once(_register_demo)  # `demo load` gives the demo accounts keys and a few conversations
bp.record_once(lambda state: messaging_tasks.register(state.app))  # the unread count in the navigation


@bp.app_context_processor
def messaging_helpers() -> dict:
    return {"authority_has_mailbox": mailboxes.has_mailbox, "authority_mailbox_state": mailboxes.state,
            # read with the bell's count, in one statement (network/core/counters.py)
            "messages_unread": lambda: counters.navigation_count(current_member(), "unread_messages")}


def _uploads() -> list[services.Upload]:
    return [services.Upload(filename=f.filename or "", stream=f.stream, content_type=f.mimetype or "")
            for f in request.files.getlist("attachments") if f and f.filename]


def _authority(key: str) -> Authority:
    found = db.session.scalar(select(Authority).where(Authority.key == key))
    if found is None:
        abort(404)
    return found


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
    return _inbox_page(archived=False)


@bp.get("/archived")
@requires(is_member)
def archived():
    return _inbox_page(archived=True)


def _inbox_page(archived: bool):
    member = current_member()
    if not lifecycle.has_session_keys(member):
        return render_template("messaging/locked.html")
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
    # Read before the readiness check (nothing is written until services.inbox): the listing with the inbox's total
    # and the archive's badge, with the key sets of the reader and of those who began the conversations listed (the
    # first messages' senders, whose keys verify the subjects) and the messages the page needs, in the same statement;
    # key sets not read there (a creator who left, a reader taking part only through a mailbox) in one more.
    listing = services.inbox_listing(member, page=page, per_page=services.INBOX_PAGE, archived=archived)
    lifecycle.key_sets_of({member.id} | {c.created_by_id for c in listing.conversations if c.created_by_id})
    if (stop := _not_ready(member)) is not None:
        return stop
    in_archive = listing.in_archive
    total = in_archive if archived else listing.in_inbox
    pages = max(1, -(-total // services.INBOX_PAGE))
    rows = services.inbox(member, page=page, per_page=services.INBOX_PAGE, archived=archived, listing=listing)
    return render_template("messaging/inbox.html", rows=rows, page=page, pages=pages, total=total, archived=archived,
                           in_archive=in_archive, inbox_rows=_inbox_rows,
                           confirm=TOKEN_ONLY)


def _row(bold: str, link: str, subject: str, urgent: str, people: str, mailbox: str, last_iso: str, last_text: str,
         unread: str, action: str, token: str, back: str, move: str) -> str:
    """One row of the inbox, every value escaped by the caller (an f-string: str.format parsed a template again for
    each row, at several times the cost)."""
    return f"""
    <tr class="{bold}">
      <td>
        <a href="{link}">{subject}</a>
        {urgent}
      </td>
      <td>{people}{mailbox}</td>
      <td><time datetime="{last_iso}Z">{last_text} UTC</time></td>
      <td>{unread}</td>
      <td class="text-end">
        <form method="post" action="{action}">
          {token}<input type="hidden" name="next" value="{back}">
          <button type="submit" class="btn btn-link btn-sm p-0">{move}</button>
        </form>
      </td>
    </tr>
  """


_ANY_ID = 918273645  # a conversation number to build the rows' addresses from (the row's own put in its place)


def _inbox_rows(rows: list, archived: bool, token: Markup) -> Markup:
    """The inbox's rows (the markup inbox.html held, in one pass rather than a template block per row), every value
    escaped: the subject (or why it cannot be shown) linked to the conversation, urgent, who else takes part and the
    mailbox, the last message's time, the unread count, and the button that archives it or brings it back."""
    undecrypted = _as_template(translations.gettext("(cannot be decrypted in this session)"))
    urgent_word, mailbox_word = (_as_template(translations.gettext("Urgent")),
                                 _as_template(translations.gettext("Mailbox")))
    urgent = f'<span class="badge text-bg-danger">{urgent_word}</span>'
    mailbox_badge = f'<span class="badge text-bg-secondary">{mailbox_word}</span>'
    move = _as_template(translations.gettext("Move to inbox")) if archived else _as_template(translations.gettext("Archive"))
    separator = str(escape(list_separator()))
    # the addresses escaped once (a conversation's number needs no escaping)
    link = str(escape(url_for("messages.conversation", conversation_id=_ANY_ID))).split(str(_ANY_ID))
    action = str(escape(url_for("messages.unarchive" if archived else "messages.archive",
                                conversation_id=_ANY_ID))).split(str(_ANY_ID))
    back = "archived" if archived else "inbox"
    out = []
    for row in rows:
        conversation = row.conversation
        people = separator.join(f"<bdi>{_text(person.name)}</bdi>" for person in row.people)
        mailbox = ""
        if row.mailbox:
            mailbox = f"{separator if row.people else ''}{mailbox_badge} <bdi>{_text(row.mailbox.name)}</bdi>"
        last_iso = conversation.last_message_at.isoformat()
        out.append(_row(
            "fw-bold" if row.unread else "", f"{link[0]}{conversation.id}{link[1]}",
            f"<bdi>{_text(row.subject)}</bdi>" if row.subject is not None else f"<em>{undecrypted}</em>",
            urgent if row.urgent else "", people, mailbox, last_iso, _minute(conversation.last_message_at, last_iso),
            f'<span class="badge text-bg-primary">{row.unread}</span>' if row.unread else "",
            f"{action[0]}{conversation.id}{action[1]}", token, back, move))
    return Markup("".join(out))  # noqa: S704 (every value escaped above)



@bp.post("/<int:conversation_id>/archive")
@requires(is_member)
def archive(conversation_id: int):
    return _shelve(conversation_id, services.archive,
                   _("The conversation was archived. A new message in it brings it back to your inbox."))


@bp.post("/<int:conversation_id>/unarchive")
@requires(is_member)
def unarchive(conversation_id: int):
    return _shelve(conversation_id, services.unarchive, _("The conversation is back in your inbox."))


def _shelve(conversation_id: int, action, done: str):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action(member, found)
    flash(done, "success")
    back = request.form.get("next", "")
    if back == "archived":
        return redirect(url_for("messages.archived"))
    if back == "conversation":
        return redirect(url_for("messages.conversation", conversation_id=found.id))
    return redirect(url_for("messages.inbox"))


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
                                                   _handling(form), urgent=form.urgent.data, uploads=_uploads())
    except services.MessagingError as error:
        show_domain_error(form, error)
        return render_template("messaging/compose.html", form=form), 400
    flash(_("Your message was encrypted and sent."), "success")
    return redirect(url_for("messages.conversation", conversation_id=conversation.id))


@bp.get("/<int:conversation_id>")
@requires(is_member)
def conversation(conversation_id: int):
    member = current_member()
    found, archived = services.conversation_for_reading(member, conversation_id)
    if found is None:
        abort(404)
    ensure(services.is_participant(member, found))  # 404 for everyone else, moderators and admins included
    verification.remember_keys_of(member, found)  # every key set the page reads, and the reader's marks (read with it)
    if (stop := _not_ready(member)) is not None:
        return stop
    return _conversation_page(member, found, None, archived=archived)


def _marked_like_last(shown: list) -> tuple[bool, bool]:
    """A fresh reply form carries the handling instructions of the message it answers (the conversation's latest
    message that verified), so a reply to a confidential request does not go out unmarked by oversight; the member
    may still untick them. (confidential, limited_use) as the form's boxes start."""
    last = next((item for item in reversed(shown) if item.ok and item.header), None)
    handling = (last.header.get("handling") or {}) if last else {}
    return bool(handling.get("confidential")), bool(handling.get("limited_use"))


class _BlankReplyForm:
    """The reply form with nothing typed in it (a conversation opened to read), its handling boxes ticked like the
    message it answers: built only if the template asks for its fields, which the kept fragment of those fields
    (cached_fragment) usually spares on every page (building the form cost more than the page's own markup)."""

    errors: dict = {}

    def __init__(self, confidential: bool, limited_use: bool) -> None:
        self._marks = (confidential, limited_use)
        self._form: ReplyForm | None = None

    def __getattr__(self, name: str):
        if self._form is None:
            form = self._form = ReplyForm()
            form.confidential.data, form.limited_use.data = self._marks
        return getattr(self._form, name)


def _conversation_page(member: Member, found: Conversation, form: ReplyForm | None, status: int = 200,
                       archived: bool | None = None):
    """The conversation's page; form None: a conversation opened to read, with the reply form blank (_BlankReplyForm)
    and marked like the last message (_marked_like_last); else the reply form as it was sent back."""
    shown = services.read_conversation(member, found)
    if form is None:
        confidential, limited_use = _marked_like_last(shown)
        form, carried, typed = _BlankReplyForm(confidential, limited_use), confidential or limited_use, False
    else:
        confidential, limited_use, carried = form.confidential.data, form.limited_use.data, False
        typed = bool(form.errors or form.text.data or form.urgent.data)
    # [[case:…]] and [[authority:…]] in the messages: links showing what the reader may see, one lookup for the page.
    titles = resolve_reference_titles(member, text_references([item.text for item in shown if item.ok]))
    subject = next((item.subject for item in shown[:1] if item.ok), None)
    # Each message's card (header, handling, text, files, footer, receipts) built here in one pass rather than by a
    # template block per message (its calls, escapes and look-ups per message cost more than the rest of the page).
    return render_template("messaging/conversation.html", conversation=found, subject=subject,
                           cards=_message_cards(member, found, shown, titles),
                           people=services.members_of(found), mailbox=services.mailbox_of(found),
                           form=form, reply_typed=typed, reply_confidential=confidential,
                           reply_limited_use=limited_use, handling_carried=carried,
                           changed_keys=verification.changed_keys(member, found, [item.message for item in shown]),
                           archived=services.is_archived(member, found) if archived is None else archived,
                           confirm=TOKEN_ONLY), status


class _TokenOnly:
    """What the inbox's and a conversation's buttons take of a ConfirmForm (the CSRF token alone): its hidden tag, the
    same markup, without building a form for every page shown (checked on the POST by ConfirmForm, as before)."""

    @staticmethod
    def hidden_tag() -> Markup:
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="{}">').format(csrf_token())


TOKEN_ONLY = _TokenOnly()


def _as_template(text: str) -> Markup:
    """A translated string of the interface as a template's `_()` gives it: the catalogue's text is markup, as Jinja
    takes it."""
    return Markup(text)  # noqa: S704 (the catalogue's own text, as in a template)


# catalogue -> the interface strings of the message cards, as a template's `_()` gives them (the catalogue's text is
# markup, as Jinja takes it): translated once per language and process, as network/core/translations.py keeps a
# template's literal strings
_CARD_TEXTS: dict = {}


def _card_texts() -> dict[str, Markup]:
    catalogue = translations.request_translations()
    found = _CARD_TEXTS.get(catalogue)
    if found is None:
        found = {name: _as_template(text) for name, text in {
            "verified": translations.gettext("Signature verified."),
            "report": translations.gettext("Report to the moderators"),
            "former": translations.gettext("Former member"), "urgent": translations.gettext("Urgent"),
            "encrypted": translations.gettext("encrypted"), "written_by": translations.gettext("written by %(name)s"),
            "confidential": translations.gettext("CONFIDENTIAL"),
            "confidential_text": translations.gettext(
                "the sender requests that this request and its content be kept confidential (art. 18 (20) of the "
                "Convention)."),
            "limited_use": translations.gettext("LIMITATION ON USE"),
            "limited_use_text": translations.gettext(
                "not to be transmitted or used for investigations, prosecutions or proceedings other than those "
                "stated without the prior consent of the sender (art. 18 (19) of the Convention)."),
            "recipient": translations.gettext("Recipient"), "delivered": translations.gettext("Delivered"),
            "read": translations.gettext("Read"),
            "proof": escape(translations.gettext("signed receipt verified")),
        }.items()}
        if isinstance(catalogue, Translations):  # not a throwaway null catalogue
            _CARD_TEXTS[catalogue] = found
    return found


def _text(value: str) -> str:
    """A plain text escaped as markupsafe.escape does it (the same five replacements, the same entities), as a str:
    for the cards' many short texts, where building a Markup for each cost more than the replacing."""
    return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


# The pieces of a message's card (the markup conversation.html held), as f-strings: str.format parsed its template
# again for each card, at several times the cost.
def _card(id: int, by: str, sent_iso: str, sent_text: str, urgent: str, body: str, receipts: str) -> str:
    return f"""\n    \n    <article class="card mb-3 message" id="message-{id}">
      <div class="card-header">
        <strong>{by}
        · <time datetime="{sent_iso}Z">{sent_text} UTC</time>
        {urgent}
      </div>
      <div class="card-body">
        {body}
        {receipts}
      </div>
    </article>
  """


def _body(confidential: str, limited_use: str, subject: str, text: str, files: str, verified: str,
          report: str) -> str:
    return f"""
          {confidential}
          {limited_use}
          {subject}
          <div class="message-text" dir="auto">{text}</div>
          {files}
          <p class="small text-success mb-0 mt-2">{verified}{report}</p>
        """


def _handling_note(label: str, text: str) -> str:
    return f"""
            <div class="alert alert-warning handling" role="note"><strong>{label}</strong> — {text}</div>
          """


def _files(items: str) -> str:
    return f"""
            <ul class="list-unstyled small mt-2 attachments">
            {items}
            </ul>
          """


def _file(link: str, name: str, size: float, encrypted: str) -> str:
    return f"""
              <li><a href="{link}">{name}</a> ({size} KB, {encrypted})</li>
            """


def _receipts(head: str, rows: str) -> str:
    return f"""
          <table class="table table-sm small mt-3 mb-0 receipts">
            {head}
            <tbody>
              {rows}
            </tbody>
          </table>
        """


def _message_cards(member: Member, found: Conversation, shown: list, titles) -> Markup:
    """The conversation's messages as the page shows them (the markup conversation.html held), every value escaped:
    who wrote (and for which mailbox), when, the handling instructions, the subject, the text (references linked),
    the files, the verified signature and the link to report, or the problem; the sender's receipts."""
    texts = _card_texts()
    verified, report_text, former = texts["verified"], texts["report"], texts["former"]
    urgent = f'<span class="badge text-bg-danger">{texts["urgent"]}</span>'
    confidential = _handling_note(texts["confidential"], texts["confidential_text"])
    limited_use = _handling_note(texts["limited_use"], texts["limited_use_text"])
    receipts_head = (f'<thead><tr><th scope="col">{texts["recipient"]}</th><th scope="col">{texts["delivered"]}'
                     f'</th><th scope="col">{texts["read"]}</th></tr></thead>')
    proved = f' <span class="text-success">({texts["proof"]})</span>'
    # The link to report a message: the same address but for the message's number at its end.
    to_report = url_for("messages.report", conversation_id=found.id, message_id=0)
    report_head = f' <a class="text-muted ms-2" href="{escape(to_report[:-1])}'
    reader_id = member.id
    authors: dict = {}  # (sender, mailbox written for) -> the card's "by", escaped once per page rather than per card
    cards = []
    for item in shown:
        m = item.message
        sender = m.sender
        on_behalf_of = item.on_behalf_of
        by = authors.get((sender, on_behalf_of))
        if by is None:
            if on_behalf_of:
                written_by = texts["written_by"] % {
                    "name": isolate_filter(sender.name) if sender else former}
                by = f"<bdi>{_text(on_behalf_of.name)}</bdi></strong> — {written_by}"
            else:
                by = f"<bdi>{_text(sender.name)}</bdi></strong>" if sender else f"{former}</strong>"
            authors[(sender, on_behalf_of)] = by
        if not item.problem:  # item.ok
            handling = item.header["handling"]
            files = ""
            if item.files:
                files = _files("".join(_file(
                    escape(url_for("messages.attachment", conversation_id=found.id, message_id=m.id, file_id=f["id"])),
                    _text(f["name"]), round(f["size"] / 1024, 1), texts["encrypted"]) for f in item.files))
            text = item.text
            body = _body(
                confidential if handling["confidential"] else "", limited_use if handling["limited_use"] else "",
                f'<h2 class="h5" dir="auto">{_text(item.subject)}</h2>' if item.subject else "",
                # a text without a reference ([[case:…]], [[authority:…]]) is the text escaped, as linked_plain_text
                # gives it
                linked_plain_text(text, titles) if "[[" in text else _text(text), files, verified,
                f'{report_head}{m.id}">{report_text}</a>' if m.sender_id != reader_id else "")
        else:
            body = f"""
          <div class="alert alert-danger mb-0" role="alert">{_text(item.problem)}</div>
        """
        receipts = _receipts(receipts_head, _receipt_rows(item.states, proved)) if item.states else ""
        sent_iso = m.sent_at.isoformat()
        cards.append(_card(m.id, by, sent_iso, _minute(m.sent_at, sent_iso), urgent if m.urgent else "", body,
                           receipts))
    return Markup("".join(cards))  # noqa: S704 (every value escaped above)


def _minute(at, iso: str | None = None) -> str:
    """at.strftime("%Y-%m-%d %H:%M"), cut from its ISO form (the same characters for the years 1000 to 9999, at a
    fraction of strftime's cost: a page of messages shows one per message and receipt). iso: at.isoformat(), when
    the caller has it."""
    if at.year < 1000:
        return at.strftime("%Y-%m-%d %H:%M")
    iso = iso or at.isoformat()
    return f"{iso[:10]} {iso[11:16]}"


def _receipt_rows(states: list[dict], proved: str) -> str:
    """The rows of a sender's receipts table (who, delivered, read: when, and whether a signed receipt verified),
    every value escaped. proved: the mark of a signed receipt that verified."""
    rows = []
    for state in states:
        at = state["delivered_at"]
        delivered = f'<td>{_minute(at)} UTC{proved if state["delivery_proof"] else ""}</td>' if at else "<td>—</td>"
        at = state["read_at"]
        read = f'<td>{_minute(at)} UTC{proved if state["read_proof"] else ""}</td>' if at else "<td>—</td>"
        rows.append(f'<tr>\n                <td><bdi>{_text(state["name"])}</bdi></td>\n                {delivered}{read}\n'
                    '              </tr>')
    return "\n              ".join(rows)


@bp.post("/<int:conversation_id>/reply")
@requires(is_member)
def reply(conversation_id: int):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    if (stop := _not_ready(member)) is not None:
        return stop
    form = ReplyForm()
    if not form.validate_on_submit():
        return _conversation_page(member, found, form, 400)
    try:
        services.reply(member, found, form.text.data, _handling(form), urgent=form.urgent.data, uploads=_uploads())
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
        # Kept: when this session had lost the key, recovery_key_to_show issued a new one (its wrap is stored)
        # and this page shows it; rolling back would leave a key on screen that opens nothing.
        refused_and_recorded(form, error, field="group")
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


# ---------------------------------------------------------------- attachments

@bp.get("/<int:conversation_id>/files/<int:message_id>/<file_id>")
@requires(is_member)
def attachment(conversation_id: int, message_id: int, file_id: str):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    message = db.get_or_404(Message, message_id)
    ensure(message.conversation_id == found.id)
    if (stop := _not_ready(member)) is not None:
        return stop
    try:
        download = services.open_attachment(member, found, message, file_id)
    except (services.MessagingError, services.MessagingCryptoError, lifecycle.SessionKeysUnavailable) as error:
        message_text = getattr(error, "message", None) or _("This attachment cannot be opened.")
        missing = message_text == _("No such attachment.")  # the error's text is in the page's language too
        return render_template("messaging/problem.html", problem=message_text), 404 if missing else 409
    # Verified whole above; streamed from the database chunk by chunk (any app server serves it).
    response = Response(stream_with_context(download.chunks()), mimetype="application/octet-stream")
    response.content_length = download.size
    response.headers.set("Content-Disposition", "attachment", **disposition(download.name))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- authority mailboxes

@bp.route("/authority/<key>", methods=["GET", "POST"])
@requires(is_member)
def write_to_authority(key: str):
    member = current_member()
    authority = _authority(key)
    if (stop := _not_ready(member)) is not None:
        return stop
    form = MailboxComposeForm()
    if not mailboxes.has_mailbox(authority):
        return render_template("messaging/write_authority.html", authority=authority, form=None,
                               state=mailboxes.state(authority)), 200
    if not form.validate_on_submit():
        return render_template("messaging/write_authority.html", authority=authority, form=form), \
            400 if request.method == "POST" else 200
    try:
        conversation = services.write_to_authority(member, authority, form.subject.data, form.text.data,
                                                   _handling(form), urgent=form.urgent.data, uploads=_uploads())
    except services.MessagingError as error:
        show_domain_error(form, error)
        return render_template("messaging/write_authority.html", authority=authority, form=form), 400
    flash(_("Your message was encrypted to the mailbox of %(name)s and sent.", name=authority.name), "success")
    return redirect(url_for("messages.conversation", conversation_id=conversation.id))


@bp.get("/mailboxes")
@requires(is_member)
def mailbox_list():
    member = current_member()
    held = [db.session.get(Authority, a) for a in sorted(mailboxes.held_authority_ids(member))]
    to_open = [a for a in (db.session.get(Authority, a) for a in sorted(member.focal_point_authority_ids()))
               if a is not None and mailboxes.can_open(member, a)]
    return render_template("messaging/mailboxes.html", held=held, to_open=to_open)


def _managed(member: Member, key: str) -> Authority:
    authority = _authority(key)
    ensure(mailboxes.can_manage(member, authority))
    return authority


@bp.get("/mailboxes/<key>")
@requires(is_member)
def mailbox(key: str):
    member = current_member()
    authority = _managed(member, key)
    if (stop := _not_ready(member)) is not None:
        return stop
    return render_template("messaging/mailbox.html", authority=authority, holders=mailboxes.holders(authority.id),
                           present=mailboxes.present_holders(authority.id), state=mailboxes.state(authority),
                           key=mailboxes.current_key(authority.id), can_open=mailboxes.can_open(member, authority),
                           grant_form=GrantForm(mailboxes.candidates(authority)), confirm=ConfirmForm())


def _mailbox_action(key: str, action):
    member = current_member()
    authority = _managed(member, key)
    if (stop := _not_ready(member)) is not None:
        return stop
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = action(member, authority)
    except mailboxes.MailboxError as error:
        show_domain_error(form, error)
        return redirect(url_for("messages.mailbox", key=authority.key))
    flash(message, "success")
    return redirect(url_for("messages.mailbox", key=authority.key))


@bp.post("/mailboxes/<key>/open")
@requires(is_member)
def mailbox_open(key: str):
    def act(member, authority):
        reopened = mailboxes.state(authority) == "unattended"
        mailboxes.open_mailbox(member, authority)
        if reopened:
            return _("The mailbox of %(name)s is open again, with a new key: members can write to it. Give it to your "
                     "colleagues.", name=authority.name)
        return _("The mailbox of %(name)s is open: members can now write to it.", name=authority.name)
    return _mailbox_action(key, act)


@bp.post("/mailboxes/<key>/grant")
@requires(is_member)
def mailbox_grant(key: str):
    def act(member, authority):
        form = GrantForm(mailboxes.candidates(authority))
        if not form.validate_on_submit():
            raise mailboxes.MailboxError(_("Choose a member of the authority."))
        recipient = db.session.get(Member, form.member.data)
        mailboxes.grant(member, authority, recipient)
        return _("%(name)s can now read the mailbox, its earlier messages included.", name=recipient.name)
    return _mailbox_action(key, act)


@bp.post("/mailboxes/<key>/remove/<int:member_id>")
@requires(is_member)
def mailbox_remove(key: str, member_id: int):
    def act(member, authority):
        leaving = db.get_or_404(Member, member_id)
        mailboxes.remove(member, authority, leaving)
        return _("%(name)s no longer holds the mailbox. Its key was renewed for new messages.", name=leaving.name)
    return _mailbox_action(key, act)


# ---------------------------------------------------------------- key verification

@bp.route("/verify/<int:member_id>", methods=["GET", "POST"])
@requires(is_member)
def verify(member_id: int):
    member = current_member()
    other = db.get_or_404(Member, member_id)
    ensure(other.id != member.id and other.is_vetted)
    comparison = verification.compare(member, other)
    ensure(comparison is not None)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        verification.mark_verified(member, other)
        flash(_("You marked %(name)s as verified.", name=other.name), "success")
        return redirect(url_for("messages.verify", member_id=other.id))
    return render_template("messaging/verify.html", comparison=comparison, form=form)


# ---------------------------------------------------------------- reports to moderators

@bp.route("/<int:conversation_id>/report/<int:message_id>", methods=["GET", "POST"])
@requires(is_member)
def report(conversation_id: int, message_id: int):
    member = current_member()
    found = _conversation_for(member, conversation_id)
    message = db.get_or_404(Message, message_id)
    ensure(message.conversation_id == found.id and message.sender_id != member.id)
    if (stop := _not_ready(member)) is not None:
        return stop
    shown = services._show(message, member, services.keyring(member, found))
    ensure(shown.ok)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("messaging/report.html", conversation=found, item=shown, form=form), \
            400 if request.method == "POST" else 200
    try:
        services.report_message(member, found, message, form.reason.data)
    except services.MessagingError as error:
        show_domain_error(form, error)
        return render_template("messaging/report.html", conversation=found, item=shown, form=form), 400
    flash(_("The message and its text were forwarded to the moderators."), "success")
    return redirect(url_for("messages.conversation", conversation_id=found.id))


@bp.get("/reports")
@requires(is_moderator)
def reports():
    return render_template("messaging/reports.html", reports=services.open_reports(), form=ConfirmForm())


@bp.post("/reports/<int:report_id>/resolve")
@requires(is_moderator)
def resolve_report(report_id: int):
    found = db.get_or_404(MessageReport, report_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.resolve_report(current_member(), found)
    flash(_("Report closed."), "success")
    return redirect(url_for("messages.reports"))
