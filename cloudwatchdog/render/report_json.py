"""The report as JSON: headline, sections (new, open, resolved, suppressed), coverage and trend.

The same content as the HTML report, for scripts and dashboards. Findings keep the scan JSON shape
(``Finding.to_dict``) plus an ``exposure_window``.
"""

from __future__ import annotations

import json
from typing import Any

from cloudwatchdog.render.windows import window_days
from cloudwatchdog.report_model import CoverageRow, ExposureWindow, ReportData, ReportFinding

REPORT_SCHEMA_VERSION = 1


def window_dict(window: ExposureWindow) -> dict[str, Any]:
    return {
        "intervals": [{"start": i.start, "end": i.end} for i in window.intervals],
        "total_seconds": window.total_seconds,
        "days": window_days(window),
        "open_since": window.open_since,
    }


def finding_dict(rf: ReportFinding) -> dict[str, Any]:
    return {**rf.finding.to_dict(), "exposure_window": window_dict(rf.window)}


def coverage_dict(row: CoverageRow) -> dict[str, Any]:
    return {**row.coverage.to_dict(), "scan_id": row.scan_id, "scanned_at": row.scanned_at}


def report_document(data: ReportData) -> dict[str, Any]:
    last = data.last_scan
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "report",
        "title": data.title,
        "generated_at": data.generated_at,
        "since": data.since,
        "last_scan": None if last is None else {
            "id": last.id, "started_at": last.started_at, "finished_at": last.finished_at, "complete": last.complete,
        },
        "headline": {
            "public_now": data.headline.public_now,
            "became_public": data.headline.became_public,
            "closed": data.headline.closed,
        },
        "sections": {
            "new": [finding_dict(f) for f in data.new],
            "open": [finding_dict(f) for f in data.open],
            "resolved": [finding_dict(f) for f in data.resolved],
            "suppressed": [finding_dict(f) for f in data.suppressed],
        },
        "coverage": [coverage_dict(c) for c in data.coverage],
        "trend": [{"day": p.day, "open_public": p.open_public} for p in data.trend],
    }


def render_report_json(data: ReportData) -> str:
    return json.dumps(report_document(data), indent=2, ensure_ascii=False) + "\n"
