"""OCSF Detection Finding events (class_uid 2004, category Findings), one per finding, for SIEMs and data lakes.

Written as a JSON array of OCSF 1.x events (schema version ``OCSF_VERSION``, cloud profile). The mapping:
severity -> ``severity_id``; lifecycle state -> ``status_id`` (new and reopened: New; open: In Progress; suppressed:
Suppressed; resolved: Resolved) and ``activity_id`` (new: Create; resolved: Close; else Update);
``finding_info.uid`` = the finding's fingerprint; first/last seen -> ``finding_info.first_seen_time`` /
``last_seen_time`` (epoch milliseconds); the resource -> ``resources``; remediation -> ``remediation``; evidence ->
``evidences``; cloudwatchdog's own fields (state, exposure window, compliance, suppression) -> ``unmapped``.
"""

from __future__ import annotations

import json
from typing import Any

from cloudwatchdog import __version__
from cloudwatchdog.model import Finding, FindingState, ScanResult, Severity
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.render.findings import FindingSet, finding_set_of_report, finding_set_of_scan
from cloudwatchdog.render.formats import Format
from cloudwatchdog.render.report_json import window_dict
from cloudwatchdog.render.windows import parse_time
from cloudwatchdog.report_model import ReportData, ReportFinding

OCSF_VERSION = "1.5.0"


def _ocsf_cloud(name: str) -> tuple[str, int, str]:
    """(cloud.provider, account type_id, account type) of a provider, as the provider names itself to OCSF."""
    if name not in PROVIDERS:
        return name, 99, "Other"
    ocsf = PROVIDERS.get(name).ocsf
    return ocsf.provider, ocsf.account_type_id, ocsf.account_type
CATEGORY_UID = 2  # Findings
CLASS_UID = 2004  # Detection Finding

SEVERITY_ID = {Severity.INFO: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}
SEVERITY_CAPTION = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# status_id: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved
STATUS_ID = {FindingState.NEW: 1, FindingState.REOPENED: 1, FindingState.OPEN: 2, FindingState.SUPPRESSED: 3,
             FindingState.RESOLVED: 4}
STATUS_CAPTION = {1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved"}
# activity_id: 1 Create, 2 Update, 3 Close
ACTIVITY_ID = {FindingState.NEW: 1, FindingState.RESOLVED: 3}
ACTIVITY_CAPTION = {1: "Create", 2: "Update", 3: "Close"}


def epoch_ms(value: str) -> int:
    return int(parse_time(value).timestamp() * 1000)


def detection_finding(rf: ReportFinding, generated_at: str) -> dict[str, Any]:
    f = rf.finding
    severity_id = SEVERITY_ID[f.severity]
    status_id = STATUS_ID[f.state]
    activity_id = ACTIVITY_ID.get(f.state, 2)
    event_time = f.resolved_at if f.state is FindingState.RESOLVED and f.resolved_at else f.last_seen or generated_at
    finding_info: dict[str, Any] = {
        "uid": f.id,
        "title": f.title,
        "desc": f.message,
        "types": [f.resource_type],
        "analytic": {"uid": f.rule_id, "name": f.title, "type_id": 1, "type": "Rule"},
    }
    for key, value in (("first_seen_time", f.first_seen), ("created_time", f.first_seen),
                       ("last_seen_time", f.last_seen), ("modified_time", f.last_seen)):
        if value:
            finding_info[key] = epoch_ms(value)
    event: dict[str, Any] = {
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "activity_id": activity_id,
        "activity_name": ACTIVITY_CAPTION[activity_id],
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Detection Finding: {ACTIVITY_CAPTION[activity_id]}",
        "time": epoch_ms(event_time),
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTION[severity_id],
        "status_id": status_id,
        "status": STATUS_CAPTION[status_id],
        "status_detail": f.state.value,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "cloudwatchdog", "vendor_name": "cloudwatchdog", "version": __version__},
            "profiles": ["cloud"],
        },
        "finding_info": finding_info,
        "cloud": _cloud(f),
        "resources": [_resource(f)],
        "evidences": [{"name": e.source, "data": e.to_dict()} for e in f.evidence],
        "remediation": {"desc": f.remediation.summary + (f"\nCLI: {f.remediation.cli}" if f.remediation.cli else "")},
        "unmapped": {"cloudwatchdog": {
            "state": f.state.value,
            "rule_id": f.rule_id,
            "exposure_window": window_dict(rf.window),
            "resolved_at": f.resolved_at,
            "previous_severity": f.previous_severity.value if f.previous_severity else None,
            "compliance": list(f.compliance),
            "remediation_cli": f.remediation.cli,
            "suppression": f.suppression.to_dict() if f.suppression else None,
        }},
    }
    if rf.window.intervals:
        event["start_time"] = epoch_ms(rf.window.intervals[0].start)
    if f.last_seen:
        event["end_time"] = epoch_ms(f.last_seen)
    return event


def _cloud(f: Finding) -> dict[str, Any]:
    provider, type_id, type_name = _ocsf_cloud(f.provider)
    cloud: dict[str, Any] = {
        "provider": provider,
        "account": {"uid": f.account, "name": f.account, "type_id": type_id, "type": type_name},
    }
    if f.region:
        cloud["region"] = f.region
    return cloud


def _resource(f: Finding) -> dict[str, Any]:
    resource: dict[str, Any] = {"uid": f.resource_uid, "name": f.resource_name, "type": f.resource_type}
    if f.region:
        resource["region"] = f.region
    return resource


def ocsf_events(findings: FindingSet) -> list[dict[str, Any]]:
    return [detection_finding(rf, findings.generated_at) for rf in findings.findings]


def render_ocsf_set(findings: FindingSet) -> str:
    return json.dumps(ocsf_events(findings), indent=2, ensure_ascii=False) + "\n"


def render_ocsf(result: ScanResult) -> str:
    return render_ocsf_set(finding_set_of_scan(result))


def render_ocsf_report(data: ReportData) -> str:
    return render_ocsf_set(finding_set_of_report(data))


FORMAT = Format("ocsf", "ocsf.json", render_ocsf, render_ocsf_report)
