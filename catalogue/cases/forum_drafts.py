"""From discussion to precedent: the catalogue's handler for the forum's "Propose as a catalogue case".

Registered with the forum's hook registry at app creation (the network never imports the catalogue). It opens a
case draft for the member, pre-filled from the solved topic: title, a summary made of the question and the answer
that solved it, and a source note linking the topic; the member completes it in the wizard. It also gives the forum
the titles of the cases a post links with [[case:REF]], for the readers allowed to read them."""
from __future__ import annotations

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from catalogue.cases import services
from catalogue.cases.models import Case
from network.core import audit
from network.core.db import db
from network.forum.hooks import SolvedTopic, register_case_draft_handler, register_case_titles
from network.members.models import Member

SUMMARY_MAX = 50_000


def case_draft_from_topic(member: Member, topic: SolvedTopic) -> str:
    """Create the draft; return the URL of the wizard's first step. Services flush, the request commits."""
    case = services.create_draft(member)
    case.title = topic.title[:300]
    summary = (f"{topic.question.strip()}\n\n"
               f"{_('What solved it (answer by %(name)s):', name=topic.answer_author or _('a member'))}\n\n"
               f"{topic.answer.strip()}")
    case.summary = summary[:SUMMARY_MAX]
    case.source = f"{_('Forum topic')}: {topic.link}"[:300]
    db.session.flush()
    audit.record("case.drafted_from_forum", case, actor=member, reference=case.reference, topic=topic.topic_id)
    return url_for("case_workflow.wizard", reference=case.reference, step=1)


def case_titles(reader: Member | None, references: set[str]) -> dict[str, str]:
    """The titles of the referenced cases this reader may read, in one query; the others are left out (a post's
    link to them keeps its bare reference, and no title leaks)."""
    if not references:
        return {}
    found = db.session.scalars(select(Case).where(Case.reference.in_(sorted(references)))).all()
    return {case.reference: case.title for case in found if case.title and services.can_read_case(reader, case)}


def register_forum_hooks(app: Flask) -> None:
    register_case_draft_handler(app, case_draft_from_topic)
    register_case_titles(app, case_titles)
