"""Conversations: sending (one envelope per message), listing with metadata only, reading after verification,
signed delivery and read receipts, urgent notices that never carry content, export bundles."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from network.core import audit
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.mail import queue_mail
from network.members.models import Member
from network.messaging import lifecycle
from network.messaging.bundle import dump_bundle, export_bundle
from network.messaging.envelope import Envelope, OpenedMessage, encrypt_message, load_envelope, open_message
from network.messaging.formats import MessagingCryptoError, member_slot, utc_timestamp
from network.messaging.keys import MemberPrivateKeys, MemberPublicKeys
from network.messaging.models import (
    MAX_PARTICIPANTS,
    Conversation,
    ConversationParticipant,
    MemberKeys,
    Message,
    MessageRecipientState,
)
from network.messaging.receipts import ReceiptInvalid, sign_receipt, verify_receipt

MAX_SUBJECT = 200
MAX_TEXT = 20000


class MessagingError(DomainError):
    pass


@dataclass
class Handling:
    """The Convention's handling instructions, signed into every envelope."""

    confidential: bool = False  # art. 18 (20): confidentiality of the request
    limited_use: bool = False  # art. 18 (19): limitation on use

    def to_dict(self) -> dict:
        return {"confidential": self.confidential, "limited_use": self.limited_use}


# ---------------------------------------------------------------- access

def is_participant(member: Member, conversation: Conversation) -> bool:
    """Only the members addressed read a conversation: no role (moderator, administrator) opens one otherwise."""
    return any(p.member_id == member.id for p in conversation.participants)


def visible_conversations(member: Member):
    """The query of the member's conversations, newest first."""
    mine = select(ConversationParticipant.conversation_id).where(ConversationParticipant.member_id == member.id)
    return select(Conversation).where(Conversation.id.in_(mine)).order_by(Conversation.last_message_at.desc(),
                                                                         Conversation.id.desc())


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


def _body(subject: str, text: str) -> bytes:
    return json.dumps({"subject": subject, "text": text}, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _store(conversation: Conversation, sender: Member, private: MemberPrivateKeys, recipients: list[Member],
           subject: str, text: str, handling: Handling, urgent: bool) -> Message:
    now = utcnow()
    message_id = f"m-{uuid.uuid4().hex}"
    keys = {member_slot(m.id): _public_of(m) for m in recipients}
    header = {"message_id": message_id, "conversation_id": conversation.public_id, "sent_at": utc_timestamp(now),
              "handling": handling.to_dict(), "urgent": bool(urgent)}
    envelope = encrypt_message(header, _body(subject, text), member_slot(sender.id), private, keys)
    message = Message(public_id=message_id, conversation=conversation, sender_id=sender.id, sent_at=now,
                      urgent=bool(urgent), envelope=envelope.to_bytes())
    db.session.add(message)
    for recipient in recipients:
        message.states.append(MessageRecipientState(slot=member_slot(recipient.id), member_id=recipient.id))
    conversation.last_message_at = now
    db.session.flush()
    if urgent:
        for recipient in recipients:
            # Who wrote, never what: the notice carries no subject and no text.
            queue_mail(recipient.email, _("Urgent message from %(name)s", name=sender.name), "messaging/urgent",
                       recipient=recipient, sender=sender,
                       link=url_for("messages.conversation", conversation_id=conversation.id, _external=True))
    audit.record("messaging.sent", conversation, actor=sender, message=message_id, recipients=len(recipients),
                 urgent=bool(urgent))
    return message


def start_conversation(sender: Member, recipients: list[Member], subject: str, text: str, handling: Handling,
                       urgent: bool = False, *, private: MemberPrivateKeys | None = None) -> Conversation:
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
    _store(conversation, sender, private, recipients, subject, text, handling, urgent)
    return conversation


def reply(sender: Member, conversation: Conversation, text: str, handling: Handling, urgent: bool = False) -> Message:
    if not is_participant(sender, conversation):
        raise MessagingError(_("You are not in this conversation."))
    _current, private = lifecycle.current_private(sender)
    recipients = [p.member for p in conversation.participants if p.member_id and p.member_id != sender.id]
    return _store(conversation, sender, private, recipients, "", text, handling, urgent)


# ---------------------------------------------------------------- reading

@dataclass
class ShownMessage:
    """A message as its reader sees it: text only if the signature verified and the body decrypted."""

    message: Message
    header: dict | None = None
    subject: str = ""
    text: str = ""
    problem: str = ""
    states: list[dict] = field(default_factory=list)  # for the sender: per recipient, delivered/read, proof checked

    @property
    def ok(self) -> bool:
        return not self.problem


def _sender_public(message: Message, envelope: Envelope) -> MemberPublicKeys:
    if envelope.header["sender"] != member_slot(message.sender_id or 0):
        raise MessagingError("the envelope names another sender")
    keys = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == message.sender_id,
                                                      MemberKeys.key_version == envelope.header["sender_key_version"]))
    if keys is None:
        raise MessagingError("the sender's key is unknown")
    return lifecycle.public_keys(keys)


