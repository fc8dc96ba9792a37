"""Members of the network, their applications, vouches, roles and recovery codes."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db
from network.directory.models import Authority

MEMBER_STATUSES = ("pending", "active", "suspended", "lapsed", "deactivated")
APPLICATION_STATUSES = ("unverified", "submitted", "info_requested", "approved", "rejected")
ROLES = ("member", "focal_point", "moderator", "admin")


class Member(UserMixin, db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[str] = mapped_column(String(3), nullable=False)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)
    authority_other: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    position: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    practitioner_type: Mapped[str] = mapped_column(String(40), nullable=False)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed under the master key
    totp_last_step: Mapped[int | None] = mapped_column()
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    approved_at: Mapped[datetime | None] = mapped_column()
    confirmed_until: Mapped[datetime | None] = mapped_column(index=True)
    revalidation_notice_at: Mapped[datetime | None] = mapped_column()
    suspended_reason: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    suspended_until: Mapped[datetime | None] = mapped_column()
    status_changed_at: Mapped[datetime | None] = mapped_column()
    # The interface language the member chose ("" until they choose): their pages and their e-mails are in it.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="", nullable=False)

    authority: Mapped[Authority | None] = relationship(lazy="joined")
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="member", cascade="all, delete-orphan", foreign_keys="RoleGrant.member_id", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email} {self.status}>"

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_vetted(self) -> bool:
        return self.status == "active"

    @property
    def authority_name(self) -> str:
        return self.authority.name if self.authority else self.authority_other

    def has_role(self, role: str, authority_id: int | None = None) -> bool:
        return any(g.role == role and (authority_id is None or g.authority_id == authority_id) for g in self.roles)

    def focal_point_authority_ids(self) -> set[int]:
        return {g.authority_id for g in self.roles if g.role == "focal_point" and g.authority_id}


class RoleGrant(db.Model):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("member_id", "role", "authority_id", name="uq_role_grants_member_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    member: Mapped[Member] = relationship(back_populates="roles", foreign_keys=[member_id])
    authority: Mapped[Authority | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<RoleGrant {self.role} member={self.member_id} authority={self.authority_id}>"


def focal_point_authorities_of(member_id):
    """Member.focal_point_authority_ids as a query (member_id: a value or a bound parameter), for statements kept
    per process (the home page's counts)."""
    return select(RoleGrant.authority_id).where(RoleGrant.member_id == member_id, RoleGrant.role == "focal_point",
                                                RoleGrant.authority_id.isnot(None))


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<RecoveryCode member={self.member_id} used={bool(self.used_at)}>"


class Application(db.Model):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="unverified", nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    referee_email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    referee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    referee_decision: Mapped[str] = mapped_column(String(12), default="", nullable=False)
    referee_note: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    info_question: Mapped[str] = mapped_column(Text, default="", nullable=False)
    info_answer: Mapped[str] = mapped_column(Text, default="", nullable=False)
    info_requested_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    reminded_at: Mapped[datetime | None] = mapped_column()

    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    referee: Mapped[Member | None] = relationship(foreign_keys=[referee_id])
    vouches: Mapped[list[Vouch]] = relationship(back_populates="application", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status}>"

    @property
    def domain_matches(self) -> bool:
        authority = self.member.authority
        return bool(authority and authority.matches_domain(self.member.email))

    @property
    def vouched(self) -> list[Vouch]:
        return [v for v in self.vouches if v.decision == "vouched"]

    @property
    def declined(self) -> list[Vouch]:
        return [v for v in self.vouches if v.decision == "declined"]

    def waiting_hours(self, now: datetime) -> float:
        return (now - (self.submitted_at or self.created_at)).total_seconds() / 3600


class Vouch(db.Model):
    __tablename__ = "vouches"
    __table_args__ = (UniqueConstraint("application_id", "focal_point_id", name="uq_vouches_application_focal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    decision: Mapped[str] = mapped_column(String(12), nullable=False)
    note: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    application: Mapped[Application] = relationship(back_populates="vouches")
    focal_point: Mapped[Member] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Vouch {self.decision} application={self.application_id}>"


class ApiToken(db.Model):
    """A personal access token for the JSON API: only its SHA-256 is stored; scopes limit what it can do."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} member={self.member_id} {self.scopes}>"
