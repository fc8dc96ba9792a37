"""Catalogue statistics as a pure function of a list of cases, so the figures can be checked by hand."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from statistics import median
from typing import Protocol

from network.core.reference import REGION_CODES, region_of, vocabulary


class CaseLike(Protocol):
    """What compute() reads of a case (a Case row, or anything with these attributes)."""

    requesting_state: str
    requested_state: str
    cooperation_forms: list[str]
    crime_types: list[str]
    legal_bases: list[str]

    @property
    def year(self) -> int | None: ...

    @property
    def duration_days(self) -> int | None: ...


def _ordered(counter: Counter, kind: str) -> list[tuple[str, int]]:
    """Non-zero counts, most frequent first; ties in the vocabulary's order."""
    order = {entry["code"]: index for index, entry in enumerate(vocabulary()[kind])}
    return sorted(((code, n) for code, n in counter.items() if n),
                  key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))


def compute(cases: Iterable[CaseLike]) -> dict:
    """Every figure of the statistics page:

    total; by_year [(year, n)] in year order and undated (no date at all); by_form and by_crime_type
    [(code, n)] (a case counts once under each of its codes); regions: the region codes (UN M49, "unknown"
    last when some State has no region) and matrix[requesting region][requested region] = n; untoc:
    {"count", "total", "share"} (cases with the Convention among their legal bases; share in percent,
    one decimal, None without cases); duration_by_form [(code, median days, number of cases with both
    dates)] in the order of by_form."""
    cases = list(cases)
    by_year: Counter = Counter()
    undated = 0
    by_form: Counter = Counter()
    by_crime: Counter = Counter()
    durations: dict[str, list[int]] = {}
    pairs: Counter = Counter()
    untoc = 0
    for item in cases:
        if item.year is None:
            undated += 1
        else:
            by_year[item.year] += 1
        forms = set(item.cooperation_forms or ())
        by_form.update(forms)
        by_crime.update(set(item.crime_types or ()))
        if "untoc" in (item.legal_bases or ()):
            untoc += 1
        if item.duration_days is not None:
            for form in forms:
                durations.setdefault(form, []).append(item.duration_days)
        pairs[(region_of(item.requesting_state) or "unknown", region_of(item.requested_state) or "unknown")] += 1
    regions = list(REGION_CODES)
    if any("unknown" in pair for pair in pairs):
        regions.append("unknown")
    matrix = {row: {column: pairs[(row, column)] for column in regions} for row in regions}
    form_order = _ordered(by_form, "cooperation_forms")
    return {
        "total": len(cases),
        "by_year": sorted(by_year.items()),
        "undated": undated,
        "by_form": form_order,
        "by_crime_type": _ordered(by_crime, "crime_types"),
        "regions": regions,
        "matrix": matrix,
        "untoc": {"count": untoc, "total": len(cases),
                  "share": round(100 * untoc / len(cases), 1) if cases else None},
        "duration_by_form": [(code, median(durations[code]), len(durations[code]))
                             for code, _ in form_order if code in durations],
    }
