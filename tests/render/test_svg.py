"""The trend chart: well-formed SVG with axes, labels and accessible titles."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cloudwatchdog.render.svg import nice_ticks, trend_svg
from cloudwatchdog.report_model import TrendPoint

from .sample import trend

NS = {"svg": "http://www.w3.org/2000/svg"}


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def test_thirty_days() -> None:
    points = trend([k % 7 for k in range(30)])
    root = _parse(trend_svg(points))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "trend-title trend-desc"
    assert root.findtext("svg:title", namespaces=NS) == "Open public exposures per day"
    desc = root.findtext("svg:desc", namespaces=NS) or ""
    assert "30 days from 2026-10-23 to 2026-11-21" in desc and "peak 6 on 2026-10-29" in desc
    bars = root.findall("svg:rect", NS)
    assert len(bars) == 30
    assert [b.findtext("svg:title", namespaces=NS) for b in bars[:2]] == ["2026-10-23: 0 public",
                                                                           "2026-10-24: 1 public"]
    heights = [float(b.get("height", "nan")) for b in bars]
    assert heights[0] == 0 and heights[6] == max(heights)  # 6 is the peak
    labels = [t.text for t in root.findall("svg:text", NS)]
    assert {"0", "2", "4", "6"} <= set(labels)  # y axis
    assert "10-23" in labels and "11-21" in labels  # x axis, first and last day
    assert "public resources" in labels
    assert "style=" not in trend_svg(points)  # the report's CSP allows no style attributes


def test_single_day_and_empty() -> None:
    root = _parse(trend_svg([TrendPoint("2026-11-21", 3)]))
    assert len(root.findall("svg:rect", NS)) == 1
    empty = _parse(trend_svg([]))
    assert empty.findall("svg:rect", NS) == []
    assert "no data yet" in [t.text for t in empty.findall("svg:text", NS)]


def test_text_is_escaped() -> None:
    root = _parse(trend_svg([TrendPoint("<b>&", 1)], title="a < b"))
    assert root.findtext("svg:title", namespaces=NS) == "a < b"


def test_nice_ticks() -> None:
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(4) == [0, 1, 2, 3, 4]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
