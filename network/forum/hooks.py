"""Extension points other parts of the platform fill in at app creation, so the network never imports them.

The catalogue registers `case_draft_from_topic`: given the member and a plain description of a solved topic, it
creates a case draft and returns the URL where the member goes on editing it. The forum offers "Propose as a
catalogue case" only when a handler is registered. The search layer registers a forum search provider; without one
the forum keeps its interim database search."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from markupsafe import Markup

from network.members.models import Member

EXTENSION = "forum_hooks"


@dataclass(frozen=True)
class SolvedTopic:
    """What a handler gets: plain values, no forum models."""

    topic_id: int
    title: str
    question: str
    answer: str
    answer_author: str
    link: str


CaseDraftHandler = Callable[[Member, SolvedTopic], str]


def register_case_draft_handler(app: Flask, handler: CaseDraftHandler) -> None:
    app.extensions.setdefault(EXTENSION, {})["case_draft_from_topic"] = handler


def case_draft_handler() -> CaseDraftHandler | None:
    return current_app.extensions.get(EXTENSION, {}).get("case_draft_from_topic")


@dataclass(frozen=True)
class SearchScope:
    """What a reader may find in the forum, from the visibility filter (access.search_scope): the spaces they see,
    those they moderate (hidden topics and posts there too), and themselves (their own hidden posts)."""

    member_id: int
    space_ids: frozenset[int]
    moderated_space_ids: frozenset[int]


@dataclass(frozen=True)
class SearchResults:
    """A page of forum search results: post ids best first, the total in the reader's scope, and for each post
    on the page its best passage as safe HTML (escaped text, matches in <mark>)."""

    total: int
    post_ids: list[int]
    snippets: dict[int, Markup]


SearchProvider = Callable[[SearchScope, str, "int | None", int, int], SearchResults]


def register_search_provider(app: Flask, provider: SearchProvider) -> None:
    """provider(scope, text, author_id, page, per_page): the forum searches through it instead of its interim
    database search."""
    app.extensions.setdefault(EXTENSION, {})["search"] = provider


def search_provider() -> SearchProvider | None:
    return current_app.extensions.get(EXTENSION, {}).get("search")
