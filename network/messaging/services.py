"""Conversations: sending (one envelope per message), listing with metadata only, reading after verification,
signed delivery and read receipts, urgent notices that never carry content, export bundles."""
from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO, NamedTuple

from flask import current_app, has_request_context, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    event,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased, defer, joinedload

from network.core import audit, counters
from network.core.clock import utcnow
from network.core.db import db, kept_options
from network.core.errors import DomainError
from network.core.mail import queue_mail
from network.core.memo import request_memo, watch
from network.core.storage import BlobMissing, DatabaseStorage, FolderStorage
from network.directory.models import Authority
from network.members.models import Member
from network.messaging import kept, lifecycle, mailboxes, verification
from network.messaging import tasks as messaging_tasks
from network.messaging.bundle import dump_bundle, export_bundle
from network.messaging.envelope import (
    Envelope,
    OpenedMessage,
    Wrap,
    encrypt_message,
    encrypt_stream,
    iter_decrypt_stream,
    load_envelope,
    open_message,
)
from network.messaging.formats import (
    MessagingCryptoError,
    NotARecipient,
    StreamTampered,
    authority_slot,
    member_slot,
    utc_timestamp,
)
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys
from network.messaging.models import (
    MAX_PARTICIPANTS,
    Conversation,
    ConversationArchive,
    ConversationParticipant,
    KeyVerification,
    MemberKeys,
    Message,
    MessageRecipientState,
    MessageReport,
)
from network.messaging.receipts import ReceiptInvalid, sign_receipt, verify_receipt

MAX_SUBJECT = 200
MAX_TEXT = 20000


class MessagingError(DomainError):
    pass


def _unattended() -> MessagingError:
    return MessagingError(_("No officer of this authority reads its mailbox at present, so nothing can be sent to "
                            "it: no one could read it. Its focal points have been told; meanwhile, use the contact "
                            "details in the directory."))


@dataclass
class Handling:
    """The Convention's handling instructions, signed into every envelope."""

    confidential: bool = False  # art. 18 (20): confidentiality of the request
    limited_use: bool = False  # art. 18 (19): limitation on use

    def to_dict(self) -> dict:
        return {"confidential": self.confidential, "limited_use": self.limited_use}


# ---------------------------------------------------------------- access

def is_participant(member: Member, conversation: Conversation) -> bool:
    """Only the members addressed read a conversation, and the present holders of an authority mailbox addressed:
    no role (moderator, administrator) opens one otherwise."""
    return any(p.member_id == member.id or (p.authority_id and mailboxes.is_holder(member, p.authority_id))
               for p in conversation.participants)


def visible_conversations(member: Member, archived: bool | None = None):
    """The query of the member's conversations (their own and their mailboxes'), newest first: all of them, or
    only those in their inbox (archived=False), or only those they archived (archived=True)."""
    held = mailboxes.held_authority_ids(member)
    mine = select(ConversationParticipant.conversation_id).where(
        (ConversationParticipant.member_id == member.id) | ConversationParticipant.authority_id.in_(held or {0}))
    query = select(Conversation).where(Conversation.id.in_(mine))
    if archived is not None:
        shelved = _shelved(member)
        query = query.where(shelved if archived else ~shelved)
    return query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())


def _shelved(member: Member):
    """SQL condition: the member archived the conversation after its last message."""
    return exists().where(ConversationArchive.conversation_id == Conversation.id,
                          ConversationArchive.member_id == member.id,
                          ConversationArchive.archived_at >= Conversation.last_message_at)


class PersonRow:
    """A participant member as the messaging pages read them (id, name, status), a plain value rather than an ORM
    entity (building, tracking and expiring entities cost more than the rest of the listing; the pages change none)."""

    __slots__ = ("id", "name", "status")

    def __init__(self, id: int, name: str, status: str):
        self.id, self.name, self.status = id, name, status


class MailboxRow:
    """An authority mailbox taking part, as the messaging pages read it (id, key, name, state): see PersonRow."""

    __slots__ = ("id", "key", "name", "state")

    def __init__(self, id: int, key: str, name: str, state: str):
        self.id, self.key, self.name, self.state = id, key, name, state


class ParticipantRow:
    """A conversation's participant (a member or a mailbox) as the messaging pages read it: see PersonRow."""

    __slots__ = ("member_id", "authority_id", "member", "authority")

    def __init__(self, member_id: int | None, authority_id: int | None, member: PersonRow | None,
                 authority: MailboxRow | None):
        self.member_id, self.authority_id, self.member, self.authority = member_id, authority_id, member, authority


class ConversationRow:
    """A conversation as the inbox and the conversation's page read it (its columns and its participants, in their
    order), plain values: see PersonRow. Pages that change a conversation load the entity (views._conversation_for)."""

    __slots__ = ("id", "public_id", "created_by_id", "last_message_at", "participants", "message_rows")

    def __init__(self, id: int, public_id: str, created_by_id: int | None, last_message_at):
        self.id, self.public_id, self.created_by_id, self.last_message_at = id, public_id, created_by_id, last_message_at
        self.participants: list[ParticipantRow] = []
        # the messages' rows (_messages_statement's columns), when read with the conversation (conversation_for_reading)
        self.message_rows: list | None = None


def _participant_columns():
    """The columns of a participant joined to a conversation: who (member or mailbox) and the names shown."""
    p, m, a = ConversationParticipant.__table__.c, Member.__table__.c, Authority.__table__.c
    return (p.member_id, p.authority_id, m.name, m.status, a.key, a.name, a.state)


def _joined_participants(source, conversation_id):
    """source outer-joined with the conversation's participants, their members and their mailboxes."""
    p, m, a = ConversationParticipant.__table__.c, Member.__table__.c, Authority.__table__.c
    return (source.outerjoin(ConversationParticipant.__table__, p.conversation_id == conversation_id)
            .outerjoin(Member.__table__, m.id == p.member_id).outerjoin(Authority.__table__, a.id == p.authority_id))


def _add_participant(conversation: ConversationRow, people: dict, mailboxes_seen: dict, member_id, authority_id,
                     member_name, member_status, authority_key, authority_name, authority_state) -> None:
    """A participant row of _participant_columns added to its conversation (one PersonRow per member, one MailboxRow
    per mailbox, however many conversations they take part in)."""
    if member_id is None and authority_id is None:
        return  # a conversation without participants (the outer join's empty row)
    person = mailbox = None
    if member_id is not None and member_name is not None:
        person = people.get(member_id)
        if person is None:
            person = people[member_id] = PersonRow(member_id, member_name, member_status)
    if authority_id is not None and authority_name is not None:
        mailbox = mailboxes_seen.get(authority_id)
        if mailbox is None:
            mailbox = mailboxes_seen[authority_id] = MailboxRow(authority_id, authority_key, authority_name,
                                                                authority_state)
    conversation.participants.append(ParticipantRow(member_id, authority_id, person, mailbox))


def _typed_nulls(columns) -> list:
    """NULL in place of each column, of its type (the result converts the other branch of a UNION by it)."""
    return [type_coerce(null(), column.type) for column in columns]


class KeySetRow(NamedTuple):
    """A participant member's key set as the conversation's page reads it (a plain row, not a MemberKeys entity:
    building those for every row of the page's statement cost more than the statement): what lifecycle (key_sets,
    current_keys, public_keys) and verification.changed_keys read of it. Only this page's request holds these; the
    requests that change a key set read entities (lifecycle.key_sets)."""

    member_id: int
    key_version: int
    public_keys: str
    recovery_confirmed_at: datetime | None
    retired_at: datetime | None


class MarkRow(NamedTuple):
    """The reader's mark for a participant member (KeyVerification) as the page reads it: see KeySetRow."""

    other_id: int
    fingerprint: str


