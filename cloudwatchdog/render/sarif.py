"""SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, Azure DevOps, DefectDojo, ...).

One run; rules in ``tool.driver.rules`` from each rule's id and title; one result per current finding (new, open,
reopened, suppressed; a suppressed finding carries a SARIF ``suppressions`` entry). Resolved findings are left out:
a SARIF log describes what is wrong now, and dashboards close alerts that are absent from the next upload. A cloud
resource has no file, so each result is located by a logical location (the resource) and a physical location whose
URI is the resource's uid (an ARN, a resource id), percent-encoded where needed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from cloudwatchdog import __version__
from cloudwatchdog.model import Coverage, CoverageStatus, Finding, FindingState, ScanResult, Severity
from cloudwatchdog.render.findings import FindingSet, finding_set_of_report, finding_set_of_scan
from cloudwatchdog.render.formats import Format
from cloudwatchdog.render.windows import window_days
from cloudwatchdog.report_model import ReportData, ReportFinding

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/cloudwatchdog/cloudwatchdog"
FINGERPRINT_KEY = "cloudwatchdogFindingId/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads a CVSS-like score: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.1",
}
_BASELINE = {FindingState.NEW: "new", FindingState.OPEN: "unchanged", FindingState.REOPENED: "new"}
# Characters allowed unencoded in a URI reference (RFC 3986 reserved and unreserved); anything else is encoded.
_URI_SAFE = ":/?#[]@!$&'()*+,;=-._~"


def resource_uri(uid: str) -> str:
    return quote(uid, safe=_URI_SAFE)


def sarif_log(findings: FindingSet) -> dict[str, Any]:
    current = [rf for rf in findings.findings if rf.finding.state is not FindingState.RESOLVED]
    rules: dict[str, list[Finding]] = {}
    for rf in current:
        rules.setdefault(rf.finding.rule_id, []).append(rf.finding)
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "cloudwatchdog",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_rule(rule_id, fs) for rule_id, fs in rules.items()],
        }},
        "automationDetails": {"id": f"cloudwatchdog/{findings.scan.id}" if findings.scan else "cloudwatchdog/"},
        "columnKind": "unicodeCodePoints",
        "results": [_result(rf, index[rf.finding.rule_id]) for rf in current],
        "properties": {"generated_at": findings.generated_at,
                       "coverage": [c.to_dict() for c in findings.coverage]},
    }
    if findings.scan is not None:
        run["invocations"] = [{
            "executionSuccessful": findings.scan.complete,
            "startTimeUtc": findings.scan.started_at,
            "endTimeUtc": findings.scan.finished_at,
            "toolExecutionNotifications": _coverage_notifications(findings.coverage),
        }]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _coverage_notifications(coverage: tuple[Coverage, ...]) -> list[dict[str, Any]]:
    """Accounts not fully scanned, so a dashboard shows the gap rather than a clean bill of health."""
    out: list[dict[str, Any]] = []
    for c in coverage:
        if c.status is CoverageStatus.OK:
            continue
        level = "error" if c.status is CoverageStatus.ERROR else "warning"
        for error in c.errors or (f"scan {c.status.value}",):
            out.append({"level": level, "message": {"text": f"{c.provider} {c.account} {c.status.value}: {error}"}})
    return out


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    worst = max((f.severity for f in findings), key=lambda s: s.rank)
    help_text = first.remediation.summary + (f"\n\n{first.remediation.cli}" if first.remediation.cli else "")
    return {
        "id": rule_id,
        "name": _pascal(rule_id),
        "shortDescription": {"text": first.title},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVEL[worst]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[worst],
            "tags": ["security", "cloud", first.provider, *first.compliance],
        },
    }


def _result(rf: ReportFinding, rule_index: int) -> dict[str, Any]:
    f = rf.finding
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message or f.title},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": resource_uri(f.resource_uid)}},
            "logicalLocations": [{
                "name": f.resource_name,
                "fullyQualifiedName": f.resource_uid,
                "kind": f.resource_type,
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: f.id},
        "properties": {
            "severity": f.severity.value,
            "state": f.state.value,
            "provider": f.provider,
            "account": f.account,
            "region": f.region,
            "resource_type": f.resource_type,
            "evidence": [e.to_dict() for e in f.evidence],
            "remediation": f.remediation.to_dict(),
            "first_seen": f.first_seen,
            "last_seen": f.last_seen,
            "exposure_days": window_days(rf.window),
            "open_since": rf.window.open_since,
        },
    }
    baseline = _BASELINE.get(f.state)
    if baseline:
        result["baselineState"] = baseline
    if f.suppression is not None:
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"{f.suppression.reason} (owner: {f.suppression.owner}"
                             + (f", expires {f.suppression.expires})" if f.suppression.expires else ")"),
        }]
    elif f.state is FindingState.SUPPRESSED:
        result["suppressions"] = [{"kind": "external", "status": "accepted"}]
    return result


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.replace("_", "-").split("-") if part)


def render_sarif_set(findings: FindingSet) -> str:
    return json.dumps(sarif_log(findings), indent=2, ensure_ascii=False) + "\n"


def render_sarif(result: ScanResult) -> str:
    return render_sarif_set(finding_set_of_scan(result))


def render_sarif_report(data: ReportData) -> str:
    return render_sarif_set(finding_set_of_report(data))


FORMAT = Format("sarif", "sarif", render_sarif, render_sarif_report)
