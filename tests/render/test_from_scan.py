"""A report from one scan without history: sections from the lifecycle fields, windows, headline, coverage."""

from __future__ import annotations

from cloudwatchdog.model import CoverageStatus
from cloudwatchdog.render.from_scan import report_from_scan

from .sample import GENERATED_AT, first_scan, sample_scan


def _names(section: tuple) -> list[str]:  # type: ignore[type-arg]
    return [rf.finding.resource_name for rf in section]


def test_sections_follow_the_lifecycle_state() -> None:
    data = report_from_scan(sample_scan())
    assert _names(data.new) == ["payroll-exports"]
    assert _names(data.open) == ["came-back", "website-assets", "shared-logs"]  # longest exposed first
    assert _names(data.resolved) == ["old-share"]
    assert _names(data.suppressed) == ["open-data-mirror"]


def test_windows_run_from_first_seen_to_now() -> None:
    scan = sample_scan()
    data = report_from_scan(scan)
    website = next(rf for rf in data.open if rf.finding.resource_name == "website-assets")
    assert website.window.open_since == "2026-11-03T07:00:00Z"
    assert website.window.total_seconds == 18 * 86400
    old = data.resolved[0]
    assert old.window.open_since is None
    assert old.window.intervals[0].end == "2026-11-21T07:00:00Z"  # its resolved_at
    assert old.window.total_seconds == 12 * 86400
    later = report_from_scan(scan, now="2026-11-22T07:00:00Z")
    assert next(rf for rf in later.open if rf.finding.resource_name == "website-assets").window.total_seconds == (
        19 * 86400)
    assert later.generated_at == "2026-11-22T07:00:00Z" and later.trend[0].day == "2026-11-22"


def test_headline_from_the_resources_levels() -> None:
    data = report_from_scan(sample_scan())
    # 4 public resources; payroll-exports is new and came-back reopened (website-assets was already open and
    # open-data-mirror is suppressed); old-share was resolved.
    assert (data.headline.public_now, data.headline.became_public, data.headline.closed) == (4, 2, 1)
    assert [(p.day, p.open_public) for p in data.trend] == [("2026-11-21", 4)]


def test_a_scan_outside_the_store_starts_windows_at_the_scan() -> None:
    scan = first_scan()
    data = report_from_scan(scan)
    assert len(data.new) == len(scan.findings) and not data.open and not data.resolved
    assert all(rf.window.open_since == scan.started_at for rf in data.new)
    assert all(rf.window.total_seconds == 300 for rf in data.new)  # 06:55 -> 07:00
    assert data.headline.became_public == data.headline.public_now == 4


def test_coverage_and_scan_info() -> None:
    scan = sample_scan()
    data = report_from_scan(scan)
    assert [(r.coverage.account, r.coverage.status, r.scan_id, r.scanned_at) for r in data.coverage] == [
        ("123456789012", CoverageStatus.OK, "scan-42", GENERATED_AT),
        ("210987654321", CoverageStatus.PARTIAL, "scan-42", GENERATED_AT)]
    assert data.last_scan is not None and data.last_scan.complete is False and data.last_scan.id == "scan-42"
    assert data.since is None
