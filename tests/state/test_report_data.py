"""The report's data from the store, now and as it stood at an earlier time, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from cloudwatchdog.model import CoverageStatus, FindingState, Level, Severity
from cloudwatchdog.report_model import ReportData
from cloudwatchdog.state.diff import Suppression
from cloudwatchdog.state.store import Store
from state.helpers import ACCOUNT, at, bucket, public_finding, scan

OTHER = "222222222222"


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    """A day of history: a, b public at 08:00; b fixed at 10:00; d public but suppressed from 12:00, when account
    222222222222 failed; a still public the next day at 14:00, e public since 13:00 that day."""
    mute = Suppression(reason="public site", owner="web", expires=date(2026, 12, 31), source="config",
                       fingerprint=public_finding(bucket("d")).id)
    with Store.open(state_url) as s:
        s.record_scan(scan([bucket("a"), bucket("b"), bucket("c", Level.PRIVATE)], when=at(0)))
        s.record_scan(scan([bucket("a"), bucket("b", Level.PRIVATE), bucket("c", Level.PRIVATE)], when=at(2)))
        twelve = scan([bucket("a"), bucket("b", Level.PRIVATE), bucket("c", Level.PRIVATE), bucket("d")], when=at(4))
        failed = scan([], when=at(4), status=CoverageStatus.ERROR, accounts=[OTHER], errors=["AccessDenied: nope"])
        s.record_scan(replace(twelve, coverage=(*twelve.coverage, *failed.coverage)), suppressions=[mute])
        s.record_scan(scan([bucket("a"), bucket("b", Level.PRIVATE), bucket("d"), bucket("e")], when=at(29)),
                      suppressions=[mute])
        s.record_scan(scan([bucket("a"), bucket("b", Level.PRIVATE), bucket("d"), bucket("e")], when=at(30)),
                      suppressions=[mute])
        yield s


def _names(findings: object) -> list[str]:
    return [f.finding.resource_name for f in findings]  # type: ignore[attr-defined]


def test_first_day(store: Store) -> None:
    data: ReportData = store.report_data(at=at(6))
    assert data.generated_at == "2026-03-01T14:00:00Z" and data.since is None
    assert _names(data.new) == ["a"] and data.new[0].finding.state is FindingState.NEW
    assert _names(data.resolved) == ["b"]
    assert data.resolved[0].finding.resolved_at == "2026-03-01T10:00:00Z"
    assert data.resolved[0].window.total_seconds == 2 * 3600
    assert _names(data.open) == []
    assert _names(data.suppressed) == ["d"] and data.suppressed[0].finding.suppression is not None
    # d is public, whether or not its finding is suppressed: the headline counts exposure.
    assert (data.headline.public_now, data.headline.became_public, data.headline.closed) == (2, 3, 1)
    assert data.last_scan is not None and data.last_scan.complete is False
    rows = {(r.coverage.account, r.coverage.status) for r in data.coverage}
    assert rows == {(ACCOUNT, CoverageStatus.OK), (OTHER, CoverageStatus.ERROR)}
    failed = next(r for r in data.coverage if r.coverage.account == OTHER)
    assert failed.coverage.errors == ("AccessDenied: nope",) and failed.scanned_at == "2026-03-01T12:00:00Z"


def test_next_day_since_the_previous_report(store: Store) -> None:
    data = store.report_data(at=at(31), since=at(6))
    assert data.since == "2026-03-01T14:00:00Z"
    assert _names(data.new) == ["e"]
    assert _names(data.open) == ["a"], "a was new yesterday: today it is open"
    assert data.open[0].finding.state is FindingState.OPEN
    assert data.open[0].window.total_seconds == 31 * 3600
    assert data.open[0].window.open_since == "2026-03-01T08:00:00Z"
    assert _names(data.resolved) == []
    assert (data.headline.public_now, data.headline.became_public, data.headline.closed) == (3, 1, 0)
    [coverage_other] = [r for r in data.coverage if r.coverage.account == OTHER]
    assert coverage_other.coverage.status is CoverageStatus.ERROR, "the latest scan of that account failed"


def test_open_is_sorted_longest_exposed_first(store: Store) -> None:
    data = store.report_data(at=at(60), since=at(50))
    assert _names(data.open) == ["a", "e"]
    assert data.open[0].window.total_seconds > data.open[1].window.total_seconds


def test_as_it_stood_earlier(store: Store) -> None:
    data = store.report_data(at=at(1))
    assert _names(data.new) == ["a", "b"] and _names(data.resolved) == []
    assert data.headline.public_now == 2
    assert {r.coverage.account for r in data.coverage} == {ACCOUNT}
    assert data.last_scan is not None and data.last_scan.finished_at == "2026-03-01T08:00:00Z"
    assert data.new[0].window.total_seconds == 3600 and data.new[0].window.open_since is not None


def test_trend_counts_public_resources_at_the_end_of_each_day(store: Store) -> None:
    data = store.report_data(at=at(31))
    assert len(data.trend) == 30
    assert data.trend[-1].day == "2026-03-02" and data.trend[-2].day == "2026-03-01"
    assert data.trend[0].day == "2026-02-01"
    assert [p.open_public for p in data.trend[-3:]] == [0, 2, 3]


def test_escalation_within_the_period_shows_the_previous_severity(state_url: str) -> None:
    with Store.open(state_url) as s:
        b = bucket("grows")
        s.record_scan(scan([b], [public_finding(b, Severity.HIGH)], when=at(0)))
        s.record_scan(scan([b], [public_finding(b, Severity.CRITICAL)], when=at(30)))
        data = s.report_data(at=at(31))
        [f] = data.open
        assert (f.finding.severity, f.finding.previous_severity) == (Severity.CRITICAL, Severity.HIGH)
        earlier = s.report_data(at=at(1))
        assert earlier.new[0].finding.severity is Severity.HIGH
        # New and escalated within the same period: shown as new, with the severity it had before.
        same_day = s.report_data(at=at(31), since=at(-1))
        [f] = same_day.new
        assert (f.finding.state, f.finding.previous_severity) == (FindingState.NEW, Severity.HIGH)


def test_an_empty_store_gives_an_empty_report(state_url: str) -> None:
    with Store.open(state_url) as s:
        data = s.report_data(at=at(0))
    assert data.last_scan is None and data.all_findings() == () and data.coverage == ()
    assert (data.headline.public_now, data.headline.became_public, data.headline.closed) == (0, 0, 0)
    assert len(data.trend) == 30 and all(p.open_public == 0 for p in data.trend)


def test_reports_are_recorded(state_url: str) -> None:
    with Store.open(state_url) as s:
        assert s.last_report_time() is None
        s.record_report(generated_at=at(5), period_start=at(-19), formats=["html"], location="/tmp/r.html")
        s.record_report(generated_at=at(29), period_start=at(5), formats=["html", "json"], location="/tmp")
        assert s.last_report_time() == at(29)
        assert s.last_report_time(at=at(28)) == at(5)
        assert s.last_report_time(at=at(29)) == at(29)


def test_still_open_is_by_severity_then_age_with_a_resources_findings_together(state_url: str) -> None:
    old, writable = bucket("old-medium"), bucket("world-writable", write=True)
    findings = [public_finding(old, Severity.MEDIUM)]
    with Store.open(state_url) as s:
        s.record_scan(scan([old], findings, when=at(0)))
        later = [*findings, public_finding(writable, Severity.CRITICAL),
                 public_finding(writable, Severity.LOW, rule="aws-s3-bucket-acl-hygiene")]
        s.record_scan(scan([old, writable], later, when=at(5)))
        s.record_scan(scan([old, writable], later, when=at(30)))
        data = s.report_data(at=at(31))
    assert [(f.finding.resource_name, f.finding.severity.value) for f in data.open] == [
        ("world-writable", "critical"), ("world-writable", "low"), ("old-medium", "medium")]
