"""The forum's counts (network/core/counters.py): the bell's unread notifications, and on the home page the flags and
the requests to join that wait for this member as a moderator. Statements kept per process, the member's values
bound."""
from __future__ import annotations

from flask import Flask
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, exists, func, or_, select

from network.core.counters import Task, register_counter, register_task
from network.forum import access, moderation, notifications
from network.forum.models import (
    Flag,
    GroupMembership,
    JoinRequest,
    Notification,
    Post,
    Space,
    SpacePermission,
    Topic,
)
from network.members.models import Member

MODERATOR = bindparam("forum_flags_member", type_=Integer)
DECIDER = bindparam("forum_join_requests_member", type_=Integer)


def _flags_shape(member: Member):
    """The key: whether the member moderates the whole forum (otherwise their groups' spaces)."""
    if not access.can_see_flag_queue(member):
        return None
    return access.is_platform_moderator(member), {MODERATOR.key: member.id}


def _open_flags(platform_moderator: bool):
    """The moderation queue's open flags (moderation.queue), as one count."""
    return (moderation.flags_query_of(MODERATOR, platform_moderator).where(Flag.status == "open")
            .with_only_columns(func.count(Flag.id)).order_by(None))


def decides_joins(member: Member) -> bool:
    """A platform moderator decides for every group, a space moderator for their groups."""
    return access.is_member(member) and (access.is_platform_moderator(member) or access.moderates_a_group(member))


def _join_requests_shape(member: Member):
    if not decides_joins(member):
        return None
    return access.is_platform_moderator(member), {DECIDER.key: member.id}


def _join_requests(platform_moderator: bool):
    query = select(func.count(JoinRequest.id)).where(JoinRequest.status == "pending")
    if not platform_moderator:
        query = query.where(JoinRequest.group_id.in_(access._group_ids_of(DECIDER, "space_moderator")))
    return query


BELL = notifications.BELL_MEMBER  # notifications.unread_shape's values


def _unread_notifications(moderator: bool):
    """The bell's count (notifications.unread_query's: the member's unread notifications of posts they may read), on
    every signed-in page: the rule asked of each unread notification's post and topic (by their keys, one row each:
    the count is that of the notifications) rather than of the set of every post the member may read, which a
    statement would build (and count) on each page. The topic's space is asked by its key (Topic.space_id) without
    joining the space: joined, PostgreSQL's plan for a member with hundreds of unread notifications hashed every
    visible post of the forum (5 ms a page at 250 unread of 2,500 and 7,000 posts; 0.6 ms so). The unread ones come
    from their own index (ix_forum_notifications_member_unread), read alone: count(*), not of a column it lacks."""
    query = (select(func.count()).select_from(Notification).join(Post, Post.id == Notification.post_id)
             .join(Topic, Topic.id == Post.topic_id)
             .where(Notification.member_id == BELL, Notification.read_at.is_(None), Topic.merged_into_id.is_(None)))
    if moderator:
        return query
    # access.visible_posts_of's rule: a space moderator reads all of their spaces, hidden or not; others the spaces a
    # permission row lets them see, but not hidden topics, nor hidden posts but their own
    groups = select(GroupMembership.group_id).where(GroupMembership.member_id == BELL)
    sees = exists().where(SpacePermission.space_id == Topic.space_id, SpacePermission.can_see.is_(True),
                          or_(SpacePermission.group_id.is_(None), SpacePermission.group_id.in_(groups)))
    moderates = exists().where(Space.id == Topic.space_id, GroupMembership.group_id == Space.group_id,
                               GroupMembership.member_id == BELL, GroupMembership.role == "space_moderator")
    return query.where(or_(Topic.hidden.is_(False) & or_(Post.hidden.is_(False), Post.author_id == BELL) & sees,
                           moderates))


def register(app: Flask) -> None:
    register_counter(app, "forum_notifications", navigation=True, models=(Notification,),
                     shape=notifications.unread_shape, template=_unread_notifications)
    register_counter(app, "forum_flags", shape=_flags_shape, template=_open_flags, navigation=True,
                     models=(Flag, GroupMembership))
    register_counter(app, "forum_join_requests", shape=_join_requests_shape, template=_join_requests,
                     models=(JoinRequest, GroupMembership))
    register_task(app, Task("forum_flags", lambda n: ngettext("%(num)d flagged post to moderate",
                                                              "%(num)d flagged posts to moderate", n),
                            "forum.moderation_queue", position=40))
    register_task(app, Task("forum_join_requests", lambda n: ngettext("%(num)d request to join a forum group",
                                                                      "%(num)d requests to join a forum group", n),
                            "forum.index", position=45))
