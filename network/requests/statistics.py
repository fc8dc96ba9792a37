"""Request statistics as a pure function of a list of request records (clear fields only, never content), so the
figures can be checked by hand; and small SVG bar charts (no script, nothing inline that the CSP refuses)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from statistics import median

from markupsafe import Markup, escape

from network.requests.models import CooperationRequest


def _days(start, end) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 1)


def _medians(values: dict[str, list[float]], order: Sequence[str]) -> list[tuple[str, float, int]]:
    return [(form, round(median(values[form]), 1), len(values[form])) for form in order if values.get(form)]


def compute(requests: Iterable[CooperationRequest]) -> dict:
    """Every figure of the statistics page, over sent requests (drafts are not counted):

    total; by_form [(form, n)] most frequent first; by_pair [((requesting State, requested State), n)] most frequent
    first; by_status {status: n}; acknowledgement_by_form and completion_by_form [(form, median days, n)] in the
    order of by_form, from sending to the acknowledgement, and to completion (executed, refused or withdrawn);
    refusals_by_ground [(ground, n)] most frequent first."""
    by_form: Counter = Counter()
    by_pair: Counter = Counter()
    by_status: Counter = Counter()
    grounds: Counter = Counter()
    to_ack: dict[str, list[float]] = {}
    to_end: dict[str, list[float]] = {}
    total = 0
    for item in requests:
        if item.status == "draft" or item.sent_at is None:
            continue
        total += 1
        by_form[item.form] += 1
        by_pair[(item.requesting_state, item.requested_state)] += 1
        by_status[item.status] += 1
        if item.refusal_ground:
            grounds[item.refusal_ground] += 1
        ack = _days(item.sent_at, item.acknowledged_at)
        if ack is not None:
            to_ack.setdefault(item.form, []).append(ack)
        end = _days(item.sent_at, item.completed_at)
        if end is not None:
            to_end.setdefault(item.form, []).append(end)
    forms = [form for form, _n in sorted(by_form.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {
        "total": total,
        "by_form": [(form, by_form[form]) for form in forms],
        "by_pair": sorted(by_pair.items(), key=lambda kv: (-kv[1], kv[0])),
        "by_status": dict(by_status),
        "acknowledgement_by_form": _medians(to_ack, forms),
        "completion_by_form": _medians(to_end, forms),
        "refusals_by_ground": sorted(grounds.items(), key=lambda kv: (-kv[1], kv[0])),
    }


def bar_chart(items: Sequence[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal bars as SVG with a title and a text label per bar; the table beside it carries the same figures."""
    if not items:
        return Markup("")
    top = max(value for _label, value in items) or 1
    row, label_width, bar_width = 26, 260, 300
    height = row * len(items) + 8
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {label_width + bar_width + 80} {height}" '
             f'class="request-chart" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(items):
        y = 4 + index * row
        width = max(1, round(bar_width * value / top))
        shown = f"{value:g}{(' ' + unit) if unit else ''}"
        parts.append(f'<text x="{label_width - 6}" y="{y + 17}" text-anchor="end" font-size="13">'
                     f'{escape(str(label)[:40])}</text>'
                     f'<rect x="{label_width}" y="{y + 4}" width="{width}" height="18" fill="#1f4e79"></rect>'
                     f'<text x="{label_width + width + 6}" y="{y + 17}" font-size="13">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped or a number)
