"""The forum's one visibility filter: who sees, replies, creates and moderates where.

Every view, template, list, feed, count and search of the forum goes through these functions; none of them
re-implements the rule. A space's permissions (SpacePermission rows) say which groups, or all vetted members, see
it, reply in it and start topics in it; platform moderators and the space's moderators (the space moderators of
its group) always may. Hidden topics and posts: those who moderate the space (and, for a post, its author, who
sees why it was hidden)."""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)

from network.core.clock import utcnow
from network.core.memo import request_memo, watch
from network.forum.models import ForumGroup, GroupMembership, Post, Silence, Space, SpacePermission, Topic
from network.members.access import is_admin, is_member, is_moderator
from network.members.models import Member


def _group_ids(member: Member, role: str | None = None) -> Select:
    return _group_ids_of(member.id, role)


def _group_ids_of(member_id, role: str | None = None) -> Select:
    """member_id: a value, or a bound parameter (a statement kept per process, see visible_posts_of)."""
    query = select(GroupMembership.group_id).where(GroupMembership.member_id == member_id)
    return query.where(GroupMembership.role == role) if role else query


def is_platform_moderator(member: Member | None) -> bool:
    return bool(member) and is_moderator(member)


PERMISSIONS = ("see", "reply", "create")
_COLUMNS = {"see": SpacePermission.can_see, "reply": SpacePermission.can_reply, "create": SpacePermission.can_create}


# ---------------------------------------------------------------- what one request knows about a member
# A page asks these rules once per post, topic or space (a topic of 50 posts: hundreds of times). The facts they
# rest on, the member's groups and the permission rows that reach them, are read once per request and member, and
# read again as soon as a membership, a permission or a silence is added, changed or removed (flushed or not).

MEMO = watch("forum_access", GroupMembership, SpacePermission, Silence)


def _facts_statement() -> Select:
    """The member's group roles, the permission rows that reach them (or all vetted members) and their current
    silence, in one statement built once per process (the member and the time bound): rows of (kind, id, role, see,
    reply, create), kind 0 a membership (group id, role), 1 a permission row (space id, grants), 2 the silence ending
    last (its id)."""
    global _FACTS
    if _FACTS is None:
        no_text, no_flag = cast(null(), String), cast(null(), Boolean)
        groups = select(GroupMembership.group_id).where(GroupMembership.member_id == _FACTS_MEMBER)
        last_silence = (select(Silence.id).where(Silence.member_id == _FACTS_MEMBER, Silence.until > _FACTS_NOW)
                        .order_by(Silence.until.desc(), Silence.id.desc()).limit(1).scalar_subquery())
        _FACTS = union_all(
            select(literal_column("0", Integer).label("kind"), GroupMembership.group_id.label("ref"),
                   GroupMembership.role.label("role"), no_flag.label("see"), no_flag.label("reply"),
                   no_flag.label("create_"))
            .where(GroupMembership.member_id == _FACTS_MEMBER),
            select(literal_column("1", Integer), SpacePermission.space_id, no_text, SpacePermission.can_see,
                   SpacePermission.can_reply, SpacePermission.can_create)
            .where(or_(SpacePermission.group_id.is_(None), SpacePermission.group_id.in_(groups))),
            select(literal_column("2", Integer), Silence.id, no_text, no_flag, no_flag, no_flag)
            .where(Silence.id == last_silence))
    return _FACTS


_FACTS = None
_FACTS_MEMBER = bindparam("forum_facts_member", type_=Integer)
_FACTS_NOW = bindparam("forum_facts_now", type_=Silence.__table__.c.until.type)