@functools.cache
def _conversation_statement():
    """conversation_for_reading's statement, built once per process (its cache key too): the values are bound. Each
    participant member joins their key sets (KeySetRow's columns, their wraps left out) and the reader's mark for them
    (MarkRow's): what verification.remember_keys_of would read in a statement of its own. The conversation's messages
    with their copies (_messages_statement's rows) follow in the same statement (UNION ALL, after a kind column): one
    round trip for the page, not one for the conversation and another for its messages. Those rows come only when the
    reader takes part as a member or a mailbox takes part (the caller still checks access, is_participant, before
    showing any). Plain columns throughout (no entity is built): kind, the conversation and participant (head), the
    key set, the mark, the message and copy."""
    c, archived = Conversation.__table__.c, ConversationArchive.__table__.c
    p, keys, marks = (ConversationParticipant.__table__.c, MemberKeys.__table__.c, KeyVerification.__table__.c)
    message, copy = Message.__table__.c, MessageRecipientState.__table__.c
    reader = bindparam("reading_member", type_=Integer)
    wanted = bindparam("reading_conversation", type_=Integer)
    source = Conversation.__table__.outerjoin(
        ConversationArchive.__table__, (archived.conversation_id == c.id) & (archived.member_id == reader))
    source = (_joined_participants(source, c.id)
              .outerjoin(MemberKeys.__table__, keys.member_id == p.member_id)
              .outerjoin(KeyVerification.__table__, (marks.member_id == reader) & (marks.other_id == p.member_id)))
    head = [c.id, c.public_id, c.created_by_id, c.last_message_at, archived.archived_at, p.id, *_participant_columns()]
    key_columns = [keys[name] for name in KeySetRow._fields]
    mark_columns = [marks[name] for name in MarkRow._fields]
    message_columns = [message.id, message.public_id, message.sender_id, message.sent_at, message.urgent,
                       message.envelope, copy.id, copy.slot, copy.member_id, copy.delivered_at, copy.read_at,
                       copy.delivery_receipt, copy.read_receipt]
    columns = [*head, *key_columns, *mark_columns]
    labelled = [f"c{n}" for n in range(len(columns) + len(message_columns))]

    def branch(kind: int, columns: list, first, second, source, where):
        return (select(literal_column(str(kind)).label("kind"),
                       *(column.label(name) for column, name in zip(columns, labelled, strict=True)),
                       first.label("first_order"), second.label("second_order"))
                .select_from(source).where(where))

    takes_part = exists().where(p.conversation_id == wanted, (p.member_id == reader) | p.authority_id.is_not(None))
    reading = union_all(
        branch(0, [*columns, *_typed_nulls(message_columns)], p.id, keys.key_version, source, c.id == wanted),
        branch(1, [*_typed_nulls(columns), *message_columns], message.id, copy.id,
               Message.__table__.outerjoin(MessageRecipientState.__table__, copy.message_id == message.id),
               (message.conversation_id == wanted) & takes_part)).subquery("reading")
    return (select(reading.c.kind, *(reading.c[name] for name in labelled))
            .order_by(reading.c.kind, reading.c.first_order, reading.c.second_order))


# Where each part starts in a row of _conversation_statement: kind, conversation (id, public id, creator, last message),
# the reader's archiving, participant (id, then _participant_columns), key set, mark, message and copy.
_READ_KEYS = 14
_READ_MARK = _READ_KEYS + len(KeySetRow._fields)
_READ_MESSAGE = _READ_MARK + len(MarkRow._fields)


def conversation_for_reading(reader: Member, conversation_id: int) -> tuple[ConversationRow | None, bool]:
    """The conversation, its participants with their members and mailboxes (names, not roles, authorities or
    designations), and whether the reader archived it (is_archived), in one statement, as plain rows
    (ConversationRow); (None, False) when there is no such conversation. Access is the caller's to check
    (is_participant). The same statement reads the participant members' key sets and the reader's marks for them
    (KeySetRow, MarkRow), kept for the request (verification.remember_keys_read) when the reader is one of them, and
    the conversation's messages with their copies (kept on the row for conversation_messages) when the reader may be
    one of its readers."""
    statement = _conversation_statement()
    rows = db.session.execute(statement, {"reading_conversation": conversation_id, "reading_member": reader.id},
                              execution_options=kept_options(statement)).all()
    if not rows or rows[0][0] != 0:
        return None, False
    conversation = ConversationRow(*rows[0][1:5])
    conversation.message_rows = []
    people: dict = {}
    seen: dict = {}
    participant_ids: set = set()
    key_sets: list[KeySetRow] = []
    marks: dict = {}
    for row in rows:
        if row[0] != 0:
            conversation.message_rows.append(row[_READ_MESSAGE:])
            continue
        if row[6] not in participant_ids:
            participant_ids.add(row[6])
            _add_participant(conversation, people, seen, *row[7:_READ_KEYS])
        if row[_READ_KEYS] is not None:
            key_sets.append(KeySetRow(*row[_READ_KEYS:_READ_MARK]))
        if row[_READ_MARK] is not None:
            marks[row[_READ_MARK]] = MarkRow(*row[_READ_MARK:_READ_MESSAGE])
    members = {p.member_id for p in conversation.participants if p.member_id}
    if reader.id in members:
        verification.remember_keys_read(reader, members, key_sets, marks)
    archived_at = rows[0][5]
    return conversation, archived_at is not None and archived_at >= conversation.last_message_at


def is_archived(member: Member, conversation: Conversation) -> bool:
    row = db.session.scalar(select(ConversationArchive).where(ConversationArchive.conversation_id == conversation.id,
                                                              ConversationArchive.member_id == member.id))
    return row is not None and row.archived_at >= conversation.last_message_at


def archive(member: Member, conversation: Conversation) -> None:
    """Out of the member's inbox (and no one else's) until a newer message arrives. Nothing is deleted: the
    envelopes, receipts and the other participants' views stay as they are."""
    if not is_participant(member, conversation):
        raise MessagingError(_("You are not in this conversation."))
    row = db.session.scalar(select(ConversationArchive).where(ConversationArchive.conversation_id == conversation.id,
                                                              ConversationArchive.member_id == member.id))
    when = max(utcnow(), conversation.last_message_at)
    if row is None:
        db.session.add(ConversationArchive(conversation_id=conversation.id, member_id=member.id, archived_at=when))
    else:
        row.archived_at = when
    db.session.flush()


def unarchive(member: Member, conversation: Conversation) -> None:
    """Back in the member's inbox."""
    if not is_participant(member, conversation):
        raise MessagingError(_("You are not in this conversation."))
    db.session.execute(ConversationArchive.__table__.delete().where(
        ConversationArchive.conversation_id == conversation.id, ConversationArchive.member_id == member.id))


def mailbox_of(conversation: Conversation) -> Authority | None:
    """The authority whose mailbox a conversation is addressed to, if any."""
    return next((p.authority for p in conversation.participants if p.authority_id), None)


def members_of(conversation: Conversation) -> list[Member]:
    return [p.member for p in conversation.participants if p.member_id]


def possible_recipients(member: Member) -> list[Member]:
    """Vetted members with messaging keys, other than the member."""
    with_keys = select(MemberKeys.member_id).where(MemberKeys.retired_at.is_(None))
    return list(db.session.scalars(
        select(Member).where(Member.status == "active", Member.id != member.id, Member.id.in_(with_keys))
        .order_by(Member.name)))


# ---------------------------------------------------------------- sending

def _public_of(member: Member) -> MemberPublicKeys:
    keys = lifecycle.current_keys(member)
    if keys is None or member.status != "active":
        raise MessagingError(_("%(name)s cannot receive encrypted messages yet: they need to sign in once.",
                               name=member.name), field="recipients")
    return lifecycle.public_keys(keys)


def _publics_of(members: list[Member]) -> dict[str, MemberPublicKeys]:
    """Each member's current public keys, in one query (the newest set not retired)."""
    if not members:
        return {}
    rows = db.session.scalars(select(MemberKeys).where(MemberKeys.member_id.in_([m.id for m in members]),
                                                       MemberKeys.retired_at.is_(None))
                              .order_by(MemberKeys.key_version))
    newest = {row.member_id: row for row in rows}
    found = {}
    for member in members:
        row = newest.get(member.id)
        if row is None or member.status != "active":
            _public_of(member)  # raises the message that names the member
        found[member_slot(member.id)] = lifecycle.public_keys(row)
    return found


def _body(subject: str, text: str, files: list[dict] | None = None) -> bytes:
    body = {"subject": subject, "text": text}
    if files:
        body["files"] = files  # names and types are content: encrypted, never in the clear header
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass
class Upload:
    """A file to attach: a display name, a declared type (never trusted for serving) and a readable stream."""

    filename: str
    stream: IO[bytes]
    content_type: str = "application/octet-stream"


_FILE_ID_RE = re.compile(r"f-[0-9a-f]{32}")
ATTACHMENT_CHUNK_SIZE = 256 * 1024  # one sealed chunk is one piece of storage (network/core/storage.PIECE_SIZE)


def attachment_storage() -> DatabaseStorage:
    """Where encrypted attachments live: the database, in sealed 256 KiB chunks, so every app server serves them."""
    return DatabaseStorage()


def legacy_attachment_files() -> FolderStorage:
    """The instance folder where releases before issue 16 wrote attachments. Read only for what `flask --app app
    messaging attachments migrate` has not carried into the database yet; nothing new is written there."""
    return FolderStorage(current_app.config.get("MESSAGING_FILES_FOLDER")
                         or Path(current_app.instance_path) / "messaging-files")


def _open_sealed(file_id: str) -> BinaryIO:
    """The sealed attachment: from the database, else from the legacy folder. Raises BlobMissing."""
    if not _FILE_ID_RE.fullmatch(file_id):
        raise MessagingError("not an attachment id")
    try:
        return attachment_storage().open(file_id)
    except BlobMissing:
        return legacy_attachment_files().open(file_id)


