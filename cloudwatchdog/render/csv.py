"""CSV: one row per finding, with its lifecycle (state, first/last seen, resolved at, days exposed).

Cells are protected against CSV/formula injection (OWASP): a cell starting with ``= + - @``, a tab or a carriage
return gets a leading ``'``, so a spreadsheet shows the text instead of running it. Cloud-provided names and evidence
are untrusted and can start with any of these.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from cloudwatchdog.model import ScanResult
from cloudwatchdog.render.findings import FindingSet, finding_set_of_report, finding_set_of_scan
from cloudwatchdog.render.formats import Format
from cloudwatchdog.render.windows import window_days
from cloudwatchdog.report_model import ReportData, ReportFinding

COLUMNS = (
    "id", "severity", "state", "rule_id", "title", "provider", "account", "region", "resource_type",
    "resource_name", "resource_uid", "message", "evidence", "remediation", "remediation_cli", "compliance",
    "first_seen", "last_seen", "resolved_at", "exposure_days", "open_since", "previous_severity",
    "suppression_reason", "suppression_owner", "suppression_expires",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def finding_row(rf: ReportFinding) -> list[str]:
    f = rf.finding
    sup = f.suppression
    cells: list[str | int | None] = [
        f.id, f.severity.value, f.state.value, f.rule_id, f.title, f.provider, f.account, f.region,
        f.resource_type, f.resource_name, f.resource_uid, f.message,
        "\n".join(f"{e.source}: {e.detail}" for e in f.evidence),
        f.remediation.summary, f.remediation.cli, "; ".join(f.compliance),
        f.first_seen, f.last_seen, f.resolved_at, window_days(rf.window), rf.window.open_since,
        f.previous_severity.value if f.previous_severity else None,
        sup.reason if sup else None, sup.owner if sup else None, sup.expires if sup else None,
    ]
    return [safe_cell("" if c is None else str(c)) for c in cells]


def csv_of_findings(findings: Sequence[ReportFinding]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends; fields with newlines are quoted
    writer.writerow(COLUMNS)
    writer.writerows(finding_row(rf) for rf in findings)
    return out.getvalue()


def render_csv_set(findings: FindingSet) -> str:
    return csv_of_findings(findings.findings)


def render_csv(result: ScanResult) -> str:
    return render_csv_set(finding_set_of_scan(result))


def render_csv_report(data: ReportData) -> str:
    return render_csv_set(finding_set_of_report(data))


FORMAT = Format("csv", "csv", render_csv, render_csv_report)
