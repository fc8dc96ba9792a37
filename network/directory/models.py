"""Competent national authorities, as far as membership needs them: State, name, official e-mail domains."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db


class Authority(db.Model):
    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(48), unique=True, nullable=False)
    state: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<Authority {self.key}>"

    def matches_domain(self, email: str) -> bool:
        """Does the address belong to one of the authority's official domains (or a subdomain of one)?"""
        domain = email.rsplit("@", 1)[-1].lower()
        return any(domain == d.lower() or domain.endswith("." + d.lower()) for d in self.email_domains or [])
