"""Counts for the navigation (unread notifications, unread messages) and the member's home page ("My tasks": what
waits for this member, by role). Each feature registers its own counts, as SQL for one member; every count a page
asks for is read in one statement, remembered for the request: the navigation's badges cost one statement per page,
and the home page's tasks one more at most, however many kinds there are.

A count function takes the member and answers a SELECT of one number, or None when the count is not for this
member (a role they do not have). A count asked on every page can instead be a template: `shape(member)` answers
(a key, the member's values) or None, and `template(key)` a SELECT whose member values are bound parameters; the
statement is then built once per process and key, and run with each member's values (building and keying a
statement of nested subqueries costs more than running it). The catalogue registers its own tasks: the network
never imports it."""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_request_context, request, url_for
from sqlalchemy import Select, event, select
from sqlalchemy.engine import Engine

from network.core.db import db, kept_options
from network.core.memo import request_memo, watch

MEMO = "network_counters"
PREFETCHED = "network_counters_prefetched"  # the navigation's counts read with the signed-in member (app.py)
_EXTENSION = "network_counters"
_watched: set[type] = set()


@dataclass(frozen=True)
class Counter:
    name: str
    count: Callable[[object], Select | None] | None
    navigation: bool = False  # read on every page, with the other navigation counts
    shape: Callable[[object], tuple[Hashable, dict] | None] | None = None
    template: Callable[[Hashable], Select] | None = None


@dataclass(frozen=True)
class Task:
    """A row of "My tasks": the count it shows, its text for a number, where it leads. `always`: shown at zero too
    (the member's role gives them this work, and seeing 0 is news); otherwise only when something waits."""
    counter: str
    text: Callable[[int], str]
    endpoint: str
    position: int
    always: bool = True
    arguments: tuple[tuple[str, str], ...] = ()

    def url(self) -> str:
        return url_for(self.endpoint, **dict(self.arguments))


@dataclass
class _Registry:
    counters: dict[str, Counter]
    tasks: list[Task]
    statements: dict[tuple, Select] = field(default_factory=dict)  # templates' statements, per names and keys
    navigation: tuple[str, ...] | None = None  # the navigation's counts (navigation_names), found once


def _registry(app: Flask) -> _Registry:
    found = app.extensions.get(_EXTENSION)  # asked several times a page: no throwaway registry built each time
    return found if found is not None else app.extensions.setdefault(_EXTENSION, _Registry(counters={}, tasks=[]))


def register_counter(app: Flask, name: str, count: Callable[[object], Select | None] | None = None, *,
                     navigation: bool = False, models: Iterable[type] = (),
                     shape: Callable[[object], tuple[Hashable, dict] | None] | None = None,
                     template: Callable[[Hashable], Select] | None = None) -> None:
    """`models`: what the count rests on; a change to one of them in the request makes the next question read again.
    Either `count`, or `shape` and `template` (see the module's docstring; the template's parameters are named after
    the counter, so that they meet no other counter's)."""
    if (count is None) == (template is None or shape is None):
        raise ValueError(f"counter {name}: either count, or shape and template")
    registry = _registry(app)
    registry.counters[name] = Counter(name=name, count=count, navigation=navigation, shape=shape, template=template)
    registry.statements.clear()
    registry.navigation = None
    _watched.update(models)
    watch(MEMO, *_watched)
    watch(PREFETCHED, *_watched)


def register_task(app: Flask, task: Task) -> None:
    registry = _registry(app)
    registry.tasks = sorted([t for t in registry.tasks if t.counter != task.counter] + [task],
                            key=lambda t: (t.position, t.counter))