def facts_columns(member_id) -> tuple:
    """The same facts as three columns a page's own statement carries (one round trip fewer than reading them
    apart): the memberships as "group:role,…", the permission rows as "space:see reply create,…" (1 or 0 each) and the
    id of the silence ending last; `member_id` the statement's member (a bound parameter); bind facts_values() too.
    Read them with seed_facts."""
    def flag(column):
        return cast(column, Integer).cast(String)  # 1 or 0 on every database ("true" on PostgreSQL otherwise)

    groups = select(GroupMembership.group_id).where(GroupMembership.member_id == member_id)
    memberships = (select(func.aggregate_strings(cast(GroupMembership.group_id, String) + ":" + GroupMembership.role,
                                                 ","))
                   .where(GroupMembership.member_id == member_id))
    permissions = (select(func.aggregate_strings(cast(SpacePermission.space_id, String) + ":"
                                                 + flag(SpacePermission.can_see) + flag(SpacePermission.can_reply)
                                                 + flag(SpacePermission.can_create), ","))
                   .where(or_(SpacePermission.group_id.is_(None), SpacePermission.group_id.in_(groups))))
    silence = (select(Silence.id).where(Silence.member_id == member_id, Silence.until > _FACTS_NOW)
               .order_by(Silence.until.desc(), Silence.id.desc()).limit(1))
    return (memberships.scalar_subquery().label("forum_facts_memberships"),
            permissions.scalar_subquery().label("forum_facts_permissions"),
            silence.scalar_subquery().label("forum_facts_silence"))


def facts_values() -> dict:
    """The values facts_columns binds besides the member."""
    return {_FACTS_NOW.key: utcnow()}


def seed_facts(member: Member, row) -> None:
    """Keep the facts a page's statement read with facts_columns as this request's facts of the member, as if the
    facts statement had read them (the rules then ask nothing more)."""
    roles: dict[int, set[str]] = {}
    spaces: dict[str, set[int]] = {name: set() for name in PERMISSIONS}
    for item in (row.forum_facts_memberships or "").split(","):
        if item:
            group_id, role = item.split(":", 1)
            roles.setdefault(int(group_id), set()).add(role)
    for item in (row.forum_facts_permissions or "").split(","):
        if item:
            space_id, grants = item.split(":", 1)
            for name, granted in zip(PERMISSIONS, grants, strict=True):
                if granted == "1":
                    spaces[name].add(int(space_id))
    facts = _Facts(member)
    facts._roles, facts._spaces, facts._silence_id = roles, spaces, row.forum_facts_silence
    request_memo(MEMO)[member.id] = facts


class _Facts:
    """The member's groups, the spaces their permission rows open and a current silence: read together, in one
    statement, on first need."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self._roles: dict[int, set[str]] | None = None
        self._spaces: dict[str, set[int]] = {}
        self._silence_id: int | None = None
        self.silenced: dict = {}  # "current" -> the current silence (or None), once asked

    def _read(self) -> None:
        from network.core.db import db

        roles: dict[int, set[str]] = {}
        spaces: dict[str, set[int]] = {name: set() for name in PERMISSIONS}
        self._silence_id = None
        for kind, ref, role, see, reply, create in db.session.execute(
                _facts_statement(), {_FACTS_MEMBER.key: self.member.id, _FACTS_NOW.key: utcnow()}):
            if kind == 0:
                roles.setdefault(ref, set()).add(role)
            elif kind == 1:
                for name, granted in (("see", see), ("reply", reply), ("create", create)):
                    if granted:
                        spaces[name].add(ref)
            else:
                self._silence_id = ref
        self._roles, self._spaces = roles, spaces

    @property
    def roles(self) -> dict[int, set[str]]:
        """Group id -> the member's roles in it."""
        if self._roles is None:
            self._read()
        return self._roles

    @property
    def spaces(self) -> dict[str, set[int]]:
        """Permission -> the spaces where a row grants it to all vetted members or to one of the member's groups."""
        if self._roles is None:
            self._read()
        return self._spaces

    @property
    def silence_id(self) -> int | None:
        """The id of the member's current silence (the one ending last), or None."""
        if self._roles is None:
            self._read()
        return self._silence_id

    @property
    def moderated_groups(self) -> list[int]:
        """The groups the member is a space moderator of (their spaces are the member's to moderate), in order."""
        return sorted(group_id for group_id, roles in self.roles.items() if "space_moderator" in roles)


def _facts(member: Member) -> _Facts:
    memo = request_memo(MEMO)
    facts = memo.get(member.id)
    if facts is None:
        facts = memo[member.id] = _Facts(member)
    return facts


class PageFacts(NamedTuple):
    platform_moderator: bool
    seen: list[int]  # the spaces a permission row lets the member see
    moderated_groups: list[int]  # the groups they are a space moderator of

    def sees(self, space: Space) -> bool:
        """can_see_space for the (vetted) member of these facts, without asking the request's memo per space."""
        return self.platform_moderator or space.id in self.seen or space.group_id in self.moderated_groups


