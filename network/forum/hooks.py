"""Extension points other parts of the platform fill in at app creation, so the network never imports them.

The catalogue registers `case_draft_from_topic`: given the member and a plain description of a solved topic, it
creates a case draft and returns the URL where the member goes on editing it. The forum offers "Propose as a
catalogue case" only when a handler is registered. (Search needs no hook: the forum declares its kind of the
search layer in network/forum/search.py.)"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

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


# The catalogue registers `case_titles`: given the reader and case references, the titles of those the reader may
# read (one query for all of them); a post's [[case:REF]] link then shows the title instead of the bare reference.
CaseTitles = Callable[[Member | None, set[str]], dict[str, str]]


def register_case_titles(app: Flask, resolver: CaseTitles) -> None:
    app.extensions.setdefault(EXTENSION, {})["case_titles"] = resolver


def case_titles_resolver() -> CaseTitles | None:
    return current_app.extensions.get(EXTENSION, {}).get("case_titles")
