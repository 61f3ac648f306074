"""Output formats of ``scan --format`` by name: one line each. A new format is one module and one line here."""

from __future__ import annotations

from collections.abc import Callable

from cloudwatchdog.render.csv import render_csv
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.render.html import render_report_html
from cloudwatchdog.render.json import render_json
from cloudwatchdog.render.ocsf import render_ocsf
from cloudwatchdog.render.sarif import render_sarif
from cloudwatchdog.scan import ScanResult

Renderer = Callable[[ScanResult], str]


def render_html(result: ScanResult) -> str:
    """The HTML report of one scan alone (no history: windows from first seen to the end of the scan)."""
    return render_report_html(report_from_scan(result))


FORMATS: dict[str, tuple[Renderer, str]] = {
    "json": (render_json, "json"),
    "html": (render_html, "html"),
    "csv": (render_csv, "csv"),
    "sarif": (render_sarif, "sarif"),
    "ocsf": (render_ocsf, "ocsf.json"),
}