def _discard(file_ids: list[str]) -> None:
    """Take back attachments written by a send that failed (a rollback would too; a caller may not roll back)."""
    store = attachment_storage()
    for file_id in file_ids:
        store.delete(file_id)


def _encrypt_uploads(uploads: list[Upload]) -> tuple[list[tuple[dict, bytes]], list[dict], list[str]]:
    """Each file encrypted in chunks straight into the database's storage, one sealed chunk at a time; returns the
    (stream header, key) pairs, the descriptions that go into the encrypted body, and the ids written."""
    from network.core.filenames import clean_filename

    limit = int(current_app.config.get("MESSAGING_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))
    if len(uploads) > int(current_app.config.get("MESSAGING_MAX_ATTACHMENTS", 5)):
        raise MessagingError(_("Attach at most %(n)d files to one message.",
                               n=int(current_app.config.get("MESSAGING_MAX_ATTACHMENTS", 5))), field="attachments")
    store = attachment_storage()
    pairs, described, written = [], [], []
    try:
        for upload in uploads:
            file_id = f"f-{uuid.uuid4().hex}"
            written.append(file_id)
            with store.writer(file_id) as dst:
                key, header = encrypt_stream(_Limited(upload.stream, limit), dst, file_id=file_id,
                                             chunk_size=ATTACHMENT_CHUNK_SIZE)
            pairs.append((header, key))
            described.append({"id": file_id, "name": clean_filename(upload.filename) or "attachment",
                              "type": (upload.content_type or "application/octet-stream")[:100],
                              "size": header["size"]})
    except _TooLarge as error:
        _discard(written)
        raise MessagingError(_("Each attachment may be at most %(size)s.", size=_size(limit)),
                             field="attachments") from error
    return pairs, described, written


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


class _TooLarge(Exception):
    pass


class _Limited:
    """Reads a stream and refuses it once it passes the limit (before the whole file has been encrypted)."""

    def __init__(self, stream: IO[bytes], limit: int):
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.left -= len(data)
        if self.left < 0:
            raise _TooLarge
        return data


def _store(conversation: Conversation, sender: Member, private: MemberPrivateKeys, recipients: list[Member],
           subject: str, text: str, handling: Handling, urgent: bool, *, authority: Authority | None = None,
           on_behalf_of: Authority | None = None, uploads: list[Upload] | None = None) -> Message:
    now = utcnow()
    message_id = f"m-{uuid.uuid4().hex}"
    keys = _publics_of(recipients)
    if authority is not None:
        mailbox_key = mailboxes.current_key(authority.id)
        if mailbox_key is None:
            raise MessagingError(_("This authority has not opened its mailbox yet."))
        if not mailboxes.present_holders(authority.id):
            raise _unattended()
        keys[authority_slot(authority.id)] = mailboxes.public_key(mailbox_key)
    header = {"message_id": message_id, "conversation_id": conversation.public_id, "sent_at": utc_timestamp(now),
              "handling": handling.to_dict(), "urgent": bool(urgent)}
    if on_behalf_of is not None:
        header["on_behalf_of"] = authority_slot(on_behalf_of.id)
    attachments, described, written = _encrypt_uploads(uploads or [])
    try:
        envelope = encrypt_message(header, _body(subject, text, described), member_slot(sender.id), private, keys,
                                   attachments=attachments)
    except BaseException:
        _discard(written)
        raise
    message = Message(public_id=message_id, conversation=conversation, sender_id=sender.id, sent_at=now,
                      urgent=bool(urgent), envelope=envelope.to_bytes())
    db.session.add(message)
    for recipient in recipients:
        message.states.append(MessageRecipientState(slot=member_slot(recipient.id), member_id=recipient.id))
    if authority is not None:
        message.states.append(MessageRecipientState(slot=authority_slot(authority.id)))
    conversation.last_message_at = now
    db.session.flush()
    if urgent:
        notified = list(recipients)
        if authority is not None:
            notified += [m for m in mailboxes.present_holders(authority.id)
                         if m.id != sender.id and m not in notified]
        for recipient in notified:
            # Who wrote, never what: the notice carries no subject and no text.
            queue_mail(recipient.email, _l("Urgent message from %(name)s", name=sender.name), "messaging/urgent",
                       recipient=recipient, sender=sender,
                       link=url_for("messages.conversation", conversation_id=conversation.id, _external=True))
    audit.record("messaging.sent", conversation, actor=sender, message=message_id, recipients=len(recipients),
                 urgent=bool(urgent))
    return message


def start_conversation(sender: Member, recipients: list[Member], subject: str, text: str, handling: Handling,
                       urgent: bool = False, *, private: MemberPrivateKeys | None = None,
                       uploads: list[Upload] | None = None) -> Conversation:
    """A new direct or group conversation and its first message. `private`: the sender's current private keys
    (by default, those unlocked in the sender's session)."""
    recipients = [m for m in dict.fromkeys(recipients) if m.id != sender.id]
    if not recipients:
        raise MessagingError(_("Choose at least one recipient."), field="recipients")
    if len(recipients) + 1 > MAX_PARTICIPANTS:
        raise MessagingError(_("A conversation has at most %(n)d participants, you included.", n=MAX_PARTICIPANTS),
                             field="recipients")
    if private is None:
        _current, private = lifecycle.current_private(sender)
    conversation = Conversation(public_id=f"c-{uuid.uuid4().hex}", kind="direct" if len(recipients) == 1 else "group",
                                created_by_id=sender.id, created_at=utcnow())
    for person in [sender, *recipients]:
        conversation.participants.append(ConversationParticipant(slot=member_slot(person.id), member_id=person.id))
    db.session.add(conversation)
    db.session.flush()
    _store(conversation, sender, private, recipients, subject, text, handling, urgent, uploads=uploads)
    return conversation


def write_to_authority(sender: Member, authority: Authority, subject: str, text: str, handling: Handling,
                       urgent: bool = False, *, uploads: list[Upload] | None = None,
                       private: MemberPrivateKeys | None = None) -> Conversation:
    """A new conversation with an authority's mailbox: encrypted to the mailbox's current key, which every present
    holder can open; later holders receive the key with its history."""
    if mailboxes.state(authority) == "unattended":
        raise _unattended()
    if not mailboxes.has_mailbox(authority):
        raise MessagingError(_("This authority has not opened its mailbox yet."))
    if private is None:
        _current, private = lifecycle.current_private(sender)
    conversation = Conversation(public_id=f"c-{uuid.uuid4().hex}", kind="mailbox", created_by_id=sender.id,
                                created_at=utcnow())
    conversation.participants.append(ConversationParticipant(slot=member_slot(sender.id), member_id=sender.id))
    conversation.participants.append(ConversationParticipant(slot=authority_slot(authority.id),
                                                             authority_id=authority.id))
    db.session.add(conversation)
    db.session.flush()
    _store(conversation, sender, private, [], subject, text, handling, urgent, authority=authority, uploads=uploads)
    return conversation


def reply(sender: Member, conversation: Conversation, text: str, handling: Handling, urgent: bool = False, *,
          uploads: list[Upload] | None = None, private: MemberPrivateKeys | None = None) -> Message:
    """A reply from a participant, or from a holder of the mailbox addressed (signed by that holder, on behalf of
    the authority: readers see both). `private`: the sender's current private keys (by default, the session's)."""
    if not is_participant(sender, conversation):
        raise MessagingError(_("You are not in this conversation."))
    if private is None:
        _current, private = lifecycle.current_private(sender)
    authority = mailbox_of(conversation)
    in_person = any(p.member_id == sender.id for p in conversation.participants)
    recipients = [m for m in members_of(conversation) if m.id != sender.id]
    return _store(conversation, sender, private, recipients, "", text, handling, urgent, authority=authority,
                  on_behalf_of=authority if authority is not None and not in_person else None, uploads=uploads)


# ---------------------------------------------------------------- reading

@dataclass
class ShownMessage:
    """A message as its reader sees it: text only if the signature verified and the body decrypted."""

    message: Message
    header: dict | None = None
    subject: str = ""
    text: str = ""
    files: list[dict] = field(default_factory=list)
    problem: str = ""
    states: list[dict] = field(default_factory=list)  # for the sender: per recipient, delivered/read, proof checked
    on_behalf_of: Authority | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass
class Keyring:
    """The slots a reader opens messages with, in this session: their own, and each mailbox they hold."""

    reader: Member
    member_privates: dict[int, MemberPrivateKeys]
    authorities: dict[int, dict] = field(default_factory=dict)  # authority id -> {key_version: private}

    def slots(self) -> list[tuple[str, dict]]:
        return [(member_slot(self.reader.id), self.member_privates)] + [
            (authority_slot(authority_id), versions) for authority_id, versions in self.authorities.items()]

    def held_slots(self) -> set[str]:
        return {authority_slot(authority_id) for authority_id in self.authorities}


def keyring(reader: Member, conversation: Conversation | None = None,
            privates: dict[int, MemberPrivateKeys] | None = None) -> Keyring:
    ring = Keyring(reader=reader, member_privates=privates if privates is not None
                   else lifecycle.session_private_keys(reader))
    authority_ids = ({p.authority_id for p in conversation.participants if p.authority_id} if conversation is not None
                     else mailboxes.held_authority_ids(reader))
    for authority_id in authority_ids:
        if mailboxes.is_holder(reader, authority_id):
            ring.authorities[authority_id] = mailboxes.authority_privates(reader, authority_id, ring.member_privates)
    return ring


def _keys_for(ring: Keyring | dict, reader: Member) -> Keyring:
    return ring if isinstance(ring, Keyring) else Keyring(reader=reader, member_privates=ring)


def stored_envelope(message: Message) -> Envelope:
    """The message's envelope, parsed once per loaded row and request (parsing validates every field)."""
    cached = message.__dict__.get("_parsed_envelope")
    if cached is not None and cached[0] is message.envelope:
        return cached[1]
    envelope = load_envelope(message.envelope)
    message.__dict__["_parsed_envelope"] = (message.envelope, envelope)
    return envelope


# (member id, key version) -> MemberPublicKeys, for one request (on the request, not in flask.g: an application
# context may outlive a request, and a key set replaced in the database must be read again at the next one)
PUBLIC_KEYS_CACHE = watch("messaging_public_keys", MemberKeys)


def _member_public(member_id: int, key_version: int, cache: dict | None = None) -> MemberPublicKeys | None:
    """A member's public keys of one version, looked up once per request. cache: request_memo(PUBLIC_KEYS_CACHE), when
    the caller looks up many while nothing changes in the session (read_conversation)."""
    if cache is None:
        cache = request_memo(PUBLIC_KEYS_CACHE)
    if (member_id, key_version) not in cache:
        keys = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == member_id,
                                                          MemberKeys.key_version == key_version))
        cache[(member_id, key_version)] = lifecycle.public_keys(keys) if keys is not None else None
    return cache[(member_id, key_version)]


