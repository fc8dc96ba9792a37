"""Forum notifications: in the platform (the bell) and by e-mail, immediately or in a daily digest, per the member's
preference; who is told follows watch and mute on topics and spaces, and mentions always notify.

Every recipient passes the one visibility rule (access.can_read_post) when the notification is made, when it is
listed and when a digest is sent: a member who cannot see a space hears nothing from it. E-mail from a restricted
space carries the topic's title only, never post content."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, func, select

from network.core.clock import utcnow
from network.core.db import db
from network.core.mail import queue_mail
from network.forum import access
from network.forum.models import EMAIL_MODES, Notification, NotificationPreference, Post, Subscription, Topic
from network.forum.render import mentioned_members
from network.members.models import Member

EXCERPT_CHARS = 400


class PreferenceError(ValueError):
    pass


# ---------------------------------------------------------------- preferences

def preference(member: Member) -> NotificationPreference | None:
    return db.session.scalar(select(NotificationPreference).where(NotificationPreference.member_id == member.id))


def email_mode(member: Member) -> str:
    row = preference(member)
    return row.email_mode if row else "immediate"


def set_email_mode(member: Member, mode: str) -> NotificationPreference:
    if mode not in EMAIL_MODES:
        raise PreferenceError(mode)
    row = preference(member)
    if row is None:
        row = NotificationPreference(member_id=member.id, email_mode=mode)
        db.session.add(row)
    row.email_mode = mode
    db.session.flush()
    return row


# ---------------------------------------------------------------- links and mail

def post_link(topic_id: int, post_id: int) -> str:
    """Absolute, from the platform's public address: mail is also rendered by commands, outside any request."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/forum/topics/{topic_id}?post={post_id}#post-{post_id}"


@contextlib.contextmanager
def _mail_context() -> Iterator[None]:
    if has_request_context():
        yield
    else:
        with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_URL"]):
            yield


def excerpt(post: Post) -> str:
    text = " ".join((post.body_markdown or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"


def _mail_one(member: Member, notification: Notification, post: Post) -> None:
    topic = post.topic
    restricted = topic.space.restricted
    subject = (_l("You were mentioned in “%(title)s”", title=topic.title) if notification.kind == "mention"
               else _l("New topic: %(title)s", title=topic.title) if notification.kind == "new_topic"
               else _l("New reply in “%(title)s”", title=topic.title))
    with _mail_context():
        queue_mail(member.email, subject, "forum/notification", recipient=member, notification=notification,
                   topic=topic, restricted=restricted, author=post.author.name if post.author else "",
                   excerpt="" if restricted else excerpt(post), link=post_link(topic.id, post.id))


# ---------------------------------------------------------------- making notifications

def _levels(column, target_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Subscription.member_id, Subscription.level).where(column == target_id)).all())


def recipients_for(post: Post, new_topic: bool) -> dict[int, str]:
    """member id -> kind. Mentions always; otherwise watchers of the topic or the space, and (for replies) the
    topic's author and earlier posters, unless they muted the topic, or muted the space without watching the topic."""
    topic = post.topic
    topic_levels = _levels(Subscription.topic_id, topic.id)
    space_levels = _levels(Subscription.space_id, topic.space_id)
    found: dict[int, str] = {m.id: "mention" for m in mentioned_members(post.body_markdown).values()}
    followers = {mid for mid, level in topic_levels.items() if level == "watch"}
    followers |= {mid for mid, level in space_levels.items() if level == "watch"}
    if not new_topic:
        followers |= set(db.session.scalars(select(Post.author_id).where(Post.topic_id == topic.id,
                                                                         Post.author_id.isnot(None)).distinct()))
        if topic.author_id:
            followers.add(topic.author_id)
    for member_id in followers:
        level = topic_levels.get(member_id)
        if level == "mute" or (level != "watch" and space_levels.get(member_id) == "mute"):
            continue
        found.setdefault(member_id, "new_topic" if new_topic else "reply")
    found.pop(post.author_id, None)
    return found


