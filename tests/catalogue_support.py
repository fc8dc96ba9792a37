"""What the catalogue tests share: a complete case in the interchange format (shared/schemas/case.schema.json)."""
from __future__ import annotations


def interchange_case(reference: str, **changes) -> dict:
    """A valid, public, granted MLA case (Austria -> Nigeria); `changes` replace or add fields."""
    data = {
        "reference": reference,
        "title": f"Case {reference}",
        "summary": "Mutual legal assistance for bank records of shell companies, granted in five months.",
        "language": "en",
        "requesting_state": "AUT",
        "requested_state": "NGA",
        "cooperation_forms": ["mla"],
        "legal_bases": ["untoc"],
        "untoc_provisions": ["18"],
        "crime_types": ["money_laundering"],
        "request_date": "2020-02-03",
        "completion_date": "2020-07-01",
        "outcome": "granted",
        "visibility": "public",
    }
    data.update(changes)
    return data
