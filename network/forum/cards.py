"""What the topic page shows of each post, worked out once in Python: the byline, the marks, the stored HTML with
its reference titles, the files, and the URL of each action this reader may take (None when they may not).

The template then writes each card with plain look-ups, rather than an access rule, a `url_for` and a translation
per post and action (a page of 20 posts asked for about 150 of those), and keeps each card per process under every
value it shows (PostCard.key, cached_fragment; a card with forms with a slot for the reader's CSRF token): the next
reader who sees the very same card gets it without rendering it. The answers are the rules' own
(network.forum.access.post_rules and the topic's rules, asked once); the URLs are the routes' own, built once per page
with a stand-in number and the post's number put in its place.

The topic page's topic, the space page's space and topics and the index's spaces are plain rows too (TopicLine,
SpaceLine), with the attribute names of the entities they stand for."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from network.directory.models import Authority
from network.forum.access import PostRules
from network.forum.models import Attachment, ForumGroup, Post, Space, Topic
from network.forum.render import has_references, post_html, titled_references
from network.members.models import Member

STAND_IN = 918273645  # a post number no URL holds otherwise: its place in a built URL is where each post's goes


def _url_of_post(endpoint: str, **values: object):
    """The URL of `endpoint` for any post (post_id=…), from one `url_for`: a function of the post's number."""
    head, tail = url_for(endpoint, post_id=STAND_IN, **values).split(str(STAND_IN), 1)
    return lambda post_id: f"{head}{post_id}{tail}"


class AuthorName(NamedTuple):
    """What a topic list's row shows of a topic's author (Member's attribute name)."""
    name: str


class Byline(NamedTuple):
    """What a card shows of a post's author: Member's own attribute names (name, state, authority_name)."""
    name: str
    state: str
    authority_name: str


@dataclass(slots=True)
class PostRow:
    """A post of a topic page read as a plain row with its author's byline (POST_ROW_COLUMNS), not as a Post and a
    Member: loading 20 of each through the ORM cost more CPU than the rest of the page's work. It has the attributes
    of Post that the rules (access.post_rules), post_html and the cards read; post_html never stores anything through
    it (the view renders a post whose stored HTML is out of date through its Post: render.stored_html_is_current)."""
    id: int
    topic_id: int
    author_id: int | None
    hidden: bool
    hidden_at: datetime | None
    hidden_reason: str
    created_at: datetime
    edited_at: datetime | None
    body_markdown: str
    body_html: str | None
    body_html_version: str | None
    body_html_digest: str | None
    author: Byline | None  # None: a former member (the post kept, its author gone)


# A post's columns, then its author's byline (Member.authority_name: the authority's name if the member has one, the
# text they typed otherwise); select them from Post outer-joined to Member and Authority (post_rows_from).
POST_ROW_COLUMNS = (Post.id, Post.topic_id, Post.author_id, Post.hidden, Post.hidden_at, Post.hidden_reason,
                    Post.created_at, Post.edited_at, Post.body_markdown, Post.body_html, Post.body_html_version,
                    Post.body_html_digest, Member.id, Member.name, Member.state, Member.authority_other,
                    Authority.id, Authority.name)


def post_rows_from(query):
    """`query` (a select of POST_ROW_COLUMNS) reading from posts, their authors and their authorities."""
    return (query.join_from(Post, Member, Member.id == Post.author_id, isouter=True)
            .join_from(Member, Authority, Authority.id == Member.authority_id, isouter=True))


def post_rows(rows) -> list[PostRow]:
    """PostRows of the rows of a select of POST_ROW_COLUMNS."""
    return [PostRow(*row[:12], author=None if row[12] is None else Byline(
        row[13], row[14], row[17] if row[16] is not None else row[15])) for row in rows]


# ---------------------------------------------------------------- a topic, its space and its group as plain rows

class GroupLine(NamedTuple):
    """What the forum's pages show of a space's group (ForumGroup's own attribute names)."""
    id: int
    slug: str
    name: str


@dataclass(slots=True)
class SpaceLine:
    """A space read as a plain row with its group (SPACE_LINE_COLUMNS), not as a Space: Space's attribute names, for
    the rules (network.forum.access) and the templates; `seen_by` as Space.seen_by gives it, read in the same
    statement (None when the statement did not read it)."""
    id: int
    slug: str
    name: str
    description: str
    restricted: bool
    group_id: int | None
    position: int
    created_at: datetime
    group: GroupLine | None
    seen_by: list[str] | None = None


# A space's columns and its group's (outer-joined: select them from Space joined to ForumGroup, space_lines_from).
SPACE_LINE_COLUMNS = (Space.id, Space.slug, Space.name, Space.description, Space.restricted, Space.group_id,
                      Space.position, Space.created_at, ForumGroup.id, ForumGroup.slug, ForumGroup.name)


def space_lines_from(query):
    """`query` (a select with SPACE_LINE_COLUMNS) reading from spaces and their groups."""
    return query.join_from(Space, ForumGroup, ForumGroup.id == Space.group_id, isouter=True)


def space_line(row, seen_by: list[str] | None = None) -> SpaceLine:
    """The SpaceLine of the SPACE_LINE_COLUMNS at the start of `row`."""
    return SpaceLine(*row[:8], group=None if row[8] is None else GroupLine(*row[8:11]), seen_by=seen_by)


