"""The terminal summary after a scan: short by default, every finding with --details, a resource's findings
together and ordered by severity then exposure age, and nothing from a cloud reaching the terminal raw."""

from __future__ import annotations

import io

from rich.console import Console

from cloudwatchdog.commands.summary import by_resource, print_summary
from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Evidence,
    Exposure,
    Finding,
    FindingState,
    Level,
    Remediation,
    Resource,
    ScanResult,
    Severity,
)

HOSTILE = "pwn\x1b[2J\x1b]0;title\x07\x1b]8;;http://evil.example\x1b\\link\u202eexe.txt"


def _finding(rule: str, resource: str, severity: Severity, first_seen: str = "2026-11-01T00:00:00Z",
             state: FindingState = FindingState.OPEN, detail: str = "evidence") -> Finding:
    return Finding(id=f"{rule}:{resource}", rule_id=rule, title=f"title of {rule}", severity=severity,
                   resource_uid=f"uid:{resource}", provider="aws", account="123456789012", region="us-east-1",
                   resource_type="aws.s3.bucket", resource_name=resource, message="m",
                   evidence=(Evidence("bucket-policy", detail),), remediation=Remediation("fix"), state=state,
                   first_seen=first_seen, last_seen="2026-12-01T00:00:00Z")


def _result(findings: list[Finding], coverage: tuple[Coverage, ...] | None = None) -> ScanResult:
    resources = tuple(Resource(f"uid:{n}", "aws", "123456789012", "us-east-1", "aws.s3.bucket", n,
                               Exposure(Level.PUBLIC)) for n in sorted({f.resource_name for f in findings}))
    cov = coverage or (Coverage("aws", "123456789012", CoverageStatus.OK, len(resources)),)
    return ScanResult("scan-1", "2026-12-01T00:00:00Z", "2026-12-01T00:01:00Z", cov, resources, tuple(findings))


def _render(result: ScanResult, *, details: bool = False, terminal: bool = True) -> str:
    out = io.StringIO()
    print_summary(result, Console(file=out, force_terminal=terminal, width=160, color_system=None),
                  details=details)
    return out.getvalue()


def test_a_resources_findings_stay_together_most_severe_and_longest_exposed_first() -> None:
    findings = [
        _finding("medium-old", "old-bucket", Severity.MEDIUM, "2025-01-01T00:00:00Z"),
        _finding("hygiene", "world-writable", Severity.LOW),
        _finding("public", "world-writable", Severity.CRITICAL, "2026-11-20T00:00:00Z"),
        _finding("public", "older-critical", Severity.CRITICAL, "2026-01-01T00:00:00Z"),
    ]
    groups = by_resource(findings)
    assert [g.top.resource_name for g in groups] == ["older-critical", "world-writable", "old-bucket"]
    assert [f.rule_id for f in groups[1].findings] == ["public", "hygiene"]


def test_the_short_summary_lists_critical_and_high_and_points_to_the_rest() -> None:
    findings = [_finding("public", f"b{i}", Severity.CRITICAL) for i in range(12)]
    findings += [_finding("hygiene", "b0", Severity.LOW, detail="the hygiene finding's own evidence")]
    findings += [_finding("medium", f"m{i}", Severity.MEDIUM) for i in range(30)]
    text = _render(_result(findings))
    lines = text.splitlines()
    assert len(lines) < 45, text
    assert "Findings: 43 findings: critical 12, medium 30, low 1" in text
    assert "also: low title of hygiene" in text
    assert "... and 32 more resources with findings" in text
    assert "m0" not in text


def test_details_list_every_finding_with_its_own_evidence() -> None:
    findings = [_finding("public", "b0", Severity.CRITICAL, detail="Statement 0 allows s3:GetObject to *"),
                _finding("hygiene", "b0", Severity.LOW, detail="the hygiene finding's own evidence")]
    text = _render(_result(findings), details=True)
    assert "Statement 0 allows s3:GetObject to *" in text and "the hygiene finding's own evidence" in text
    assert text.count("b0") == 1, "the resource is named once for its findings"


def test_one_is_singular() -> None:
    text = _render(_result([_finding("public", "b0", Severity.HIGH)]))
    assert "Findings: 1 finding: high 1" in text and "(1 resource)" in text and "1 account:" in text


def test_nothing_from_a_cloud_reaches_the_terminal_raw() -> None:
    findings = [_finding("public", HOSTILE, Severity.CRITICAL, detail=HOSTILE)]
    cov = (Coverage("aws", "123456789012", CoverageStatus.PARTIAL, 1, (f"GetBucketAcl failed: {HOSTILE}",)),)
    for details in (False, True):
        text = _render(_result(findings, cov), details=details)
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "pwn\\x1b[2J\\x1b]0;title\\x07" in text and "\\u202eexe.txt" in text
