"""The one input of the finding-list formats (CSV, SARIF, OCSF): findings with their exposure windows, and what
produced them. Built from a report (``cloudwatchdog report``) or from one scan (``scan --format``), so each format is
written once. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from cloudwatchdog.model import Coverage, ScanResult
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.report_model import ReportData, ReportFinding, ScanInfo


@dataclass(frozen=True)
class FindingSet:
    findings: tuple[ReportFinding, ...]  # new, open, resolved, suppressed
    generated_at: str
    scan: ScanInfo | None  # the (latest) scan behind the findings
    coverage: tuple[Coverage, ...]


def finding_set_of_report(data: ReportData) -> FindingSet:
    return FindingSet(data.all_findings(), data.generated_at, data.last_scan, tuple(c.coverage for c in data.coverage))


def finding_set_of_scan(result: ScanResult) -> FindingSet:
    return finding_set_of_report(report_from_scan(result))