def open_stored(message: Message, reader: Member, privates: dict[int, MemberPrivateKeys]) -> OpenedMessage:
    """Verify the sender's signature, then decrypt the reader's copy. Raises on any failure."""
    envelope = load_envelope(message.envelope)
    return open_message(envelope, member_slot(reader.id), privates, _sender_public(message, envelope),
                        expected_message_id=message.public_id,
                        expected_conversation_id=message.conversation.public_id)


def _show(message: Message, reader: Member, privates: dict[int, MemberPrivateKeys]) -> ShownMessage:
    shown = ShownMessage(message=message)
    try:
        opened = open_stored(message, reader, privates)
        content = json.loads(opened.body.decode("utf-8"))
        shown.header, shown.subject, shown.text = opened.header, str(content.get("subject", "")), str(content["text"])
    except lifecycle.SessionKeysUnavailable:
        shown.problem = _("This message was encrypted to keys you had before a password reset. Enter your recovery "
                          "key to read it.")
    except (MessagingCryptoError, MessagingError, ValueError, KeyError, TypeError):
        shown.problem = _("This message failed verification: it was changed after it was sent or is not from the "
                          "member it names. Nothing of it is shown.")
    return shown


def _missing_key(message: Message, reader: Member, privates: dict[int, MemberPrivateKeys]) -> bool:
    try:
        wrap = load_envelope(message.envelope).wrap_for(member_slot(reader.id))
    except MessagingCryptoError:
        return False
    return wrap.key_version not in privates


def _receipt(kind: str, state: MessageRecipientState, reader: Member, privates: dict[int, MemberPrivateKeys]) -> str:
    envelope = load_envelope(state.message.envelope)
    current, private = lifecycle.current_private(reader)
    return json.dumps(sign_receipt(kind, state.message.public_id, envelope.digest(), state.slot,
                                   utc_timestamp(utcnow()), private))


def _my_states(reader: Member, messages: list[Message]) -> list[MessageRecipientState]:
    return [s for m in messages for s in m.states if s.member_id == reader.id]


def mark_delivered(reader: Member, messages: list[Message], privates: dict[int, MemberPrivateKeys]) -> None:
    """The messages reached the reader's session: a delivery receipt signed with the reader's own key."""
    for state in _my_states(reader, messages):
        if state.delivered_at is None:
            state.delivered_at = utcnow()
            state.delivery_receipt = _receipt("delivered", state, reader, privates)


def mark_read(reader: Member, messages: list[Message], privates: dict[int, MemberPrivateKeys]) -> None:
    mark_delivered(reader, messages, privates)
    for state in _my_states(reader, messages):
        if state.read_at is None:
            state.read_at = utcnow()
            state.read_receipt = _receipt("read", state, reader, privates)


def _receipt_checked(state: MessageRecipientState, raw: str | None, envelope: Envelope) -> bool:
    if not raw:
        return False
    try:
        record = json.loads(raw)
        keys = db.session.scalar(select(MemberKeys).where(MemberKeys.member_id == state.member_id,
                                                          MemberKeys.key_version == record.get("key_version")))
        if keys is None:
            return False
        verify_receipt(record, lifecycle.public_keys(keys), message_id=state.message.public_id,
                       envelope_digest=envelope.digest(), recipient=state.slot)
    except (ReceiptInvalid, ValueError, MessagingCryptoError):
        return False
    return True


