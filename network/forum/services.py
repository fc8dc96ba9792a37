"""The forum's operations: topics, replies, edits, answers, reading state, subscriptions, joins, moderation, and
creating groups and spaces.

Services take plain values and members, check the rule through network.forum.access, change state, audit what
is security-relevant (joins, role changes, new groups and spaces, space settings, hiding, locking, pinning)
and flush; they never commit."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from network.core.audit import record
from network.core.clock import utcnow
from network.core.db import db
from network.core.errors import DomainError
from network.core.mail import queue_mail
from network.core.markdown import render_cost_problem
from network.forum import access, hooks, notifications
from network.forum.models import (
    GROUP_ROLES,
    ForumGroup,
    GroupMembership,
    JoinRequest,
    Post,
    PostRevision,
    Space,
    SpacePermission,
    Subscription,
    Topic,
    TopicRead,
    default_permissions,
)
from network.members.models import Member

TITLE_MAX = 200
BODY_MAX = 50_000
REASON_MAX = 1000
NAME_MAX = 200
DESCRIPTION_MAX = 2000
SLUG_MIN, SLUG_MAX = 2, 60
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
RESERVED_SLUGS = frozenset({"new"})  # /forum/spaces/new is the page that creates a space


class ForumError(DomainError):
    """A forum rule refused the operation."""


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < 5:
        raise ForumError(_("Give the topic a title of at least 5 characters."), "title")
    if len(title) > TITLE_MAX:
        raise ForumError(_("A title has at most %(n)d characters.", n=TITLE_MAX), "title")
    return title


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ForumError(_("Write something first."), "body")
    if len(body) > BODY_MAX:
        raise ForumError(_("A post has at most %(n)d characters.", n=BODY_MAX), "body")
    problem = render_cost_problem(body)  # the render cost cap (issue 12, finding 11)
    if problem:
        raise ForumError(problem, "body")
    return body


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ForumError(_("Give the reason: the author is told."), "reason")
    return reason[:REASON_MAX]


# ---------------------------------------------------------------- topics and posts

def create_topic(member: Member, space: Space, title: str, body: str, is_question: bool = False) -> Topic:
    if not access.can_create_topic(member, space):
        raise ForumError(_("You cannot start a topic in this space."))
    now = utcnow()
    topic = Topic(space_id=space.id, space=space, author_id=member.id, title=_clean_title(title),
                  is_question=bool(is_question), created_at=now, last_post_at=now)
    db.session.add(topic)
    db.session.flush()
    post = Post(topic_id=topic.id, author_id=member.id, body_markdown=_clean_body(body), created_at=now)
    db.session.add(post)
    db.session.flush()
    mark_read(member, topic, post.id)
    notifications.notify_new_post(post, new_topic=True)
    return topic


def reply(member: Member, topic: Topic, body: str) -> Post:
    if not access.can_reply(member, topic):
        raise ForumError(_("This topic is locked: no new replies.") if topic.locked else _("You cannot reply here."))
    now = utcnow()
    post = Post(topic_id=topic.id, author_id=member.id, body_markdown=_clean_body(body), created_at=now)
    db.session.add(post)
    topic.last_post_at = now
    db.session.flush()
    mark_read(member, topic, post.id)
    notifications.notify_new_post(post)
    return post


def edit_post(member: Member, post: Post, body: str) -> Post:
    """Keep the earlier text as a revision readers can see, then change the post."""
    if not access.can_edit_post(member, post):
        raise ForumError(_("You cannot edit this post."))
    body = _clean_body(body)
    if body == post.body_markdown:
        return post
    now = utcnow()
    number = len(post.revisions) + 1
    post.revisions.append(PostRevision(number=number, body_markdown=post.body_markdown,
                                       written_at=post.edited_at or post.created_at, replaced_at=now,
                                       edited_by_id=member.id))
    post.body_markdown = body
    post.edited_at = now
    db.session.flush()
    return post


def first_post(topic: Topic) -> Post | None:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id).order_by(Post.id).limit(1))


def mark_answer(member: Member, post: Post) -> Topic:
    topic = post.topic
    if not access.can_mark_answer(member, topic):
        raise ForumError(_("Only the person who asked, or a moderator, marks the answer."))
    if post.hidden:
        raise ForumError(_("A hidden post cannot be the answer."))
    opening = first_post(topic)
    if opening is not None and opening.id == post.id:
        raise ForumError(_("The question itself cannot be its answer."))
    topic.solved_post_id = post.id
    db.session.flush()
    return topic


def propose_case(member: Member, topic: Topic) -> str:
    """Hand the solved topic to the registered catalogue handler; returns where the member edits the draft."""
    handler = hooks.case_draft_handler()
    if handler is None:
        raise ForumError(_("The catalogue does not take proposals from the forum on this platform."))
    if not access.can_propose_case(member, topic):
        raise ForumError(_("Only the person who asked proposes a solved topic as a catalogue case."))
    opening, answer = first_post(topic), db.session.get(Post, topic.solved_post_id)
    if opening is None or answer is None or answer.hidden:
        raise ForumError(_("The topic has no visible answer to propose."))
    link = notifications.post_link(topic.id, opening.id).split("?")[0]
    url = handler(member, hooks.SolvedTopic(topic_id=topic.id, title=topic.title, question=opening.body_markdown,
                                            answer=answer.body_markdown,
                                            answer_author=answer.author.name if answer.author else "", link=link))
    record("forum.case_proposed", topic, actor=member, draft_url=url)
    return url


def clear_answer(member: Member, topic: Topic) -> Topic:
    if not access.can_mark_answer(member, topic):
        raise ForumError(_("Only the person who asked, or a moderator, changes the answer."))
    topic.solved_post_id = None
    db.session.flush()
    return topic


# ---------------------------------------------------------------- reading state and subscriptions

def reading_state(member: Member, topic: Topic) -> TopicRead | None:
    """How far the member has read the topic (None: never opened)."""
    return db.session.scalar(select(TopicRead).where(TopicRead.member_id == member.id,
                                                     TopicRead.topic_id == topic.id))


def mark_read(member: Member, topic: Topic, up_to_post_id: int, read: TopicRead | None = ...) -> None:  # type: ignore[assignment]
    """Remember how far the member has read; never move the mark back. `read`: the member's reading_state, when
    the caller has it already (the topic page: one statement less)."""
    if read is ...:
        read = reading_state(member, topic)
    if read is None:
        db.session.add(TopicRead(member_id=member.id, topic_id=topic.id, last_read_post_id=up_to_post_id,
                                 read_at=utcnow()))
    elif up_to_post_id > read.last_read_post_id:
        read.last_read_post_id = up_to_post_id
        read.read_at = utcnow()
    db.session.flush()


def mark_read_from(member: Member, topic: Topic, up_to_post_id: int, last_read: int | None) -> None:
    """mark_read, knowing how far the member had read (`last_read`, None: never opened): no statement unless the
    mark moves on."""
    if last_read is None:
        db.session.add(TopicRead(member_id=member.id, topic_id=topic.id, last_read_post_id=up_to_post_id,
                                 read_at=utcnow()))
        db.session.flush()
    elif up_to_post_id > last_read:
        db.session.execute(TopicRead.__table__.update()
                           .where(TopicRead.member_id == member.id, TopicRead.topic_id == topic.id,
                                  TopicRead.last_read_post_id < up_to_post_id)
                           .values(last_read_post_id=up_to_post_id, read_at=utcnow()))


def last_read_post_id(member: Member, topic: Topic) -> int:
    value = db.session.scalar(select(TopicRead.last_read_post_id).where(TopicRead.member_id == member.id,
                                                                        TopicRead.topic_id == topic.id))
    return value or 0


def subscription_level(member: Member, *, topic: Topic | None = None, space: Space | None = None) -> str:
    row = _subscription(member, topic, space)
    return row.level if row else ""


def _subscription(member: Member, topic: Topic | None, space: Space | None) -> Subscription | None:
    query = select(Subscription).where(Subscription.member_id == member.id)
    query = query.where(Subscription.topic_id == topic.id) if topic else query.where(Subscription.topic_id.is_(None))
    query = query.where(Subscription.space_id == space.id) if space else query.where(Subscription.space_id.is_(None))
    return db.session.scalar(query)


def subscribe(member: Member, level: str, *, topic: Topic | None = None, space: Space | None = None) -> None:
    """Watch, mute, or (level "") follow the default again, for one topic or one space the member can see."""
    if (topic is None) == (space is None):
        raise ForumError(_("Choose a topic or a space."))
    if level not in ("watch", "mute", ""):
        raise ForumError(_("Choose watch, mute or default."))
    allowed = access.can_read_topic(member, topic) if topic else access.can_see_space(member, space)
    if not allowed:
        raise ForumError(_("You cannot follow this."))
    row = _subscription(member, topic, space)
    if not level:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(Subscription(member_id=member.id, topic_id=topic.id if topic else None,
                                    space_id=space.id if space else None, level=level))
    else:
        row.level = level
    db.session.flush()


def followed(member: Member) -> list[tuple[str, str, str, str]]:
    """(level, kind, name, url) of what the member watches or mutes, only what they can still see."""
    rows = []
    for row in db.session.scalars(select(Subscription).where(Subscription.member_id == member.id)
                                  .order_by(Subscription.created_at)):
        if row.topic_id:
            topic = db.session.get(Topic, row.topic_id)
            if topic is not None and access.can_read_topic(member, topic):
                rows.append((row.level, "topic", topic.title, url_for("forum.topic", topic_id=topic.id)))
        else:
            space = db.session.get(Space, row.space_id)
            if space is not None and access.can_see_space(member, space):
                rows.append((row.level, "space", space.name, url_for("forum.space", slug=space.slug)))
    return rows


# ---------------------------------------------------------------- groups and join requests

def pending_request(member: Member, group: ForumGroup) -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(JoinRequest.member_id == member.id,
                                                       JoinRequest.group_id == group.id,
                                                       JoinRequest.status == "pending"))


def request_join(member: Member, group: ForumGroup, message: str = "") -> JoinRequest:
    if access.in_group(member, group.id):
        raise ForumError(_("You are already a member of this group."))
    if not access.can_request_join(member, group):
        raise ForumError(_("You cannot ask to join this group."))
    if pending_request(member, group) is not None:
        raise ForumError(_("Your request to join is already waiting for a decision."))
    join = JoinRequest(group_id=group.id, member_id=member.id, message=(message or "").strip()[:1000],
                       created_at=utcnow())
    db.session.add(join)
    db.session.flush()
    record("forum.join_requested", join, actor=member, group=group.slug)
    return join


def decide_join(decider: Member, join: JoinRequest, approve: bool, reason: str = "") -> JoinRequest:
    if not access.can_decide_join(decider, join.group):
        raise ForumError(_("Only the group's space moderators decide on requests to join."))
    if join.status != "pending":
        raise ForumError(_("This request was already decided."))
    reason = (reason or "").strip()[:REASON_MAX]
    if not approve and not reason:
        raise ForumError(_("Give the reason for refusing: the member is told."), "reason")
    join.status = "approved" if approve else "refused"
    join.decided_at = utcnow()
    join.decided_by_id = decider.id
    join.reason = reason
    if approve and not access.in_group(join.member, join.group_id):
        db.session.add(GroupMembership(group_id=join.group_id, member_id=join.member_id, role="member",
                                       added_by_id=decider.id))
    db.session.flush()
    record("forum.join_" + join.status, join, actor=decider, group=join.group.slug, member=join.member_id,
           reason=reason)
    queue_mail(join.member.email, _l("Your request to join %(group)s", group=join.group.name), "forum/join_decided",
               recipient=join.member, join=join, link=url_for("forum.index", _external=True))
    return join


def set_group_role(actor: Member, group: ForumGroup, member: Member, role: str | None) -> GroupMembership | None:
    """Add a member to a group with a role, change the role, or (role None) remove them. Audited."""
    if not (access.is_platform_moderator(actor) or actor.has_role("admin")):
        raise ForumError(_("Only platform moderators change group roles."))
    if role is not None and role not in GROUP_ROLES:
        raise ForumError(_("Unknown group role."))
    if role is not None and not member.is_vetted:
        raise ForumError(_("Only vetted members join a group."), "email")
    membership = db.session.scalar(select(GroupMembership).where(GroupMembership.group_id == group.id,
                                                                 GroupMembership.member_id == member.id))
    before = membership.role if membership else None
    if role is None:
        if membership is not None:
            db.session.delete(membership)
    elif membership is None:
        membership = GroupMembership(group_id=group.id, member_id=member.id, role=role, added_by_id=actor.id)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    record("forum.group_role_changed", member, actor=actor, group=group.slug, before=before, after=role)
    return membership if role is not None else None


# ---------------------------------------------------------------- space permissions

Grant = tuple[bool, bool, bool]  # see, reply, create


def permission_grid(space: Space) -> dict[int | None, Grant]:
    """group id (None: all vetted members) -> (see, reply, create), as the space's rows say."""
    return {p.group_id: (p.can_see, p.can_reply, p.can_create) for p in space.permissions}


