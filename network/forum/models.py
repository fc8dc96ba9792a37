"""The forum's tables: groups, spaces, topics, posts with their edit history, reading state, flags and moderation,
notifications and their preferences, and attachments (sealed at rest)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from network.core.clock import utcnow
from network.core.db import db
from network.members.models import Member

GROUP_ROLES = ("member", "space_moderator")
JOIN_STATUSES = ("pending", "approved", "refused")
SUBSCRIPTION_LEVELS = ("watch", "mute")
FLAG_STATUSES = ("open", "agreed", "disagreed")
EMAIL_MODES = ("immediate", "digest", "off")
NOTIFICATION_KINDS = ("reply", "new_topic", "mention")


class ForumGroup(db.Model):
    """A regional network or working group: its members see and write in its restricted spaces."""

    __tablename__ = "forum_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="group", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<ForumGroup {self.slug}>"


class GroupMembership(db.Model):
    __tablename__ = "forum_group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "member_id", name="uq_forum_group_memberships_group_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("forum_groups.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), default="member", nullable=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    group: Mapped[ForumGroup] = relationship(back_populates="memberships")
    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<GroupMembership group={self.group_id} member={self.member_id} {self.role}>"


class JoinRequest(db.Model):
    """A member asks to join a group; its space moderators (or a platform moderator) approve or refuse."""

    __tablename__ = "forum_join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("forum_groups.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    message: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="pending", nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(1000), default="", nullable=False)

    group: Mapped[ForumGroup] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<JoinRequest {self.id} group={self.group_id} member={self.member_id} {self.status}>"


class Space(db.Model):
    """Where topics live. Who sees, replies and creates is in its permissions (one row per group, or for all vetted
    members); `restricted` (the padlock) means not every member sees it, and `group` is the group whose space
    moderators moderate it and to which members ask to join."""

    __tablename__ = "forum_spaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("forum_groups.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    group: Mapped[ForumGroup | None] = relationship(lazy="joined")
    permissions: Mapped[list[SpacePermission]] = relationship(back_populates="space", cascade="all, delete-orphan",
                                                              order_by="SpacePermission.id")

    def __repr__(self) -> str:
        return f"<Space {self.slug}{' restricted' if self.restricted else ''}>"

    @property
    def seen_by(self) -> list[str]:
        """Names of the groups that see a restricted space (for the padlock's label)."""
        return [p.group.name for p in self.permissions if p.can_see and p.group is not None]


class SpacePermission(db.Model):
    """What one group (or, with no group, every vetted member) may do in a space: see it, reply, start topics.
    Replying or starting a topic implies seeing. Platform moderators and the space's moderators need no row."""

    __tablename__ = "forum_space_permissions"
    __table_args__ = (
        UniqueConstraint("space_id", "group_id", name="uq_forum_space_permissions_space_group"),
        Index("uq_forum_space_permissions_space_all_members", "space_id", unique=True,
              sqlite_where=text("group_id IS NULL"), postgresql_where=text("group_id IS NULL")),
        CheckConstraint("can_see OR NOT (can_reply OR can_create)", name="write_implies_see"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("forum_spaces.id", ondelete="CASCADE"), nullable=False, index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("forum_groups.id", ondelete="CASCADE"), index=True)
    can_see: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    can_reply: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_create: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    space: Mapped[Space] = relationship(back_populates="permissions")
    group: Mapped[ForumGroup | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        flags = "".join(c for c, on in (("s", self.can_see), ("r", self.can_reply), ("c", self.can_create)) if on)
        return f"<SpacePermission space={self.space_id} group={self.group_id or 'all'} {flags}>"


def default_permissions(space: Space) -> list[SpacePermission]:
    """What the open/restricted flag meant before permissions existed: open -> every member sees, replies and
    creates; restricted -> its group does."""
    if not space.restricted:
        return [SpacePermission(group_id=None, can_see=True, can_reply=True, can_create=True)]
    if space.group is not None:
        return [SpacePermission(group=space.group, can_see=True, can_reply=True, can_create=True)]
    if space.group_id is not None:
        return [SpacePermission(group_id=space.group_id, can_see=True, can_reply=True, can_create=True)]
    return []


@event.listens_for(Session, "before_flush")
def _give_new_spaces_their_default_permissions(session: Session, _context, _instances) -> None:
    """A space created without permission rows (by code that only sets `restricted` and `group`) gets the rows
    its flag means, so that nothing is silently invisible."""
    for obj in list(session.new):
        if isinstance(obj, Space) and not obj.permissions:
            obj.permissions.extend(default_permissions(obj))


class Topic(db.Model):
    __tablename__ = "forum_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("forum_spaces.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    is_question: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    solved_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL", use_alter=True, name="fk_forum_topics_solved_post_id"))
    locked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("forum_topics.id", ondelete="SET NULL"))

    space: Mapped[Space] = relationship(lazy="joined")
    author: Mapped[Member | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.title[:30]!r}>"

    @property
    def solved(self) -> bool:
        return self.solved_post_id is not None


class Post(db.Model):
    """A message in a topic. Moderation hides a post (who, when, why), it never deletes one."""

    __tablename__ = "forum_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    body_markdown: Mapped[str] = mapped_column(Text, nullable=False)
    # The body rendered (network.forum.render.post_html), the renderer's version and the digest of the Markdown it
    # was rendered from: shown while both still match, rendered again otherwise.
    body_html: Mapped[str | None] = mapped_column(Text)
    body_html_version: Mapped[str | None] = mapped_column(String(120))
    body_html_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    edited_at: Mapped[datetime | None] = mapped_column()
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column()

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    author: Mapped[Member | None] = relationship(foreign_keys=[author_id], lazy="joined")
    hidden_by: Mapped[Member | None] = relationship(foreign_keys=[hidden_by_id])
    revisions: Mapped[list[PostRevision]] = relationship(back_populates="post", cascade="all, delete-orphan",
                                                         order_by="PostRevision.number")

    def __repr__(self) -> str:
        return f"<Post {self.id} topic={self.topic_id}{' hidden' if self.hidden else ''}>"


class PostRevision(db.Model):
    """An earlier text of an edited post: readers see the edit history."""

    __tablename__ = "forum_post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_forum_post_revisions_post_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    body_markdown: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)  # as on Post
    body_html_version: Mapped[str | None] = mapped_column(String(120))
    body_html_digest: Mapped[str | None] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship(back_populates="revisions")
    edited_by: Mapped[Member | None] = relationship()

    def __repr__(self) -> str:
        return f"<PostRevision post={self.post_id} #{self.number}>"


class TopicRead(db.Model):
    """How far a member has read a topic: posts after last_read_post_id are new to them."""

    __tablename__ = "forum_topic_reads"
    __table_args__ = (UniqueConstraint("member_id", "topic_id", name="uq_forum_topic_reads_member_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"), nullable=False, index=True)
    last_read_post_id: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    read_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<TopicRead member={self.member_id} topic={self.topic_id} post={self.last_read_post_id}>"


class Subscription(db.Model):
    """A member watches or mutes one topic or one space."""

    __tablename__ = "forum_subscriptions"
    __table_args__ = (
        UniqueConstraint("member_id", "topic_id", "space_id", name="uq_forum_subscriptions_member_target"),
        CheckConstraint("(topic_id IS NULL) <> (space_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("forum_spaces.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"<Subscription member={self.member_id} topic={self.topic_id} space={self.space_id} {self.level}>"


# ---------------------------------------------------------------- moderation

class Flag(db.Model):
    """A member tells the moderators a post breaks the rules. One open flag per member per post."""

    __tablename__ = "forum_flags"
    __table_args__ = (
        Index("uq_forum_flags_open_member_post", "post_id", "member_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="open", nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(String(1000), default="", nullable=False)

    post: Mapped[Post] = relationship(lazy="joined")
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Flag {self.id} post={self.post_id} {self.status}>"


class Silence(db.Model):
    """A moderator silenced a member in the forum until a date: they read, but cannot post."""

    __tablename__ = "forum_silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    until: Mapped[datetime] = mapped_column(nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<Silence member={self.member_id} until={self.until:%Y-%m-%d}>"


class ModeratorNote(db.Model):
    """What moderators want each other to know about a member; never shown to the member."""

    __tablename__ = "forum_moderator_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    author: Mapped[Member | None] = relationship(foreign_keys=[author_id])

    def __repr__(self) -> str:
        return f"<ModeratorNote {self.id} member={self.member_id}>"


# ---------------------------------------------------------------- notifications

class Notification(db.Model):
    """Something new for a member in the forum. email_state: none, pending (for the digest) or sent."""

    __tablename__ = "forum_notifications"
    __table_args__ = (
        # the bell's count on every signed-in page (tasks._unread_notifications): a member's unread ones alone, with
        # their posts, however many they have read
        Index("ix_forum_notifications_member_unread", "member_id", "post_id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"), nullable=False)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False, index=True)
    read_at: Mapped[datetime | None] = mapped_column()
    email_state: Mapped[str] = mapped_column(String(8), default="none", nullable=False, index=True)

    topic: Mapped[Topic] = relationship(lazy="joined")
    post: Mapped[Post] = relationship()
    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])

    def __repr__(self) -> str:
        return f"<Notification {self.id} member={self.member_id} {self.kind}>"


class NotificationPreference(db.Model):
    """How a member wants forum news by e-mail: immediately, in a daily digest, or not at all."""

    __tablename__ = "forum_notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, unique=True)
    email_mode: Mapped[str] = mapped_column(String(10), default="immediate", nullable=False)
    last_digest_on: Mapped[date | None] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"<NotificationPreference member={self.member_id} {self.email_mode}>"


# ---------------------------------------------------------------- attachments

class Attachment(db.Model):
    """A file on a post, sealed under the master key in this table; found by a random storage id, never by a
    name the uploader chose. The filename kept is a cleaned display name only."""

    __tablename__ = "forum_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"), nullable=False, index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    post: Mapped[Post] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.storage_id[:8]} {self.kind} {self.size}>"
