"""Tables of forum search: the outbox of posts and topics to (re)index, and the PostgreSQL backend's post index.

forum_post_search exists on SQLite too (a plain text column there, always empty), so that one set of migrations
and one metadata serve both databases; only PostgreSQL gets the tsvector and its GIN index."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.search.models import TSVECTOR
from network.core.clock import utcnow
from network.core.db import db


class ForumSearchOutbox(db.Model):
    """A post, or a topic (its title, space, hiding or merging: every post of it), changed: written in the same
    transaction as the change, deleted once the index holds it."""

    __tablename__ = "forum_search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys: deletions are queued too. Exactly one of the two is set.
    post_id: Mapped[int | None] = mapped_column(index=True)
    topic_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)

    def __repr__(self) -> str:
        return f"<ForumSearchOutbox {self.id} post={self.post_id} topic={self.topic_id}>"


class ForumPostSearch(db.Model):
    """One forum post as the PostgreSQL backend indexes it: the reader-scope fields and a weighted tsvector
    (topic title A, author B, body C)."""

    __tablename__ = "forum_post_search"
    __table_args__ = (Index("ix_forum_post_search_document", "document", postgresql_using="gin"),)

    post_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    topic_id: Mapped[int] = mapped_column(nullable=False, index=True)
    space_id: Mapped[int] = mapped_column(nullable=False, index=True)
    author_id: Mapped[int | None] = mapped_column(index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)
    topic_hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)
    merged: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    document: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<ForumPostSearch {self.post_id}>"