def page_facts(member: Member) -> PageFacts:
    """What a statement kept per process binds of the member's rules (_sees_space and _moderates_space, as values)."""
    if is_platform_moderator(member):  # sees and moderates every space: the statement binds no list
        return PageFacts(True, [], [])
    facts = _facts(member)
    return PageFacts(False, sorted(facts.spaces["see"]), facts.moderated_groups)


def in_group(member: Member, group_id: int | None, role: str | None = None) -> bool:
    if group_id is None:
        return False
    roles = _facts(member).roles.get(group_id)
    return bool(roles) and (role is None or role in roles)


def _permitted_space_ids(member_id, permission: str) -> Select:
    """Spaces where a row grants the permission to all vetted members or to one of the member's groups."""
    return select(SpacePermission.space_id).where(
        _COLUMNS[permission].is_(True),
        or_(SpacePermission.group_id.is_(None), SpacePermission.group_id.in_(_group_ids_of(member_id))))


def has_space_permission(member: Member | None, space: Space, permission: str) -> bool:
    """The space's permission rows (or moderating the space) let the member see, reply or create there. Locks and
    silences are not looked at: can_reply and can_create_topic add them."""
    if member is None or not is_member(member):
        return False
    if can_moderate_space(member, space):
        return True
    return space.id in _facts(member).spaces[permission]


# ---------------------------------------------------------------- queries (one filter per kind of object)
# For a member at hand, the filters name the member's groups and the spaces their permission rows open as lists of
# ids, the facts above (read once per request): a page runs several of these statements, and building and keying
# the same rule as nested subqueries cost more CPU than running them (a list's length does not change the statement's
# cache key). The `_of` forms keep the subqueries, for a statement built once per process with the member a bound
# parameter (the bell: visible_posts_of).

def _sees_space(member: Member):
    """SQL condition on Space: the vetted member sees it (has_space_permission's "see", in SQL)."""
    if is_platform_moderator(member):
        return true()
    return or_(Space.id.in_(sorted(_facts(member).spaces["see"])), _moderates_space(member))


def _moderates_space(member: Member):
    """SQL condition on Space: the vetted member moderates it (can_moderate_space, in SQL)."""
    if is_platform_moderator(member):
        return true()
    groups = _facts(member).moderated_groups
    return Space.group_id.in_(groups) if groups else false()


def visible_spaces(member: Member | None) -> Select:
    """The spaces whose topics the member may read."""
    if member is None or not is_member(member):
        return select(Space).where(false())
    return select(Space).where(_sees_space(member))


def _visible_spaces_of(member_id, moderator: bool) -> Select:
    query = select(Space)
    if moderator:
        return query
    return query.where(or_(Space.id.in_(_permitted_space_ids(member_id, "see")),
                           Space.group_id.in_(_group_ids_of(member_id, "space_moderator"))))


def moderated_space_condition(member: Member):
    """SQL condition: the topic's space is one this member moderates."""
    return _moderates_space(member)


def seen_space_condition_of(member_id):
    """SQL condition on Space: a permission row lets the member (a bound parameter) see it (the facts' "see")."""
    return Space.id.in_(_permitted_space_ids(member_id, "see"))


def moderated_space_condition_of(member_id):
    """SQL condition on Space: the member (a bound parameter) is a space moderator of its group."""
    return Space.group_id.in_(_group_ids_of(member_id, "space_moderator"))


def _moderated_space_condition_of(member_id, moderator: bool):
    if moderator:
        return true()
    return Space.group_id.in_(_group_ids_of(member_id, "space_moderator"))


def _readable_topic_conditions(member: Member) -> tuple:
    """SQL conditions on Topic joined with its Space: can_read_topic, and not merged into another topic."""
    return (_sees_space(member), Topic.merged_into_id.is_(None),
            or_(Topic.hidden.is_(False), _moderates_space(member)))


def visible_topics(member: Member | None) -> Select:
    """The topics the member may read (hidden ones only for those who moderate their space)."""
    if member is None or not is_member(member):
        return select(Topic).where(false())
    return select(Topic).join(Space, Topic.space_id == Space.id).where(*_readable_topic_conditions(member))


