"""OCSF Detection Finding (class_uid 2004): the required attributes, the lifecycle mapping, and validation with the
py-ocsf-models pydantic models (OCSF 1.x)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from py_ocsf_models.events.findings.detection_finding import (  # type: ignore[import-untyped]
    DetectionFinding,
)

from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.render.ocsf import render_ocsf, render_ocsf_report

from .sample import XSS_IMG, XSS_SCRIPT, hostile_report, sample_report, sample_scan

REQUIRED = ("activity_id", "category_uid", "class_uid", "finding_info", "metadata", "severity_id", "time",
            "type_uid")


def _ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _events(text: str) -> list[dict[str, Any]]:
    events = json.loads(text)
    assert isinstance(events, list)
    for event in events:
        DetectionFinding.model_validate(event)  # raises on a missing required attribute or a bad enum value
    return events


def test_every_finding_is_a_detection_finding() -> None:
    data = sample_report()
    events = _events(render_ocsf_report(data))
    findings = [rf.finding for rf in data.all_findings()]
    assert len(events) == len(findings)
    for event, f in zip(events, findings, strict=True):
        assert not [k for k in REQUIRED if k not in event]
        assert (event["class_uid"], event["category_uid"]) == (2004, 2)
        assert event["type_uid"] == 2004 * 100 + event["activity_id"]
        assert event["metadata"]["version"].startswith("1.")
        assert event["metadata"]["product"]["name"] == "cloudwatchdog"
        info = event["finding_info"]
        assert (info["uid"], info["title"]) == (f.id, f.title)
        assert f.first_seen and info["first_seen_time"] == _ms(f.first_seen)
        assert f.last_seen and info["last_seen_time"] == _ms(f.last_seen)
        (resource,) = event["resources"]
        assert (resource["uid"], resource["name"], resource["type"]) == (f.resource_uid, f.resource_name,
                                                                       f.resource_type)
        assert event["cloud"]["account"]["uid"] == f.account
        assert event["remediation"]["desc"].startswith(f.remediation.summary)
        assert f.remediation.cli and f.remediation.cli in event["remediation"]["desc"]
        assert [e["data"] for e in event["evidences"]] == [e.to_dict() for e in f.evidence]
        assert event["unmapped"]["cloudwatchdog"]["state"] == f.state.value


@pytest.mark.parametrize(("name", "severity_id", "status_id", "activity_id"), [
    ("payroll-exports", 5, 1, 1),       # critical, new -> New, Create
    ("ml-training-data", 4, 1, 1),      # high, new
    ("old-share", 3, 4, 3),             # medium, resolved -> Resolved, Close
    ("website-assets", 4, 2, 2),        # high, open -> In Progress, Update
    ("public-downloads", 2, 2, 2),      # low, open
    ("open-data-mirror", 1, 3, 2),      # info, suppressed -> Suppressed, Update
])
def test_severity_status_and_activity(name: str, severity_id: int, status_id: int, activity_id: int) -> None:
    events = {e["resources"][0]["name"]: e for e in _events(render_ocsf_report(sample_report()))}
    event = events[name]
    assert (event["severity_id"], event["status_id"], event["activity_id"]) == (severity_id, status_id, activity_id)


def test_event_time_and_cloud() -> None:
    events = {e["resources"][0]["name"]: e for e in _events(render_ocsf_report(sample_report()))}
    assert events["old-share"]["time"] == _ms("2026-11-20T21:24:00Z")  # resolved: when it was closed
    assert events["website-assets"]["time"] == _ms("2026-11-21T07:00:00Z")  # else: last seen
    assert events["website-assets"]["start_time"] == _ms("2026-11-03T07:00:00Z")
    assert events["ml-training-data"]["cloud"]["provider"] == "GCP"
    assert events["website-assets"]["cloud"] == {
        "provider": "AWS", "region": "us-east-1",
        "account": {"uid": "210987654321", "name": "210987654321", "type_id": 10, "type": "AWS Account"}}


def test_hostile_strings_stay_data() -> None:
    events = _events(render_ocsf_report(hostile_report()))
    assert [e["resources"][0]["name"] for e in events][:2] == [XSS_IMG, XSS_SCRIPT]


def test_scan_ocsf() -> None:
    scan = sample_scan()
    assert render_ocsf(scan) == render_ocsf_report(report_from_scan(scan))
    events = _events(render_ocsf(scan))
    assert len(events) == len(scan.findings) + len(scan.resolved)
