"""The kind registry: what the search layer knows of a kind of object it indexes, declared by the feature that
owns the objects (catalogue/cases/search.py, network/forum/search.py, network/directory/search.py).

The layer never imports a feature: a kind hands it plain functions. The outbox asks each kind which of its objects
a flush changed; the indexer asks it for their documents as they are now (an id it cannot load has gone and leaves
the index) and for all of them on a rebuild; the count check compares the index with `expected`; the one box asks
it for its group of results, in the reader's scope (which the kind decides, inside its engine's query)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy.orm import Session

EXTENSION = "network.search.kinds"
_CHANGE_DETECTORS: dict[str, Callable[[Session], set[int]]] = {}  # session events are process-wide


@dataclass
class Item:
    """One result of a group of the one box."""

    title: str
    url: str
    detail: str = ""
    snippet: Markup | str = ""


@dataclass
class Group:
    """A kind's answer in the one box: its count in the reader's scope, its first results and where the rest are.
    `corrected`/`typed`: the kind searched a correction of what was typed (the box then says so, and the kinds
    after it search the correction too)."""

    kind: str
    heading: str
    total: int
    more_url: str
    items: list[Item] = field(default_factory=list)
    corrected: str | None = None
    typed: str | None = None
    total_exact: bool = True  # False: the engine estimated the total (very many matches)


@dataclass(frozen=True)
class IndexKind:
    """An index kind.

    name: the outbox's and the index's key ("cases", "posts", "authorities").
    label: what `search status` and `search reindex` print ("cases", "forum posts").
    changed: the ids of its objects a flush wrote, created or deleted (the session as after_flush sees it).
    documents: (session, ids) -> the documents of those ids that exist now.
    all_documents: session -> every document, for a rebuild.
    expected: session -> how many documents the index should hold (every object: the reader's scope is applied at
        query time).
    make_index: app -> the kind's engine (a SearchBackend), built once per app.
    scope: member (or None) -> the reader's scope as the kind's engine applies it inside its query (cases: a Viewer;
        records: a Rule over scope tokens), from the kind's own visibility filter.
    box: (member, text, size, page) -> the kind's Group in the one box (that page of its results, `size` to a
        page), or None when the reader may not search it.
    """

    name: str
    label: str
    changed: Callable[[Session], set[int]]
    documents: Callable[[Session, set[int]], list]
    all_documents: Callable[[Session], Iterator]
    expected: Callable[[Session], int]
    make_index: Callable[[Flask], object]
    scope: Callable[[object], object]
    box: Callable[[object, str, int, int], Group | None] | None = None


def register_kinds(app: Flask, kinds: Iterable[IndexKind]) -> None:
    """Register the kinds of this app, in the order the one box shows them."""
    registry = app.extensions.setdefault(EXTENSION, {})
    for kind in kinds:
        if kind.name in registry and registry[kind.name] is not kind:
            raise RuntimeError(f"search kind {kind.name!r} is registered twice")
        registry[kind.name] = kind
        _CHANGE_DETECTORS[kind.name] = kind.changed


def registered(app: Flask | None = None) -> list[IndexKind]:
    return list((app or current_app).extensions.get(EXTENSION, {}).values())


def kind_named(name: str, app: Flask | None = None) -> IndexKind:
    try:
        return (app or current_app).extensions[EXTENSION][name]
    except KeyError:
        known = ", ".join(k.name for k in registered(app)) or "none"
        raise LookupError(f"no search kind {name!r} (registered: {known})") from None


def change_detectors() -> dict[str, Callable[[Session], set[int]]]:
    """Every kind registered in this process (the outbox's session events are global, not per app)."""
    return dict(_CHANGE_DETECTORS)