def _sender_public(message: Message, envelope: Envelope, cache: dict | None = None) -> MemberPublicKeys:
    if envelope.header["sender"] != member_slot(message.sender_id or 0):
        raise MessagingError("the envelope names another sender")
    keys = _member_public(message.sender_id, envelope.header["sender_key_version"], cache)
    if keys is None:
        raise MessagingError("the sender's key is unknown")
    return keys


def _reader_slot(envelope: Envelope, ring: Keyring, slots: list[tuple[str, dict]] | None = None) -> tuple[str, dict]:
    """The reader's slot in the envelope and its private keys. slots: ring.slots(), when the caller opens several
    messages (computed here otherwise)."""
    present = {w.slot for w in envelope.wraps}
    for slot, privates in ring.slots() if slots is None else slots:
        if slot in present:
            return slot, privates
    raise NotARecipient("this message holds no key for the reader")


def open_stored(message: Message, reader: Member, privates: Keyring | dict[int, MemberPrivateKeys]) -> OpenedMessage:
    """Verify the sender's signature, then decrypt the reader's copy (their own, or their mailbox's). Raises on any
    failure."""
    ring = _keys_for(privates, reader)
    envelope = stored_envelope(message)
    slot, slot_privates = _reader_slot(envelope, ring)
    opened = open_message(envelope, slot, slot_privates, _sender_public(message, envelope),
                          expected_message_id=message.public_id,
                          expected_conversation_id=message.conversation.public_id)
    _check_stored_metadata(message, opened.header)
    return opened


KEPT_SEALER = "messaging_kept_sealer"  # member id -> (session token, kept.Sealer), for one request


def _kept_sealer(reader: Member) -> kept.Sealer | None:
    """This session's key for the plaintexts it keeps (network/messaging/kept.py); None outside a signed-in request,
    and then nothing is kept."""
    token = getattr(session, "token", None) if has_request_context() else None
    if not token:
        return None
    memo = request_memo(KEPT_SEALER)
    found = memo.get(reader.id)
    if found is None or found[0] != token:
        found = memo[reader.id] = (token, kept.Sealer(token, reader.id))
    return found[1]


def _opened_for_reading(message: Message, reader: Member, ring: Keyring, keep: bool = True,
                        sealer: kept.Sealer | None = None, publics: dict | None = None,
                        slots: list[tuple[str, dict]] | None = None,
                        found: tuple[Envelope, str, Wrap] | None = None) -> tuple[dict, bytes]:
    """The signed header and the decrypted body, for showing: as open_stored does it, or as this session verified and
    decrypted it before (kept in this process's memory, sealed under the session, keyed by the exact envelope, the
    reader's slot and key version and the sender's key: network/messaging/kept.py). The clear columns are checked
    against the signed header every time. Raises as open_stored does. sealer: _kept_sealer(reader), and publics: the
    request's memo of public keys, and slots: ring.slots(), when the caller opens several messages (looked up here
    otherwise); found: the message's envelope, the reader's slot in it and its wrap, as _reading_slot found them."""
    if not keep:
        sealer = None
    elif sealer is None:
        sealer = _kept_sealer(reader)
    if sealer is None:
        opened = open_stored(message, reader, ring)
        return opened.header, opened.body
    if found is None:
        envelope = stored_envelope(message)
        slot, _privates = _reader_slot(envelope, ring, slots)
        wrap = envelope.wrap_for(slot)
    else:
        envelope, slot, wrap = found
    sender = _sender_public(message, envelope, publics)
    key = (reader.id, message.id, message.public_id, message.conversation.public_id, envelope.digest(), slot,
           wrap.key_version, message.sender_id, sender.key_version, sender.fingerprint, sealer.key_id)
    body = kept.PLAINTEXTS.get(key, sealer)
    if body is not None:
        _check_stored_metadata(message, envelope.header)
        return envelope.header, body
    opened = open_stored(message, reader, ring)
    kept.PLAINTEXTS.put(key, sealer, opened.body)
    return opened.header, opened.body


@event.listens_for(Message, "after_delete")
def _forget_deleted(_mapper, _connection, message: Message) -> None:
    """A deleted message's plaintext is not kept in this process (another process's copy is keyed by the envelope
    and only ever looked up for a row the database still holds)."""
    kept.PLAINTEXTS.forget_message(message.id)


def _check_stored_metadata(message: Message, header: dict) -> None:
    """The clear columns the server uses must agree with the signed header: a changed column is tampering too."""
    recipients = sorted(state.slot for state in message.states)
    if (header["sender"] != member_slot(message.sender_id or 0) or bool(header["urgent"]) != bool(message.urgent)
            or header["recipients"] != recipients):
        raise MessagingError("the stored metadata differs from what the sender signed")


# Lazy, so that the extractor finds them (`_(a_variable)` never reaches the catalogue); translated where they are shown.
_MISSING_MEMBER = _l("This message was encrypted to keys you had before a password reset. Enter your recovery key "
                     "to read it.")
_MISSING_MAILBOX = _l("This message was encrypted to a version of the mailbox key that you do not hold.")


def _show(message: Message, reader: Member, ring: Keyring, keep: bool = True,
          sealer: kept.Sealer | None = None, publics: dict | None = None,
          slots: list[tuple[str, dict]] | None = None,
          found: tuple[Envelope, str, Wrap] | None = None) -> ShownMessage:
    """The message as the reader sees it (keep=False: verified and decrypted now, not as kept from before)."""
    shown = ShownMessage(message=message)
    try:
        header, body = _opened_for_reading(message, reader, ring, keep, sealer, publics, slots, found)
        content = json.loads(body.decode("utf-8"))
        shown.header, shown.subject, shown.text = header, str(content.get("subject", "")), str(content["text"])
        files = content.get("files", [])
        signed_ids = [item["file_id"] for item in header.get("attachments", [])]
        if [f["id"] for f in files] != signed_ids:
            raise MessagingError("the attachments listed differ from those signed")
        shown.files = [{"id": f["id"], "name": str(f["name"]), "size": int(f["size"])} for f in files]
        if "on_behalf_of" in header:
            authority_id = int(header["on_behalf_of"].split(":", 1)[1])
            shown.on_behalf_of = db.session.get(Authority, authority_id)
    except lifecycle.SessionKeysUnavailable:
        shown.problem = str(_MISSING_MEMBER)
    except (MessagingCryptoError, MessagingError, ValueError, KeyError, TypeError, IndexError):
        shown.problem = _("This message failed verification: it was changed after it was sent or is not from the "
                          "member it names. Nothing of it is shown.")
    return shown


def _missing_key(message: Message, reader: Member, ring: Keyring, slots: list[tuple[str, dict]] | None = None) -> str:
    """Why the reader cannot open a message with this session's keys ('' when they can try)."""
    return _reading_slot(message, ring, slots)[0]


