"""Moderating the forum: flags and their queue, decisions (agree, disagree, silence, suspend), moderator notes on
members, moving and merging topics. Every decision is audited; services flush and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from network.core.audit import record
from network.core.clock import utcnow
from network.core.db import db
from network.core.mail import queue_mail
from network.forum import access
from network.forum.models import Flag, ModeratorNote, Notification, Post, Silence, Space, Topic, TopicRead
from network.forum.services import REASON_MAX, ForumError, _clean_reason, hide_post
from network.members.access import is_admin
from network.members.models import Member

DECISIONS = ("agree", "disagree", "silence", "suspend")
SILENCE_MAX_DAYS = 365
NOTE_MAX = 4000


# ---------------------------------------------------------------- flags

def open_flag(member: Member, post: Post) -> Flag | None:
    return db.session.scalar(select(Flag).where(Flag.post_id == post.id, Flag.member_id == member.id,
                                                Flag.status == "open"))


def flag_post(member: Member, post: Post, reason: str) -> Flag:
    if not access.can_flag(member, post):
        raise ForumError(_("You cannot flag this post."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ForumError(_("Say in a few words what is wrong with the post."), "reason")
    if open_flag(member, post) is not None:
        raise ForumError(_("You have already flagged this post; the moderators will look at it."))
    flag = Flag(post_id=post.id, member_id=member.id, reason=reason[:REASON_MAX], created_at=utcnow())
    db.session.add(flag)
    db.session.flush()
    record("forum.post_flagged", flag, actor=member, post=post.id, topic=post.topic_id)
    return flag


def _flags_query(moderator: Member):
    """Flags of posts in spaces this member moderates (the one rule: moderated_space_condition)."""
    return flags_query_of(moderator.id, access.is_platform_moderator(moderator))


def flags_query_of(member_id, platform_moderator: bool):
    """_flags_query of a member given by id (a value, or a bound parameter: the home page's count, a statement kept
    per process) and whether they moderate the whole forum."""
    return (select(Flag).join(Post, Flag.post_id == Post.id).join(Topic, Post.topic_id == Topic.id)
            .join(Space, Topic.space_id == Space.id)
            .where(access._moderated_space_condition_of(member_id, platform_moderator)))


@dataclass
class QueueItem:
    flag: Flag
    post: Post
    topic: Topic
    previous: Post | None


def queue(moderator: Member) -> list[QueueItem]:
    """Open flags with their context (the post, its topic, the post before it), oldest first."""
    if not access.can_see_flag_queue(moderator):
        return []
    flags = db.session.scalars(_flags_query(moderator).where(Flag.status == "open")
                               .order_by(Flag.created_at, Flag.id)).unique().all()
    items = []
    for flag in flags:
        post = flag.post
        previous = db.session.scalar(select(Post).where(Post.topic_id == post.topic_id, Post.id < post.id)
                                     .order_by(Post.id.desc()).limit(1))
        items.append(QueueItem(flag, post, post.topic, previous))
    return items


def edited_hidden_posts(moderator: Member) -> list[Post]:
    """Hidden posts their authors edited since: a moderator may show them again."""
    if not access.can_see_flag_queue(moderator):
        return []
    query = (select(Post).join(Topic, Post.topic_id == Topic.id).join(Space, Topic.space_id == Space.id)
             .where(access.moderated_space_condition(moderator), Post.hidden.is_(True),
                    Post.edited_at.isnot(None), Post.edited_at > Post.hidden_at)
             .order_by(Post.edited_at))
    return list(db.session.scalars(query).unique())


def _close(flags: list[Flag], moderator: Member, status: str, note: str) -> None:
    now = utcnow()
    for flag in flags:
        flag.status, flag.decided_at, flag.decided_by_id, flag.decision_note = status, now, moderator.id, note


def decide_flag(moderator: Member, flag: Flag, decision: str, reason: str = "", days: int | None = None) -> Flag:
    """agree: hide the post (the author is told why and can edit it); disagree: close the flag; silence: the author
    cannot post in the forum for `days` days; suspend: the author's account is suspended (platform moderators).
    Agreeing, silencing and suspending close every open flag on the post."""
    post = flag.post
    if not access.can_moderate_space(moderator, post.topic.space):
        raise ForumError(_("Only the space's moderators decide on its flags."))
    if flag.status != "open":
        raise ForumError(_("This flag was already decided."))
    if decision not in DECISIONS:
        raise ForumError(_("Choose a decision."))
    open_flags = list(db.session.scalars(select(Flag).where(Flag.post_id == post.id, Flag.status == "open")))
    if decision == "disagree":
        note = (reason or "").strip()[:REASON_MAX]
        _close([flag], moderator, "disagreed", note)
        db.session.flush()
        record("forum.flag_disagreed", flag, actor=moderator, post=post.id, note=note)
        return flag
    reason = _clean_reason(reason)
    author = post.author
    if decision in ("silence", "suspend") and author is None:
        raise ForumError(_("The post's author is no longer a member."))
    if decision == "silence":
        silence_member(moderator, author, days or 0, reason)
    elif decision == "suspend":
        suspend_author(moderator, author, reason)
    if not post.hidden:
        hide_post(moderator, post, reason)
    _close(open_flags, moderator, "agreed", reason)
    db.session.flush()
    record("forum.flag_agreed", flag, actor=moderator, post=post.id, decision=decision, reason=reason,
           flags_closed=len(open_flags))
    return flag


def silence_member(moderator: Member, member: Member, days: int, reason: str) -> Silence:
    if not access.is_platform_moderator(moderator) and not access.can_see_flag_queue(moderator):
        raise ForumError(_("Only moderators silence members."))
    if member.id == moderator.id:
        raise ForumError(_("You cannot silence yourself."))
    if not 1 <= int(days) <= SILENCE_MAX_DAYS:
        raise ForumError(_("Silence for 1 to %(n)d days.", n=SILENCE_MAX_DAYS), "days")
    reason = _clean_reason(reason)
    until = utcnow() + timedelta(days=int(days))
    silence = Silence(member_id=member.id, until=until, reason=reason, created_by_id=moderator.id)
    db.session.add(silence)
    db.session.flush()
    record("forum.member_silenced", member, actor=moderator, days=int(days), until=until.isoformat(), reason=reason)
    queue_mail(member.email, _l("You are silenced in the forum"), "forum/silenced", recipient=member, until=until,
               reason=reason, link=url_for("forum.index", _external=True))
    return silence


def current_silence(member: Member) -> Silence | None:
    return access.current_silence(member)  # the rules' own answer (can_reply asks it too): read once per request


def suspend_author(moderator: Member, member: Member, reason: str) -> None:
    """Suspend through the members' own service (it ends sessions, audits and tells the member)."""
    from network.members.services import MembershipError, suspend

    if not access.can_suspend_from_forum(moderator):
        raise ForumError(_("Only platform moderators suspend members."))
    try:
        suspend(member, moderator, reason, None)
    except MembershipError as error:
        raise ForumError(error.message) from error


