"""The forum's pages: spaces, topics, replies, edits and their history, answers, the "what's new" feed, join
requests, basic moderation, managing spaces and groups, and search (the forum's kind of the search layer,
network/forum/search.py). Views are thin: form -> service ->
response; every read goes through the visibility filter of network.forum.access."""
from __future__ import annotations

import io
import math
from types import SimpleNamespace

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Integer, String, bindparam, func, or_, select, true
from sqlalchemy.orm import aliased, defaultload

from network.core import counters
from network.core.access import current_member, ensure, requires
from network.core.caching import cached_fragment
from network.core.db import db, kept_options
from network.core.forms import LARGEST_INTEGER, show_domain_error
from network.core.mail import deliver_queued
from network.core.security import csrf_token
from network.directory.models import Authority
from network.forum import access, attachments, hooks, moderation, notifications, services
from network.forum import search as forum_search
from network.forum import tasks as forum_tasks
from network.forum.access import can_use_forum
from network.forum.cards import (
    POST_ROW_COLUMNS,
    SPACE_LINE_COLUMNS,
    TOPIC_LINE_COLUMNS,
    AuthorName,
    PostRow,
    TopicLine,
    post_cards,
    post_rows,
    post_rows_from,
    space_line,
    space_lines_from,
)
from network.forum.forms import (
    ButtonForm,
    DecisionForm,
    EditForm,
    FlagDecisionForm,
    FlagForm,
    GroupForm,
    GroupMemberForm,
    GroupRoleForm,
    HideForm,
    JoinForm,
    MergeForm,
    ModerateTopicForm,
    MoveForm,
    NewSpaceForm,
    NoteForm,
    PreferencesForm,
    ReplyForm,
    SpaceForm,
    SubscriptionForm,
    TopicForm,
)
from network.forum.models import (
    Attachment,
    Flag,
    ForumGroup,
    JoinRequest,
    Notification,
    Post,
    Space,
    SpacePermission,
    Topic,
)
from network.forum.render import (
    has_references,
    post_html,
    prefetch_reference_titles,
    prefetch_titles_of,
    quote,
    renderer_version,
    stored_html_is_current,
    titled_references,
)
from network.forum.services import ForumError
from network.members.demo import register_loader
from network.members.models import Member

bp = Blueprint("forum", __name__, url_prefix="/forum")

TOPICS_PER_PAGE = 25
POSTS_PER_PAGE = 20
SEARCH_PER_PAGE = 20


def _register_demo(state) -> None:
    from network.forum.demo import load_demo_forum

    register_loader(state.app, load_demo_forum)


bp.record_once(_register_demo)  # `demo load` creates the demonstration spaces and topics too
bp.record_once(lambda state: forum_tasks.register(state.app))  # the bell, and tasks on the home page

UPLOAD_ENDPOINTS = {"forum.new_topic", "forum.reply"}
FORM_ALLOWANCE = 256 * 1024  # the text fields of an upload form, beyond the file itself


def _upload_limit() -> None:
    """Forms that carry an attachment may be larger than MAX_CONTENT_LENGTH: raise the limit for them alone, before
    anything (the CSRF check) reads the body. Larger requests answer 413."""
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = current_app.config["FORUM_ATTACHMENT_MAX_BYTES"] + FORM_ALLOWANCE


def _register_upload_limit(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


bp.record_once(_register_upload_limit)


@bp.app_template_filter("post_html")
def stored_post_html(post):
    """A post's (or a revision's) stored HTML, rendered again only if its text or the renderer changed; its
    [[case:…]] and [[authority:…]] links show the titles this reader may see."""
    html = post_html(post)
    return titled_references(html, current_member()) if has_references(html) else html


@bp.app_context_processor
def forum_rules() -> dict:
    member = current_member()
    return {"forum_rules": {name: (lambda *objects, rule=rule: bool(member and rule(member, *objects)))
                            for name, rule in access.TEMPLATE_RULES.items()},
            "forum_bell": lambda: counters.navigation_count(member, "forum_notifications"),
            "forum_flags_waiting": lambda: counters.navigation_count(member, "forum_flags")}


# A kept piece of a page that holds forms is kept with this slot where each form's CSRF token goes (the session's
# own), the reader's token put in its place each time (kept_with_forms). A raw tag: no text a member wrote reaches a
# page as one (escaped, or dropped by the sanitiser of posts).
TOKEN_SLOT = Markup("<forum-csrf-token-slot>")


@bp.app_template_global("forum_kept_with_forms")
def kept_with_forms(key: tuple, render, *args) -> Markup:
    """cached_fragment of a piece that holds forms (a post's card with its actions, a closed space's card with its
    request to join): kept under `key` (every value it shows, the CSRF token aside) as `render(*args, TOKEN_SLOT)`
    writes it, and shown with this reader's token in each form."""
    return cached_fragment(key, render, *args, TOKEN_SLOT).replace(TOKEN_SLOT, csrf_token())


# ---------------------------------------------------------------- helpers

def _rows(statement, values: dict):
    """The rows of one of the statements the pages below keep per process, with its values: the one place that runs
    them, each with a compiled cache of its own (kept_options: found by identity, its cache key not hashed again on
    every page). They read plain columns (no entity to load), run on the session's connection: the rows as the
    database gives them, without the ORM's execution and result layers (about 0.1 ms of CPU a statement); anything
    pending is flushed first, as the session's own execute would."""
    db.session.flush()
    return db.session.connection().execute(statement, values, execution_options=kept_options(statement))


# Where a plain row's topic ends and its space begins (TopicLine, SpaceLine), in the statements that read both.
TOPIC_LINE_END = len(TOPIC_LINE_COLUMNS)
SPACE_LINE_END = TOPIC_LINE_END + len(SPACE_LINE_COLUMNS)


def _page() -> int:
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), 10_000)


# What a byline shows of a topic's author: the name, the state and the authority's name; not the rest of the member
# and the authority (their JSON columns decoded for every row), the author's roles, nor the authority's designations
# (each one more statement per page, loaded for nothing; read if ever asked for). The topic page's posts are plain
# rows (network.forum.cards.PostRow).
TOPIC_BYLINE_ONLY = (defaultload(Topic.author).load_only(Member.name, Member.state, Member.authority_other)
                     .lazyload(Member.roles),
                     defaultload(Topic.author).defaultload(Member.authority).load_only(Authority.name)
                     .lazyload(Authority.designation_rows))


def _space_or_404(slug: str) -> Space:
    space = db.session.scalar(select(Space).where(Space.slug == slug))
    if space is None:
        abort(404)
    return space


