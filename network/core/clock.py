"""The one source of the current time, so tests can move it (session timeouts, TOTP, yearly revalidation)."""
from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time in UTC, as a naive datetime (how the database stores it)."""
    now = _frozen if _frozen is not None else datetime.now(UTC)
    return now.replace(tzinfo=None)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests only); None releases it."""
    global _frozen
    _frozen = at