def _describe(grid: dict[int | None, Grant], names: dict[int, str]) -> dict[str, str]:
    return {("*" if group_id is None else names.get(group_id, str(group_id))):
            "".join(letter for letter, on in zip("src", grant, strict=True) if on)
            for group_id, grant in sorted(grid.items(), key=lambda item: (item[0] is not None, item[0] or 0))
            if any(grant)}


def set_space_permissions(actor: Member, space: Space, grid: dict[int | None, Grant]) -> Space:
    """Replace who sees, replies and creates in a space. Replying or creating needs seeing; somebody besides the
    platform moderators must see the space, and the group whose moderators moderate it keeps seeing it. The
    padlock (`restricted`) follows: a space is restricted unless every vetted member sees it. Audited."""
    if not access.can_manage_space_permissions(actor, space):
        raise ForumError(_("Only the space's moderators and the platform's moderators change its permissions."))
    groups = {g.id: g for g in db.session.scalars(select(ForumGroup))}
    grid = {group_id: tuple(bool(v) for v in grant) for group_id, grant in grid.items()
            if group_id is None or group_id in groups}
    for group_id, (see, reply, create) in grid.items():
        if (reply or create) and not see:
            who = _("All vetted members") if group_id is None else groups[group_id].name
            raise ForumError(_("%(who)s: replying or starting topics needs seeing the space.", who=who))
    seers = {group_id for group_id, grant in grid.items() if grant[0]}
    if not seers:
        raise ForumError(_("Nobody but the platform's moderators would see this space: let at least one group, "
                           "or all vetted members, see it."))
    if space.group_id is not None and None not in seers and space.group_id not in seers:
        raise ForumError(_("%(group)s moderates this space: it must keep seeing it (change the moderating group "
                           "first).", group=groups[space.group_id].name))
    names = {group_id: group.slug for group_id, group in groups.items()}
    before = _describe(permission_grid(space), names)
    existing = {p.group_id: p for p in space.permissions}
    for group_id, row in existing.items():
        if not any(grid.get(group_id, (False, False, False))):
            space.permissions.remove(row)
    for group_id, (see, reply, create) in grid.items():
        if not any((see, reply, create)):
            continue
        row = existing.get(group_id)
        if row is None:
            row = SpacePermission(group_id=group_id)
            space.permissions.append(row)
        row.can_see, row.can_reply, row.can_create = see, reply, create
    space.restricted = None not in seers
    db.session.flush()
    after = _describe(permission_grid(space), names)
    record("forum.space_permissions_changed", space, actor=actor, space=space.slug, before=before, after=after,
           restricted=space.restricted)
    return space