def _group_or_404(slug: str) -> ForumGroup:
    group = db.session.scalar(select(ForumGroup).where(ForumGroup.slug == slug))
    if group is None:
        abort(404)
    return group


def _readable_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id, options=TOPIC_BYLINE_ONLY)
    ensure(topic is not None and access.can_read_topic(current_member(), topic))
    return topic


def _readable_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    ensure(post is not None and access.can_read_post(current_member(), post))
    return post


def _attach_upload(form, post: Post | None) -> None:
    upload = form.attachment.data
    if post is None or not upload or not getattr(upload, "filename", None):
        return
    attachments.attach(current_member(), post, upload.filename, upload.read())


def _topic_url(topic: Topic, post: Post | None = None) -> str:
    if post is None:
        return url_for("forum.topic", topic_id=topic.id)
    return url_for("forum.topic", topic_id=topic.id, post=post.id, _anchor=f"post-{post.id}")


# ---------------------------------------------------------------- spaces

# The forum index's spaces with what each shows, in one statement kept per process (the member bound; a platform
# moderator's statement apart): the topics and posts the member may read there, the latest of those topics, whether
# the member asked to join its group, the groups that see it, and the member's forum facts (access.facts_columns,
# on every row: the rules asked later read nothing more). The spaces the member sees and the groups they moderate
# are the facts' own rules as subqueries (access.visible_spaces_of's), since the facts are not read before it.


NAMES_APART = "\x1f"  # between the names of _seen_by_column: whitespace to str.split, so no name holds it


def _seen_by_column():
    """The names of the groups that see the space, in the order of its permission rows (a padlock names them;
    Space.seen_by), joined by NAMES_APART."""
    names = (select(ForumGroup.name.label("name")).join(SpacePermission, SpacePermission.group_id == ForumGroup.id)
             .where(SpacePermission.space_id == Space.id, SpacePermission.can_see.is_(True))
             .order_by(SpacePermission.id).correlate(Space).subquery())
    return select(func.aggregate_strings(names.c.name, NAMES_APART)).scalar_subquery().label("seen_by")


