"""The JSON document of DESIGN.md (schema_version 1)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any, TextIO

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


def _member(key: str, value: Any) -> str:
    """``"key": value`` as ``json.dumps(..., indent=2)`` writes it one level deep."""
    return f"  {json.dumps(key)}: " + json.dumps(value, indent=2).replace("\n", "\n  ")


def _array(out: TextIO, key: str, items: Iterable[dict[str, Any]]) -> None:
    """A member whose value is a list, written item by item (JSON text holds no raw newline: re-indenting its
    lines is exact)."""
    out.write(f"  {json.dumps(key)}: [")
    first = True
    for item in items:
        out.write(("\n" if first else ",\n") + "    " + json.dumps(item, indent=2).replace("\n", "\n    "))
        first = False
    out.write("]" if first else "\n  ]")


def write_json(result: ScanResult, out: TextIO) -> None:
    """``render_json``'s text, character for character, written one resource and one finding at a time: the
    document is never held whole, as dicts or as a string."""
    head = {k: v for k, v in scan_document(_no_items(result)).items() if k not in ("resources", "findings")}
    out.write("{\n" + ",\n".join(_member(k, v) for k, v in head.items()) + ",\n")
    _array(out, "resources", (r.to_dict() for r in result.resources))
    out.write(",\n")
    _array(out, "findings", (f.to_dict() for f in (*result.findings, *result.resolved)))
    out.write("\n}\n")


def _no_items(result: ScanResult) -> ScanResult:
    return dataclasses.replace(result, resources=(), findings=(), resolved=())


FORMAT = Format("json", "json", render_json, render_report_json, scan_writer=write_json)
