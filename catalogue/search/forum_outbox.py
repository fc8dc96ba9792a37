"""The forum's search outbox: every change to a post, or to what a topic gives its posts' documents (title, space,
hiding, merging), writes a row in the same transaction, so the forum index can never miss one.

Session events do it, as for cases (catalogue/search/outbox.py): no forum service can forget, and the network
package knows nothing of it. A rollback discards the rows with the change they describe."""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from catalogue.search.forum_models import ForumSearchOutbox
from network.core.clock import utcnow
from network.forum.models import Post, Topic

log = logging.getLogger("catalogue.search")
FLAG = "forum_search_outbox_written"
POST_FIELDS = ("body_markdown", "hidden", "topic_id", "author_id")
TOPIC_FIELDS = ("title", "space_id", "hidden", "merged_into_id")  # not last_post_at: a reply changes no document


def _changed(obj, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def changed_ids(session: Session) -> tuple[set[int], set[int]]:
    """(post ids, topic ids) whose documents this flush changes."""
    posts: set[int] = set()
    topics: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Post) and obj.id is not None:
            posts.add(obj.id)
        elif isinstance(obj, Topic) and obj.id is not None:
            topics.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Post) and obj.id is not None and _changed(obj, POST_FIELDS):
            posts.add(obj.id)
        elif isinstance(obj, Topic) and obj.id is not None and _changed(obj, TOPIC_FIELDS):
            topics.add(obj.id)
    return posts, topics


def _after_flush(session: Session, flush_context) -> None:  # noqa: ARG001 (SQLAlchemy's signature)
    posts, topics = changed_ids(session)
    if not posts and not topics:
        return
    now = utcnow()
    rows = [{"post_id": i, "topic_id": None, "created_at": now} for i in sorted(posts)]
    rows += [{"post_id": None, "topic_id": i, "created_at": now} for i in sorted(topics)]
    session.connection().execute(insert(ForumSearchOutbox), rows)
    session.info[FLAG] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop(FLAG, False) or not has_app_context():
        return
    if not current_app.config.get("SEARCH_INDEX_ON_COMMIT", True):
        return
    from catalogue.search.forum_indexer import drain_soon

    try:
        drain_soon()
    except Exception:  # the change is committed and its outbox row stays: the next drain replays it
        log.exception("forum search: indexing after commit failed; the outbox keeps the changes")


def _after_rollback(session: Session) -> None:
    session.info.pop(FLAG, None)


def install() -> None:
    """Listen on every SQLAlchemy session (idempotent)."""
    for name, listener in (("after_flush", _after_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