def _visible_topics_of(member_id, moderator: bool) -> Select:
    space_ids = _visible_spaces_of(member_id, moderator).with_only_columns(Space.id)
    return (select(Topic).join(Space, Topic.space_id == Space.id)
            .where(Topic.space_id.in_(space_ids), Topic.merged_into_id.is_(None))
            .where(or_(Topic.hidden.is_(False), _moderated_space_condition_of(member_id, moderator))))


def visible_posts(member: Member | None) -> Select:
    """The posts the member may read: of visible topics; hidden ones only to moderators of the space and the author."""
    if member is None or not is_member(member):
        return select(Post).where(false())
    return (select(Post).join(Topic, Post.topic_id == Topic.id).join(Space, Topic.space_id == Space.id)
            .where(*_readable_topic_conditions(member))
            .where(or_(Post.hidden.is_(False), Post.author_id == member.id, _moderates_space(member))))


def visible_posts_of(member_id, moderator: bool) -> Select:
    """visible_posts of a vetted member given by id (a value, or a bound parameter: a statement built once per process
    and run with each member's id) and whether they are a platform moderator."""
    topic_ids = _visible_topics_of(member_id, moderator).with_only_columns(Topic.id)
    return (select(Post).join(Topic, Post.topic_id == Topic.id).join(Space, Topic.space_id == Space.id)
            .where(Post.topic_id.in_(topic_ids))
            .where(or_(Post.hidden.is_(False), Post.author_id == member_id,
                       _moderated_space_condition_of(member_id, moderator))))


# The posts of one topic the member may read (checked first: can_read_topic), in statements kept per process (the
# topic page's, network.forum.views): the topic, the member and the page's offset bound. visible_posts' rule once
# the topic is readable: every post to those who moderate its space, otherwise the posts that are not hidden and the
# member's own.
PAGE_TOPIC = bindparam("forum_page_topic", type_=Integer)
PAGE_MEMBER = bindparam("forum_page_member", type_=Integer)
PAGE_OFFSET = bindparam("forum_page_offset", type_=Integer)
PAGE_BEFORE = bindparam("forum_page_before", type_=Integer)
_topic_posts: dict[tuple, Select] = {}


def readable_of_topic(query: Select, moderates: bool) -> Select:
    """The posts of a readable topic the member may read, on any query from posts (of Post, of a count, of the columns
    of the topic page's plain rows): PAGE_TOPIC and PAGE_MEMBER bound; `moderates`: the member moderates the topic's
    space."""
    query = query.where(Post.topic_id == PAGE_TOPIC)
    return query if moderates else query.where(or_(Post.hidden.is_(False), Post.author_id == PAGE_MEMBER))


def readable_posts_before(moderates: bool) -> Select:
    """How many posts of a readable topic the member may read before a post (PAGE_TOPIC, PAGE_MEMBER, PAGE_BEFORE
    bound): which page shows it."""
    key = (moderates, "before")
    found = _topic_posts.get(key)
    if found is None:
        found = _topic_posts[key] = readable_of_topic(select(func.count(Post.id)), moderates).where(
            Post.id < PAGE_BEFORE)
    return found


PAGE_SEEN = bindparam("forum_page_seen", expanding=True)
PAGE_GROUPS = bindparam("forum_page_groups", expanding=True)
_kept_visible_posts: dict[bool, Select] = {}


def page_parameters(member: Member) -> dict:
    """The values kept_visible_posts binds for this member (page_facts)."""
    facts = page_facts(member)
    return {PAGE_MEMBER.key: member.id, PAGE_SEEN.key: facts.seen, PAGE_GROUPS.key: facts.moderated_groups}


def kept_visible_posts(platform_moderator: bool) -> Select:
    """visible_posts of a vetted member, built once per process with the member's values bound (page_parameters):
    the same rule, as _sees_space and _moderates_space give it with the member's facts as lists."""
    found = _kept_visible_posts.get(platform_moderator)
    if found is None:
        moderates = true() if platform_moderator else Space.group_id.in_(PAGE_GROUPS)
        sees = true() if platform_moderator else or_(Space.id.in_(PAGE_SEEN), moderates)
        found = _kept_visible_posts[platform_moderator] = (
            select(Post).join(Topic, Post.topic_id == Topic.id).join(Space, Topic.space_id == Space.id)
            .where(sees, Topic.merged_into_id.is_(None), or_(Topic.hidden.is_(False), moderates))
            .where(or_(Post.hidden.is_(False), Post.author_id == PAGE_MEMBER, moderates)))
    return found