def _reading_slot(message: Message, ring: Keyring,
                  slots: list[tuple[str, dict]] | None = None) -> tuple[str, tuple[Envelope, str, Wrap] | None]:
    """(_missing_key's answer, and the message's envelope with the reader's slot in it and its wrap), looked up once
    for both the check and the opening (_show's found); None for the second when the envelope or the slot is not
    found: the opening meets the same failure and shows it."""
    try:
        envelope = stored_envelope(message)
        slot, privates = _reader_slot(envelope, ring, slots)
        wrap = envelope.wrap_for(slot)
    except MessagingCryptoError:
        return "", None
    if wrap.key_version in privates:
        return "", (envelope, slot, wrap)
    return (str(_MISSING_MAILBOX) if slot.startswith("authority:") else str(_MISSING_MEMBER)), (envelope, slot, wrap)


def _receipt(kind: str, state: MessageRecipientState, reader: Member, private: MemberPrivateKeys) -> str:
    envelope = stored_envelope(state.message)
    on_behalf_of = state.slot if state.member_id is None else None
    return json.dumps(sign_receipt(kind, state.message.public_id, envelope.digest(), member_slot(reader.id),
                                   utc_timestamp(utcnow()), private, on_behalf_of=on_behalf_of))


def _my_states(ring: Keyring, messages: list[Message]) -> list[MessageRecipientState]:
    """The reader's own copies, and the copies of the mailboxes they hold (not of the messages they sent)."""
    held = ring.held_slots()
    return [s for m in messages for s in m.states
            if s.member_id == ring.reader.id or (s.member_id is None and s.slot in held and m.sender_id != ring.reader.id)]


def _signing_key(reader: Member) -> Callable[[], MemberPrivateKeys]:
    """The reader's current private keys for signing receipts: looked up (their key sets, the session's keys) at
    the first receipt signed, then kept for the others, not once per receipt."""
    return functools.cache(lambda: lifecycle.current_private(reader)[1])


def mark_delivered(reader: Member, messages: list[Message], privates: Keyring | dict,
                   signing_key: Callable[[], MemberPrivateKeys] | None = None) -> None:
    """The messages reached the reader's session: a delivery receipt signed with the reader's own key (on behalf
    of the mailbox, for a mailbox's copy)."""
    signing_key = signing_key or _signing_key(reader)
    for state in _my_states(_keys_for(privates, reader), messages):
        if state.delivered_at is None:
            state.delivered_at = utcnow()
            state.delivery_receipt = _receipt("delivered", state, reader, signing_key())


def mark_read(reader: Member, messages: list[Message], privates: Keyring | dict) -> None:
    ring = _keys_for(privates, reader)
    signing_key = _signing_key(reader)
    mark_delivered(reader, messages, ring, signing_key)
    for state in _my_states(ring, messages):
        if state.read_at is None:
            state.read_at = utcnow()
            state.read_receipt = _receipt("read", state, reader, signing_key())


def _receipt_signer(state: MessageRecipientState, record: dict) -> int | None:
    """Whose key must have signed: the recipient, or (for a mailbox's copy) the holder it names."""
    if state.member_id is not None:
        return state.member_id if record.get("recipient") == state.slot and "on_behalf_of" not in record else None
    recipient = str(record.get("recipient", ""))
    if record.get("on_behalf_of") != state.slot or not recipient.startswith("member:"):
        return None
    return int(recipient.split(":", 1)[1])


def _receipt_checked(state: MessageRecipientState, raw: str | None, envelope: Envelope,
                     publics: dict | None = None) -> bool:
    if not raw:
        return False
    try:
        record = json.loads(raw)
        signer = _receipt_signer(state, record)
        if signer is None:
            return False
        keys = _member_public(signer, int(record.get("key_version")), publics)
        if keys is None:
            return False
        # A receipt that verified is kept under everything the check read (kept.py): not checked again per page.
        checked = (raw, state.message.public_id, envelope.digest(), signer, keys.key_version, keys.fingerprint)
        if checked in kept.RECEIPTS:
            return True
        verify_receipt(record, keys, message_id=state.message.public_id,
                       envelope_digest=envelope.digest(), recipient=record["recipient"])
        kept.RECEIPTS.add(checked)
    except (ReceiptInvalid, ValueError, TypeError, MessagingCryptoError):
        return False
    return True


def _state_name(state: MessageRecipientState) -> str:
    if state.member is not None:
        return state.member.name
    if state.slot.startswith("authority:"):
        authority = db.session.get(Authority, int(state.slot.split(":", 1)[1]))
        return _("%(name)s (mailbox)", name=authority.name) if authority else state.slot
    return "—"


def _states_for_sender(message: Message, publics: dict | None = None) -> list[dict]:
    envelope = stored_envelope(message)
    return [{"member": state.member, "name": _state_name(state), "delivered_at": state.delivered_at,
             "read_at": state.read_at,
             "delivery_proof": _receipt_checked(state, state.delivery_receipt, envelope, publics),
             "read_proof": _receipt_checked(state, state.read_receipt, envelope, publics)}
            for state in message.states]


class MessageRow:
    """A message as its conversation's page reads it: the stored columns, its copies (CopyRow), its conversation and
    its sender, as plain values rather than ORM entities (building, tracking and expiring those cost more than the
    rest of the reading; the page changes none of them: the reader's copies to mark read are loaded as entities
    then, read_conversation)."""

    def __init__(self, id: int, public_id: str, sender_id: int | None, sent_at, urgent: bool, envelope: bytes,
                 conversation: Conversation, sender: Member | None):
        self.id, self.public_id, self.sender_id, self.sent_at, self.urgent = id, public_id, sender_id, sent_at, urgent
        self.envelope, self.conversation, self.conversation_id, self.sender = envelope, conversation, conversation.id, sender
        self.states: list[CopyRow] = []


class CopyRow:
    """A message's copy (its recipient state) as the page reads it: see MessageRow."""

    def __init__(self, message: MessageRow, id: int, slot: str, member_id: int | None, delivered_at, read_at,
                 delivery_receipt: str | None, read_receipt: str | None, member: Member | None):
        self.message, self.id, self.slot, self.member_id, self.member = message, id, slot, member_id, member
        self.delivered_at, self.read_at, self.delivery_receipt, self.read_receipt = (delivered_at, read_at,
                                                                                     delivery_receipt, read_receipt)


@functools.cache
def _messages_statement():
    """A conversation's messages in their order, each with its copies (recipient states) in theirs, as rows of their
    columns: one statement, not one for the messages and another for their copies (built once per process)."""
    message, copy = Message.__table__.c, MessageRecipientState.__table__.c
    return (select(message.id, message.public_id, message.sender_id, message.sent_at, message.urgent, message.envelope,
                   copy.id, copy.slot, copy.member_id, copy.delivered_at, copy.read_at, copy.delivery_receipt,
                   copy.read_receipt)
            .select_from(Message.__table__.outerjoin(MessageRecipientState.__table__, copy.message_id == message.id))
            .where(message.conversation_id == bindparam("reading_conversation", type_=Integer))
            .order_by(message.id, copy.id))


def _person(people: dict[int, Member], member_id: int | None) -> Member | None:
    """A participant, else the member (a holder of the mailbox who wrote for it, say) as the relationship would give
    it; None for no one."""
    if member_id is None:
        return None
    found = people.get(member_id)
    if found is None:
        found = people[member_id] = db.session.get(Member, member_id)
    return found


def conversation_messages(conversation: Conversation) -> list[MessageRow]:
    """The conversation's messages with their copies, in their order (_messages_statement); senders and the copies'
    members are the participants, in the session already (conversation_for_reading): taken from it."""
    people = {p.member_id: p.member for p in conversation.participants if p.member_id}
    messages: list[MessageRow] = []
    message = None
    rows = getattr(conversation, "message_rows", None)  # read with the conversation (conversation_for_reading)
    if rows is None:
        rows = db.session.execute(_messages_statement(), {"reading_conversation": conversation.id})
    for (message_id, public_id, sender_id, sent_at, urgent, envelope, copy_id, slot, member_id, delivered_at, read_at,
         delivery_receipt, read_receipt) in rows:
        if message is None or message.id != message_id:
            message = MessageRow(message_id, public_id, sender_id, sent_at, urgent, envelope, conversation,
                                 _person(people, sender_id))
            messages.append(message)
        if copy_id is not None:
            message.states.append(CopyRow(message, copy_id, slot, member_id, delivered_at, read_at, delivery_receipt,
                                          read_receipt, _person(people, member_id)))
    return messages