# ---------------------------------------------------------------- creating groups and spaces, editing spaces

def _clean_slug(slug: str, model: type[ForumGroup] | type[Space]) -> str:
    """A slug is part of addresses: lowercase letters, digits and single hyphens, unused by another of its kind."""
    slug = (slug or "").strip().lower()
    if not slug:
        raise ForumError(_("Give the short name used in addresses."), "slug")
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        raise ForumError(_("The short name has %(min)d to %(max)d characters.", min=SLUG_MIN, max=SLUG_MAX), "slug")
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise ForumError(_("Use lowercase letters, digits and hyphens only (no spaces, no hyphen at either end), "
                           "e.g. working-group-cyber."), "slug")
    if slug in RESERVED_SLUGS:
        raise ForumError(_("“%(slug)s” is reserved by the platform: choose another short name.", slug=slug), "slug")
    if db.session.scalar(select(model.id).where(model.slug == slug)) is not None:
        raise ForumError(_("The short name “%(slug)s” is already used: choose another.", slug=slug), "slug")
    return slug


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ForumError(_("Give a name."), "name")
    if len(name) > NAME_MAX:
        raise ForumError(_("A name has at most %(n)d characters.", n=NAME_MAX), "name")
    return name


def _clean_description(description: str) -> str:
    description = (description or "").replace("\r\n", "\n").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ForumError(_("A description has at most %(n)d characters.", n=DESCRIPTION_MAX), "description")
    return description