# ---------------------------------------------------------------- moderator notes

def can_read_notes(moderator: Member | None) -> bool:
    """Notes on members are the platform's: platform moderators and administrators keep and read them. A space
    moderator does not (what concerns their spaces is the flags on the member's posts there)."""
    return access.is_platform_moderator(moderator) or bool(moderator and is_admin(moderator))


def can_see_member_moderation(moderator: Member | None) -> bool:
    """The page on a member: note readers see it all, space moderators the flags of their spaces."""
    return can_read_notes(moderator) or access.can_see_flag_queue(moderator)


def add_note(moderator: Member, member: Member, body: str) -> ModeratorNote:
    if not can_read_notes(moderator):
        raise ForumError(_("Only platform moderators and administrators keep notes on members."))
    body = (body or "").strip()
    if not body:
        raise ForumError(_("Write the note first."), "body")
    note = ModeratorNote(member_id=member.id, author_id=moderator.id, body=body[:NOTE_MAX], created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    record("forum.moderator_note_added", member, actor=moderator, note=note.id)
    return note


def notes_on(moderator: Member, member: Member) -> list[ModeratorNote]:
    if not can_read_notes(moderator):
        return []
    return list(db.session.scalars(select(ModeratorNote).where(ModeratorNote.member_id == member.id)
                                   .order_by(ModeratorNote.created_at.desc(), ModeratorNote.id.desc())))


def silences_of(moderator: Member, member: Member) -> list[Silence]:
    """Every silence with its reason, for note readers (a reason may speak of a space the reader does not see)."""
    if not can_read_notes(moderator):
        return []
    return list(db.session.scalars(select(Silence).where(Silence.member_id == member.id)
                                   .order_by(Silence.created_at.desc())))


def flags_about(moderator: Member, member: Member) -> list[Flag]:
    return list(db.session.scalars(_flags_query(moderator).where(Post.author_id == member.id)
                                   .order_by(Flag.created_at.desc()).limit(50)).unique())


# ---------------------------------------------------------------- moving and merging topics

def move_topic(moderator: Member, topic: Topic, space: Space) -> Topic:
    if not (access.can_moderate_space(moderator, topic.space) and access.can_moderate_space(moderator, space)):
        raise ForumError(_("You can move a topic only between spaces you moderate."))
    if space.id == topic.space_id:
        raise ForumError(_("The topic is already in this space."), "space")
    before = topic.space.slug
    topic.space_id, topic.space = space.id, space
    db.session.flush()
    record("forum.topic_moved", topic, actor=moderator, before=before, after=space.slug)
    return topic


def merge_topic(moderator: Member, topic: Topic, into: Topic) -> Topic:
    """Move every post of `topic` into `into` (they keep their order by time); the old topic redirects there."""
    if topic.id == into.id:
        raise ForumError(_("A topic cannot be merged into itself."), "target")
    if into.merged_into_id is not None or topic.merged_into_id is not None:
        raise ForumError(_("This topic was already merged."), "target")
    if not (access.can_moderate_space(moderator, topic.space) and access.can_moderate_space(moderator, into.space)):
        raise ForumError(_("You can merge topics only in spaces you moderate."), "target")
    posts = list(db.session.scalars(select(Post).where(Post.topic_id == topic.id).order_by(Post.id)))
    for post in posts:
        post.topic_id = into.id
    db.session.execute(Notification.__table__.update().where(Notification.topic_id == topic.id)
                       .values(topic_id=into.id))
    db.session.execute(TopicRead.__table__.delete().where(TopicRead.topic_id == topic.id))
    if topic.solved_post_id and not into.solved_post_id:
        into.solved_post_id = topic.solved_post_id
    topic.solved_post_id = None
    topic.merged_into_id = into.id
    topic.locked = True
    into.last_post_at = max(into.last_post_at, topic.last_post_at)
    db.session.flush()
    db.session.expire_all()
    record("forum.topic_merged", topic, actor=moderator, into=into.id, posts=len(posts))
    return into


def movable_targets(moderator: Member, topic: Topic) -> list[Space]:
    spaces = db.session.scalars(select(Space).order_by(Space.restricted, Space.position, Space.name))
    return [s for s in spaces if s.id != topic.space_id and access.can_moderate_space(moderator, s)]