def search_scope(member: Member) -> tuple[frozenset[int], frozenset[int]]:
    """(the spaces the member may read, those they moderate) as ids: what the search engine's query applies, so that
    it gives exactly the posts of visible_posts (the engine also knows each post's author, topic and hiding). The
    permitted spaces are the request's facts; only the spaces of the groups they moderate (or, for a platform
    moderator, every space) are read."""
    from network.core.db import db

    if member is None or not is_member(member):
        return frozenset(), frozenset()
    if is_platform_moderator(member):
        every = frozenset(db.session.scalars(select(Space.id)))
        return every, every
    groups = _facts(member).moderated_groups
    moderated = frozenset(db.session.scalars(select(Space.id).where(Space.group_id.in_(groups)))) if groups \
        else frozenset()
    return frozenset(_facts(member).spaces["see"]) | moderated, moderated


# ---------------------------------------------------------------- object rules

def can_use_forum(member: Member) -> bool:
    return is_member(member)


def can_see_space(member: Member | None, space: Space) -> bool:
    return has_space_permission(member, space, "see")


def can_moderate_space(member: Member | None, space: Space) -> bool:
    if member is None or not is_member(member):
        return False
    return is_platform_moderator(member) or in_group(member, space.group_id, "space_moderator")


def can_read_topic(member: Member | None, topic: Topic) -> bool:
    if not can_see_space(member, topic.space):
        return False
    return not topic.hidden or can_moderate_space(member, topic.space)


def _may_read_post(member: Member, post: Post, moderates: bool) -> bool:
    """can_read_post, once the post's topic is readable; `moderates`: the member moderates its space."""
    return not post.hidden or post.author_id == member.id or moderates


def can_read_post(member: Member | None, post: Post) -> bool:
    return can_read_topic(member, post.topic) and _may_read_post(member, post,
                                                                 can_moderate_space(member, post.topic.space))


def can_read_post_in(member: Member | None, topic: Topic, post) -> bool:
    """can_read_post with the post's topic at hand: `post` a Post or a plain row of one (its id, topic_id, author_id
    and hidden; network.forum.cards.PostRow); a post of another topic is asked of its own."""
    if post.topic_id != topic.id:
        from network.core.db import db

        return can_read_post(member, db.session.get(Post, post.id))
    return can_read_topic(member, topic) and _may_read_post(member, post, can_moderate_space(member, topic.space))


def current_silence(member: Member) -> Silence | None:
    """The member's current forum silence (the one ending last), or None: read once per request."""
    from network.core.db import db

    facts = _facts(member)
    asked = facts.silenced
    if "current" not in asked:
        found = facts.silence_id  # read with the member's groups, in the same statement
        asked["current"] = db.session.get(Silence, found) if found is not None else None
    return asked["current"]


def silenced_until(member: Member | None):
    """When the member's forum silence ends, or None: a silenced member reads but does not post."""
    if member is None:
        return None
    silence = current_silence(member)
    return silence.until if silence is not None else None


def can_create_topic(member: Member | None, space: Space) -> bool:
    return has_space_permission(member, space, "create") and silenced_until(member) is None


def can_reply(member: Member | None, topic: Topic) -> bool:
    if not can_read_topic(member, topic) or topic.merged_into_id is not None:
        return False
    if not has_space_permission(member, topic.space, "reply") or silenced_until(member) is not None:
        return False
    return not topic.locked or can_moderate_space(member, topic.space)


def can_manage_space_permissions(member: Member | None, space: Space) -> bool:
    """Platform moderators and administrators, and the space's own moderators, say who sees and writes there."""
    if member is None or not is_member(member):
        return False
    return is_admin(member) or can_moderate_space(member, space)


def can_manage_groups(member: Member | None) -> bool:
    """Platform moderators and administrators add members to groups, remove them and name space moderators."""
    return member is not None and (is_platform_moderator(member) or is_admin(member))