def _ensure_manager(actor: Member) -> None:
    if not access.can_manage_groups(actor):
        raise ForumError(_("Only platform moderators and administrators create groups and spaces."))


def create_group(actor: Member, slug: str, name: str, description: str = "") -> ForumGroup:
    """A new regional network or working group, without members yet. Audited."""
    _ensure_manager(actor)
    group = ForumGroup(slug=_clean_slug(slug, ForumGroup), name=_clean_name(name),
                       description=_clean_description(description))
    db.session.add(group)
    db.session.flush()
    record("forum.group_created", group, actor=actor, group=group.slug, name=group.name)
    return group


def _check_access_choice(restricted: bool, group: ForumGroup | None) -> None:
    if restricted and group is None:
        raise ForumError(_("A restricted space needs a moderating group: its members are the ones who see it."),
                         "group")


def create_space(actor: Member, slug: str, name: str, description: str = "", *, restricted: bool = False,
                 group: ForumGroup | None = None) -> Space:
    """A new space, open to every vetted member or restricted to its moderating group, with the permission rows its
    flag means (`default_permissions`: the same rows the before_flush default gives); the permissions page refines
    them. Audited."""
    _ensure_manager(actor)
    slug, name, description = _clean_slug(slug, Space), _clean_name(name), _clean_description(description)
    _check_access_choice(restricted, group)
    position = (db.session.scalar(select(func.max(Space.position))) or 0) + 1
    space = Space(slug=slug, name=name, description=description, restricted=bool(restricted), group=group,
                  group_id=group.id if group else None, position=position)
    space.permissions.extend(default_permissions(space))
    db.session.add(space)
    db.session.flush()
    names = {group.id: group.slug} if group else {}
    record("forum.space_created", space, actor=actor, space=space.slug, name=space.name,
           group=group.slug if group else None, restricted=space.restricted,
           permissions=_describe(permission_grid(space), names))
    return space


