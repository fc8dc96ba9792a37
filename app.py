"""The application factory: a readable recipe, and the `flask --app app` entry point."""
from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Mapping

from flask import Flask
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager

from config import configure_settings
from network.core.api import configure_api
from network.core.db import configure_database, db
from network.core.errors import configure_error_pages
from network.core.files_at_rest import secure_files_at_rest
from network.core.ratelimit import configure_ratelimit
from network.core.security import configure_security
from network.core.sessions import configure_sessions
from network.core.templating import NetworkEnvironment


class Application(Flask):
    """Flask, telling a plain function from an `async def` one by its code's flag. Flask asks `ensure_sync` of every
    hook, context processor and view on every request (some 20 times a page, each an inspect.iscoroutinefunction
    of 2 µs; issue 14); what is not a plain function or method (a partial, a callable object) is left to Flask.
    Its templates are NetworkTemplate (network/core/templating.py: the same rendering, without walking the globals'
    ChainMap at every render and import)."""

    jinja_environment = NetworkEnvironment

    def ensure_sync(self, func):
        code = getattr(func, "__code__", None)
        if (code is not None and not code.co_flags & inspect.CO_COROUTINE
                and getattr(func, "_is_coroutine_marker", None) is None):  # inspect.markcoroutinefunction's mark
            return func
        return super().ensure_sync(func)


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, commands, error pages."""
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("NETWORK_INSTANCE_PATH")
    app = Application(__name__, instance_relative_config=True,
                      instance_path=str(instance_path) if instance_path else None)
    configure_settings(app, overrides)
    configure_routing(app)  # before any route is added
    secure_files_at_rest(app)  # instance folder 0700, files 0600: before anything is written there
    configure_database(app)
    configure_sessions(app)
    configure_api(app)  # after the sessions: API requests carry none
    configure_security(app)
    configure_ratelimit(app)
    configure_search(app)
    configure_login(app)
    configure_i18n(app)
    configure_templates(app)
    configure_blueprints(app)
    configure_commands(app)
    configure_error_pages(app)
    if app.config["SETTLE_HEAP"]:  # a server's process (network/core/runtime.py)
        from network.core.runtime import settle_heap

        settle_heap()
    return app


def configure_search(app: Flask) -> None:
    """The search layer and the kinds it indexes, in the order the one box (/search) shows them: each kind is
    declared by the feature that owns its objects (document, changes, reader scope, engine)."""
    from catalogue.cases.search import CASES
    from network.directory.search import AUTHORITIES
    from network.forum.search import POSTS
    from network.search.services import configure_search as configure_search_layer

    configure_search_layer(app, [CASES, POSTS, AUTHORITIES])


SHAPES_KEPT = 10_000  # sessions whose badges' shape a process remembers (a few hundred bytes each)


def configure_routing(app: Flask) -> None:
    """Every <int:...> of an address names a row: a number above the database's integer matches no route (404) and
    never reaches a query (SQLite overflows on it, PostgreSQL refuses it): one rule for every route."""
    from werkzeug.routing import IntegerConverter

    from network.core.forms import LARGEST_INTEGER

    class RowNumber(IntegerConverter):
        def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
            kwargs.setdefault("max", LARGEST_INTEGER)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = RowNumber


def configure_login(app: Flask) -> None:
    from flask import session
    from sqlalchemy import Integer, bindparam, exists, select
    from sqlalchemy.orm import defaultload, joinedload
    from sqlalchemy.orm.attributes import instance_state, set_committed_value

    from network.core import counters
    from network.core.memo import request_memo
    from network.core.sessions import read_with_record, record_columns
    from network.directory.models import Authority
    from network.forum import access as forum_access
    from network.forum.models import GroupMembership
    from network.members.models import Member, RoleGrant

    # The member's roles are asked on every page (joined: one statement with the member, not a second one); their
    # authority's designations almost never (read if asked), nor the authorities of the member's own role grants
    # (the member management page). One statement object for the process: SQLAlchemy keys its compiled form by a walk
    # over the statement and its loader options, remembered on the object (built anew for every request, as
    # session.get does, the walk cost a quarter of a millisecond on every page).
    options = (defaultload(Member.authority).lazyload(Authority.designation_rows),
               joinedload(Member.roles).lazyload(RoleGrant.authority))
    signed_in = select(Member).where(Member.id == bindparam("member_id", type_=Integer)).options(*options)
    # Every signed-in page reads the session's record, the member, their roles and whether they moderate a forum group
    # (the navigation's flag queue): one statement, in the request's transaction (issue 14; it was three statements,
    # the record's on a connection of its own). The record decides: no record (signed out, revoked, expired, the
    # member suspended or closed), no member.
    # The navigation's badges come with them when the session's previous request tells their shape (the member's
    # values they are counted with, network/core/counters.py), used only if it is still the shape of the member read.
    # Read as plain columns and turned into the ORM's objects here (issue 14): the ORM's own loading of that row (its
    # row processors, built anew for every execution, the joined eager loads, uniquing) cost a quarter of a millisecond
    # more than the statement itself. The objects are what the ORM's load would give: persistent in the request's
    # session, their columns committed, the member's authority and roles set, a role grant's authority and an
    # authority's designations left to load if asked; one already in the session (an application context that outlives
    # its requests: a test, a CLI command) is kept, and only what it has not loaded (expired by a commit) is set from
    # the row, as the ORM does without populate_existing.
    def reading() -> tuple:
        """The statement and where each object's columns are in its rows, built at the first request (the mappers'
        attributes are known once every model is imported)."""
        record = record_columns()
        parts = [(mapper, [(prop.key, prop.columns[0]) for prop in mapper.column_attrs])
                 for mapper in (Member.__mapper__, Authority.__mapper__, RoleGrant.__mapper__)]
        labelled = [column.label(f"{prefix}_{key}") for prefix, (_mapper, columns) in zip("mar", parts, strict=True)
                    for key, column in columns]
        members, authorities, grants = (mapper.local_table for mapper, _columns in parts)
        moderates = exists().where(GroupMembership.member_id == members.c.id,
                                   GroupMembership.role == "space_moderator")
        statement = (select(*record, *labelled, moderates.label("moderates_forum_group"))
                     .select_from(record.id.table.outerjoin(members, members.c.id == record.member_id)
                                  .outerjoin(authorities, authorities.c.id == members.c.authority_id)
                                  .outerjoin(grants, grants.c.member_id == members.c.id))
                     .where(record.id == bindparam("session_id")))
        slices, start = [], len(record)
        for mapper, columns in parts:
            keys = tuple(key for key, _column in columns)
            slices.append((mapper, keys, slice(start, start + len(keys)), start + keys.index("id")))
            start += len(keys)
        return statement, *slices

    built: list = []
    with_badges: dict[tuple, object] = {}  # the statement per shape of the badges (a few: by roles)
    shapes: dict[str, tuple] = {}  # session id -> the badges' shape at its last request (bounded)

    def prepare(session_id: str):
        if not built:
            built[:] = reading()  # one list assigned at once: threads building it together each give the same
        with_record = built[0]
        shape = shapes.get(session_id)
        if shape is None:
            return with_record, {}, None
        statement = with_badges.get(shape[0])
        if statement is None:
            statement = with_badges[shape[0]] = with_record.add_columns(*counters.navigation_columns(shape[0]))
        return statement, shape[1], shape

    def materialized(session, part, row):
        """The row's object of a mapper (part: mapper, attribute keys, their slice of the row, the id's position), as
        the ORM's load makes it (loading.py's _instance: a new instance, its identity, in the session's identity map,
        its columns committed); one already in the session keeps what it has loaded, the rest set from the row."""
        mapper, keys, columns, _id = part
        identity = mapper.identity_key_from_primary_key((row[_id],))
        existing = session.identity_map.get(identity)
        if existing is not None:
            unloaded = instance_state(existing).unloaded
            for key, value in zip(keys, row[columns], strict=True):
                if key in unloaded:
                    set_committed_value(existing, key, value)
            return existing, unloaded
        obj = mapper.class_manager.new_instance()
        state = instance_state(obj)
        state.dict.update(zip(keys, row[columns], strict=True))
        state.key, state.identity_token, state.session_id = identity, identity[2], session.hash_key
        session.identity_map._add_unpresent(state, identity)  # noqa: SLF001 (as the ORM's loading does)
        state._commit_all(state.dict, session.identity_map)  # noqa: SLF001
        return obj, None

    def take(rows, shape):
        member_part, authority_part, grant_part = built[1:]
        first = rows[0]
        if first[member_part[3]] is None:
            return None
        session = db.session()
        member, unloaded = materialized(session, member_part, first)
        if unloaded is None or "authority" in unloaded:
            authority = None if first[authority_part[3]] is None else materialized(session, authority_part, first)[0]
            set_committed_value(member, "authority", authority)
        elif first[authority_part[3]] is not None:
            materialized(session, authority_part, first)
        roles, seen = [], set()
        for row in rows:  # one row per role grant (none: one row of NULLs), in the order read
            if row[grant_part[3]] is not None and row[grant_part[3]] not in seen:
                seen.add(row[grant_part[3]])
                roles.append(materialized(session, grant_part, row)[0])
        if unloaded is None or "roles" in unloaded:
            set_committed_value(member, "roles", roles)
        return member, bool(first.moderates_forum_group), shape, first

    def remember(session_id: str, shape: tuple | None) -> None:
        with keeping:
            if shape is None:
                shapes.pop(session_id, None)
                return
            while len(shapes) >= SHAPES_KEPT:
                del shapes[next(iter(shapes))]
            shapes[session_id] = shape

    keeping = threading.Lock()
    read_with_record(app, prepare, take)
    login = LoginManager(app)
    login.session_protection = None  # sessions are server-side records, rotated at sign-in
    login.login_view = "members.sign_in"

    @login.user_loader
    def load_member(member_id: str) -> Member | None:
        """A member counts as signed in only after the second factor; an applicant only as an applicant."""
        opened = session._get_current_object()  # the proxy resolved once
        companion = getattr(opened, "companion", None)  # read with the session's record, in this request
        if companion is not None and str(companion[0].id) == member_id:
            member = companion[0]
            request_memo(forum_access.MODERATES)[member.id] = companion[1]
        else:
            companion = None
            member = (db.session.execute(signed_in, {"member_id": int(member_id)}).unique().scalar_one_or_none()
                      if member_id.isdigit() else None)
        if member is None:
            return None
        if not ((member.status == "active" and opened.get("mfa_ok"))
                or (member.status == "pending" and opened.get("applicant"))):
            return None
        if companion is not None:
            shape = counters.navigation_shape(member)
            if shape is not None and shape == companion[2]:
                counters.prefetch(member, shape[0], companion[3])
            elif opened.session_id:
                remember(opened.session_id, shape)
        return member


def configure_i18n(app: Flask) -> None:
    """The six UN languages: a language only if its catalogue is compiled; ?lang=, profile, cookie, browser (issue 13)."""
    from network.core.i18n import babel_locale, configure_language_selection
    from network.core.translations import configure_template_translations

    configure_language_selection(app)
    Babel(app, locale_selector=babel_locale)  # select_locale's answer, one Locale object per language (issue 14)
    configure_template_translations(app)  # templates' _(): the catalogue once per request (issue 14)


def configure_templates(app: Flask) -> None:
    from network.core.access import current_member
    from network.core.labels import state_label  # the UN's name of a State, in the page's language
    from network.core.markdown import headings_from, render_markdown
    from network.core.navigation import configure_navigation
    from network.core.translations import request_locale  # Flask-Babel's, looked up once per request
    from network.members.access import TEMPLATE_RULES

    Bootstrap5(app)
    app.config["BOOTSTRAP_SERVE_LOCAL"] = True
    app.jinja_env.filters["markdown"] = render_markdown  # rendered, then sanitised with an allow-list (nh3)
    app.jinja_env.filters["headings_from"] = headings_from  # Markdown's headings below the page's own
    configure_navigation(app)  # a member's navigation bar, kept rendered per process

    @app.context_processor
    def access_rules() -> dict:
        member = current_member()
        rules = {name: (lambda *objects, rule=rule: bool(member and rule(member, *objects)))
                 for name, rule in TEMPLATE_RULES.items()}
        return {"rules": rules, "me": member, "state_name": state_label, "locale": str(request_locale() or "en")}


def configure_blueprints(app: Flask) -> None:
    from catalogue.cases.api import bp as api_cases
    from catalogue.cases.views import bp as catalogue
    from catalogue.cases.workflow_views import bp as case_workflow
    from network.core.api import bp as api_core
    from network.core.views import bp as home
    from network.directory.api import bp as api_directory
    from network.directory.change_views import bp as directory_changes
    from network.directory.views import bp as directory
    from network.forum.views import bp as forum
    from network.members.language import bp as language
    from network.members.tokens import bp as tokens
    from network.members.views import bp as members
    from network.messaging.views import bp as messages
    from network.requests.views import bp as requests
    from network.search.views import bp as search

    app.register_blueprint(home)
    app.register_blueprint(members)
    app.register_blueprint(language)  # /language: the language menu (a visitor's cookie, a member's profile)
    app.register_blueprint(tokens)
    app.register_blueprint(directory_changes)  # before directory: its fixed paths (/directory/changes) win
    app.register_blueprint(directory)
    app.register_blueprint(api_directory)
    app.register_blueprint(forum)  # also registers the forum demo loader
    app.register_blueprint(messages)
    app.register_blueprint(requests)  # /requests: drafting and the register both authorities share
    app.register_blueprint(case_workflow)  # before catalogue: its fixed paths (/cases/new) win over /cases/<reference>
    app.register_blueprint(catalogue)
    app.register_blueprint(api_cases)
    app.register_blueprint(search)  # /search: cases, forum posts and authorities in one box
    app.register_blueprint(api_core)  # /api/v1/openapi.json, from the parts the API blueprints above registered


def configure_commands(app: Flask) -> None:
    from catalogue.cases.cli import register_catalogue_commands
    from catalogue.search.relevance import relevance_command
    from network.core.cli import register_core_commands
    from network.directory.cli import register_directory_commands
    from network.members.cli import register_member_commands
    from network.members.demo import demo
    from network.messaging.cli import register_messaging_commands
    from network.requests.cli import register_requests_commands
    from network.search.cli import register_search_commands

    register_core_commands(app)
    register_member_commands(app)
    register_directory_commands(app)
    register_messaging_commands(app)
    register_requests_commands(app)
    register_catalogue_commands(app)
    register_search_commands(app, relevance_command)
    app.cli.add_command(demo)
