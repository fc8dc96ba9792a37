"""Helpers of the search tests: cases in any state, written through the ORM (so through the outbox)."""
from __future__ import annotations

import pytest

BASE = {
    "title": "Bank records obtained for a laundering case",
    "summary": "Bank records were obtained in four months.",
    "language": "en", "requesting_state": "AUT", "requested_state": "NGA", "cooperation_forms": ["mla"],
    "legal_bases": ["untoc"], "crime_types": ["money_laundering"], "outcome": "granted",
    "untoc_provisions": ["18"], "request_date": "2021-03-01", "completion_date": "2021-07-01",
    "visibility": "public",
}


def make_case(submitter, reviewer, reference: str, status: str = "published", commit: bool = True, **fields):
    from catalogue.cases import services
    from catalogue.cases.models import Case, CaseRevision
    from network.core.clock import utcnow
    from network.core.db import db

    case = Case(reference=reference, submitter_id=submitter.id, status="draft")
    db.session.add(case)
    services.apply_data(case, {**BASE, **fields})
    db.session.flush()
    case.status = status
    if status == "published":
        case.published_at = utcnow()
        case.revisions.append(CaseRevision(number=1, data=services.case_to_dict(case), published_by_id=reviewer.id))
    elif status == "in_review":
        case.reviewer_id = reviewer.id
    if commit:
        db.session.commit()
    return case


def found(q: str, member=None, **filters) -> list[str]:
    """References of the cases the listing finds for `q`, in its order (relevance)."""
    from catalogue.cases.queries import search_cases

    args = {"q": [q], **{k: v if isinstance(v, list) else [v] for k, v in filters.items()}}
    return [case.reference for case in search_cases(member, args, "relevance", 1, 100).cases]


@pytest.fixture
def case(app, member, moderator):
    """A factory of cases (published unless said otherwise), written through the ORM and so through the outbox."""
    def make(reference: str, **fields):
        return make_case(member, moderator, reference, **fields)

    return make