def read_conversation(reader: Member, conversation: Conversation) -> list[ShownMessage]:
    """Every message verified and decrypted in the reader's session; the reader's copies marked read."""
    ring = keyring(reader, conversation)
    messages = conversation_messages(conversation)
    _prime_sender_keys(messages)
    # Looked up once for the page, not per message: this session's key for what it keeps, the request's memo of
    # public keys (nothing changes in the session until mark_read below), and the reader's slots.
    sealer, publics, slots = _kept_sealer(reader), request_memo(PUBLIC_KEYS_CACHE), ring.slots()
    shown = []
    for message in messages:
        missing, found = _reading_slot(message, ring, slots)
        item = ShownMessage(message=message, problem=missing) if missing else _show(message, reader, ring,
                                                                                      sealer=sealer, publics=publics,
                                                                                      slots=slots, found=found)
        if message.sender_id == reader.id:
            try:
                item.states = _states_for_sender(message, publics)
            except MessagingCryptoError:
                item.states = []
        shown.append(item)
    # The reader's copies not yet read (or delivered), of the messages that verified: those messages loaded as
    # entities with their copies, and marked (mark_read), in one statement; none once the conversation was read.
    unread = {state.message.id for state in _my_states(ring, [item.message for item in shown if item.ok])
              if state.read_at is None or state.delivered_at is None}
    if unread:
        mark_read(reader, list(db.session.scalars(select(Message).where(Message.id.in_(sorted(unread)))
                                                  .options(joinedload(Message.states)).order_by(Message.id)).unique()),
                  ring)
    return shown


@dataclass
class AttachmentDownload:
    """A verified attachment, ready to stream: its name, its size and its plaintext chunks (read and authenticated
    again as they are sent, one sealed 256 KiB chunk at a time)."""

    name: str
    size: int
    chunks: Callable[[], Iterator[bytes]]


def open_attachment(reader: Member, conversation: Conversation, message: Message, file_id: str) -> AttachmentDownload:
    """The attachment, for download. Every chunk is decrypted and authenticated before anything is sent: a tampered
    file raises here and nothing of it leaves the server. The download then reads and decrypts it again chunk by
    chunk (memory holds one chunk, never the file; no plaintext is written anywhere); a chunk changed between the
    two passes still fails its tag, and the download is cut short instead of completed."""
    if message.conversation_id != conversation.id or not is_participant(reader, conversation):
        raise MessagingError(_("You are not in this conversation."))
    ring = keyring(reader, conversation)
    opened = open_stored(message, reader, ring)
    content = json.loads(opened.body.decode("utf-8"))
    described = {f["id"]: f for f in content.get("files", [])}
    stream_header = next((h for h in opened.attachments if h["file_id"] == file_id), None)
    if stream_header is None or file_id not in described or file_id not in opened.file_keys:
        raise MessagingError(_("No such attachment."))
    key = opened.file_keys[file_id]
    try:
        with _open_sealed(file_id) as src:
            for _plain in iter_decrypt_stream(src, key, stream_header):
                pass
    except (StreamTampered, BlobMissing, OSError) as error:
        raise MessagingError(_("This attachment failed verification: it was changed after it was sent. Nothing of "
                               "it is shown.")) from error
    mark_read(reader, [message], ring)

    def chunks() -> Iterator[bytes]:
        with _open_sealed(file_id) as src:
            yield from iter_decrypt_stream(src, key, stream_header)

    return AttachmentDownload(name=str(described[file_id]["name"]), size=int(stream_header["size"]), chunks=chunks)


@dataclass
class InboxRow:
    conversation: Conversation
    people: list[Member]
    subject: str | None  # None when it cannot be decrypted in this session
    unread: int
    urgent: bool
    mailbox: Authority | None = None


INBOX_PAGE = 50


def inbox_count(reader: Member, archived: bool = False) -> int:
    """How many conversations the inbox (or the archive) holds. A plain COUNT over the listing's filter, not over a
    subquery of it: the inbox page counts twice (the inbox and the archive's badge) on every opening."""
    query = visible_conversations(reader, archived=archived).order_by(None)
    return db.session.scalar(query.with_only_columns(func.count(Conversation.id))) or 0


def inbox_counts(reader: Member) -> tuple[int, int]:
    """(how many conversations the inbox holds, how many the archive): inbox_count of both, in one statement."""
    shelved = _shelved(reader)
    row = db.session.execute(visible_conversations(reader).order_by(None).with_only_columns(
        func.count(Conversation.id).filter(~shelved), func.count(Conversation.id).filter(shelved))).one()
    return row[0] or 0, row[1] or 0


@dataclass
class InboxListing:
    """One page of the member's conversations (participants loaded), and how many the inbox and the archive hold."""

    conversations: list[ConversationRow]
    in_inbox: int
    in_archive: int
    message_rows: list | None = None  # _inbox_messages' rows, read with the listing (inbox_listing) ...
    held_slots: set[str] | None = None  # ... for the copies of these mailboxes' slots


@functools.cache
def _listing_statement(archived: bool, held_mode: str):
    """inbox_listing's statement (visible_conversations with the counts of inbox_counts), built once per process
    with its values bound: building it and its cache key cost more than running it. held_mode "looked_up": the
    mailboxes the reader holds (mailboxes.held_authority_ids) are read inside it, and whether they hold their
    authority's is a column of every row, rather than read in a statement before it; otherwise they are given
    (inbox_held, and their slots inbox_held_slots: "given"; "none" when the reader holds none).
    The page's conversations (limited in a CTE, computed once) are joined to their participants, members and
    mailboxes: the columns the page shows (names), as plain rows (ConversationRow), not entities. Their messages that the page needs
    (_inbox_messages_select) follow in the same statement (UNION ALL, after a kind column): one round trip for the
    listing and its messages. Answers (statement, key sets' entity aliased to the union)."""
    reader = bindparam("inbox_reader", type_=Integer)
    if held_mode == "looked_up":
        held = mailboxes.held_authority_query_of(reader, bindparam("inbox_authority", type_=Integer))
        holds = exists(held).label("holds_mailbox")
        held_slot = ((MessageRecipientState.slot == bindparam("inbox_authority_slot", type_=String))
                     & exists(mailboxes.held_authority_query_of(reader, bindparam("inbox_authority", type_=Integer))))
    else:
        held, holds = bindparam("inbox_held", expanding=True), literal(False).label("holds_mailbox")
        held_slot = (MessageRecipientState.slot.in_(bindparam("inbox_held_slots", expanding=True))
                     if held_mode == "given" else None)
    mine = select(ConversationParticipant.conversation_id).where(
        (ConversationParticipant.member_id == reader) | ConversationParticipant.authority_id.in_(held))
    shelved = exists().where(ConversationArchive.conversation_id == Conversation.id,
                             ConversationArchive.member_id == reader,
                             ConversationArchive.archived_at >= Conversation.last_message_at)
    listed = select(Conversation).where(Conversation.id.in_(mine))
    in_inbox = listed.with_only_columns(func.count(Conversation.id)).where(~shelved).scalar_subquery()
    in_archive = listed.with_only_columns(func.count(Conversation.id)).where(shelved).scalar_subquery()
    page = (listed.with_only_columns(Conversation.id, Conversation.public_id, Conversation.created_by_id,
                                     Conversation.last_message_at)
            .where(shelved if archived else ~shelved)
            .add_columns(in_inbox.label("in_inbox"), in_archive.label("in_archive"), holds)
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(bindparam("inbox_limit", type_=Integer)).offset(bindparam("inbox_offset", type_=Integer))
            # computed once (MATERIALIZED) for the listing's rows and the three places the messages' part reads its
            # ids: PostgreSQL ran the filter and the sort once per reference before (about a tenth of the statement's
            # server time); SQLite materialises a CTE read more than once by itself
            .cte("inbox_page").prefix_with("MATERIALIZED", dialect="postgresql"))
    # The key sets of the reader and of each conversation's creator (whose first message carries the subject), all of
    # them (their wraps left out), joined to their participant rows: what lifecycle.key_sets_of would read after.
    p, keys = ConversationParticipant.__table__.c, MemberKeys.__table__.c
    source = _joined_participants(page, page.c.id).outerjoin(
        MemberKeys.__table__, (keys.member_id == p.member_id)
        & ((p.member_id == reader) | (p.member_id == page.c.created_by_id)))
    head = [page.c.id, page.c.public_id, page.c.created_by_id, page.c.last_message_at, page.c.in_inbox,
            page.c.in_archive, page.c.holds_mailbox, p.id, *_participant_columns()]
    key_columns = [column for column in MemberKeys.__table__.c
                   if column.key not in ("password_wrapped", "recovery_wrapped")]  # lifecycle.WRAPS_DEFERRED
    # The messages' part reads the page's conversations from the same CTE, by their ids
    message_columns, message_source, message_where = _inbox_messages_parts(
        reader, Message.conversation_id.in_(select(page.c.id)), held_slot)
    labelled = [f"h{n}" for n in range(len(head))] + [f"k{n}" for n in range(len(key_columns))] + [
        f"m{n}" for n in range(len(message_columns))]

    def branch(kind: int, columns: list, order: list):
        return select(literal_column(str(kind)).label("kind"),
                      *(column.label(name) for column, name in zip(columns, labelled, strict=True)),
                      *(column.label(f"o{n}") for n, column in enumerate(order)))

    reading = union_all(
        branch(0, [*head, *key_columns, *_typed_nulls(message_columns)],
               [page.c.last_message_at, -page.c.id, p.id, keys.key_version]).select_from(source),
        branch(1, [*_typed_nulls(head), *_typed_nulls(key_columns), *message_columns],
               [*_typed_nulls([page.c.last_message_at]), message_columns[0], message_columns[9],
                *_typed_nulls([keys.key_version])])
        .select_from(message_source).where(message_where))
    # the CTE's WITH inside the union's subquery, so that the statement still opens with SELECT: counters reads any
    # other statement as a write (which would drop the navigation's counts read with the signed-in member)
    reading = reading.add_cte(page, nest_here=True).subquery("inbox_reading")
    key_sets = aliased(MemberKeys, reading)
    columns = reading.c
    statement = (select(columns.kind, *(columns[f"h{n}"] for n in range(len(head))), key_sets,
                        *(columns[f"m{n}"] for n in range(len(message_columns))))
                 .order_by(columns.kind, columns.o0.desc(), columns.o1, columns.o2, columns.o3)
                 .options(defer(key_sets.password_wrapped), defer(key_sets.recovery_wrapped)))
    return statement, key_sets


