"""The forum's indexer: drains the forum outbox into the forum index, rebuilds it from the database, checks it.

The same discipline as the case indexer (catalogue/search/indexer.py): a batch is read only while holding the
index's write lock, posts are loaded as they are now, and outbox rows are deleted only after the index write
succeeded, so a crash anywhere in between leaves the rows and the next drain replays them (documents are replaced
by post id, a topic's documents are replaced as a whole)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, joinedload

from catalogue.search.forum_index import ForumDocument, post_document
from catalogue.search.forum_models import ForumSearchOutbox
from catalogue.search.indexer import DrainSoon, Status
from network.core.db import db
from network.forum.models import Post, Topic

log = logging.getLogger("catalogue.search")
BATCH = 200



def _backend():
    from catalogue.search.forum_search import forum_backend

    return forum_backend()


def indexable_posts(session) -> int:
    """How many posts the index should hold: every post (the reader's scope is applied at query time)."""
    return session.scalar(select(func.count()).select_from(Post)) or 0


def _first_posts(session, topic_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(topic_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Post.topic_id, func.min(Post.id)).where(Post.topic_id.in_(ids))
                                .group_by(Post.topic_id)).all())


def documents(session, posts: list[Post]) -> list[ForumDocument]:
    firsts = _first_posts(session, {post.topic_id for post in posts})
    return [post_document(post, firsts.get(post.topic_id)) for post in posts]


def _load(session, post_ids: set[int], topic_ids: set[int]) -> list[Post]:
    conditions = []
    if post_ids:
        conditions.append(Post.id.in_(sorted(post_ids)))
    if topic_ids:
        conditions.append(Post.topic_id.in_(sorted(topic_ids)))
    if not conditions:
        return []
    return list(session.scalars(select(Post).where(or_(*conditions)).order_by(Post.id)
                                .options(joinedload(Post.topic).joinedload(Topic.space))).unique())


def _delete_rows(session, row_ids: list[int]) -> None:
    session.execute(delete(ForumSearchOutbox).where(ForumSearchOutbox.id.in_(row_ids)))


def drain(batch_size: int = BATCH, max_batches: int | None = None) -> int:
    """Index what the forum outbox holds, batch by batch, until it is empty; returns the rows processed.
    Raises what the backend raises (e.g. Whoosh's LockError after the writer timeout): the rows stay."""
    done = batches = 0
    while max_batches is None or batches < max_batches:
        with Session(db.engine) as session:
            if session.scalar(select(ForumSearchOutbox.id).limit(1)) is None:
                return done
            backend = _backend().with_session(session)
            with backend.writer() as writer:  # the lock first: what is committed after this read is queued again
                rows = session.execute(select(ForumSearchOutbox.id, ForumSearchOutbox.post_id,
                                              ForumSearchOutbox.topic_id)
                                       .order_by(ForumSearchOutbox.id).limit(batch_size)).all()
                post_ids = {post_id for _id, post_id, _topic in rows if post_id is not None}
                topic_ids = {topic_id for _id, _post, topic_id in rows if topic_id is not None}
                posts = _load(session, post_ids, topic_ids)
                writer.delete_topics(topic_ids)  # posts that left the topic (merged) or went with it
                writer.index(documents(session, posts))
                writer.delete(post_ids - {post.id for post in posts})
            if not rows:
                return done
            _delete_rows(session, [row[0] for row in rows])
            session.commit()
        done += len(rows)
        batches += 1
    return done


drain_soon = DrainSoon(lambda: drain())  # late-bound: the module's drain as it is when called


def all_documents(session, batch: int = BATCH) -> Iterator[ForumDocument]:
    firsts = dict(session.execute(select(Post.topic_id, func.min(Post.id)).group_by(Post.topic_id)).all())
    last = 0
    while True:
        posts = list(session.scalars(select(Post).where(Post.id > last).order_by(Post.id).limit(batch)
                                     .options(joinedload(Post.topic).joinedload(Topic.space))).unique())
        if not posts:
            return
        for post in posts:
            yield post_document(post, firsts.get(post.topic_id))
        last = posts[-1].id
        session.expunge_all()


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole forum index from the database; outbox rows queued before the rebuild started are done."""
    with Session(db.engine) as session:
        last = session.scalar(select(func.max(ForumSearchOutbox.id))) or 0
        backend = _backend().with_session(session)
        n = backend.rebuild(all_documents(session), progress=progress)
        session.execute(delete(ForumSearchOutbox).where(ForumSearchOutbox.id <= last))
        session.commit()
    return n


def status() -> Status:
    with Session(db.engine) as session:
        backend = _backend().with_session(session)
        queued, oldest = session.execute(select(func.count(), func.min(ForumSearchOutbox.created_at))).one()
        return Status(backend.name, backend.count(), indexable_posts(session), queued or 0, oldest)


def ensure_consistent() -> Status:
    """Drain, then compare the index's count with the database's and rebuild on a mismatch."""
    try:
        drain()
    except Exception:
        log.exception("forum search: draining the outbox failed")
    current = status()
    if not current.in_step:
        log.warning("forum search: index holds %s documents, the database %s posts: rebuilding",
                    current.indexed, current.expected)
        rebuild()
        current = status()
    return current
