"""Competent national authorities as a kind of the search layer: the authority document (name, State, parent body,
designations, languages, channels, requirements...), which authorities a flush changed, the reader's scope (what
the directory shows that reader: every entry to a vetted member, nothing to anyone else) and the directory's group
of the one box."""
from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from network.core.db import db
from network.core.labels import state_label
from network.core.reference import languages as reference_languages
from network.core.reference import state_name, vocabulary_labels
from network.directory.models import Authority, AuthorityDesignation
from network.members.access import can_read_directory
from network.search.kinds import Group, IndexKind, Item
from network.search.records import EVERYONE, NOBODY, RecordDocument, Rule, parse, record_index_for, snippet
from network.search.services import ensure_checked, index_of

KIND = "authorities"


def authority_document(authority: Authority) -> RecordDocument:
    """Name as the title; the State (code and name), key, languages and channels as names; parent body and
    designations as the summary; requirements, urgent procedure, laws, treaties, address and hours as the body."""
    designations = vocabulary_labels("designations")
    channels = vocabulary_labels("channels")
    languages = dict(reference_languages())
    names = [authority.key, authority.state, state_name(authority.state),
             *[f"{code} {languages.get(code, '')}".strip() for code in authority.languages or []],
             *[channels.get(code, code) for code in authority.channels or []]]
    summary = [authority.parent_body, *[designations.get(row.code, row.code) for row in authority.designation_rows]]
    laws = [" ".join(str(v) for v in law.values()) if isinstance(law, dict) else str(law)
            for law in authority.national_laws or []]
    body = [authority.legal_requirements, authority.urgent_requests, *laws, *[str(t) for t in authority.treaties or []],
            authority.address, authority.office_hours]
    return RecordDocument(
        id=authority.id, scope=["directory"], created_at=authority.updated_at or authority.created_at,
        title=authority.name, names="\n".join(n for n in names if n), summary="\n".join(s for s in summary if s),
        body="\n".join(b for b in body if b))


def documents(session, ids: set[int]) -> list[RecordDocument]:
    return [authority_document(a) for a in session.scalars(
        select(Authority).where(Authority.id.in_(sorted(ids))).options(selectinload(Authority.designation_rows)))]


def all_documents(session) -> Iterator[RecordDocument]:
    statement = select(Authority).order_by(Authority.id).options(selectinload(Authority.designation_rows))
    for authority in session.scalars(statement):
        yield authority_document(authority)


def expected(session) -> int:
    return session.scalar(select(func.count()).select_from(Authority)) or 0


def changed(session: Session) -> set[int]:
    """Authorities created, changed or deleted, and those whose designations changed."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Authority) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, AuthorityDesignation) and obj.authority_id is not None:
            ids.add(obj.authority_id)
    return ids


def reader_scope(member) -> Rule:
    """What the directory shows that reader: every authority to a vetted member, none to anyone else."""
    return EVERYONE if member is not None and can_read_directory(member) else NOBODY


def search_authorities(member, text: str, page: int = 1, per_page: int = 20) -> tuple[int, list[Authority], dict]:
    """(total in the reader's scope, the page of authorities best first, their snippets)."""
    query = parse(text)
    if not query:
        return 0, [], {}
    ensure_checked(KIND)
    hits = index_of(KIND).search(query, page=(page, per_page), viewer=reader_scope(member), suggest=False)
    if not hits.page_ids:
        return hits.total, [], {}
    rows = {a.id: a for a in db.session.scalars(select(Authority).where(Authority.id.in_(hits.page_ids)))}
    found = [rows[i] for i in hits.page_ids if i in rows]
    snippets = {a.id: snippet(authority_document(a).body or a.parent_body, query.root) for a in found}
    return hits.total, found, snippets


def box(member, text: str, size: int, page: int = 1) -> Group | None:
    """The directory's group of the one box (None for readers the directory is not shown to)."""
    if reader_scope(member) is NOBODY:
        return None
    total, found, snippets = search_authorities(member, text, page, size)
    items = [Item(a.name, url_for("directory.authority", key=a.key), state_label(a.state),
                  snippets.get(a.id) or a.parent_body) for a in found]
    return Group(KIND, str(_l("Competent national authorities")), total,
                 url_for("search.everything", q=text, kind=KIND), items)


AUTHORITIES = IndexKind(name=KIND, label="authorities", changed=changed, documents=documents,
                        all_documents=all_documents, expected=expected, make_index=record_index_for(KIND), scope=reader_scope,
                        box=box)