def inbox_listing(reader: Member, page: int = 1, per_page: int = INBOX_PAGE, archived: bool = False) -> InboxListing:
    """The page's conversations, newest first, with the inbox's and the archive's counts as two columns of the same
    statement (inbox_counts again only when the page lists nothing), and their participants, as plain rows
    (ConversationRow). The mailboxes the reader holds are read in the same statement when they were not read in this
    request yet (and kept for it). The messages the page needs (_inbox_messages) are read in it too, kept on the
    listing with the mailboxes' slots they were read for."""
    values = {"inbox_reader": reader.id, "inbox_limit": per_page, "inbox_offset": (max(page, 1) - 1) * per_page}
    held_key = mailboxes.held_authority_key(reader)
    if held_key is not None and held_key not in request_memo(mailboxes.HELD_MEMO):
        holds = counters.known_count(reader, messaging_tasks.HOLDS)  # read with the signed-in member, if it was
        if holds is not None:
            mailboxes.remember_held(reader, {reader.authority_id} if holds else set())
    looks_up_held = held_key is not None and held_key not in request_memo(mailboxes.HELD_MEMO)
    if looks_up_held:
        held_mode = "looked_up"
        values["inbox_authority"] = reader.authority_id
        values["inbox_authority_slot"] = authority_slot(reader.authority_id)
    else:
        held_ids = sorted(mailboxes.held_authority_ids(reader))
        held_mode = "given" if held_ids else "none"
        values["inbox_held"] = held_ids or [0]
        if held_ids:
            values["inbox_held_slots"] = sorted(authority_slot(a) for a in held_ids)
    statement = _listing_statement(bool(archived), held_mode)[0]
    rows = db.session.execute(statement, values, execution_options=kept_options(statement)).all()
    if not rows:
        return InboxListing([], *inbox_counts(reader))
    if looks_up_held:
        mailboxes.remember_held(reader, {reader.authority_id} if rows[0][7] else set())
    conversations: list[ConversationRow] = []
    conversation = None
    people: dict = {}
    seen: dict = {}
    participant_ids: set = set()
    key_sets: list[MemberKeys] = []
    message_rows = []
    for row in rows:
        if row[0] != 0:
            message_rows.append(row[17:])
            continue
        if conversation is None or conversation.id != row[1]:
            conversation = ConversationRow(*row[1:5])
            conversations.append(conversation)
        if row[8] not in participant_ids:
            if row[8] is not None:
                participant_ids.add(row[8])
            _add_participant(conversation, people, seen, *row[9:16])
        if row[16] is not None:
            key_sets.append(row[16])
    # Every key set of the reader and of the creators who still take part came with their rows: kept for the request.
    lifecycle.remember_key_sets(key_sets, {p.member_id for c in conversations for p in c.participants
                                           if p.member_id is not None
                                           and p.member_id in (reader.id, c.created_by_id)})
    if looks_up_held:
        held_slots = {authority_slot(reader.authority_id)} if rows[0][7] else set()
    else:
        held_slots = set(values.get("inbox_held_slots", ()))
    return InboxListing(conversations, rows[0][5] or 0, rows[0][6] or 0, message_rows, held_slots)


@functools.cache
def _inbox_messages_statement(holds_mailboxes: bool):
    """_inbox_messages' statement, built once per process (with or without the mailboxes' copies) with its values
    bound: the messages and the counts in one statement, each first message carrying its conversation's counts, a
    message that is only pending carrying none (_inbox_messages_parts)."""
    held = MessageRecipientState.slot.in_(bindparam("inbox_held_slots", expanding=True)) if holds_mailboxes else None
    columns, source, where = _inbox_messages_parts(
        bindparam("inbox_reader", type_=Integer),
        Message.conversation_id.in_(bindparam("inbox_conversations", expanding=True)), held)
    return select(*columns).select_from(source).where(where).order_by(columns[0], columns[9])


def _inbox_messages_parts(reader, listed, held) -> tuple[list, object, object]:
    """The columns, the source and the condition of _inbox_messages' rows: the messages of the conversations
    `listed` (a condition on Message.conversation_id) that the page needs, with their conversations' counts and their
    copies. reader: the reader's id (a bound parameter); held: the condition that a copy is of a mailbox the reader
    holds (on MessageRecipientState.slot), None when they hold none. Ordered by the first and the tenth column."""
    unread = MessageRecipientState.member_id == reader
    if held is not None:
        unread = unread | (held & (Message.sender_id != reader))
    # A message joins once per unread copy of the reader's: the first id is the same, the unread count is the number
    # of such copies, and the urgent count is only ever compared with zero.
    counted = (
        select(Message.conversation_id, func.min(Message.id).label("first_id"),
               func.count(Message.id).filter(Message.urgent).label("urgent"),
               func.count(MessageRecipientState.id).label("unread"))
        .outerjoin(MessageRecipientState, (MessageRecipientState.message_id == Message.id) & unread
                   & MessageRecipientState.read_at.is_(None))
        .where(listed).group_by(Message.conversation_id)).subquery()
    mine = MessageRecipientState.member_id == reader
    if held is not None:
        mine = mine | (MessageRecipientState.member_id.is_(None) & held
                       & (Message.sender_id.is_(None) | (Message.sender_id != reader)))
    pending = (select(MessageRecipientState.message_id)
               .join(Message, MessageRecipientState.message_id == Message.id)
               .where(mine, MessageRecipientState.delivered_at.is_(None), listed))
    # The messages and their copies (a few per message) as rows of their columns, in the same statement: see
    # MessageRow (the copies to mark delivered are loaded as entities then, inbox).
    copies = MessageRecipientState.__table__.alias("inbox_copies")
    message, copy = Message.__table__.c, copies.c
    columns = [message.id, message.public_id, message.conversation_id, message.sender_id, message.sent_at,
               message.urgent, message.envelope, counted.c.urgent, counted.c.unread, copy.id, copy.slot,
               copy.member_id, copy.delivered_at, copy.read_at, copy.delivery_receipt, copy.read_receipt]
    source = (Message.__table__.outerjoin(counted, counted.c.first_id == message.id)
              .outerjoin(copies, copy.message_id == message.id))
    return columns, source, listed & (counted.c.first_id.is_not(None) | message.id.in_(pending))