def notify_new_post(post: Post, new_topic: bool = False) -> list[Notification]:
    made = []
    for member_id, kind in recipients_for(post, new_topic).items():
        member = db.session.get(Member, member_id)
        if member is None or not access.can_read_post(member, post):
            continue  # the one rule: nobody hears of what they cannot read
        mode = email_mode(member)
        notification = Notification(member_id=member.id, kind=kind, topic_id=post.topic_id, post_id=post.id,
                                    actor_id=post.author_id, created_at=utcnow(),
                                    email_state={"immediate": "sent", "digest": "pending"}.get(mode, "none"))
        db.session.add(notification)
        db.session.flush()
        if mode == "immediate":
            _mail_one(member, notification, post)
        made.append(notification)
    return made


# ---------------------------------------------------------------- reading notifications

def _visible(member: Member):
    return (select(Notification).where(Notification.member_id == member.id,
                                       Notification.post_id.in_(access.visible_posts(member)
                                                                .with_only_columns(Post.id))))


def unread_query(member: Member | None):
    """The count of the member's unread notifications (the bell), as a query; None outside the forum."""
    if member is None or not access.can_use_forum(member):
        return None
    return (_visible(member).where(Notification.read_at.is_(None))
            .with_only_columns(func.count(Notification.id)).order_by(None))


BELL_MEMBER = bindparam("forum_notifications_member", type_=Integer)


def unread_shape(member: Member | None):
    """The bell's count as a template (network/core/counters.py): the same statement as unread_query, its member a
    bound parameter; the key is whether the member is a platform moderator (who reads every space)."""
    if member is None or not access.can_use_forum(member):
        return None
    return access.is_platform_moderator(member), {BELL_MEMBER.key: member.id}


def unread_count(member: Member | None) -> int:
    query = unread_query(member)
    return (db.session.scalar(query) or 0) if query is not None else 0


def listing(member: Member, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(_visible(member).order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)).unique())


def mark_read(member: Member, notification: Notification | None = None) -> int:
    query = Notification.__table__.update().where(Notification.member_id == member.id,
                                                  Notification.read_at.is_(None))
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    result = db.session.execute(query.values(read_at=utcnow()))
    db.session.expire_all()
    return result.rowcount or 0


def mark_topic_read(member: Member, topic: Topic, up_to_post_id: int) -> int:
    """Reading a topic reads its notifications: those of the posts up to the last one shown (a later page's posts
    are not read yet). One statement; nothing is expired (the page goes on rendering what it loaded)."""
    result = db.session.execute(
        Notification.__table__.update().where(Notification.member_id == member.id, Notification.topic_id == topic.id,
                                              Notification.post_id <= up_to_post_id,
                                              Notification.read_at.is_(None))
        .values(read_at=utcnow()))
    return result.rowcount or 0


# ---------------------------------------------------------------- the daily digest

def send_digests(today: date | None = None) -> int:
    """One mail per member on the digest who has pending notifications and had no digest today. Idempotent: a
    second run on the same day sends nothing. Visibility is checked again now (a member may have left a group)."""
    today = today or utcnow().date()
    sent = 0
    preferences = db.session.scalars(select(NotificationPreference).where(NotificationPreference.email_mode == "digest")
                                     .order_by(NotificationPreference.member_id)).all()
    for pref in preferences:
        if pref.last_digest_on == today:
            continue
        member = db.session.get(Member, pref.member_id)
        pending = list(db.session.scalars(select(Notification).where(Notification.member_id == pref.member_id,
                                                                     Notification.email_state == "pending")
                                          .order_by(Notification.created_at, Notification.id)))
        if member is None or not pending:
            continue
        items = []
        for notification in pending:
            post = db.session.get(Post, notification.post_id)
            readable = member.status == "active" and post is not None and access.can_read_post(member, post)
            notification.email_state = "sent" if readable else "none"
            if readable:
                topic: Topic = post.topic
                items.append({"kind": notification.kind, "title": topic.title, "restricted": topic.space.restricted,
                              "author": post.author.name if post.author else "",
                              "excerpt": "" if topic.space.restricted else excerpt(post),
                              "link": post_link(topic.id, post.id)})
        pref.last_digest_on = today
        db.session.flush()
        if not items:
            continue
        with _mail_context():
            queue_mail(member.email, _l("Your forum digest: %(n)d new", n=len(items)), "forum/digest",
                       recipient=member, items=items, link=current_app.config["PUBLIC_URL"].rstrip("/") + "/forum/")
        sent += 1
    return sent
