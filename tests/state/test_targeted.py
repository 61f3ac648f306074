"""Targeted rescans in the store (a change event's partial scan): they resolve only their own resources' findings,
mark nothing else gone, never count as the account's coverage in the report, and an older full scan recorded after
one does not overwrite what it saw of its resources. Real SQLite store, migrations included."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from cloudwatchdog.model import Coverage, CoverageStatus, FindingState, Level, ScanResult
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso
from state.helpers import ACCOUNT, at, bucket, scan


def _targeted(result: ScanResult, *names: str, started: float | None = None) -> ScanResult:
    """``result`` as a targeted rescan of ``names``."""
    cov = tuple(dataclasses.replace(c, targets=tuple(f"aws.s3.bucket:{n}" for n in names)) for c in result.coverage)
    out = dataclasses.replace(result, coverage=cov)
    if started is not None:
        out = dataclasses.replace(out, started_at=iso(at(started)))
    return out


def _states(store: Store) -> dict[str, str]:
    return {v.finding.resource_name: v.finding.state.value for v in store.list_findings(states=set(FindingState))}


def test_covers_honours_targets() -> None:
    cov = Coverage("aws", ACCOUNT, CoverageStatus.OK, 1, targets=("aws.s3.bucket:a",))
    assert cov.covers("aws.s3.bucket", "us-east-1", "a")
    assert not cov.covers("aws.s3.bucket", "us-east-1", "b")
    assert not cov.covers("aws.s3.bucket", "us-east-1")
    assert Coverage("aws", ACCOUNT, CoverageStatus.OK, 1).covers("aws.s3.bucket", "us-east-1", "b")
    assert cov.to_dict()["targets"] == ["aws.s3.bucket:a"]
    assert "targets" not in Coverage("aws", ACCOUNT, CoverageStatus.OK, 1).to_dict(), "the JSON shape is unchanged"


def test_a_targeted_rescan_resolves_its_own_findings_only(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.record_scan(scan([bucket("a"), bucket("b")], when=at(0)))
        # A rescan of a: a is private now, b absent (not read): only a resolves; b is not gone.
        rescan = store.record_scan(_targeted(scan([bucket("a", Level.PRIVATE)], when=at(1)), "a"))
        assert [f.resource_name for f in rescan.resolved] == ["a"]
        assert _states(store) == {"a": "resolved", "b": "new"}  # b untouched: new still marks the full scan
        # A rescan of b, which is gone now: named and absent from its listing, its finding resolves.
        store.record_scan(_targeted(scan([], when=at(2)), "b"))
        assert _states(store) == {"a": "resolved", "b": "resolved"}
        report = store.report_data(at=at(3))
        assert [(c.coverage.account, c.coverage.resources) for c in report.coverage] == [(ACCOUNT, 2)]
        full = store.scans()[0][0]
        assert report.last_scan is not None and report.last_scan.id == full, "the last scan is the full one"


def test_an_older_full_scan_does_not_overwrite_a_newer_rescan(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.record_scan(scan([bucket("a", Level.PRIVATE), bucket("b")], when=at(0)))
        full = scan([bucket("a", Level.PRIVATE), bucket("b", Level.PRIVATE)], when=at(2))  # started at(2) - 5 min
        rescan = _targeted(scan([bucket("a")], when=at(2) - timedelta(minutes=1)), "a", started=1.99)
        store.record_scan(rescan)
        assert _states(store) == {"a": "new", "b": "new"}  # the rescan did not look at b
        store.record_scan(full)  # read a before the change: its view of a is older than the rescan's
        assert _states(store) == {"a": "new", "b": "resolved"}


def test_a_failed_rescan_does_not_supersede_an_older_full_scan(tmp_path: Path) -> None:
    """A rescan that could not read its resource (coverage error) saw nothing of it: the full scan recorded after
    it keeps its own view of that resource (here, a newly public bucket gets its finding)."""
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.record_scan(scan([bucket("a", Level.PRIVATE), bucket("b")], when=at(0)))
        full = scan([bucket("a"), bucket("b")], when=at(2))  # started at(2) - 5 min: a is public now
        failed = _targeted(scan([], when=at(2) - timedelta(minutes=1)), "a", started=1.99)
        failed = dataclasses.replace(failed, coverage=tuple(
            dataclasses.replace(c, status=CoverageStatus.ERROR, errors=("AccessDenied",)) for c in failed.coverage))
        store.record_scan(failed)
        store.record_scan(full)
        assert _states(store) == {"a": "new", "b": "open"}
