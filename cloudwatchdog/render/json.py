"""The JSON document of DESIGN.md (schema_version 1)."""

from __future__ import annotations

import json
from typing import Any

from cloudwatchdog.model import ScanResult
from cloudwatchdog.render.formats import Format
from cloudwatchdog.render.report_json import render_report_json

SCHEMA_VERSION = 1


def scan_document(result: ScanResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "scan": {
            "id": result.id,
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "complete": result.complete,
            "coverage": [c.to_dict() for c in result.coverage],
        },
        "resources": [r.to_dict() for r in result.resources],
        # Current findings, then those this scan resolved (state "resolved").
        "findings": [f.to_dict() for f in (*result.findings, *result.resolved)],
    }


def render_json(result: ScanResult) -> str:
    return json.dumps(scan_document(result), indent=2, sort_keys=False) + "\n"


FORMAT = Format("json", "json", render_json, render_report_json)
