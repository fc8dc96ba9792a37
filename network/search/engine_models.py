"""Tables of the case engine: the PostgreSQL backend's index and vocabulary (the outbox of every kind is
network/search/models.py).

case_search and search_words exist on SQLite too (plain columns there, always empty), so that one set of
migrations and one metadata serve both databases; only PostgreSQL gets the tsvector and the GIN indexes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from network.core.clock import utcnow
from network.core.db import db

TSVECTOR = Text().with_variant(postgresql.TSVECTOR(), "postgresql")
STRING_ARRAY = JSON().with_variant(postgresql.ARRAY(String(60)), "postgresql")


class CaseSearch(db.Model):
    """One case as the PostgreSQL backend indexes it: the reader-scope fields and a weighted tsvector."""

    __tablename__ = "case_search"
    __table_args__ = (
        Index("ix_case_search_document", "document", postgresql_using="gin"),
        Index("ix_case_search_facets", "facets", postgresql_using="gin"),
    )

    # No foreign key: the outbox queues deletions, and a benchmark can index plain documents without cases.
    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    visibility: Mapped[str] = mapped_column(String(10), nullable=False)
    submitter_id: Mapped[int | None] = mapped_column()
    reviewer_id: Mapped[int | None] = mapped_column()
    filed_on: Mapped[date | None] = mapped_column(Date)
    year: Mapped[int | None] = mapped_column()
    facets: Mapped[list[str]] = mapped_column(STRING_ARRAY, nullable=False)
    document: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    # What ts_rank reads: title, keywords and summary in each version's own configuration (postgres_backend).
    rank_document: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<CaseSearch {self.case_id}>"


class SearchWord(db.Model):
    """A folded word seen in an indexed case: what "did you mean" suggests from on PostgreSQL.
    Words are never removed: a stale one can only be offered when it finds cases the reader may see."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(String(60), primary_key=True)

    def __repr__(self) -> str:
        return f"<SearchWord {self.word}>"
