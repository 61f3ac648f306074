"""The HTML report: one self-contained file (CSS, script and chart inline; nothing loaded from the network).

Templates live in ``reports/`` at the repository root, packaged in the wheel as ``cloudwatchdog/_reports``.
Everything from a cloud is untrusted: Jinja2 autoescaping is on for every template, the script never turns data into
markup, and a Content-Security-Policy allows only this file's own style and script (by hash) and ``data:`` images.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from cloudwatchdog import __version__
from cloudwatchdog.model import CoverageStatus, FindingState, ScanResult, Severity
from cloudwatchdog.render.formats import Format
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.render.svg import trend_svg
from cloudwatchdog.render.windows import describe_window, parse_time
from cloudwatchdog.report_model import CoverageRow, ExposureWindow, ReportData, ReportFinding

TEMPLATE = "report.html.j2"
_STATUS_LABEL = {"ok": "scanned", "partial": "partial", "error": "failed"}
_STATUS_ORDER = {CoverageStatus.ERROR: 0, CoverageStatus.PARTIAL: 1, CoverageStatus.OK: 2}


def reports_dir_beside(module_file: Path) -> Path:
    """The report templates for this module file (``cloudwatchdog/render/html.py``): packaged or in the checkout."""
    packaged = module_file.parents[1] / "_reports"
    if packaged.is_dir():
        return packaged
    return module_file.parents[2] / "reports"


def reports_dir() -> Path:
    return reports_dir_beside(Path(__file__).resolve())


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    description: str
    findings: tuple[ReportFinding, ...]


def when(value: str) -> str:
    """``2026-11-03T07:00:00Z`` -> ``2026-11-03 07:00 UTC``."""
    try:
        return parse_time(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def window_text(window: ExposureWindow) -> str:
    return describe_window(window, verb="exposed")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(reports_dir()),
        autoescape=True,  # every template, whatever its name: cloud-provided strings can hold markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = when
    env.filters["window_text"] = window_text
    return env


@lru_cache(maxsize=4)
def _asset(name: str, closing_tag: str) -> str:
    text = (reports_dir() / name).read_text(encoding="utf-8")
    if closing_tag in text.lower():
        raise ValueError(f"{name} must not contain {closing_tag}")
    return text


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(css: str, script: str) -> str:
    """Nothing from the network; only this file's own style and script, pinned by hash."""
    return (f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(script)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _sections(data: ReportData) -> list[Section]:
    since = "since the last report" if data.since else "in this report"
    return [
        Section("new", f"New {since}", "First seen, or back after being resolved, most severe first.", data.new),
        Section("resolved", f"Resolved {since}", "No longer exposed: fixed, deleted or no longer matching a rule.",
                data.resolved),
        Section("open", "Still open", "Exposed before this period and still exposed, longest exposed first.",
                data.open),
        Section("suppressed", "Suppressed", "Muted on purpose, with the reason, owner and expiry.", data.suppressed),
    ]


def _context(data: ReportData) -> dict[str, Any]:
    css = _asset("report.css", "</style")
    script = _asset("report.js", "</script")
    active = [rf.finding for rf in (*data.new, *data.open)
              if rf.finding.state is not FindingState.SUPPRESSED]
    findings = data.all_findings()
    accounts = sorted({(rf.finding.provider, rf.finding.account) for rf in findings})
    names = {(r.coverage.provider, r.coverage.account): r.coverage.name for r in data.coverage if r.coverage.name}
    names.update({(rf.finding.provider, rf.finding.account): rf.finding.account_name for rf in findings
                  if rf.finding.account_name})
    coverage_rows: list[CoverageRow] = sorted(
        data.coverage, key=lambda r: (_STATUS_ORDER[r.coverage.status], r.coverage.provider, r.coverage.account))
    return dict(
        data=data,
        version=__version__,
        csp=content_security_policy(css, script),
        css=Markup(css),
        script=Markup(script),
        trend_svg=Markup(trend_svg(data.trend)),
        period=f"since {when(data.since)}" if data.since else "in this report",
        gaps=[r for r in data.coverage if r.coverage.status is not CoverageStatus.OK],
        severity_counts=[(s.value, sum(1 for f in active if f.severity is s)) for s in Severity],
        severities=[s.value for s in Severity],
        providers=sorted({f.finding.provider for f in findings}),
        accounts=[(f"{p}:{a}", f"{p} {a}" + (f" ({names[(p, a)]})" if (p, a) in names else "")) for p, a in accounts],
        total=len(findings),
        sections=_sections(data),
        coverage_rows=coverage_rows,
        coverage_counts={s.value: sum(1 for r in data.coverage if r.coverage.status is s) for s in CoverageStatus},
        status_label=_STATUS_LABEL,
    )


def render_report_html(data: ReportData) -> str:
    return _environment().get_template(TEMPLATE).render(**_context(data))


def write_report_html(data: ReportData, out: TextIO) -> None:
    """``render_report_html``'s text, streamed by Jinja2 as the template runs (never one string)."""
    for chunk in _environment().get_template(TEMPLATE).generate(**_context(data)):
        out.write(chunk)


def render_html(result: ScanResult) -> str:
    """The HTML report of one scan alone (no history: windows from first seen to the end of the scan)."""
    return render_report_html(report_from_scan(result))


def write_html(result: ScanResult, out: TextIO) -> None:
    write_report_html(report_from_scan(result), out)


FORMAT = Format("html", "html", render_html, render_report_html, scan_writer=write_html,
                report_writer=write_report_html)
