"""The report as JSON: headline, sections with exposure windows, coverage, trend."""

from __future__ import annotations

import json

from cloudwatchdog.render.report_json import REPORT_SCHEMA_VERSION, render_report_json

from .sample import XSS_SCRIPT, hostile_report, sample_report


def test_report_document() -> None:
    data = sample_report()
    doc = json.loads(render_report_json(data))
    assert doc["schema_version"] == REPORT_SCHEMA_VERSION and doc["kind"] == "report"
    assert (doc["generated_at"], doc["since"]) == (data.generated_at, data.since)
    assert doc["headline"] == {"public_now": 4, "became_public": 2, "closed": 1}
    assert doc["last_scan"]["complete"] is False
    for key, section in (("new", data.new), ("open", data.open), ("resolved", data.resolved),
                         ("suppressed", data.suppressed)):
        assert [f["id"] for f in doc["sections"][key]] == [rf.finding.id for rf in section]
    website = doc["sections"]["open"][0]
    assert website["resource_name"] == "website-assets" and website["state"] == "open"
    assert website["exposure_window"] == {
        "intervals": [{"start": "2026-11-03T07:00:00Z", "end": None}], "total_seconds": 18 * 86400, "days": 18,
        "open_since": "2026-11-03T07:00:00Z"}
    assert website["evidence"][0]["source"] == "bucket-policy"
    assert website["remediation"]["cli"].startswith("aws s3api put-public-access-block")
    assert [(c["account"], c["status"], c["scan_id"]) for c in doc["coverage"]] == [
        ("123456789012", "ok", "scan-1"), ("acme-analytics", "partial", "scan-1"),
        ("0f1e2d3c-aaaa-bbbb-cccc-000000000001", "error", "scan-1")]
    assert doc["coverage"][1]["errors"] == ["storage.buckets.getIamPolicy on bucket logs-raw: 403 Forbidden"]
    assert len(doc["trend"]) == 30 and doc["trend"][-1] == {"day": "2026-11-21", "open_public": 4}


def test_hostile_strings_round_trip() -> None:
    data = hostile_report()
    doc = json.loads(render_report_json(data))
    assert doc["title"] == data.title
    assert doc["sections"]["open"][0]["resource_name"] == XSS_SCRIPT
