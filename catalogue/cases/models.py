"""A cooperation case with every field of shared/schemas/case.schema.json, its workflow state and its revisions."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db
from network.members.models import Member

CASE_STATUSES = ("draft", "submitted", "in_review", "changes_requested", "published", "withdrawn")
LIST_FIELDS = ("other_states", "cooperation_forms", "legal_bases", "untoc_provisions", "other_instruments",
               "crime_types", "channels", "keywords")
TEXT_FIELDS = ("refusal_grounds", "obstacles", "solutions", "lessons_learned", "source")
DATE_FIELDS = ("request_date", "decision_date", "completion_date")
# Field order of the interchange format (exports keep it, so export -> import -> export is byte-identical).
INTERCHANGE_FIELDS = (
    "reference", "title", "summary", "language", "translations", "requesting_state", "requested_state",
    "other_states", "cooperation_forms", "legal_bases", "untoc_provisions", "other_instruments", "crime_types",
    "channels", "request_date", "decision_date", "completion_date", "outcome", "refusal_grounds", "obstacles",
    "solutions", "lessons_learned", "keywords", "visibility", "source",
)


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(41), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    language: Mapped[str] = mapped_column(String(20), default="en", nullable=False)
    translations: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    requesting_state: Mapped[str] = mapped_column(String(3), default="", nullable=False, index=True)
    requested_state: Mapped[str] = mapped_column(String(3), default="", nullable=False, index=True)
    other_states: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    cooperation_forms: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    legal_bases: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    untoc_provisions: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    other_instruments: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    crime_types: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    request_date: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    completion_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20), default="", nullable=False, index=True)
    refusal_grounds: Mapped[str] = mapped_column(Text, default="", nullable=False)
    obstacles: Mapped[str] = mapped_column(Text, default="", nullable=False)
    solutions: Mapped[str] = mapped_column(Text, default="", nullable=False)
    lessons_learned: Mapped[str] = mapped_column(Text, default="", nullable=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    visibility: Mapped[str] = mapped_column(String(10), default="members", nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    # Workflow.
    status: Mapped[str] = mapped_column(String(20), default="draft", nullable=False, index=True)
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    wizard_step: Mapped[int] = mapped_column(default=1, nullable=False)
    review_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    anonymised_confirmed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    submitter: Mapped[Member | None] = relationship(foreign_keys=[submitter_id])
    reviewer: Mapped[Member | None] = relationship(foreign_keys=[reviewer_id])
    revisions: Mapped[list[CaseRevision]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRevision.number"
    )
    facets: Mapped[list[CaseFacet]] = relationship(back_populates="case", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status}>"

    @property
    def year(self) -> int | None:
        """The year the case is filed under: of the request, else the decision, else completion."""
        for value in (self.request_date, self.decision_date, self.completion_date):
            if value:
                return value.year
        return None

    @property
    def duration_days(self) -> int | None:
        """Days from request to completion, when both are known."""
        if self.request_date and self.completion_date:
            return (self.completion_date - self.request_date).days
        return None


class CaseRevision(db.Model):
    """A published version of a case, kept whole (the interchange dict) so readers can compare revisions."""

    __tablename__ = "case_revisions"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_case_revisions_case_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    published_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(1000), default="", nullable=False)

    case: Mapped[Case] = relationship(back_populates="revisions")
    published_by: Mapped[Member | None] = relationship()

    def __repr__(self) -> str:
        return f"<CaseRevision {self.case_id}#{self.number}>"


class CaseFacet(db.Model):
    """One (kind, code) value of a case's list fields, derived on every save, for filters and facet counts in SQL.
    Kinds: cooperation_form, crime_type, legal_basis, provision (with its article and paragraph), requesting_state,
    requested_state, region (and requesting_region, requested_region), channel, year, language (its own and each
    translation's)."""

    __tablename__ = "case_facets"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "code", name="uq_case_facets_case_kind_code"),
        Index("ix_case_facets_kind_code", "kind", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)

    case: Mapped[Case] = relationship(back_populates="facets")

    def __repr__(self) -> str:
        return f"<CaseFacet {self.kind}={self.code}>"
