"""Every output format is registered, and renders a scan (``scan --format``) or a report (``report``)."""

from __future__ import annotations

import json

from cloudwatchdog.render.registry import FORMATS as REGISTRY

from .sample import sample_report, sample_scan

# The registry's formats as (renderer, extension) of a scan and of a report.
FORMATS = {name: (f.render_scan, f.extension) for name, f in REGISTRY.items()}
REPORT_FORMATS = {name: (f.render_report, f.extension) for name, f in REGISTRY.items()}

NAMES = {"json", "html", "csv", "sarif", "ocsf"}


def test_scan_formats() -> None:
    assert set(FORMATS) == NAMES
    scan = sample_scan()
    outputs = {name: render(scan) for name, (render, _) in FORMATS.items()}
    assert json.loads(outputs["json"])["scan"]["id"] == "scan-42"
    assert '<span class="big" data-headline="public_now">4</span>' in outputs["html"]
    assert outputs["csv"].count("\r\n") == 1 + len(scan.findings) + len(scan.resolved)
    assert json.loads(outputs["sarif"])["version"] == "2.1.0"
    assert {e["class_uid"] for e in json.loads(outputs["ocsf"])} == {2004}
    assert {name: ext for name, (_, ext) in FORMATS.items()} == {
        "json": "json", "html": "html", "csv": "csv", "sarif": "sarif", "ocsf": "ocsf.json"}


def test_report_formats() -> None:
    assert set(REPORT_FORMATS) == NAMES
    data = sample_report()
    outputs = {name: render(data) for name, (render, _) in REPORT_FORMATS.items()}
    assert json.loads(outputs["json"])["headline"]["public_now"] == 4
    assert outputs["html"].startswith("<!DOCTYPE html>")
    assert outputs["csv"].startswith("id,severity,state,")
    assert len(json.loads(outputs["sarif"])["runs"][0]["results"]) == 5
    assert len(json.loads(outputs["ocsf"])) == 6