@dataclass(slots=True)
class TopicLine:
    """A topic read as a plain row (TOPIC_LINE_COLUMNS), not as a Topic: Topic's attribute names, for the rules and
    the templates, with its space (a SpaceLine) and what a page shows of its author (None: not read, or a former
    member)."""
    id: int
    space_id: int
    author_id: int | None
    title: str
    is_question: bool
    solved_post_id: int | None
    locked: bool
    pinned: bool
    hidden: bool
    created_at: datetime
    last_post_at: datetime
    merged_into_id: int | None
    space: SpaceLine | None = None
    author: Byline | AuthorName | None = None

    @property
    def solved(self) -> bool:
        return self.solved_post_id is not None


TOPIC_LINE_COLUMNS = (Topic.id, Topic.space_id, Topic.author_id, Topic.title, Topic.is_question, Topic.solved_post_id,
                      Topic.locked, Topic.pinned, Topic.hidden, Topic.created_at, Topic.last_post_at,
                      Topic.merged_into_id)


@dataclass(slots=True)
class PostCard:
    id: int
    answer: bool  # the accepted answer, shown again under the opening post (no actions, no anchor)
    hidden: bool
    author: str
    authority: str
    state: str
    accepted: bool  # the accepted answer, in its place in the topic
    new: bool  # written by someone else after the reader's reading mark
    link: str
    created: str  # ISO
    created_text: str
    history_url: str | None
    hidden_at: str
    hidden_reason: str
    own: bool
    body: Markup
    files: list[Attachment]
    quote_url: str | None
    edit_url: str | None
    flag_url: str | None
    answer_url: str | None
    unhide_url: str | None
    hide_url: str | None

    @property
    def forms(self) -> bool:
        """Whether the card holds a form (with the session's CSRF token): such a card is kept with a slot for the token
        (views.kept_with_forms)."""
        return bool(self.answer_url or self.unhide_url or self.hide_url)

    @property
    def key(self) -> tuple:
        """Every value the card shows, for cached_fragment: two readers share a kept card only if they see the same."""
        return ("forum_post_card", self.id, self.answer, self.hidden, self.author, self.authority, self.state,
                self.accepted, self.new, self.link, self.created, self.created_text, self.history_url, self.hidden_at,
                self.hidden_reason, self.own, str(self.body),
                tuple((file.storage_id, file.filename, file.kind, file.size) for file in self.files),
                self.quote_url, self.edit_url, self.flag_url, self.answer_url, self.unhide_url, self.hide_url)


def post_cards(member: Member | None, topic: Topic, posts: list[PostRow | Post], answer: PostRow | Post | None, *,
               opening_id: int | None, last_read: int, htmls: dict[int, Markup], files: dict[int, list[Attachment]],
               rules: dict[int, PostRules], topic_rules: dict[str, bool]) -> list[PostCard]:
    """The cards of a page of the topic in the order shown: each post, and the accepted answer again under the
    opening post when it is not the next one shown already. `htmls`: post_html of the posts, by id (as the view
    read them to prefetch their reference titles)."""
    topic_url = url_for("forum.topic", topic_id=topic.id)
    history = _url_of_post("forum.post_history")
    actions = {"edit": _url_of_post("forum.edit_post"), "flag": _url_of_post("forum.flag_post")}
    if topic_rules["mark_answer"]:
        actions["answer"] = _url_of_post("forum.mark_answer")
    if topic_rules["moderate"]:
        actions["hide"], actions["unhide"] = _url_of_post("forum.hide_post"), _url_of_post("forum.unhide_post")
    former: list[str] = []  # "A former member", translated only for a page that shows one

    def former_member() -> str:
        if not former:
            former.append(_("A former member"))
        return former[0]

    me = member.id if member is not None else None

    def card(post: Post, is_answer: bool) -> PostCard:
        post_id, hidden, author_id = post.id, post.hidden, post.author_id
        author = post.author
        html = htmls[post_id] if post_id in htmls else post_html(post)
        if has_references(html):
            html = titled_references(html, member)
        created = post.created_at
        answer_url = unhide_url = hide_url = quote_url = edit_url = flag_url = None
        if not is_answer:
            if topic_rules["reply"] and not hidden:
                quote_url = f"{topic_url}?quote={post_id}#reply"
            allowed = rules[post_id]
            edit_url = actions["edit"](post_id) if allowed.edit else None
            flag_url = actions["flag"](post_id) if allowed.flag else None
            if ("answer" in actions and post_id != opening_id and not hidden
                    and topic.solved_post_id != post_id):
                answer_url = actions["answer"](post_id)
            if "hide" in actions:
                if hidden:
                    unhide_url = actions["unhide"](post_id)
                else:
                    hide_url = actions["hide"](post_id)
        return PostCard(
            id=post_id, answer=is_answer, hidden=hidden,
            author=author.name if author else former_member(),
            authority=(author.authority_name or "") if author else "",
            state=(author.state or "") if author else "",
            accepted=not is_answer and topic.solved_post_id == post_id,
            new=not is_answer and post_id > last_read and (me is None or author_id != me),
            link=f"{topic_url}?post={post_id}#post-{post_id}",
            created=created.isoformat(), created_text=created.strftime("%Y-%m-%d %H:%M"),
            history_url=history(post_id) if post.edited_at else None,
            hidden_at=post.hidden_at.strftime("%Y-%m-%d %H:%M") if hidden and post.hidden_at else "",
            hidden_reason=post.hidden_reason if hidden else "",
            own=me is not None and author_id == me,
            body=html, files=files.get(post_id) or [],
            quote_url=quote_url, edit_url=edit_url, flag_url=flag_url, answer_url=answer_url,
            unhide_url=unhide_url, hide_url=hide_url)

    cards = []
    for post in posts:
        cards.append(card(post, False))
        if (post.id == opening_id and answer is not None and answer.id != post.id
                and not (len(posts) > 1 and posts[1].id == answer.id)):
            cards.append(card(answer, True))
    return cards
