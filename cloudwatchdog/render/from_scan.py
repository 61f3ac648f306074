"""A report from one scan alone, without history (``scan --format html``, and the scan side of CSV/SARIF/OCSF).

Pure. The lifecycle fields on each finding decide its section (new -> new; open and reopened -> open; the scan's
``resolved`` -> resolved; suppressed -> suppressed). Exposure windows run from the finding's ``first_seen`` (or the
scan's start, for a scan not recorded in the store) to ``now``; the headline counts the scan's public resources.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloudwatchdog.model import Finding, FindingState, Level, ScanResult, counts_as_exposed
from cloudwatchdog.render.windows import parse_time
from cloudwatchdog.report_model import (
    CoverageRow,
    ExposureWindow,
    Headline,
    Interval,
    ReportData,
    ReportFinding,
    ScanInfo,
    TrendPoint,
)

SCAN_REPORT_TITLE = "cloudwatchdog scan report"


def report_from_scan(result: ScanResult, now: str | None = None, *, title: str = SCAN_REPORT_TITLE) -> ReportData:
    """``now`` (ISO 8601 UTC) ends the open exposure windows; by default the scan's ``finished_at``."""
    now = now or result.finished_at
    by_state: dict[FindingState, list[ReportFinding]] = {s: [] for s in FindingState}
    for f in result.findings:
        by_state[f.state].append(ReportFinding(f, _window(f, result.started_at, now)))
    resolved = [*by_state[FindingState.RESOLVED], *(ReportFinding(f, _window(f, result.started_at, now))
                                                    for f in result.resolved)]
    new = sorted(by_state[FindingState.NEW], key=_severity_first)
    still_open = sorted([*by_state[FindingState.OPEN], *by_state[FindingState.REOPENED]], key=_longest_first)
    public = {r.uid for r in result.resources
              if r.exposure.level is Level.PUBLIC and not r.exposure.latent and counts_as_exposed(r)}
    # Public now with a finding that is new (or back after being resolved), and none open from before.
    became_public = public & _uids(f for f in result.findings if f.state in (FindingState.NEW, FindingState.REOPENED))
    became_public -= _uids(f for f in result.findings if f.state is FindingState.OPEN)
    return ReportData(
        title=title,
        generated_at=now,
        since=None,
        last_scan=ScanInfo(result.id, result.started_at, result.finished_at, result.complete),
        headline=Headline(public_now=len(public), became_public=len(became_public), closed=len(resolved)),
        new=tuple(new),
        resolved=tuple(sorted(resolved, key=lambda rf: rf.finding.resolved_at or "", reverse=True)),
        open=tuple(still_open),
        suppressed=tuple(sorted(by_state[FindingState.SUPPRESSED], key=_severity_first)),
        coverage=tuple(CoverageRow(c, result.id, result.finished_at) for c in result.coverage),
        trend=(TrendPoint(now[:10], len(public)),),
    )


def _window(f: Finding, scan_start: str, now: str) -> ExposureWindow:
    start = f.first_seen or scan_start
    end = (f.resolved_at or now) if f.state is FindingState.RESOLVED else None
    seconds = int((parse_time(end or now) - parse_time(start)).total_seconds())
    return ExposureWindow((Interval(start, end),), max(seconds, 0))


def _uids(findings: Iterable[Finding]) -> set[str]:
    return {f.resource_uid for f in findings}


def _severity_first(rf: ReportFinding) -> tuple[int, str, str, str]:
    f = rf.finding
    return (-f.severity.rank, f.account, f.resource_name, f.rule_id)


def _longest_first(rf: ReportFinding) -> tuple[int, int, str, str]:
    f = rf.finding
    return (-rf.window.total_seconds, -f.severity.rank, f.account, f.resource_name)