def _may_flag(member: Member, post: Post) -> bool:
    """can_flag, once the post is readable."""
    return post.author_id != member.id and not post.hidden


def can_flag(member: Member | None, post: Post) -> bool:
    """Any reader flags a visible post that is not their own."""
    return can_read_post(member, post) and _may_flag(member, post)


def can_see_flag_queue(member: Member | None) -> bool:
    """Platform moderators, and space moderators of at least one group (they see their spaces' flags)."""
    if member is None or not is_member(member):
        return False
    if is_platform_moderator(member):
        return True
    return moderates_a_group(member)


# Whether the signed-in member is a space moderator of some group: every page's navigation asks it (the flag queue),
# so it is read with the member (app.py, one statement) and kept here for the request, forgotten on any change to a
# membership; otherwise the member's facts answer.
MODERATES = watch("forum_moderates", GroupMembership)


def moderates_a_group(member: Member) -> bool:
    known = request_memo(MODERATES).get(member.id)
    return known if known is not None else any("space_moderator" in roles for roles in _facts(member).roles.values())


def can_suspend_from_forum(member: Member | None) -> bool:
    return is_platform_moderator(member)


def can_propose_case(member: Member | None, topic: Topic) -> bool:
    """The author of a solved question proposes it as a catalogue case."""
    return (can_read_topic(member, topic) and topic.is_question and topic.solved
            and topic.author_id == member.id)


def _may_edit(member: Member, post: Post, topic: Topic, moderates: bool) -> bool:
    """can_edit_post, once the post is readable; `moderates`: the member moderates the topic's space (a lock does not
    stop them)."""
    return post.author_id == member.id and (moderates or not topic.locked)


def can_edit_post(member: Member | None, post: Post) -> bool:
    """Authors edit their own posts (a hidden one too, to put it right) while the topic is open."""
    return can_read_post(member, post) and _may_edit(member, post, post.topic,
                                                     can_moderate_space(member, post.topic.space))


class PostRules(NamedTuple):
    edit: bool  # can_edit_post
    flag: bool  # can_flag


def post_rules(member: Member | None, topic: Topic, posts: list[Post]) -> dict[int, PostRules]:
    """can_edit_post and can_flag for each post of a page of the topic, with the topic's part of the rules (reading
    the topic, moderating its space) asked once rather than twice per post: the same answers as the rules."""
    topic_readable = can_read_topic(member, topic)
    moderates = topic_readable and can_moderate_space(member, topic.space)
    rules = {}
    for post in posts:
        if post.topic_id != topic.id:  # not of this topic: its own topic's rules
            rules[post.id] = PostRules(can_edit_post(member, post), can_flag(member, post))
            continue
        readable = topic_readable and _may_read_post(member, post, moderates)
        rules[post.id] = PostRules(readable and _may_edit(member, post, topic, moderates),
                                   readable and _may_flag(member, post))
    return rules


def can_mark_answer(member: Member | None, topic: Topic) -> bool:
    if not topic.is_question or not can_read_topic(member, topic):
        return False
    return topic.author_id == member.id or can_moderate_space(member, topic.space)


def can_decide_join(member: Member | None, group: ForumGroup) -> bool:
    if member is None or not is_member(member):
        return False
    return is_platform_moderator(member) or in_group(member, group.id, "space_moderator")


def can_request_join(member: Member | None, group: ForumGroup) -> bool:
    return member is not None and is_member(member) and not in_group(member, group.id)


TEMPLATE_RULES = {
    "can_see_space": can_see_space,
    "can_moderate_space": can_moderate_space,
    "can_read_topic": can_read_topic,
    "can_create_topic": can_create_topic,
    "can_reply": can_reply,
    "can_edit_post": can_edit_post,
    "can_mark_answer": can_mark_answer,
    "can_decide_join": can_decide_join,
    "can_request_join": can_request_join,
    "can_flag": can_flag,
    "can_see_flag_queue": can_see_flag_queue,
    "can_suspend_from_forum": lambda member: can_suspend_from_forum(member),
    "can_propose_case": can_propose_case,
    "has_space_permission": has_space_permission,
    "can_manage_space_permissions": can_manage_space_permissions,
    "can_manage_groups": lambda member: can_manage_groups(member),
}