def counts(member, names: Iterable[str]) -> dict[str, int | None]:
    """name -> the member's count, or None when it is not for them; those not yet known in this request are read
    together, in one statement."""
    names = list(dict.fromkeys(names))
    known = request_memo(MEMO).setdefault(member.id, {})
    prefetched = request_memo(PREFETCHED).pop(member.id, None)
    if prefetched is not None and not vars(request._get_current_object()).get(_WROTE):
        for name, count in prefetched.items():
            known.setdefault(name, count)
    registry = _registry(current_app._get_current_object())
    queries: dict[str, Select | None] = {}  # None: a template's, built below (or kept from an earlier request)
    keys: list[tuple[str, Hashable]] = []
    values: dict = {}
    for name in names:
        if name in known:
            continue
        counter = registry.counters.get(name)
        if counter is not None and counter.template is not None:
            shaped = counter.shape(member)
            if shaped is None:
                known[name] = None
                continue
            keys.append((name, shaped[0]))
            values.update(shaped[1])
            queries[name] = None
            continue
        query = counter.count(member) if counter is not None else None
        if query is None:
            known[name] = None
        else:
            queries[name] = query
    if queries:
        labels = {name: f"c{n}" for n, name in enumerate(queries)}
        cacheable = len(keys) == len(queries)
        statement = registry.statements.get(tuple(keys)) if cacheable else None
        if statement is None:
            templates = {name: registry.counters[name].template(key) for name, key in keys}
            statement = select(*[(query if query is not None else templates[name]).scalar_subquery()
                                 .label(labels[name]) for name, query in queries.items()])
            if cacheable:
                registry.statements[tuple(keys)] = statement
        options = kept_options(statement) if cacheable else {}  # a kept statement: its compiled form found by identity
        row = db.session.execute(statement, values, execution_options=options).one()
        for name in queries:
            known[name] = int(getattr(row, labels[name]) or 0)
    return {name: known[name] for name in names}


# ---------------------------------------------------------------- the navigation's counts, read with the member
# Every signed-in page shows the navigation's badges. Their statements are templates (the member's values bound), so
# they can be read as columns of the statement that reads the session's record and the member (app.py), one statement
# instead of two: for that, the shape (the templates' keys and values) is predicted from the session's previous
# request, and the counts are used only if the shape computed from the member just read is the same, and only until
# the request writes anything (a topic read marks its notifications read: the badge must show it).

_WROTE = "network_counters_wrote"


def navigation_shape(member) -> tuple[tuple, dict] | None:
    """The navigation counts' (name, key) pairs (key None: not for this member) and their bound values; None if a
    navigation count is not a template."""
    registry = _registry(current_app._get_current_object())
    keys, values = [], {}
    for name in navigation_names():
        counter = registry.counters[name]
        if counter.template is None:
            return None
        shaped = counter.shape(member)
        keys.append((name, None if shaped is None else shaped[0]))
        if shaped is not None:
            values.update(shaped[1])
    return tuple(keys), values


def navigation_columns(keys: tuple) -> list:
    """Labelled scalar subqueries `navigation_<name>` of the counts in keys that are for the member."""
    registry = _registry(current_app._get_current_object())
    return [registry.counters[name].template(key).scalar_subquery().label(f"navigation_{name}")
            for name, key in keys if key is not None]


def prefetch(member, keys: tuple, row) -> None:
    """The counts read with the member (keys: navigation_shape's, the shape they were read with, checked by the
    caller), used by `counts` unless the request writes first."""
    request_memo(PREFETCHED)[member.id] = {
        name: None if key is None else int(getattr(row, f"navigation_{name}") or 0) for name, key in keys}


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ARG001 (the event's)
    """Any statement but a SELECT in a request ends the use of prefetched counts (written or not: a SAVEPOINT too)."""
    if not statement.lstrip()[:6].upper() == "SELECT" and has_request_context():
        vars(request._get_current_object())[_WROTE] = True


def known_count(member, name: str) -> int | None:
    """A count this request knows without a statement: read already (counts), or read with the signed-in member and
    nothing written since (prefetch); None otherwise, or when the count is not for the member."""
    known = request_memo(MEMO).get(member.id)
    if known is not None and name in known:
        return known[name]
    prefetched = request_memo(PREFETCHED).get(member.id)
    if prefetched is None or vars(request._get_current_object()).get(_WROTE):
        return None
    return prefetched.get(name)


def navigation_names() -> list[str]:
    """The counts every page's navigation shows (its badges)."""
    registry = _registry(current_app._get_current_object())
    if registry.navigation is None:
        registry.navigation = tuple(c.name for c in registry.counters.values() if c.navigation)
    return list(registry.navigation)


def navigation_count(member, name: str) -> int:
    """A badge of the navigation: every navigation count is read at the first one's question."""
    if member is None:
        return 0
    return counts(member, [name, *navigation_names()])[name] or 0


@dataclass
class TaskRow:
    task: Task
    count: int

    @property
    def text(self) -> str:
        return self.task.text(self.count)

    @property
    def url(self) -> str:
        return self.task.url()


def tasks_for(member) -> list[TaskRow]:
    """The rows of "My tasks" for this member's roles, in order (with the navigation's counts, in one statement)."""
    registry = _registry(current_app._get_current_object())
    found = counts(member, [t.counter for t in registry.tasks] + navigation_names())
    return [TaskRow(task=task, count=found[task.counter]) for task in registry.tasks
            if found[task.counter] is not None and (task.always or found[task.counter])]
