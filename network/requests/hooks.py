"""The extension point the catalogue fills in at app creation, so the network never imports it: "Propose as a
catalogue case" on a finished request. The handler gets plain values (the record's clear fields and the decrypted text
its reader chose to carry over) and returns the URL of the case draft where the reader anonymises it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import Flask, current_app

from network.members.models import Member

EXTENSION = "requests_hooks"


@dataclass(frozen=True)
class FinishedRequest:
    request_id: int
    form: str
    measures: tuple[str, ...]
    requesting_state: str
    requested_state: str
    request_date: date | None
    completion_date: date | None
    outcome: str  # the catalogue's outcome codes: granted, partially_granted, refused, withdrawn, pending
    channel: str
    urgent: bool
    fields: Mapping[str, str] = field(default_factory=dict)  # decrypted texts by field key (definitions.FIELDS)
    link: str = ""


CaseDraftHandler = Callable[[Member, FinishedRequest], str]


def register_case_draft_handler(app: Flask, handler: CaseDraftHandler) -> None:
    app.extensions.setdefault(EXTENSION, {})["case_draft_from_request"] = handler


def case_draft_handler() -> CaseDraftHandler | None:
    return current_app.extensions.get(EXTENSION, {}).get("case_draft_from_request")
