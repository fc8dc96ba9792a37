"""Request tables: one shared record per request (only tracking fields in the clear, the content sealed), its signed
status events in order, and each authority's reminder periods."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db
from network.directory.models import Authority
from network.members.models import Member

STATUSES = ("draft", "sent", "received", "under_execution", "info_requested", "info_supplied", "partly_executed",
            "executed", "postponed", "consultation", "refused", "withdrawn", "closed")
EVENT_KINDS = ("status", "status_query", "import")
SIDES = ("requesting", "requested")


class CooperationRequest(db.Model):
    """A request from one authority to another. Both see this one record: outgoing for the requesting authority,
    incoming for the requested one, each with its own reference. `content` is an envelope (network.messaging) that
    the drafter and the two authorities' mailbox holders open; the server holds only ciphertext."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'sent', 'received', 'under_execution', 'info_requested', "
                        "'info_supplied', 'partly_executed', 'executed', 'postponed', 'consultation', 'refused', "
                        "'withdrawn', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # bound into every envelope
    form: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    measures: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="en", nullable=False)  # of the document's formal parts
    requesting_state: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    requested_state: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    requesting_authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="RESTRICT"),
                                                         nullable=False, index=True)
    requested_authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="RESTRICT"),
                                                        nullable=False, index=True)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", nullable=False, index=True)
    requesting_reference: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    requested_reference: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # art. 18 (20)
    limited_use: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # art. 18 (19)
    original_channel: Mapped[str] = mapped_column(String(40), default="", nullable=False)  # of the formal original
    original_sent_on: Mapped[date | None] = mapped_column(Date)
    refusal_ground: Mapped[str] = mapped_column(String(20), default="", nullable=False)  # art. 18 (21): a code
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # canonical JSON of a signed envelope
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    last_event_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None] = mapped_column()  # when `requests remind` last wrote about it
    event_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    head_digest: Mapped[str] = mapped_column(String(64), default="", nullable=False)  # the newest event's digest
    # Set on a record imported from an authority's own files (JSON Lines): only that authority's register holds it.
    imported_authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"))
    advance_conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("messaging_conversations.id", ondelete="SET NULL"))

    requesting_authority: Mapped[Authority] = relationship(foreign_keys=[requesting_authority_id])
    requested_authority: Mapped[Authority] = relationship(foreign_keys=[requested_authority_id])
    drafted_by: Mapped[Member | None] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                      order_by="RequestEvent.seq")

    def __repr__(self) -> str:
        return f"<CooperationRequest {self.public_id} {self.form} {self.status}>"


class RequestEvent(db.Model):
    """A status change (or a status question, art. 18 (24)) signed by the member who made it and chained to the event
    before: `record` is the signed record, `digest` its hash, which the next event names. A note (reasons for refusal,
    the information requested) is sealed like the content."""

    __tablename__ = "request_events"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_request_events_request_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), default="status", nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    side: Mapped[str] = mapped_column(String(12), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)
    record: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the signed event record
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[bytes | None] = mapped_column(LargeBinary)  # a sealed envelope, or nothing

    request: Mapped[CooperationRequest] = relationship(back_populates="events")
    actor: Mapped[Member | None] = relationship()

    def __repr__(self) -> str:
        return f"<RequestEvent {self.request_id}#{self.seq} {self.kind} {self.status}>"


class RequestSettings(db.Model):
    """An authority's reminder periods: days without acknowledgement (outgoing requests), and days without any status
    event (both directions), after which its mailbox holders are reminded."""

    __tablename__ = "request_settings"

    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), primary_key=True)
    acknowledge_days: Mapped[int] = mapped_column(Integer, default=10, nullable=False)
    status_days: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<RequestSettings authority={self.authority_id}>"
