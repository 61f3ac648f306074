"""Report formats by name (``cloudwatchdog report``): format -> (renderer of ReportData, file extension).

A new format is one module and one line here; the same findings feed every format.
"""

from __future__ import annotations

from collections.abc import Callable

from cloudwatchdog.render.csv import render_csv_report
from cloudwatchdog.render.html import render_report_html
from cloudwatchdog.render.ocsf import render_ocsf_report
from cloudwatchdog.render.report_json import render_report_json
from cloudwatchdog.render.sarif import render_sarif_report
from cloudwatchdog.report_model import ReportData

ReportRenderer = Callable[[ReportData], str]

REPORT_FORMATS: dict[str, tuple[ReportRenderer, str]] = {
    "html": (render_report_html, "html"),
    "json": (render_report_json, "json"),
    "csv": (render_csv_report, "csv"),
    "sarif": (render_sarif_report, "sarif"),
    "ocsf": (render_ocsf_report, "ocsf.json"),
}