def _states_for_sender(message: Message) -> list[dict]:
    envelope = load_envelope(message.envelope)
    return [{"member": state.member, "delivered_at": state.delivered_at, "read_at": state.read_at,
             "delivery_proof": _receipt_checked(state, state.delivery_receipt, envelope),
             "read_proof": _receipt_checked(state, state.read_receipt, envelope)}
            for state in message.states]


def read_conversation(reader: Member, conversation: Conversation) -> list[ShownMessage]:
    """Every message verified and decrypted in the reader's session; the reader's copies marked read."""
    privates = lifecycle.session_private_keys(reader)
    shown = []
    for message in conversation.messages:
        if _missing_key(message, reader, privates):
            item = ShownMessage(message=message, problem=_(
                "This message was encrypted to keys you had before a password reset. Enter your recovery key "
                "to read it."))
        else:
            item = _show(message, reader, privates)
        if message.sender_id == reader.id:
            item.states = _states_for_sender(message)
        shown.append(item)
    mark_read(reader, [item.message for item in shown if item.ok], privates)
    return shown


@dataclass
class InboxRow:
    conversation: Conversation
    people: list[Member]
    subject: str | None  # None when it cannot be decrypted in this session
    unread: int
    urgent: bool


def inbox(reader: Member) -> list[InboxRow]:
    """Metadata for every conversation (who, when, unread); subjects decrypted in the reader's session only.
    Listing counts as delivery: delivery receipts are signed here."""
    privates = lifecycle.session_private_keys(reader)
    conversations = list(db.session.scalars(visible_conversations(reader)))
    unread = dict(db.session.execute(
        select(Message.conversation_id, func.count(MessageRecipientState.id))
        .join(MessageRecipientState, MessageRecipientState.message_id == Message.id)
        .where(MessageRecipientState.member_id == reader.id, MessageRecipientState.read_at.is_(None))
        .group_by(Message.conversation_id)).all())
    rows = []
    for conversation in conversations:
        first = conversation.messages[0] if conversation.messages else None
        subject = None
        if first is not None and not _missing_key(first, reader, privates):
            shown = _show(first, reader, privates)
            subject = shown.subject if shown.ok else None
        rows.append(InboxRow(conversation=conversation,
                             people=[p.member for p in conversation.participants
                                     if p.member_id and p.member_id != reader.id],
                             subject=subject, unread=unread.get(conversation.id, 0),
                             urgent=any(m.urgent for m in conversation.messages)))
        mark_delivered(reader, [m for m in conversation.messages if not _missing_key(m, reader, privates)], privates)
    return rows


# ---------------------------------------------------------------- export

def export_conversation(reader: Member, conversation: Conversation) -> bytes:
    """A bundle anyone can check with `flask --app app messages verify`: every envelope, the content keys of the
    messages the reader can open (disclosed by the reader), receipts, and the public keys involved."""
    privates = lifecycle.session_private_keys(reader)
    _current, exporter_private = lifecycle.current_private(reader)
    pairs, receipts, public = [], [], {}
    for message in conversation.messages:
        envelope = load_envelope(message.envelope)
        try:
            opened = open_stored(message, reader, privates)
        except (MessagingCryptoError, MessagingError):
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
                        MemberKeys.member_id == state.member_id, MemberKeys.key_version == record["key_version"]))
                    public.setdefault(state.slot, {})[record["key_version"]] = lifecycle.public_keys(keys)
    me = member_slot(reader.id)
    public.setdefault(me, {})[exporter_private.key_version] = exporter_private.public
    bundle = export_bundle(pairs, receipts, {slot: list(v.values()) for slot, v in public.items() if v},
                           conversation_id=conversation.public_id, exporter_slot=me,
                           exporter_private=exporter_private)
    audit.record("messaging.exported", conversation, actor=reader, messages=len(pairs))
    return dump_bundle(bundle)