def _index_statement(platform_moderator: bool):
    key = ("index", platform_moderator)
    found = _HEAD.get(key)
    if found is None:
        member_id = access.PAGE_MEMBER
        moderates = true() if platform_moderator else access.moderated_space_condition_of(member_id)
        sees = true() if platform_moderator else or_(access.seen_space_condition_of(member_id), moderates)
        readable = (Topic.space_id == Space.id, sees, Topic.merged_into_id.is_(None),
                    or_(Topic.hidden.is_(False), moderates))
        latest = aliased(Topic)
        latest_id = (select(Topic.id).where(*readable).order_by(Topic.last_post_at.desc(), Topic.id.desc()).limit(1)
                     .scalar_subquery())
        found = _HEAD[key] = (
            space_lines_from(select(
                *SPACE_LINE_COLUMNS,
                select(func.count(Topic.id)).where(*readable).scalar_subquery().label("topics"),
                select(func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
                .where(*readable, or_(Post.hidden.is_(False), Post.author_id == member_id, moderates))
                .scalar_subquery().label("posts"),
                latest.id.label("latest_id"), latest.title.label("latest_title"),
                Space.group_id.in_(select(JoinRequest.group_id).where(JoinRequest.member_id == member_id,
                                                                      JoinRequest.status == "pending"))
                .label("pending"),
                _seen_by_column(),
                *access.facts_columns(member_id)))
            .join_from(Space, latest, latest.id == latest_id, isouter=True)
            .order_by(Space.restricted, Space.position, Space.name))
    return found


@bp.get("/")
@requires(can_use_forum)
def index():
    member = current_member()
    rows = _rows(_index_statement(access.is_platform_moderator(member)),
                 {access.PAGE_MEMBER.key: member.id, **access.facts_values()}).all()
    if rows:
        access.seed_facts(member, rows[0])
    facts = access.page_facts(member)
    spaces = [space_line(row) for row in rows]
    visible = {space.id for space in spaces if facts.sees(space)}  # can_see_space, from the facts at hand
    counts = {space.id: (row.topics, row.posts) for space, row in zip(spaces, rows, strict=True)
              if space.id in visible}
    latest = {space.id: SimpleNamespace(id=row.latest_id, title=row.latest_title)
              for space, row in zip(spaces, rows, strict=True) if space.id in visible and row.latest_id is not None}
    pending = {space.group_id for space, row in zip(spaces, rows, strict=True) if row.pending}
    seen_by = {space.id: row.seen_by.split(NAMES_APART) for space, row in zip(spaces, rows, strict=True)
               if space.restricted and row.seen_by}
    return render_template("forum/index.html", spaces=spaces, visible=visible, counts=counts, latest=latest,
                           pending=pending, seen_by=seen_by, join_form=_FormWhenAsked(JoinForm),
                           keys=_index_card_keys(member, spaces, visible, counts, latest, seen_by, pending))


def _index_card_keys(member: Member, spaces: list[Space], visible: set[int], counts: dict, latest: dict,
                     seen_by: dict, pending: set[int] | None = None) -> dict[int, tuple]:
    """Every value the index's card of each space shows (templates/forum/index.html, space_card), by space, for
    cached_fragment: two readers share a kept card only if they see the same. The card of a space the member does not
    see holds the form to ask to join: kept with a slot for the session's CSRF token (kept_with_forms)."""
    keys = {}
    for space in spaces:
        group = space.group
        if space.id in visible:
            last = latest.get(space.id)
            keys[space.id] = (
                "forum_index_space", space.id, space.slug, space.name, space.description, space.restricted,
                tuple(seen_by.get(space.id, ())), (group.slug, group.name) if group else None,
                counts.get(space.id, (0, 0)), (last.id, last.title) if last else None,
                bool(space.restricted and group and access.can_decide_join(member, group)))
        else:
            keys[space.id] = (
                "forum_index_closed_space", space.id, space.slug, space.name, space.description, space.restricted,
                tuple(seen_by.get(space.id, ())), (group.slug, group.name) if group else None,
                space.group_id in (pending or ()))
    return keys


# The space page's space with what it shows (its readable topics counted, hidden ones apart, and the member's
# subscription), and a page of its topics with what each row shows (the replies the member may read, whether the
# latest of them is newer than the member's reading mark, the member's subscription): two statements kept per
# process, the values bound. The space (with the groups that see it) and its topics (with their author's name) are
# plain rows (SpaceLine, TopicLine), not entities.
PAGE_SLUG = bindparam("forum_page_slug", type_=String)
PAGE_SPACE = bindparam("forum_page_space", type_=Integer)


def _space_statement():
    found = _HEAD.get("space")
    if found is None:
        from network.forum.models import Subscription

        topics = select(func.count(Topic.id)).where(Topic.space_id == Space.id, Topic.merged_into_id.is_(None))
        found = _HEAD["space"] = space_lines_from(select(
            *SPACE_LINE_COLUMNS, _seen_by_column(),
            topics.where(Topic.hidden.is_(False)).scalar_subquery().label("topics"),
            topics.where(Topic.hidden.is_(True)).scalar_subquery().label("hidden_topics"),
            select(Subscription.level).where(Subscription.member_id == access.PAGE_MEMBER,
                                             Subscription.topic_id.is_(None), Subscription.space_id == Space.id)
            .scalar_subquery().label("level"),
            *access.facts_columns(access.PAGE_MEMBER),  # the member's forum facts, in the same round trip
        )).where(Space.slug == PAGE_SLUG)
    return found


def _space_topics_statement(moderates: bool):
    key = ("space topics", moderates)
    found = _HEAD.get(key)
    if found is None:
        from network.forum.models import Subscription, TopicRead

        member_id = access.PAGE_MEMBER
        posts = select(Post.id).where(Post.topic_id == Topic.id)
        if not moderates:
            posts = posts.where(or_(Post.hidden.is_(False), Post.author_id == member_id))
        query = select(
            *TOPIC_LINE_COLUMNS, Member.name.label("author_name"),
            posts.with_only_columns(func.count(Post.id)).scalar_subquery().label("posts"),
            posts.with_only_columns(func.max(Post.id)).scalar_subquery().label("latest"),
            select(TopicRead.last_read_post_id).where(TopicRead.member_id == member_id,
                                                      TopicRead.topic_id == Topic.id).scalar_subquery().label("read"),
            select(Subscription.level).where(Subscription.member_id == member_id, Subscription.topic_id == Topic.id)
            .scalar_subquery().label("level"),
        ).outerjoin(Member, Member.id == Topic.author_id).where(Topic.space_id == PAGE_SPACE,
                                                                 Topic.merged_into_id.is_(None))
        if not moderates:
            query = query.where(Topic.hidden.is_(False))
        found = _HEAD[key] = (query.order_by(Topic.pinned.desc(), Topic.last_post_at.desc(), Topic.id.desc())
                              .offset(access.PAGE_OFFSET).limit(TOPICS_PER_PAGE))
    return found


@bp.get("/spaces/<slug>")
@requires(can_use_forum)
def space(slug: str):
    member = current_member()
    head = _rows(_space_statement(), {PAGE_SLUG.key: slug, access.PAGE_MEMBER.key: member.id,
                                      **access.facts_values()}).first()
    if head is None:
        abort(404)
    access.seed_facts(member, head)
    found = space_line(head, head.seen_by.split(NAMES_APART) if head.seen_by else [])
    if not access.can_see_space(member, found):
        pending = services.pending_request(member, found.group) if found.group else None
        return render_template("forum/space_locked.html", space=found, pending=pending, join_form=JoinForm())
    moderates = access.can_moderate_space(member, found)
    total = head.topics + (head.hidden_topics if moderates else 0)
    pages = max(math.ceil(total / TOPICS_PER_PAGE), 1)
    page = min(_page(), pages)
    rows = [] if total == 0 else [
        services.TopicRow(TopicLine(*row[:TOPIC_LINE_END], space=found,
                                    author=None if row.author_name is None else AuthorName(row.author_name)),
                          max(row.posts - 1, 0), (row.latest or 0) > (row.read or 0), row.level or "")
        for row in _rows(_space_topics_statement(moderates),
                         {PAGE_SPACE.key: found.id, access.PAGE_MEMBER.key: member.id,
                          access.PAGE_OFFSET.key: (page - 1) * TOPICS_PER_PAGE})]
    return render_template("forum/space.html", space=found, rows=rows, page=page, pages=pages, total=total,
                           level=head.level or "")


@bp.route("/spaces/<slug>/new", methods=["GET", "POST"])
@requires(can_use_forum)
def new_topic(slug: str):
    member = current_member()
    found = _space_or_404(slug)
    ensure(access.can_see_space(member, found))
    silence = moderation.current_silence(member)
    if silence is not None:
        flash(_("You are silenced in the forum until %(until)s UTC: you can read, but not post. Reason: %(reason)s",
                until=silence.until.strftime("%Y-%m-%d %H:%M"), reason=silence.reason), "warning")
        return redirect(url_for("forum.space", slug=found.slug))
    if not access.has_space_permission(member, found, "create"):
        abort(403)  # the space is readable, but this member's groups may not start topics in it
    form = TopicForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("forum/new_topic.html", space=found, form=form), 400
        try:
            topic = services.create_topic(member, found, form.title.data, form.body.data, form.is_question.data)
            opening = services.first_post(topic)
            _attach_upload(form, opening)
            post_html(opening)  # rendered once, by its writer, and stored
        except ForumError as error:
            show_domain_error(form, error)
            return render_template("forum/new_topic.html", space=found, form=form), 400
        flash(_("Your topic is published."), "success")
        return redirect(_topic_url(topic))
    return render_template("forum/new_topic.html", space=found, form=form)


@bp.post("/spaces/<slug>/subscription")
@requires(can_use_forum)
def space_subscription(slug: str):
    member = current_member()
    found = _space_or_404(slug)
    ensure(access.can_see_space(member, found))
    form = SubscriptionForm()
    if not form.validate_on_submit():
        abort(400)
    level = "" if form.level.data == "default" else form.level.data
    services.subscribe(member, level, space=found)
    flash(_("You watch this space.") if level == "watch" else _("You muted this space.") if level == "mute"
          else _("This space follows your default again."), "success")
    return redirect(url_for("forum.space", slug=found.slug))


# ---------------------------------------------------------------- topics



# What the topic page reads of a topic besides the topic itself, in the statement that reads it (kept per process,
# the topic and the member bound): the count of its posts and of the hidden posts not the member's (the posts the
# member may read follow from whether they moderate its space), its opening post's id, how far the member has read
# it, their subscription, the first post of it with a notification left unread, and whether any of its posts has a
# file. The topic, its space (with the groups that see it) and the space's group are plain rows (TopicLine), not
# entities: loading the three through the ORM cost more CPU than running the statement.
_HEAD: dict[str, object] = {}


def _topic_head_statement():
    found = _HEAD.get("topic")
    if found is None:
        from network.forum.models import Subscription, TopicRead

        topic_id, member_id = access.PAGE_TOPIC, access.PAGE_MEMBER

        def scalar(query):
            return query.scalar_subquery()

        found = _HEAD["topic"] = space_lines_from(select(
            *TOPIC_LINE_COLUMNS, *SPACE_LINE_COLUMNS, _seen_by_column(),
            scalar(select(func.count(Post.id)).where(Post.topic_id == topic_id)).label("posts"),
            scalar(select(func.count(Post.id)).where(Post.topic_id == topic_id, Post.hidden.is_(True),
                                                     or_(Post.author_id.is_(None), Post.author_id != member_id)))
            .label("hidden_posts"),
            scalar(select(func.min(Post.id)).where(Post.topic_id == topic_id)).label("opening_id"),
            scalar(select(TopicRead.last_read_post_id).where(TopicRead.member_id == member_id,
                                                             TopicRead.topic_id == topic_id)).label("last_read"),
            scalar(select(Subscription.level).where(Subscription.member_id == member_id,
                                                    Subscription.topic_id == topic_id,
                                                    Subscription.space_id.is_(None))).label("level"),
            scalar(select(func.min(Notification.post_id)).where(Notification.member_id == member_id,
                                                                Notification.topic_id == topic_id,
                                                                Notification.read_at.is_(None))).label("unread_from"),
            scalar(select(func.count(Attachment.id)).join(Post, Attachment.post_id == Post.id)
                   .where(Post.topic_id == topic_id)).label("files"),
            *access.facts_columns(member_id),
        ).join_from(Topic, Space, Space.id == Topic.space_id)).where(Topic.id == topic_id)
    return found


def _topic_head(topic_id: int):
    """The row of the topic (None if there is none) and what the page reads with it (_topic_head_statement), in one
    statement; the member's forum facts come with it (access.facts_columns). The topic itself: _topic_line."""
    member = current_member()
    head = _rows(_topic_head_statement(), {access.PAGE_TOPIC.key: topic_id, access.PAGE_MEMBER.key: member.id,
                                           **access.facts_values()}).one_or_none()
    if head is not None:
        access.seed_facts(member, head)
    return head


def _topic_line(head) -> TopicLine:
    """The topic of a row of _topic_head_statement, with its space and the space's group (the page shows no byline
    of the topic)."""
    seen_by = head.seen_by.split(NAMES_APART) if head.seen_by else []
    return TopicLine(*head[:TOPIC_LINE_END], space=space_line(head[TOPIC_LINE_END:SPACE_LINE_END], seen_by))


# A page of the posts of a readable topic as plain rows with their authors' bylines (network.forum.cards.PostRow), and
# one such post by its id (the accepted answer, when it is not on the page): statements kept per process.
_PAGE_POST = bindparam("forum_page_post", type_=Integer)


def _post_rows_statement(moderates: bool):
    key = ("post rows", moderates)
    found = _HEAD.get(key)
    if found is None:
        found = _HEAD[key] = (access.readable_of_topic(post_rows_from(select(*POST_ROW_COLUMNS)), moderates)
                              .order_by(Post.id).offset(access.PAGE_OFFSET).limit(POSTS_PER_PAGE))
    return found


def _post_row_statement():
    found = _HEAD.get("post row")
    if found is None:
        found = _HEAD["post row"] = post_rows_from(select(*POST_ROW_COLUMNS)).where(Post.id == _PAGE_POST)
    return found


def _html_of(post: PostRow, version: str) -> Markup:
    """post_html of a post read as a plain row (`version`: the renderer's, render.renderer_version); one whose stored
    HTML is out of date is rendered again through its Post, which stores it (the request commits)."""
    if stored_html_is_current(post, version):
        return Markup(post.body_html)  # noqa: S704 (rendered by render_post: markdown-it, then nh3)
    html = post_html(db.session.get(Post, post.id))
    post.body_html = str(html)
    return html


class _FormWhenAsked:
    """A form with nothing typed in it (the reply form of a topic read without a quote, the index's request to join),
    built only if the template asks for its fields: the kept fragments that show them (cached_fragment) usually
    spare building it on every page."""

    errors: dict = {}

    def __init__(self, form_class: type = ReplyForm) -> None:
        self._form_class = form_class
        self._form = None

    def __getattr__(self, name: str):
        if self._form is None:
            self._form = self._form_class()
        return getattr(self._form, name)


def _render_topic(topic: Topic | TopicLine, reply_form: ReplyForm | None, status: int = 200, head=None):
    """The topic page; `reply_form` None: the reply form with nothing typed (_FormWhenAsked); `head`: the topic's
    row of _topic_head, when the caller read it."""
    member = current_member()
    reply_typed = reply_form is not None and bool(reply_form.errors or reply_form.body.data)
    if reply_form is None:
        reply_form = _FormWhenAsked()
    if head is None:
        head = _topic_head(topic.id)
    moderates = access.can_moderate_space(member, topic.space)
    # The posts the member may read (the topic is readable: the caller checked it; a merged one shows none).
    total = 0 if topic.merged_into_id is not None else head.posts - (0 if moderates else head.hidden_posts)
    opening_id = head.opening_id
    pages = max(math.ceil(total / POSTS_PER_PAGE), 1)
    wanted = request.args.get("post", type=int)
    if wanted and total:
        before = _rows(access.readable_posts_before(moderates),
                      {access.PAGE_TOPIC.key: topic.id, access.PAGE_MEMBER.key: member.id,
                       access.PAGE_BEFORE.key: min(wanted, LARGEST_INTEGER)}).scalar()  # an id, not any number
        page = before // POSTS_PER_PAGE + 1
    else:
        page = _page()
    page = min(page, pages)
    posts = [] if total == 0 else post_rows(_rows(
        _post_rows_statement(moderates), {access.PAGE_TOPIC.key: topic.id, access.PAGE_MEMBER.key: member.id,
                                          access.PAGE_OFFSET.key: (page - 1) * POSTS_PER_PAGE}))
    answer = None
    if topic.solved_post_id:
        candidate = next((post for post in posts if post.id == topic.solved_post_id), None)  # on this page
        if candidate is None:
            candidate = next(iter(post_rows(_rows(_post_row_statement(), {_PAGE_POST.key: topic.solved_post_id}))),
                             None)
        answer = candidate if candidate is not None and access.can_read_post_in(member, topic, candidate) else None
    last_read = head.last_read or 0  # read once: for the "new" marks, then moved on
    if posts:
        services.mark_read_from(member, topic, posts[-1].id, head.last_read)  # the posts come oldest first
        if head.unread_from is not None and head.unread_from <= posts[-1].id:  # the bell counts what is left
            notifications.mark_topic_read(member, topic, posts[-1].id)
    version = renderer_version()
    htmls = {post.id: _html_of(post, version) for post in posts + ([answer] if answer else [])}  # once per post
    prefetch_titles_of(member, list(htmls.values()))  # one lookup for the page's links
    move_form = None  # shown to the space's moderators only: the form is not built, nor the spaces read, for others
    if moderates:
        move_form = MoveForm()
        move_form.space.choices = [(s.slug, s.name) for s in moderation.movable_targets(member, topic)]
    shown = [p.id for p in posts] + ([answer.id] if answer else [])
    topic_rules = {"moderate": moderates,  # once, not once per post
                   "reply": access.can_reply(member, topic), "mark_answer": access.can_mark_answer(member, topic)}
    cards = post_cards(member, topic, posts, answer, opening_id=opening_id, last_read=last_read, htmls=htmls,
                       files=attachments.of_posts(shown) if head.files else {},
                       rules=access.post_rules(member, topic, posts), topic_rules=topic_rules)
    return render_template(
        "forum/topic.html", topic=topic, posts=posts, cards=cards, page=page, pages=pages, total=total,
        cards_key=("forum_post_cards", *(card.key for card in cards)),
        answer=answer,
        opening_id=opening_id, last_read=last_read, reply_form=reply_form, reply_typed=reply_typed,
        level=head.level or "",
        silence=moderation.current_silence(member), move_form=move_form,
        can_propose=hooks.case_draft_handler() is not None and access.can_propose_case(member, topic),
        topic_rules=topic_rules,
    ), status


@bp.get("/topics/<int:topic_id>")
@requires(can_use_forum)
def topic(topic_id: int):
    head = _topic_head(topic_id)  # the route's number is at most the database's integer (app.configure_routing)
    found = _topic_line(head) if head is not None else None
    ensure(found is not None and access.can_read_topic(current_member(), found))
    if found.merged_into_id is not None:
        return redirect(url_for("forum.topic", topic_id=found.merged_into_id), 301)
    form = None  # nothing typed: _FormWhenAsked
    quoted = request.args.get("quote", type=int)
    if quoted and 0 < quoted <= LARGEST_INTEGER:
        post = db.session.get(Post, quoted)
        if post is not None and post.topic_id == found.id and access.can_read_post_in(current_member(), found, post):
            form = ReplyForm()
            form.body.data = quote(post.author.name if post.author else _("A former member"), post.body_markdown)
    return _render_topic(found, form, head=head)


@bp.post("/topics/<int:topic_id>/reply")
@requires(can_use_forum)
def reply(topic_id: int):
    found = _readable_topic(topic_id)
    if not access.has_space_permission(current_member(), found.space, "reply"):
        abort(403)  # read-only for this member's groups (a lock or a silence is explained on the page instead)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_topic(found, form, 400)
    try:
        post = services.reply(current_member(), found, form.body.data)
        _attach_upload(form, post)
        post_html(post)  # rendered once, by its writer, and stored
    except ForumError as error:
        show_domain_error(form, error)
        return _render_topic(found, form, 400)
    flash(_("Your reply is published."), "success")
    return redirect(_topic_url(found, post))


@bp.post("/topics/<int:topic_id>/subscription")
@requires(can_use_forum)
def topic_subscription(topic_id: int):
    found = _readable_topic(topic_id)
    form = SubscriptionForm()
    if not form.validate_on_submit():
        abort(400)
    level = "" if form.level.data == "default" else form.level.data
    services.subscribe(current_member(), level, topic=found)
    flash(_("You watch this topic.") if level == "watch" else _("You muted this topic.") if level == "mute"
          else _("This topic follows your default again."), "success")
    return redirect(_topic_url(found))


@bp.post("/topics/<int:topic_id>/unsolve")
@requires(can_use_forum)
def unsolve(topic_id: int):
    member = current_member()
    found = _readable_topic(topic_id)
    if not access.can_mark_answer(member, found):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.clear_answer(member, found)
    flash(_("The topic is open again: no answer is marked."), "success")
    return redirect(_topic_url(found))


@bp.post("/topics/<int:topic_id>/moderate")
@requires(can_use_forum)
def moderate(topic_id: int):
    member = current_member()
    found = _readable_topic(topic_id)
    if not access.can_moderate_space(member, found.space):
        abort(403)
    form = ModerateTopicForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.moderate_topic(member, found, form.action.data, form.reason.data or "")
    except ForumError as error:
        show_domain_error(form, error)
        return redirect(_topic_url(found))
    flash(_("Done: the topic is updated."), "success")
    return redirect(_topic_url(found))


# ---------------------------------------------------------------- posts

@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@requires(can_use_forum)
def edit_post(post_id: int):
    member = current_member()
    post = _readable_post(post_id)
    if not access.can_edit_post(member, post):
        abort(403)
    form = EditForm()
    if request.method == "GET":
        form.body.data = post.body_markdown
        return render_template("forum/edit_post.html", post=post, form=form)
    if not form.validate_on_submit():
        return render_template("forum/edit_post.html", post=post, form=form), 400
    try:
        services.edit_post(member, post, form.body.data)
        post_html(post)  # the new text, rendered once and stored
    except ForumError as error:
        show_domain_error(form, error)
        return render_template("forum/edit_post.html", post=post, form=form), 400
    flash(_("Your post is updated; its earlier text is in its edit history."), "success")
    return redirect(_topic_url(post.topic, post))


@bp.get("/posts/<int:post_id>/history")
@requires(can_use_forum)
def post_history(post_id: int):
    post = _readable_post(post_id)
    return render_template("forum/history.html", post=post, revisions=list(reversed(post.revisions)))


@bp.post("/posts/<int:post_id>/answer")
@requires(can_use_forum)
def mark_answer(post_id: int):
    member = current_member()
    post = _readable_post(post_id)
    if not access.can_mark_answer(member, post.topic):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.mark_answer(member, post)
    except ForumError as error:
        show_domain_error(ButtonForm(), error)
        return redirect(_topic_url(post.topic, post))
    flash(_("Marked as the answer: it is shown first in the topic."), "success")
    return redirect(_topic_url(post.topic))


@bp.post("/posts/<int:post_id>/hide")
@requires(can_use_forum)
def hide_post(post_id: int):
    member = current_member()
    post = _readable_post(post_id)
    if not access.can_moderate_space(member, post.topic.space):
        abort(403)
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.hide_post(member, post, form.reason.data)
    except ForumError as error:
        show_domain_error(form, error)
        return redirect(_topic_url(post.topic, post))
    flash(_("The post is hidden; its author is told why."), "success")
    return redirect(_topic_url(post.topic, post))


@bp.post("/posts/<int:post_id>/unhide")
@requires(can_use_forum)
def unhide_post(post_id: int):
    member = current_member()
    post = _readable_post(post_id)
    if not access.can_moderate_space(member, post.topic.space):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.unhide_post(member, post)
    except ForumError as error:
        show_domain_error(ButtonForm(), error)
        return redirect(_topic_url(post.topic, post))
    flash(_("The post is visible again."), "success")
    return redirect(_topic_url(post.topic, post))


# ---------------------------------------------------------------- groups and join requests

@bp.post("/groups/<slug>/join")
@requires(can_use_forum)
def request_join(slug: str):
    group = _group_or_404(slug)
    form = JoinForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.request_join(current_member(), group, form.message.data or "")
    except ForumError as error:
        show_domain_error(form, error)
        return redirect(url_for("forum.index"))
    flash(_("Your request to join %(name)s is sent to its moderators.", name=group.name), "success")
    return redirect(url_for("forum.index"))


@bp.get("/groups/<slug>/requests")
@requires(can_use_forum)
def join_requests(slug: str):
    group = _group_or_404(slug)
    if not access.can_decide_join(current_member(), group):
        abort(403)
    waiting = list(db.session.scalars(select(JoinRequest).where(JoinRequest.group_id == group.id,
                                                                JoinRequest.status == "pending")
                                      .order_by(JoinRequest.created_at)))
    decided = list(db.session.scalars(select(JoinRequest).where(JoinRequest.group_id == group.id,
                                                                JoinRequest.status != "pending")
                                      .order_by(JoinRequest.decided_at.desc()).limit(20)))
    return render_template("forum/join_requests.html", group=group, pending_requests=waiting, decided=decided,
                           members=sorted(group.memberships, key=lambda m: (m.role != "space_moderator",
                                                                            m.member.name)),
                           form=DecisionForm())


@bp.post("/join-requests/<int:request_id>/decide")
@requires(can_use_forum)
def decide_join(request_id: int):
    member = current_member()
    join = db.session.get(JoinRequest, request_id)
    if join is None:
        abort(404)
    if not access.can_decide_join(member, join.group):
        abort(403)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_join(member, join, form.decision.data == "approve", form.reason.data or "")
    except ForumError as error:
        show_domain_error(form, error)
        return redirect(url_for("forum.join_requests", slug=join.group.slug))
    flash(_("%(name)s is now a member of the group.", name=join.member.name) if join.status == "approved"
          else _("The request is refused; the member is told why."), "success")
    return redirect(url_for("forum.join_requests", slug=join.group.slug))


# ---------------------------------------------------------------- space permissions and group members

def _permission_rows(found: Space, grid: dict | None = None) -> list[tuple[str, str, tuple[bool, bool, bool]]]:
    """(field key, label, (see, reply, create)) for all vetted members then each group: as the space says now, or
    as submitted when the submission was refused."""
    grid = services.permission_grid(found) if grid is None else grid
    rows = [("all", _("All vetted members"), grid.get(None, (False, False, False)))]
    for group in db.session.scalars(select(ForumGroup).order_by(ForumGroup.name)):
        rows.append((str(group.id), group.name, grid.get(group.id, (False, False, False))))
    return rows


def _submitted_grid(form_data) -> dict[int | None, tuple[bool, bool, bool]]:
    grid: dict[int | None, tuple[bool, bool, bool]] = {None: tuple(f"{p}-all" in form_data
                                                                   for p in access.PERMISSIONS)}
    for group_id in db.session.scalars(select(ForumGroup.id)):
        grid[group_id] = tuple(f"{p}-{group_id}" in form_data for p in access.PERMISSIONS)
    return grid


@bp.route("/spaces/<slug>/permissions", methods=["GET", "POST"])
@requires(can_use_forum)
def space_permissions(slug: str):
    member = current_member()
    found = _space_or_404(slug)
    if not access.can_manage_space_permissions(member, found):
        ensure(access.can_see_space(member, found))
        abort(403)
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        grid = _submitted_grid(request.form)
        try:
            services.set_space_permissions(member, found, grid)
        except ForumError as error:
            show_domain_error(None, error)
            return render_template("forum/space_permissions.html", space=found, form=form,
                                   rows=_permission_rows(found, grid)), 400
        flash(_("The space's permissions are saved."), "success")
        return redirect(url_for("forum.space_permissions", slug=found.slug))
    return render_template("forum/space_permissions.html", space=found, form=form, rows=_permission_rows(found))


def _groups_guard() -> Member:
    member = current_member()
    if not access.can_manage_groups(member):
        abort(403)
    return member


@bp.get("/groups")
@requires(can_use_forum)
def groups():
    """Manage spaces and groups: every space (its group, padlock, whether members only read it, its topics as the
    visibility filter counts them for this moderator) and every group, with the ways to create and edit them."""
    member = _groups_guard()
    found = list(db.session.scalars(select(ForumGroup).order_by(ForumGroup.name)))
    spaces = list(db.session.scalars(select(Space).order_by(Space.restricted, Space.position, Space.name)))
    visible = [s for s in spaces if access.can_see_space(member, s)]
    counts = services.space_counts(member, visible)
    read_only = {s.id for s in spaces if services.permission_grid(s).get(None) == (True, False, False)}
    return render_template("forum/groups.html", groups=found, spaces=spaces, counts=counts, read_only=read_only)


def _group_choices() -> list[tuple[str, str]]:
    return [("", _("No moderating group")),
            *((g.slug, g.name) for g in db.session.scalars(select(ForumGroup).order_by(ForumGroup.name)))]


def _chosen_group(form: SpaceForm) -> ForumGroup | None:
    if not form.group.data:
        return None
    return db.session.scalar(select(ForumGroup).where(ForumGroup.slug == form.group.data))


@bp.route("/groups/new", methods=["GET", "POST"])
@requires(can_use_forum)
def new_group():
    actor = _groups_guard()
    form = GroupForm()
    if request.method == "GET":
        return render_template("forum/new_group.html", form=form)
    if not form.validate_on_submit():
        return render_template("forum/new_group.html", form=form), 400
    try:
        group = services.create_group(actor, form.slug.data, form.name.data, form.description.data or "")
    except ForumError as error:
        show_domain_error(form, error)
        return render_template("forum/new_group.html", form=form), 400
    flash(_("The group %(name)s is created: add its members and space moderators.", name=group.name), "success")
    return redirect(url_for("forum.group_members", slug=group.slug))


@bp.route("/spaces/new", methods=["GET", "POST"])
@requires(can_use_forum)
def new_space():
    actor = _groups_guard()
    form = NewSpaceForm()
    form.group.choices = _group_choices()
    if request.method == "GET":
        return render_template("forum/space_form.html", form=form, space=None)
    if not form.validate_on_submit():
        return render_template("forum/space_form.html", form=form, space=None), 400
    try:
        created = services.create_space(actor, form.slug.data, form.name.data, form.description.data or "",
                                        restricted=form.access.data == "restricted", group=_chosen_group(form))
    except ForumError as error:
        show_domain_error(form, error)
        return render_template("forum/space_form.html", form=form, space=None), 400
    flash(_("The space %(name)s is created. Say here which groups see it, reply and start topics.",
            name=created.name), "success")
    return redirect(url_for("forum.space_permissions", slug=created.slug))


@bp.route("/spaces/<slug>/settings", methods=["GET", "POST"])
@requires(can_use_forum)
def space_settings(slug: str):
    member = current_member()
    found = _space_or_404(slug)
    if not access.can_manage_groups(member):
        ensure(access.can_see_space(member, found))  # an outsider of a restricted space learns nothing more
        abort(403)
    form = SpaceForm()
    form.group.choices = _group_choices()
    if request.method == "GET":
        form.name.data, form.description.data = found.name, found.description
        form.access.data = "restricted" if found.restricted else "open"
        form.group.data = found.group.slug if found.group else ""
        return render_template("forum/space_form.html", form=form, space=found)
    if not form.validate_on_submit():
        return render_template("forum/space_form.html", form=form, space=found), 400
    try:
        permissions_changed = services.update_space(member, found, form.name.data, form.description.data or "",
                                                    restricted=form.access.data == "restricted",
                                                    group=_chosen_group(form))
    except ForumError as error:
        show_domain_error(form, error)
        return render_template("forum/space_form.html", form=form, space=found), 400
    if permissions_changed:
        flash(_("The space is saved and its permissions follow the change: check who sees, replies and starts "
                "topics."), "success")
        return redirect(url_for("forum.space_permissions", slug=found.slug))
    flash(_("The space is saved."), "success")
    return redirect(url_for("forum.groups"))


def _render_group_members(group: ForumGroup, form: GroupMemberForm, status: int = 200):
    members = sorted(group.memberships, key=lambda m: (m.role != "space_moderator", m.member.name))
    return render_template("forum/group_members.html", group=group, members=members, form=form,
                           role_form=GroupRoleForm()), status


@bp.route("/groups/<slug>/members", methods=["GET", "POST"])
@requires(can_use_forum)
def group_members(slug: str):
    actor = _groups_guard()
    group = _group_or_404(slug)
    form = GroupMemberForm()
    if request.method == "GET":
        return _render_group_members(group, form)
    if not form.validate_on_submit():
        return _render_group_members(group, form, 400)
    found = db.session.scalar(select(Member).where(func.lower(Member.email) == form.email.data.strip().lower()))
    if found is None or not found.is_vetted:
        form.email.errors.append(_("No vetted member has this e-mail address."))
        return _render_group_members(group, form, 400)
    try:
        services.set_group_role(actor, group, found, form.role.data)
    except ForumError as error:
        show_domain_error(form, error)
        return _render_group_members(group, form, 400)
    flash(_("%(name)s is in %(group)s.", name=found.name, group=group.name), "success")
    return redirect(url_for("forum.group_members", slug=group.slug))


@bp.post("/groups/<slug>/members/<int:member_id>")
@requires(can_use_forum)
def group_member_role(slug: str, member_id: int):
    actor = _groups_guard()
    group = _group_or_404(slug)
    subject = _member_or_404(member_id)
    if not access.in_group(subject, group.id):
        abort(404)
    form = GroupRoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = None if form.role.data == "remove" else form.role.data
    try:
        services.set_group_role(actor, group, subject, role)
    except ForumError as error:
        show_domain_error(None, error)
        return redirect(url_for("forum.group_members", slug=group.slug))
    flash(_("%(name)s is removed from the group.", name=subject.name) if role is None
          else _("%(name)s's role is saved.", name=subject.name), "success")
    return redirect(url_for("forum.group_members", slug=group.slug))


# ---------------------------------------------------------------- reading across spaces

@bp.get("/new")
@requires(can_use_forum)
def feed():
    return render_template("forum/feed.html", rows=services.new_for(current_member()))


@bp.get("/search")
@requires(can_use_forum)
def search():
    member = current_member()
    text = (request.args.get("q") or "")[:200]
    author = None
    author_id = request.args.get("author", type=int)
    if author_id:
        author = db.session.get(Member, author_id)
        if author is None or not author.is_vetted:
            author, author_id = None, None
    page = max(1, min(request.args.get("page", 1, type=int), 1000))
    found = forum_search.search_posts(member, text, author_id, page, SEARCH_PER_PAGE)
    return render_template("forum/search.html", q=text, author=author, posts=found.posts, total=found.total,
                           snippets=found.snippets, page=page, pages=max(1, math.ceil(found.total / SEARCH_PER_PAGE)))


# ---------------------------------------------------------------- flags and the moderation queue

def _flag_queue_guard():
    member = current_member()
    if not access.can_see_flag_queue(member):
        abort(403)
    return member


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
@requires(can_use_forum)
def flag_post(post_id: int):
    member = current_member()
    post = _readable_post(post_id)
    if not access.can_flag(member, post):
        abort(403)
    form = FlagForm()
    already = moderation.open_flag(member, post) is not None
    if request.method == "GET":
        return render_template("forum/flag.html", post=post, form=form, already=already)
    if not form.validate_on_submit():
        return render_template("forum/flag.html", post=post, form=form, already=already), 400
    try:
        moderation.flag_post(member, post, form.reason.data)
    except ForumError as error:
        show_domain_error(form, error)
        return render_template("forum/flag.html", post=post, form=form, already=already), 400
    flash(_("Thank you: the moderators will look at the post."), "success")
    return redirect(_topic_url(post.topic, post))


@bp.get("/moderation")
@requires(can_use_forum)
def moderation_queue():
    return _render_queue(_flag_queue_guard())


def _render_queue(member: Member, status: int = 200):
    items = moderation.queue(member)
    prefetch_reference_titles(member, [post for item in items for post in (item.previous, item.post)])
    return render_template("forum/moderation_queue.html", items=items,
                           edited=moderation.edited_hidden_posts(member), form=FlagDecisionForm(),
                           can_suspend=access.can_suspend_from_forum(member)), status


@bp.post("/flags/<int:flag_id>/decide")
@requires(can_use_forum)
def decide_flag(flag_id: int):
    member = _flag_queue_guard()
    flag = db.session.get(Flag, flag_id)
    if flag is None or not access.can_read_post(member, flag.post):
        abort(404)
    if not access.can_moderate_space(member, flag.post.topic.space):
        abort(403)
    form = FlagDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moderation.decide_flag(member, flag, form.decision.data, form.reason.data or "", form.days.data)
    except ForumError as error:
        show_domain_error(None, error)
        return _render_queue(member, 400)
    flash(_("Decided: the flag is closed.") if flag.status == "disagreed"
          else _("Decided: the post is hidden and its author told why."), "success")
    return redirect(url_for("forum.moderation_queue"))


def _member_or_404(member_id: int) -> Member:
    found = db.session.get(Member, member_id)
    if found is None:
        abort(404)
    return found


def _render_member_moderation(moderator: Member, subject: Member, form: NoteForm, status: int = 200):
    """Notes and past silences for platform moderators and administrators; a space moderator sees the flags on
    the member's posts in their own spaces and whether the member is silenced now."""
    return render_template("forum/member_moderation.html", subject=subject,
                           can_read_notes=moderation.can_read_notes(moderator),
                           notes=moderation.notes_on(moderator, subject),
                           silences=moderation.silences_of(moderator, subject),
                           flags=moderation.flags_about(moderator, subject),
                           silence=moderation.current_silence(subject), form=form), status


@bp.get("/members/<int:member_id>/moderation")
@requires(can_use_forum)
def member_moderation(member_id: int):
    moderator = current_member()
    if not moderation.can_see_member_moderation(moderator):
        abort(403)
    return _render_member_moderation(moderator, _member_or_404(member_id), NoteForm())


@bp.post("/members/<int:member_id>/notes")
@requires(can_use_forum)
def add_note(member_id: int):
    moderator = current_member()
    if not moderation.can_read_notes(moderator):
        abort(403)
    subject = _member_or_404(member_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render_member_moderation(moderator, subject, form, 400)
    moderation.add_note(moderator, subject, form.body.data)
    flash(_("Note saved; only platform moderators and administrators see it."), "success")
    return redirect(url_for("forum.member_moderation", member_id=subject.id))


@bp.post("/topics/<int:topic_id>/move")
@requires(can_use_forum)
def move_topic(topic_id: int):
    member = current_member()
    found = _readable_topic(topic_id)
    if not access.can_moderate_space(member, found.space):
        abort(403)
    form = MoveForm()
    form.space.choices = [(s.slug, s.name) for s in moderation.movable_targets(member, found)]
    if not form.validate_on_submit():
        abort(400)
    try:
        moderation.move_topic(member, found, _space_or_404(form.space.data))
    except ForumError as error:
        show_domain_error(None, error)
        return redirect(_topic_url(found))
    flash(_("The topic is moved to %(space)s.", space=found.space.name), "success")
    return redirect(_topic_url(found))


@bp.post("/topics/<int:topic_id>/merge")
@requires(can_use_forum)
def merge_topic(topic_id: int):
    member = current_member()
    found = _readable_topic(topic_id)
    if not access.can_moderate_space(member, found.space):
        abort(403)
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    target = db.session.get(Topic, form.target.data)
    if target is None or not access.can_read_topic(member, target):
        flash(_("There is no topic with that number you can see."), "danger")
        return redirect(_topic_url(found))
    try:
        into = moderation.merge_topic(member, found, target)
    except ForumError as error:
        show_domain_error(None, error)
        return redirect(_topic_url(found))
    flash(_("The topic is merged; its old address leads here."), "success")
    return redirect(_topic_url(into))


# ---------------------------------------------------------------- from discussion to precedent

@bp.post("/topics/<int:topic_id>/propose-case")
@requires(can_use_forum)
def propose_case(topic_id: int):
    member = current_member()
    found = _readable_topic(topic_id)
    if hooks.case_draft_handler() is None:
        abort(404)
    if not access.can_propose_case(member, found):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        target = services.propose_case(member, found)
    except ForumError as error:
        show_domain_error(None, error)
        return redirect(_topic_url(found))
    flash(_("A case draft is ready, filled in from the topic: check and complete it."), "success")
    return redirect(target)


# ---------------------------------------------------------------- notifications and preferences

@bp.get("/notifications")
@requires(can_use_forum)
def notification_list():
    return render_template("forum/notifications.html", items=notifications.listing(current_member()),
                           button_form=ButtonForm())


@bp.post("/notifications/read")
@requires(can_use_forum)
def notifications_read():
    if not ButtonForm().validate_on_submit():
        abort(400)
    notifications.mark_read(current_member())
    flash(_("All notifications are marked read."), "success")
    return redirect(url_for("forum.notification_list"))


@bp.post("/notifications/<int:notification_id>/open")
@requires(can_use_forum)
def open_notification(notification_id: int):
    member = current_member()
    found = db.session.get(Notification, notification_id)
    if found is None or found.member_id != member.id:
        abort(404)
    post = db.session.get(Post, found.post_id)
    ensure(post is not None and access.can_read_post(member, post))
    if not ButtonForm().validate_on_submit():
        abort(400)
    notifications.mark_read(member, found)
    return redirect(_topic_url(post.topic, post))


@bp.route("/preferences", methods=["GET", "POST"])
@requires(can_use_forum)
def preferences():
    member = current_member()
    form = PreferencesForm()
    if request.method == "GET":
        form.email_mode.data = notifications.email_mode(member)
    elif form.validate_on_submit():
        notifications.set_email_mode(member, form.email_mode.data)
        flash(_("Your forum e-mail preference is saved."), "success")
        return redirect(url_for("forum.preferences"))
    followed = services.followed(member)
    return render_template("forum/preferences.html", form=form, followed=followed), \
        400 if request.method == "POST" else 200


# ---------------------------------------------------------------- attachments

@bp.get("/attachments/<storage_id>")
@requires(can_use_forum)
def attachment(storage_id: str):
    found = db.session.scalar(select(Attachment).where(Attachment.storage_id == storage_id[:64]))
    ensure(found is not None and access.can_read_post(current_member(), found.post))
    response = send_file(io.BytesIO(attachments.content(found)), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename, max_age=0, etag=False, last_modified=None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'none'; frame-ancestors 'none'; sandbox"
    return response


# ---------------------------------------------------------------- commands

@bp.cli.command("digest")
def digest_command() -> None:
    """Send the daily forum digest to members who chose it (at most once a day each; safe to run again)."""
    sent = notifications.send_digests()
    db.session.commit()
    deliver_queued()
    click.echo(f"{sent} digest(s) sent")
