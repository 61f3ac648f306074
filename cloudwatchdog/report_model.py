"""What a report shows, as plain typed data: built from the state store (or from one scan alone), rendered by
cloudwatchdog.render (HTML, JSON, CSV, SARIF, OCSF). No I/O here.

Times are ISO 8601 UTC strings ending in ``Z`` (seconds precision); days are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudwatchdog.model import Coverage, Finding


@dataclass(frozen=True)
class Interval:
    """One period during which something was exposed (a finding open, or a resource public)."""

    start: str
    end: str | None  # None: still exposed at the time of the report


@dataclass(frozen=True)
class ExposureWindow:
    """Every interval, oldest first, and their total length up to the report's ``generated_at``."""

    intervals: tuple[Interval, ...]
    total_seconds: int

    @property
    def open_since(self) -> str | None:
        """Start of the interval still open, if any ("public since 2026-11-03")."""
        if self.intervals and self.intervals[-1].end is None:
            return self.intervals[-1].start
        return None


@dataclass(frozen=True)
class ReportFinding:
    finding: Finding  # lifecycle fields (state, first_seen, last_seen, resolved_at, ...) filled from the store
    window: ExposureWindow  # the periods this finding was open (new/open/reopened), from the store


@dataclass(frozen=True)
class CoverageRow:
    """The latest scan of one account, project or subscription."""

    coverage: Coverage
    scan_id: str
    scanned_at: str  # when that scan finished


@dataclass(frozen=True)
class TrendPoint:
    day: str  # YYYY-MM-DD
    open_public: int  # resources public at the end of that day (or now, for today)


@dataclass(frozen=True)
class Headline:
    public_now: int  # resources whose latest verdict is public
    became_public: int  # resources that became public within the report period
    closed: int  # findings resolved within the report period


@dataclass(frozen=True)
class ScanInfo:
    id: str
    started_at: str
    finished_at: str
    complete: bool


@dataclass(frozen=True)
class ReportData:
    title: str
    generated_at: str
    since: str | None  # start of the report period (the previous report), None when there was none
    last_scan: ScanInfo | None
    headline: Headline
    new: tuple[ReportFinding, ...]  # first seen (or reopened) within the period
    resolved: tuple[ReportFinding, ...]  # resolved within the period
    open: tuple[ReportFinding, ...]  # still open from before the period, longest exposed first
    suppressed: tuple[ReportFinding, ...]
    coverage: tuple[CoverageRow, ...]
    trend: tuple[TrendPoint, ...]  # the last 30 days, oldest first

    def all_findings(self) -> tuple[ReportFinding, ...]:
        return (*self.new, *self.open, *self.resolved, *self.suppressed)
