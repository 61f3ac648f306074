"""The trend chart: open public exposures per day, as an inline SVG bar chart. Pure: TrendPoints in, markup out.

Accessible: ``role="img"`` with a ``<title>`` and a ``<desc>`` summarising the series; each bar has its own
``<title>`` (day and count) for a tooltip. Only presentation attributes, no ``style`` (the report's
Content-Security-Policy allows no inline style attributes), and every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from cloudwatchdog.report_model import TrendPoint

_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 16, 44
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def nice_ticks(maximum: int, most: int = 5) -> list[int]:
    """Round y-axis ticks from 0 to at least ``maximum``: steps of 1, 2 or 5 times a power of ten."""
    top = max(maximum, 1)
    step = 1
    for power in range(0, 12):
        for base in (1, 2, 5):
            step = base * 10**power
            if math.ceil(top / step) <= most:
                return [i * step for i in range(math.ceil(top / step) + 1)]
    return [0, top]


def trend_svg(points: Sequence[TrendPoint], *, width: int = 720, height: int = 220, id_prefix: str = "trend",
              title: str = "Open public exposures per day") -> str:
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{title_id} {desc_id}" class="trend-chart">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(_summary(points))}</desc>',
    ]
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    ticks = nice_ticks(max((p.open_public for p in points), default=0))
    top = ticks[-1]

    def y_of(value: int) -> float:
        return _TOP + plot_h - plot_h * value / top

    for t in ticks:  # horizontal grid and y labels
        y = y_of(t)
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" stroke="#d9dde3" '
                   f'stroke-width="1"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#4a5361" {_FONT}>{t}</text>')
    out.append(f'<text x="12" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" fill="#4a5361" {_FONT} '
               f'transform="rotate(-90 12 {_TOP + plot_h / 2:.1f})">public resources</text>')
    baseline = _TOP + plot_h
    out.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{baseline}" stroke="#4a5361" stroke-width="1"/>')
    out.append(f'<line x1="{_LEFT}" y1="{baseline}" x2="{width - _RIGHT}" y2="{baseline}" stroke="#4a5361" '
               f'stroke-width="1"/>')
    if not points:
        out.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
                   f'fill="#4a5361" {_FONT}>no data yet</text>')
    slot = plot_w / max(len(points), 1)
    bar = max(min(slot * 0.7, 40.0), 1.0)
    label_every = max(1, math.ceil(len(points) / 8))
    last = len(points) - 1
    for i, p in enumerate(points):
        x = _LEFT + slot * i + (slot - bar) / 2
        y = y_of(p.open_public)
        label = f"{p.day}: {p.open_public} public"
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{baseline - y:.1f}" fill="#c0392b" '
                   f'class="trend-bar"><title>{escape(label)}</title></rect>')
        if i == last or (i % label_every == 0 and last - i >= max(label_every // 2, 1)):
            cx = _LEFT + slot * i + slot / 2
            out.append(f'<text x="{cx:.1f}" y="{baseline + 16}" text-anchor="middle" fill="#4a5361" {_FONT}>'
                       f'{escape(p.day[5:])}</text>')
    out.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" fill="#4a5361" {_FONT}>'
               f'day (UTC, month-day)</text>')
    out.append("</svg>")
    return "\n".join(out)


def _summary(points: Sequence[TrendPoint]) -> str:
    if not points:
        return "No days recorded yet."
    first, last = points[0], points[-1]
    peak = max(points, key=lambda p: p.open_public)
    return (f"{len(points)} days from {first.day} to {last.day}: {first.open_public} public on {first.day}, "
            f"{last.open_public} on {last.day}; peak {peak.open_public} on {peak.day}.")
