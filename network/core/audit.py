"""The audit log: append-only entries, each hash-chained to the one before, so edits and deletions show."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db

GENESIS = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(320), default="", nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    address: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    details: Mapped[str] = mapped_column(Text, default="{}", nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"

    def payload(self) -> dict:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "address": self.address,
            "details": self.details,
        }

    @property
    def details_dict(self) -> dict:
        try:
            return json.loads(self.details)
        except ValueError:
            return {}


def chain_hash(prev_hash: str, payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so two writers never chain to the same predecessor."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(727274)"))


def record(action: str, target: object | None = None, *, actor: object | None = None, **details: object) -> AuditEntry:
    """Append an entry in the current transaction. Actor defaults to the signed-in member."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    _lock_chain()
    last = db.session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    prev_hash = last.entry_hash if last else GENESIS
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "") or "") if target is not None else "",
        address=(request.remote_addr or "") if has_request_context() else "cli",
        details=json.dumps(details, sort_keys=True, default=str),
        prev_hash=prev_hash,
    )
    entry.entry_hash = chain_hash(prev_hash, entry.payload())
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


def verify_chain(batch: int = 1000) -> ChainReport:
    """Walk the chain in id order; name the first entry that was changed, or the gap where one was removed."""
    prev_hash, expected_id, checked, last_id = GENESIS, 1, 0, 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(True, checked)
        for entry in rows:
            if entry.id != expected_id or entry.prev_hash != prev_hash:
                return ChainReport(
                    False, checked, expected_id,
                    f"entry {expected_id} was removed (the chain continues at entry {entry.id})"
                    if entry.id != expected_id else f"entry {entry.id} does not follow its predecessor",
                )
            if chain_hash(prev_hash, entry.payload()) != entry.entry_hash:
                return ChainReport(False, checked, entry.id, f"entry {entry.id} was changed after it was written")
            prev_hash, expected_id, last_id = entry.entry_hash, entry.id + 1, entry.id
            checked += 1
        db.session.expunge_all()
