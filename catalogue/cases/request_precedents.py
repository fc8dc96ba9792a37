"""From precedent to request: the catalogue's provider of precedents for the requests module's requested-State panel.

Registered with network/requests/guidance.py at app creation (the network never imports the catalogue). Given the
requested State, the form of request and the viewer, it returns the published cases for that requested State and
form of cooperation that the viewer may read — through services.visible_cases, the catalogue's one visibility
filter — most recent first, with their obstacles and solutions."""
from __future__ import annotations

from flask import Flask, url_for
from sqlalchemy import select

from catalogue.cases.models import Case, CaseFacet
from catalogue.cases.services import visible_cases
from network.core.db import db
from network.members.models import Member
from network.requests.guidance import MAX_PRECEDENTS, Precedent, register_precedents_provider

# A form of request -> the catalogue's cooperation forms that are precedents for it.
FORMS = {
    "mla": ("mla", "videoconference"),
    "extradition": ("extradition",),
    "confiscation": ("confiscation", "asset_sharing"),
    "sentenced_persons": ("sentenced_persons",),
    "transfer_of_proceedings": ("transfer_of_proceedings",),
}
EXCERPT = 600  # characters of obstacles and of solutions shown beside the draft; the case page has the rest


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + " …"


def _link(reference: str) -> str:
    try:
        return url_for("catalogue.case_page", reference=reference)
    except RuntimeError:  # outside a request (a command): the reference says which case it is
        return ""


def request_precedents(state: str, form: str, viewer: Member | None) -> list[Precedent]:
    """Published cases the viewer may read whose requested State is `state` and whose cooperation forms include
    `form` (or its kin), newest publication first."""
    forms = FORMS.get(form, (form,))
    query = (visible_cases(viewer)
             .where(Case.requested_state == (state or "").upper())
             .where(Case.id.in_(select(CaseFacet.case_id).where(CaseFacet.kind == "cooperation_form",
                                                                CaseFacet.code.in_(forms))))
             .order_by(Case.published_at.desc(), Case.reference)
             .limit(MAX_PRECEDENTS))
    return [Precedent(reference=case.reference, title=case.title, link=_link(case.reference), year=case.year,
                      outcome=case.outcome, obstacles=_excerpt(case.obstacles), solutions=_excerpt(case.solutions))
            for case in db.session.scalars(query)]


def register_request_hooks(app: Flask) -> None:
    register_precedents_provider(app, request_precedents)
