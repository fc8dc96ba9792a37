"""Server-side SVG charts: bar charts and a heat-map matrix as plain SVG strings.

Colours, sizes and fonts are SVG presentation attributes (fill=, font-size=), which a strict CSP allows;
no style attributes, no script. Every chart has role="img", an aria-label, a <title>, and a <title> on each
bar or cell; pages show the numbers in a table beside it. Labels are escaped.

A chart is laid out left to right in every language (`direction="ltr"` on the root): inside an Arabic page the SVG
would otherwise inherit `direction: rtl`, which turns `text-anchor="end"` into the left edge of each label and sends
the labels across the bars. An Arabic label is written right to left within itself (`_label`: its own
`direction="rtl"`, so that its brackets pair and a shortened label's "…" falls at its end, on the left), and the
numbers and axes keep the order readers of statistics expect."""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = "#1f5f8b"
TEXT = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _short(label: str, length: int) -> str:
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"


def _right_to_left(text: str) -> bool:
    """Whether the text's first strong letter is written right to left (Arabic, Hebrew): the rule of dir="auto"."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _label(x: float, y: float, text: str, *, anchor: str, size: int, fill: str) -> str:
    """A <text> label whose right edge (anchor "end"), middle or left edge ("start") is at x, in the direction of its
    own script: a right-to-left label gets direction="rtl", with the anchor named from its own end."""
    if _right_to_left(text):
        anchor = {"end": "start", "start": "end"}.get(anchor, anchor)
        return (f'<text x="{x}" y="{y}" font-size="{size}" direction="rtl" text-anchor="{anchor}" '
                f'fill="{fill}">{escape(text)}</text>')
    return f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart {css_class}" font-family="{escape(FONT)}" direction="ltr" '
        f'preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]


def bar_chart(items: Sequence[tuple[str, float]], title: str, *, unit: str = "", label_chars: int = 46) -> Markup:
    """Horizontal bars, one per (label, value), in the order given; long labels shortened (whole in <title>)."""
    label_width, bar_width, row, top = 330, 330, 26, 8
    width = label_width + bar_width + 70
    height = top * 2 + row * max(len(items), 1)
    peak = max((value for _, value in items), default=0) or 1
    parts = _open(width, height, title, "chart-bar")
    if not items:
        parts.append(f'<text x="0" y="{top + 16}" font-size="13" fill="{MUTED}">–</text>')
    for index, (label, value) in enumerate(items):
        y = top + index * row
        length = round(bar_width * value / peak, 1)
        described = f"{label}: {_fmt(value)}{(' ' + unit) if unit else ''}"
        parts.append(f'<g><title>{escape(described)}</title>')
        parts.append(_label(label_width - 8, y + 17, _short(label, label_chars), anchor="end", size=13, fill=TEXT))
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{max(length, 1)}" height="{row - 8}" '
                     f'rx="2" fill="{BAR}"/>')
        parts.append(f'<text x="{label_width + max(length, 1) + 6}" y="{y + 17}" font-size="13" '
                     f'fill="{TEXT}">{escape(_fmt(value))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped or a number)


def column_chart(items: Sequence[tuple[str, float]], title: str, *, unit: str = "") -> Markup:
    """Vertical columns, one per (label, value) in the order given (years, left to right), with a baseline."""
    left, column, gap, top, bottom = 10, 34, 10, 22, 28
    width = max(left * 2 + len(items) * (column + gap), 240)
    chart_height = 180
    height = top + chart_height + bottom
    peak = max((value for _, value in items), default=0) or 1
    parts = _open(width, height, title, "chart-column")
    base = top + chart_height
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{GRID}" stroke-width="1"/>')
    for index, (label, value) in enumerate(items):
        x = left + index * (column + gap) + gap / 2
        h = round(chart_height * value / peak, 1)
        described = f"{label}: {_fmt(value)}{(' ' + unit) if unit else ''}"
        parts.append(f"<g><title>{escape(described)}</title>")
        parts.append(f'<rect x="{x}" y="{base - h}" width="{column}" height="{h}" rx="2" fill="{BAR}"/>')
        parts.append(f'<text x="{x + column / 2}" y="{base - h - 5}" font-size="12" text-anchor="middle" '
                     f'fill="{TEXT}">{escape(_fmt(value))}</text>')
        parts.append(_label(x + column / 2, base + 17, _short(label, 6), anchor="middle", size=12, fill=MUTED))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped or a number)


def _shade(share: float) -> str:
    """From a pale blue (0) to the network's dark blue (1)."""
    low, high = (0xEE, 0xF4, 0xFA), (0x0B, 0x3D, 0x63)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high, strict=True))


def heat_map(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float]], title: str, *,
             row_heading: str = "", column_heading: str = "") -> Markup:
    """A matrix: one cell per (row, column), shaded by its value, the number written inside."""
    label_width, cell_w, cell_h, top = 130, 92, 40, 52
    width = label_width + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 10
    peak = max((v for row in values for v in row), default=0) or 1
    parts = _open(width, height, title, "chart-heat")
    if column_heading:
        parts.append(_label(label_width + cell_w * len(columns) / 2, 14, column_heading, anchor="middle", size=12,
                            fill=MUTED))
    if row_heading:
        parts.append(_label(4, 14, row_heading, anchor="start", size=12, fill=MUTED))
    for j, column in enumerate(columns):
        parts.append(_label(label_width + j * cell_w + cell_w / 2, top - 10, _short(column, 12), anchor="middle",
                            size=13, fill=TEXT))
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(_label(label_width - 8, y + cell_h / 2 + 5, _short(row, 16), anchor="end", size=13, fill=TEXT))
        for j, column in enumerate(columns):
            value = values[i][j]
            share = value / peak
            x = label_width + j * cell_w
            ink = "#ffffff" if share > 0.5 else TEXT
            parts.append(f"<g><title>{escape(f'{row} → {column}: {_fmt(value)}')}</title>")
            parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="3" '
                         f'fill="{_shade(share)}"/>')
            parts.append(f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 5}" font-size="14" text-anchor="middle" '
                         f'fill="{ink}">{escape(_fmt(value))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped or a number)
