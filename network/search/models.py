"""Tables of the search layer: the one outbox of changed objects of every kind, and the record index that the
PostgreSQL engine keeps for kinds without an engine of their own (forum posts, authorities).

search_records exists on SQLite too (plain columns there, always empty: Whoosh serves SQLite), so that one set of
migrations and one metadata serve both databases; only PostgreSQL gets the tsvector, the text array and their GIN
indexes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db

TSVECTOR = Text().with_variant(postgresql.TSVECTOR(), "postgresql")
TOKEN_ARRAY = JSON().with_variant(postgresql.ARRAY(String(80)), "postgresql")


class IndexOutbox(db.Model):
    """An object of some index kind changed (or went): written in the same transaction as the change, deleted once
    the kind's index holds it. No foreign key: deletions are queued too."""

    __tablename__ = "index_outbox"
    __table_args__ = (Index("ix_index_outbox_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    object_id: Mapped[int] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)

    def __repr__(self) -> str:
        return f"<IndexOutbox {self.id} {self.kind}={self.object_id}>"


class SearchRecord(db.Model):
    """One document of a record kind as the PostgreSQL engine indexes it: its reader-scope tokens ("space:3",
    "hidden", ...) and a weighted tsvector (title A, names and summary B, body C)."""

    __tablename__ = "search_records"
    __table_args__ = (
        Index("ix_search_records_document", "document", postgresql_using="gin"),
        Index("ix_search_records_scope", "scope", postgresql_using="gin"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    object_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    scope: Mapped[list[str]] = mapped_column(TOKEN_ARRAY, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    document: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<SearchRecord {self.kind}={self.object_id}>"