def _grid_for_access(space: Space, restricted: bool, group: ForumGroup | None) -> dict[int | None, Grant]:
    """The space's permissions after a change of its flag or moderating group, changing as little as possible:
    restricting drops the row of all vetted members; opening gives them the open default (see, reply, create); the
    moderating group of a restricted space keeps seeing it (a group without a row gets the restricted default)."""
    grid = permission_grid(space)
    if restricted:
        grid.pop(None, None)
    elif not grid.get(None, (False, False, False))[0]:
        grid[None] = (True, True, True)
    if restricted and group is not None:
        grant = grid.get(group.id)
        grid[group.id] = (True, True, True) if grant is None or not any(grant) else (True, grant[1], grant[2])
    return grid


def update_space(actor: Member, space: Space, name: str, description: str = "", *, restricted: bool = False,
                 group: ForumGroup | None = None) -> bool:
    """Rename or describe a space, change its moderating group or open/restrict it (the slug stays: it is in
    addresses). Its permission rows follow the flag through `set_space_permissions`, which keeps the moderating group
    seeing the space and the padlock consistent with the rows. Audited. Returns whether the permissions changed."""
    _ensure_manager(actor)
    name, description = _clean_name(name), _clean_description(description)
    _check_access_choice(restricted, group)
    before = {"name": space.name, "description": space.description,
              "group": space.group.slug if space.group else None, "restricted": space.restricted}
    space.name, space.description = name, description
    space.group, space.group_id = group, group.id if group else None
    grid = _grid_for_access(space, restricted, group)
    permissions_changed = grid != permission_grid(space)
    if permissions_changed:
        set_space_permissions(actor, space, grid)
    else:
        space.restricted = None not in {group_id for group_id, grant in grid.items() if grant[0]}
    db.session.flush()
    after = {"name": space.name, "description": space.description,
             "group": space.group.slug if space.group else None, "restricted": space.restricted}
    changes = {key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]}
    if changes:
        record("forum.space_updated", space, actor=actor, space=space.slug, changes=changes)
    return permissions_changed


