"""The catalogue's handler for a request's "Propose as a catalogue case": a case draft pre-filled from the finished
request's clear fields and the text its reader carries over, for the reader to anonymise before submitting it."""
from __future__ import annotations

from flask import Flask, url_for
from flask_babel import gettext as _

from catalogue.cases import services
from catalogue.cases.services import refresh_facets
from network.core import audit
from network.core.db import db
from network.core.reference import state_name
from network.members.models import Member
from network.requests.hooks import FinishedRequest, register_case_draft_handler

SUMMARY_MAX = 20000
FORMS = {"mla": "mla", "extradition": "extradition", "confiscation": "confiscation",
         "sentenced_persons": "sentenced_persons", "transfer_of_proceedings": "transfer_of_proceedings"}


def case_draft_from_request(member: Member, request: FinishedRequest) -> str:
    """Create the draft; return the URL of the wizard's first step. Services flush, the request commits."""
    case = services.create_draft(member)
    case.title = _("%(form)s from %(requesting)s to %(requested)s", form=request.form.replace("_", " ").capitalize(),
                   requesting=state_name(request.requesting_state),
                   requested=state_name(request.requested_state))[:300]
    parts = [request.fields.get(key, "").strip() for key in ("subject_matter", "facts", "assistance_sought")]
    case.summary = "\n\n".join(p for p in parts if p)[:SUMMARY_MAX]
    case.requesting_state, case.requested_state = request.requesting_state, request.requested_state
    case.cooperation_forms = [FORMS.get(request.form, request.form)]
    if "videoconference" in request.measures:
        case.cooperation_forms.append("videoconference")
    case.channels = [request.channel] if request.channel else []
    case.request_date, case.completion_date, case.outcome = request.request_date, request.completion_date, \
        request.outcome
    case.legal_bases = ["untoc"] if "Convention" in request.fields.get("legal_basis", "") else []
    case.source = _("A request in the register of the network")[:300]
    refresh_facets(case)
    db.session.flush()
    audit.record("case.drafted_from_request", case, actor=member, reference=case.reference)
    return url_for("case_workflow.wizard", reference=case.reference, step=1)


def register_request_case_hooks(app: Flask) -> None:
    register_case_draft_handler(app, case_draft_from_request)
