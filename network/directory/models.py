"""Competent national authorities: their entry in the directory, designations, approved versions and proposed changes.

An authority's fields follow the interchange format (shared/schemas/authority.schema.json) one to one, so an
import, an export, a version and a proposed change are the same dict (`Authority.to_interchange`)."""
from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db

if TYPE_CHECKING:
    from network.members.models import Member

CHANGE_STATUSES = ("proposed", "approved", "returned", "withdrawn")
# Interchange fields in the schema's order: the order of exports, diffs and the edit form.
INTERCHANGE_FIELDS = (
    "key", "state", "name", "parent_body", "designations", "address", "phone", "email", "email_domains", "website",
    "languages", "channels", "accepts_untoc_as_legal_basis", "urgent_requests", "available_24_7", "time_zone",
    "office_hours", "legal_requirements", "national_laws", "treaties", "last_verified",
)
LIST_FIELDS = ("designations", "email_domains", "languages", "channels", "national_laws", "treaties")
TEXT_FIELDS = ("parent_body", "address", "phone", "email", "website", "urgent_requests", "time_zone", "office_hours",
               "legal_requirements")


@functools.cache
def _suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """True for a domain anyone can register names under (the Public Suffix List), and for a bare label."""
    domain = domain.lower().strip(".")
    return "." not in domain or bool(_suffixes().is_public(domain))


def matches_domain(domains: Iterable[str] | None, email: str) -> bool:
    """Does the address belong to one of these official domains (or a subdomain of one)? A domain under which anyone
    can register ("com", "co.uk", "gv.at": a public suffix) never counts: it would match every applicant of that
    suffix."""
    domain = email.rsplit("@", 1)[-1].lower()
    return any(domain == d or domain.endswith("." + d)
               for d in (d.lower().strip(".") for d in domains or []) if not is_public_suffix(d))


@functools.cache
def _designation_order() -> dict[str, int]:
    from network.core.reference import vocabulary_labels

    return {code: n for n, code in enumerate(vocabulary_labels("designations"))}


def in_vocabulary_order(codes: Iterable[str]) -> tuple[str, ...]:
    """Designation codes in the vocabulary's order (an unknown code last). The vocabulary is reference data: its
    order is read once per process."""
    order = _designation_order()
    return tuple(sorted(codes, key=lambda code: (order.get(code, 99), code)))


class Authority(db.Model):
    """A central or other competent authority of a State, as the directory shows it."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(48), unique=True, nullable=False)
    state: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    parent_body: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    address: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    phone: Mapped[str] = mapped_column(String(60), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    website: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    accepts_untoc_as_legal_basis: Mapped[bool | None] = mapped_column(Boolean)
    urgent_requests: Mapped[str] = mapped_column(Text, default="", nullable=False)
    available_24_7: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    office_hours: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    legal_requirements: Mapped[str] = mapped_column(Text, default="", nullable=False)
    national_laws: Mapped[list[dict]] = mapped_column(JSON, default=list, nullable=False)
    treaties: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    last_verified: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column()
    stale_notice_at: Mapped[datetime | None] = mapped_column()  # when `directory remind` last wrote about it

    designation_rows: Mapped[list[AuthorityDesignation]] = relationship(
        back_populates="authority", cascade="all, delete-orphan", lazy="selectin",
        order_by="AuthorityDesignation.code")
    versions: Mapped[list[AuthorityVersion]] = relationship(
        back_populates="authority", cascade="all, delete-orphan", order_by="AuthorityVersion.number")

    def __repr__(self) -> str:
        return f"<Authority {self.key}>"

    def matches_domain(self, email: str) -> bool:
        """Does the address belong to one of the authority's official domains (or a subdomain of one)?"""
        return matches_domain(self.email_domains, email)

    @property
    def designations(self) -> list[str]:
        """Codes in the vocabulary's order, however the rows were added."""
        return list(in_vocabulary_order(row.code for row in self.designation_rows))

    def set_designations(self, codes: list[str]) -> None:
        """Keep the rows whose code stays, drop the others, add the new ones (no churn of unchanged rows)."""
        wanted = list(dict.fromkeys(codes))
        self.designation_rows = [row for row in self.designation_rows if row.code in wanted] + [
            AuthorityDesignation(code=code) for code in wanted if code not in self.designations]

    def to_interchange(self) -> dict:
        """The entry in the interchange format: empty optional fields left out, as the schema allows."""
        data: dict = {"key": self.key, "state": self.state, "name": self.name, "designations": self.designations}
        for field in TEXT_FIELDS:
            if getattr(self, field):
                data[field] = getattr(self, field)
        for field in ("email_domains", "languages", "channels", "national_laws", "treaties"):
            if getattr(self, field):
                data[field] = list(getattr(self, field))
        if self.accepts_untoc_as_legal_basis is not None:
            data["accepts_untoc_as_legal_basis"] = self.accepts_untoc_as_legal_basis
        if self.available_24_7:
            data["available_24_7"] = True
        if self.last_verified:
            data["last_verified"] = self.last_verified.isoformat()
        return {field: data[field] for field in INTERCHANGE_FIELDS if field in data}


class AuthorityDesignation(db.Model):
    """One designation an authority holds (vocabulary `designations`: code, label, legal basis)."""

    __tablename__ = "authority_designations"
    __table_args__ = (
        UniqueConstraint("authority_id", "code", name="uq_authority_designations_authority_code"),
        Index("ix_authority_designations_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)

    authority: Mapped[Authority] = relationship(back_populates="designation_rows")

    def __repr__(self) -> str:
        return f"<AuthorityDesignation {self.authority_id} {self.code}>"


class AuthorityVersion(db.Model):
    """An approved version of an entry, kept whole (the interchange dict) so readers can see what changed and when."""

    __tablename__ = "authority_versions"
    __table_args__ = (UniqueConstraint("authority_id", "number", name="uq_authority_versions_authority_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    number: Mapped[int] = mapped_column(nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # import, proposal, reconfirmation, demo, admin
    approved_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(1000), default="", nullable=False)

    authority: Mapped[Authority] = relationship(back_populates="versions")
    approved_by: Mapped[Member | None] = relationship(foreign_keys=[approved_by_id])
    proposed_by: Mapped[Member | None] = relationship(foreign_keys=[proposed_by_id])

    def __repr__(self) -> str:
        return f"<AuthorityVersion {self.authority_id}#{self.number}>"


class AuthorityChange(db.Model):
    """A change to an entry proposed by one of the authority's focal points, waiting for a moderator."""

    __tablename__ = "authority_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    base_version: Mapped[int] = mapped_column(nullable=False)  # the version the focal point edited
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="proposed", nullable=False, index=True)
    note: Mapped[str] = mapped_column(String(2000), default="", nullable=False)  # the focal point's explanation
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_note: Mapped[str] = mapped_column(String(2000), default="", nullable=False)

    authority: Mapped[Authority] = relationship()
    proposed_by: Mapped[Member | None] = relationship(foreign_keys=[proposed_by_id])
    reviewed_by: Mapped[Member | None] = relationship(foreign_keys=[reviewed_by_id])

    def __repr__(self) -> str:
        return f"<AuthorityChange {self.id} {self.authority_id} {self.status}>"