def _inbox_messages(reader: Member, held: set[str], conversation_ids: list[int],
                    conversations: dict[int, Conversation] | None = None, read: list | None = None) -> tuple[
        dict[int, MessageRow], set[int], dict[int, int], list[MessageRow]]:
    """For the conversations listed: each one's first message (the subject is in it), the ids of those with an
    urgent message, how many copies of the reader's (or of a mailbox they hold, not of their own messages) each has
    unread (counted in the same statement), and the messages that may need a delivery receipt (those first messages,
    and those of which a copy of the reader's, or of a mailbox they hold, is not yet delivered: _my_states in SQL, a
    deleted sender being not the reader), in conversation then message order, their states loaded. The database picks
    them out: loading every message of every conversation listed, envelopes and states, cost more than the rest of
    the page once conversations grow long.
    The messages are MessageRow (their copies CopyRow), their conversations those given (read here otherwise), their
    senders and the copies' members the conversations' participants (None for anyone else: the inbox shows neither).
    read: those rows as the listing read them (inbox_listing), else read here."""
    if read is None:
        values = {"inbox_reader": reader.id, "inbox_conversations": list(conversation_ids)}
        if held:
            values["inbox_held_slots"] = sorted(held)
        statement = _inbox_messages_statement(bool(held))
        read = db.session.execute(statement, values, execution_options=kept_options(statement))
    conversations = dict(conversations or {})
    rows = []  # (message, urgent, unread copies)
    message = None
    for (message_id, public_id, conversation_id, sender_id, sent_at, urgent_flag, envelope, urgent, copies, copy_id,
         slot, member_id, delivered_at, read_at, delivery_receipt, read_receipt) in read:
        if message is None or message.id != message_id:
            conversation = conversations.get(conversation_id)
            if conversation is None:
                conversation = conversations[conversation_id] = db.session.get(Conversation, conversation_id)
            people = {p.member_id: p.member for p in conversation.participants if p.member_id}
            message = MessageRow(message_id, public_id, sender_id, sent_at, urgent_flag, envelope, conversation,
                                 people.get(sender_id) if sender_id is not None else None)
            rows.append((message, urgent, copies))
        if copy_id is not None:
            message.states.append(CopyRow(message, copy_id, slot, member_id, delivered_at, read_at, delivery_receipt,
                                          read_receipt, people.get(member_id) if member_id is not None else None))
    firsts = {message.conversation_id: (message, urgent, copies) for message, urgent, copies in rows
              if urgent is not None}
    place = {conversation_id: n for n, conversation_id in enumerate(conversation_ids)}
    return ({conversation_id: first for conversation_id, (first, _urgent, _copies) in firsts.items()},
            {conversation_id for conversation_id, (_first, urgent, _copies) in firsts.items() if urgent},
            {conversation_id: copies for conversation_id, (_first, _urgent, copies) in firsts.items() if copies},
            sorted({message.id: message for message, _urgent, _copies in rows}.values(),
                   key=lambda m: (place[m.conversation_id], m.id)))


def _prime_sender_keys(messages: list[Message]) -> None:
    """The public keys that sign the messages about to be opened, fetched in one query into _member_public's cache
    for this request, rather than one query per sender and key version as each row is opened. Only keys that load
    are cached: any other case is left to _member_public, so what each row shows does not change."""
    if not has_request_context():
        return
    cache = request_memo(PUBLIC_KEYS_CACHE)
    wanted = set()
    for message in messages:
        try:
            version = stored_envelope(message).header["sender_key_version"]
        except (MessagingCryptoError, ValueError, KeyError, TypeError):
            continue  # _missing_key and _show meet the same failure, and deal with it
        if message.sender_id is not None and (message.sender_id, version) not in cache:
            wanted.add((message.sender_id, version))
    if not wanted:
        return
    # read with the reader's and the participants' key sets when the page read those already
    for keys in (row for rows in lifecycle.key_sets_of({m for m, _v in wanted}).values() for row in rows):
        if (keys.member_id, keys.key_version) in wanted:
            try:
                cache[(keys.member_id, keys.key_version)] = lifecycle.public_keys(keys)
            except (MessagingCryptoError, ValueError, KeyError, TypeError):
                pass


def inbox(reader: Member, page: int = 1, per_page: int = INBOX_PAGE, archived: bool = False,
          listing: InboxListing | None = None) -> list[InboxRow]:
    """Metadata for one page of conversations, newest first (who, when, unread); subjects decrypted in the reader's
    session only. Listing counts as delivery: delivery receipts are signed here for the messages listed. Only the
    messages needed are loaded (_inbox_messages): the first of each conversation and the undelivered ones.
    listing: the page's conversations as inbox_listing read them (else read here)."""
    ring = keyring(reader)
    held = ring.held_slots()
    if listing is None:
        listing = inbox_listing(reader, page=page, per_page=per_page, archived=archived)
    conversations = listing.conversations
    listed = [c.id for c in conversations] or [0]
    read = listing.message_rows if listing.held_slots == held else None  # read with it, for the same mailboxes
    firsts, urgent, unread, candidates = _inbox_messages(reader, held, listed, {c.id: c for c in conversations}, read)
    _prime_sender_keys(list(firsts.values()))
    # Looked up once for the page, not per row (as read_conversation does): this session's key for what it keeps,
    # the request's memo of public keys and the reader's slots; nothing changes in the session until mark_delivered.
    sealer, publics, slots = _kept_sealer(reader), request_memo(PUBLIC_KEYS_CACHE), ring.slots()
    rows = []
    for conversation in conversations:
        first = firsts.get(conversation.id)
        subject = None
        if first is not None and not _missing_key(first, reader, ring, slots):
            shown = _show(first, reader, ring, sealer=sealer, publics=publics, slots=slots)
            subject = shown.subject if shown.ok else None
        rows.append(InboxRow(conversation=conversation,
                             people=[m for m in members_of(conversation) if m.id != reader.id],
                             subject=subject, unread=unread.get(conversation.id, 0),
                             urgent=conversation.id in urgent, mailbox=mailbox_of(conversation)))
    # The messages with a copy of the reader's not yet delivered (that they hold the key for): loaded as entities with
    # their copies, and marked (mark_delivered), in one statement; none once the inbox was listed.
    undelivered = [m.id for m in candidates if any(s.delivered_at is None for s in _my_states(ring, [m]))
                   and not _missing_key(m, reader, ring, slots)]
    if undelivered:
        loaded = {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(undelivered))
                                                      .options(joinedload(Message.states))).unique()}
        mark_delivered(reader, [loaded[i] for i in undelivered if i in loaded], ring)
    return rows


# ---------------------------------------------------------------- export

def export_conversation(reader: Member, conversation: Conversation) -> bytes:
    """A bundle anyone can check with `flask --app app messages verify`: every envelope, the content keys of the
    messages the reader can open (disclosed by the reader), receipts, and the public keys involved."""
    privates = keyring(reader, conversation)
    _current, exporter_private = lifecycle.current_private(reader)
    pairs, receipts, public = [], [], {}
    for message in conversation.messages:
        envelope = stored_envelope(message)
        try:
            opened = open_stored(message, reader, privates)
        except (MessagingCryptoError, MessagingError, lifecycle.SessionKeysUnavailable):
            opened = None
        pairs.append((envelope, opened))
        try:
            public.setdefault(envelope.header["sender"], {})[envelope.header["sender_key_version"]] = \
                _sender_public(message, envelope)
        except MessagingError:
            pass  # the verifier will report a message whose sender's key is unknown
        for state in message.states:
            for raw in (state.delivery_receipt, state.read_receipt):
                if raw and _receipt_checked(state, raw, envelope):
                    record = json.loads(raw)
                    receipts.append(record)
                    keys = db.session.scalar(select(MemberKeys).where(
                        MemberKeys.member_id == _receipt_signer(state, record),
                        MemberKeys.key_version == record["key_version"]))
                    public.setdefault(record["recipient"], {})[record["key_version"]] = lifecycle.public_keys(keys)
    me = member_slot(reader.id)
    public.setdefault(me, {})[exporter_private.key_version] = exporter_private.public
    bundle = export_bundle(pairs, receipts, {slot: list(v.values()) for slot, v in public.items() if v},
                           conversation_id=conversation.public_id, exporter_slot=me,
                           exporter_private=exporter_private)
    audit.record("messaging.exported", conversation, actor=reader, messages=len(pairs))
    return dump_bundle(bundle)


# ---------------------------------------------------------------- reports to moderators

MAX_REASON = 2000


def report_message(reporter: Member, conversation: Conversation, message: Message, reason: str) -> MessageReport:
    """A participant forwards a message to the moderators: its decrypted text (as the reporter's session verified
    it) goes with the report, in the clear, because the reporter chose to disclose it. Nothing else is disclosed."""
    if message.conversation_id != conversation.id or not is_participant(reporter, conversation):
        raise MessagingError(_("You are not in this conversation."))
    if message.sender_id == reporter.id:
        raise MessagingError(_("You cannot report your own message."))
    shown = _show(message, reporter, keyring(reporter, conversation), keep=False)  # what is forwarded: verified now
    if not shown.ok:
        raise MessagingError(_("Only a message that verified and that you can read can be reported."))
    forwarded = (shown.subject + "\n\n" if shown.subject else "") + shown.text
    report = MessageReport(message=message, reporter_id=reporter.id, reason=reason.strip()[:MAX_REASON],
                           forwarded_text=forwarded, created_at=utcnow())
    db.session.add(report)
    db.session.flush()
    audit.record("messaging.reported", conversation, actor=reporter, message=message.public_id, report=report.id)
    return report


def open_reports():
    return list(db.session.scalars(select(MessageReport).where(MessageReport.resolved_at.is_(None))
                                   .order_by(MessageReport.created_at)))


def resolve_report(moderator: Member, report: MessageReport) -> None:
    if report.resolved_at is None:
        report.resolved_at, report.resolved_by_id = utcnow(), moderator.id
        audit.record("messaging.report_resolved", report, actor=moderator)