# ---------------------------------------------------------------- moderation

TOPIC_ACTIONS = {"lock": ("locked", True), "unlock": ("locked", False), "pin": ("pinned", True),
                 "unpin": ("pinned", False), "hide": ("hidden", True), "unhide": ("hidden", False)}


def moderate_topic(moderator: Member, topic: Topic, action: str, reason: str = "") -> Topic:
    if not access.can_moderate_space(moderator, topic.space):
        raise ForumError(_("Only the space's moderators do this."))
    if action not in TOPIC_ACTIONS:
        raise ForumError(_("Unknown moderation action."))
    if action == "hide":
        reason = _clean_reason(reason)
    field, value = TOPIC_ACTIONS[action]
    setattr(topic, field, value)
    db.session.flush()
    record(f"forum.topic_{action}", topic, actor=moderator, space=topic.space.slug, reason=reason.strip()[:REASON_MAX])
    return topic


def hide_post(moderator: Member, post: Post, reason: str) -> Post:
    """Hide, never delete: who, when and why are kept, and the author is told by mail (title only from a
    restricted space: no post content leaves the platform)."""
    topic = post.topic
    if not access.can_moderate_space(moderator, topic.space):
        raise ForumError(_("Only the space's moderators hide posts."))
    reason = _clean_reason(reason)
    if post.hidden:
        raise ForumError(_("This post is already hidden."))
    post.hidden, post.hidden_by_id, post.hidden_reason, post.hidden_at = True, moderator.id, reason, utcnow()
    if topic.solved_post_id == post.id:
        topic.solved_post_id = None
    db.session.flush()
    record("forum.post_hidden", post, actor=moderator, topic=topic.id, reason=reason)
    if post.author is not None and post.author_id != moderator.id:
        queue_mail(post.author.email, _l("A moderator hid one of your forum posts"), "forum/post_hidden",
                   recipient=post.author, topic=topic, restricted=topic.space.restricted, reason=reason,
                   link=url_for("forum.topic", topic_id=topic.id, post=post.id, _external=True))
    return post


def unhide_post(moderator: Member, post: Post) -> Post:
    if not access.can_moderate_space(moderator, post.topic.space):
        raise ForumError(_("Only the space's moderators show hidden posts again."))
    if not post.hidden:
        raise ForumError(_("This post is not hidden."))
    post.hidden, post.hidden_by_id, post.hidden_reason, post.hidden_at = False, None, "", None
    db.session.flush()
    record("forum.post_unhidden", post, actor=moderator, topic=post.topic_id)
    return post


# ---------------------------------------------------------------- lists (all through the visibility filter)

