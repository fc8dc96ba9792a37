"""Messaging tables: members' key sets, conversations and their participants, one stored envelope per message
with a row of state per recipient. Only metadata is in the clear: subjects and text live inside the envelopes."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db
from network.directory.models import Authority
from network.members.models import Member

CONVERSATION_KINDS = ("direct", "group", "mailbox")
MAX_PARTICIPANTS = 50  # the sender included


class MemberKeys(db.Model):
    """One key set of a member. A password reset without the recovery key retires the current set and the
    next sign-in creates a new one (next key_version); a retired set stays, so the recovery key can restore it."""

    __tablename__ = "messaging_member_keys"
    __table_args__ = (UniqueConstraint("member_id", "key_version", name="uq_messaging_member_keys_member_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    public_keys: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: MemberPublicKeys.to_dict()
    password_wrapped: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: wrap_private_keys()
    recovery_wrapped: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: wrap_with_recovery_key()
    recovery_confirmed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    member: Mapped[Member] = relationship()

    def record(self, name: str) -> dict:
        return json.loads(getattr(self, name))

    def __repr__(self) -> str:
        return f"<MemberKeys member={self.member_id} v{self.key_version}{' retired' if self.retired_at else ''}>"


class Conversation(db.Model):
    """A thread between members (direct or group) or with an authority mailbox. Its subject is encrypted."""

    __tablename__ = "messaging_conversations"
    __table_args__ = (CheckConstraint("kind IN ('direct', 'group', 'mailbox')", name="ck_messaging_conversations_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # bound into every envelope
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)

    participants: Mapped[list[ConversationParticipant]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="ConversationParticipant.id")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id")

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {self.kind}>"


class ConversationParticipant(db.Model):
    """A member's slot (member:<id>) or an authority mailbox's slot (authority:<id>) in a conversation."""

    __tablename__ = "messaging_participants"
    __table_args__ = (
        UniqueConstraint("conversation_id", "slot", name="uq_messaging_participants_conversation_slot"),
        CheckConstraint("(member_id IS NULL) <> (authority_id IS NULL)", name="ck_messaging_participants_one_holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("messaging_conversations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    slot: Mapped[str] = mapped_column(String(140), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")
    member: Mapped[Member | None] = relationship()
    authority: Mapped[Authority | None] = relationship()

    def __repr__(self) -> str:
        return f"<ConversationParticipant {self.conversation_id} {self.slot}>"


class Message(db.Model):
    """One signed envelope, stored once, whatever the number of recipients."""

    __tablename__ = "messaging_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # the envelope's message_id
    conversation_id: Mapped[int] = mapped_column(ForeignKey("messaging_conversations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # also inside the signed header
    envelope: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # canonical JSON of the signed envelope

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    sender: Mapped[Member | None] = relationship()
    states: Mapped[list[MessageRecipientState]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageRecipientState.id")

    def __repr__(self) -> str:
        return f"<Message {self.public_id} in {self.conversation_id}>"


class MessageRecipientState(db.Model):
    """Per recipient: delivered and read, with the receipts the recipient signed (archiving is per member and per
    conversation: ConversationArchive)."""

    __tablename__ = "messaging_recipient_states"
    __table_args__ = (
        UniqueConstraint("message_id", "slot", name="uq_messaging_recipient_states_message_slot"),
        # the unread count on every signed-in page (tasks.unread_template): a member's unread copies alone, however
        # many they have read
        Index("ix_messaging_recipient_states_member_unread", "member_id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messaging_messages.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    slot: Mapped[str] = mapped_column(String(140), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()
    delivery_receipt: Mapped[str | None] = mapped_column(Text)  # JSON: sign_receipt("delivered", ...)
    read_receipt: Mapped[str | None] = mapped_column(Text)  # JSON: sign_receipt("read", ...)

    message: Mapped[Message] = relationship(back_populates="states")
    member: Mapped[Member | None] = relationship()

    def __repr__(self) -> str:
        return f"<MessageRecipientState {self.message_id} {self.slot}>"


class ConversationArchive(db.Model):
    """A member has archived a conversation: it leaves their inbox until a message newer than `archived_at`
    arrives, then comes back on its own. Per member, also for a mailbox's conversations (each officer keeps their
    own inbox tidy; the other holders' inboxes do not change)."""

    __tablename__ = "messaging_conversation_archives"
    __table_args__ = (UniqueConstraint("conversation_id", "member_id",
                                       name="uq_messaging_conversation_archives_conversation_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("messaging_conversations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    archived_at: Mapped[datetime] = mapped_column(nullable=False)

    def __repr__(self) -> str:
        return f"<ConversationArchive {self.conversation_id} by {self.member_id}>"


class AuthorityMailboxKey(db.Model):
    """One version of an authority mailbox's key pair: only the public half is stored in the clear. The private
    half exists only inside grants, each wrapped to one holder's own public key."""

    __tablename__ = "messaging_authority_keys"
    __table_args__ = (UniqueConstraint("authority_id", "key_version", name="uq_messaging_authority_keys_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: AuthorityPublicKey.to_dict()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def record(self) -> dict:
        return json.loads(self.public_key)

    def __repr__(self) -> str:
        return f"<AuthorityMailboxKey authority={self.authority_id} v{self.key_version}>"


class AuthorityKeyGrant(db.Model):
    """An authority's private key (one version) wrapped for one member and signed by the holder who granted it.
    Removal from the mailbox sets removed_at on every grant of that member (and rotates the key)."""

    __tablename__ = "messaging_authority_grants"
    __table_args__ = (UniqueConstraint("authority_id", "key_version", "member_id", "member_key_version",
                                       name="uq_messaging_authority_grants_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    member_key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    grant: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: grant_authority_key()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column()
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    granted_by: Mapped[Member | None] = relationship(foreign_keys=[granted_by_id])

    def record(self) -> dict:
        return json.loads(self.grant)

    def __repr__(self) -> str:
        return f"<AuthorityKeyGrant authority={self.authority_id} v{self.key_version} member={self.member_id}>"


class KeyVerification(db.Model):
    """A member's statement that they compared the safety number with another member out of band. It names the
    fingerprint verified: when the other member's key changes, the verification no longer holds."""

    __tablename__ = "messaging_key_verifications"
    __table_args__ = (UniqueConstraint("member_id", "other_id", name="uq_messaging_key_verifications_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<KeyVerification {self.member_id} -> {self.other_id}>"


class MessageReport(db.Model):
    """A participant's report of a message to the moderators. The participant chose to forward the decrypted text:
    it is stored with the report, in the clear, and the report form says so."""

    __tablename__ = "messaging_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messaging_messages.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    forwarded_text: Mapped[str] = mapped_column(Text, nullable=False)  # disclosed by the reporter, on purpose
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    message: Mapped[Message] = relationship()
    reporter: Mapped[Member | None] = relationship(foreign_keys=[reporter_id])

    def __repr__(self) -> str:
        return f"<MessageReport {self.id} message={self.message_id}>"