@dataclass
class TopicRow:
    topic: Topic
    replies: int
    unread: bool
    level: str

    def key(self, show_space: bool) -> tuple:
        """Every value the row of a topic list shows (templates/forum/macros.html, topic_row), for cached_fragment:
        two readers share a kept row only if they see the same."""
        topic = self.topic
        return ("forum_topic_row", topic.id, topic.title, topic.pinned, topic.locked, topic.hidden,
                topic.is_question, topic.solved_post_id is not None, self.unread, self.level, self.replies,
                topic.author.name if topic.author else None, topic.last_post_at,
                (topic.space.slug, topic.space.name) if show_space else None)


def topic_rows(member: Member, topics: list[Topic]) -> list[TopicRow]:
    """Reply counts (of posts the member may read), unread markers and subscription levels for a page of topics."""
    ids = [t.id for t in topics]
    if not ids:
        return []
    counts, latest = {}, {}  # both in one statement, grouped in the filter's own query (a subquery of whole rows
    # costs more to build than to run)
    for topic_id, count, last in db.session.execute(
            access.visible_posts(member).where(Post.topic_id.in_(ids))
            .with_only_columns(Post.topic_id, func.count(Post.id), func.max(Post.id)).group_by(Post.topic_id)):
        counts[topic_id], latest[topic_id] = count, last
    reads = dict(db.session.execute(select(TopicRead.topic_id, TopicRead.last_read_post_id)
                                    .where(TopicRead.member_id == member.id, TopicRead.topic_id.in_(ids))).all())
    levels = dict(db.session.execute(select(Subscription.topic_id, Subscription.level)
                                     .where(Subscription.member_id == member.id, Subscription.topic_id.in_(ids))).all())
    return [TopicRow(t, max(counts.get(t.id, 0) - 1, 0), latest.get(t.id, 0) > reads.get(t.id, 0),
                     levels.get(t.id, "")) for t in topics]


def space_counts(member: Member, spaces: list[Space]) -> dict[int, tuple[int, int]]:
    """(topics, posts) per space, counting only what the member may read."""
    topic_counts = dict(db.session.execute(access.visible_topics(member)
                                           .with_only_columns(Topic.space_id, func.count(Topic.id))
                                           .group_by(Topic.space_id)).all())
    post_counts = dict(db.session.execute(access.visible_posts(member)  # it joins each post's topic
                                          .with_only_columns(Topic.space_id, func.count(Post.id))
                                          .group_by(Topic.space_id)).all())
    return {s.id: (topic_counts.get(s.id, 0), post_counts.get(s.id, 0)) for s in spaces}


def new_for(member: Member, limit: int = 50) -> list[TopicRow]:
    """The feed: topics with posts the member has not read, in spaces they see, leaving out what they muted
    (a muted space still shows the topics they watch). Watched topics come first."""
    posts = access.visible_posts(member).subquery()
    latest = (select(posts.c.topic_id, func.max(posts.c.id).label("latest")).group_by(posts.c.topic_id).subquery())
    read = (select(TopicRead.topic_id, TopicRead.last_read_post_id)
            .where(TopicRead.member_id == member.id).subquery())
    muted_topics = select(Subscription.topic_id).where(Subscription.member_id == member.id,
                                                       Subscription.level == "mute", Subscription.topic_id.isnot(None))
    watched_topics = select(Subscription.topic_id).where(Subscription.member_id == member.id,
                                                         Subscription.level == "watch",
                                                         Subscription.topic_id.isnot(None))
    muted_spaces = select(Subscription.space_id).where(Subscription.member_id == member.id,
                                                       Subscription.level == "mute", Subscription.space_id.isnot(None))
    query = (access.visible_topics(member)
             .join(latest, latest.c.topic_id == Topic.id)
             .outerjoin(read, read.c.topic_id == Topic.id)
             .where(latest.c.latest > func.coalesce(read.c.last_read_post_id, 0))
             .where(Topic.id.not_in(muted_topics))
             .where((Topic.space_id.not_in(muted_spaces)) | Topic.id.in_(watched_topics))
             .order_by(Topic.id.in_(watched_topics).desc(), Topic.last_post_at.desc(), Topic.id.desc())
             .limit(limit))
    return topic_rows(member, list(db.session.scalars(query).unique()))


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
