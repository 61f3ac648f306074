"""Regressions of the store on both backends (SQLite and a real PostgreSQL): a scan recorded after a scan of the same
account that started later is stale there and changes nothing; a suppressed finding changes severity silently."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from cloudwatchdog.model import FindingState, Level, ScanResult, Severity
from cloudwatchdog.state.diff import Event, EventType, Suppression
from cloudwatchdog.state.schema import CoverageRow, ScanRow
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso
from state.helpers import ACCOUNT, at, bucket, public_finding, scan

OTHER = "222222222222"
LEAKY = "arn:aws:s3:::leaky"


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    with Store.open(state_url) as s:
        yield s


def _started(result: ScanResult, hours: float) -> ScanResult:
    return replace(result, started_at=iso(at(hours)))


def _types(store: Store) -> list[str]:
    return [e.type.value for e in store.events()]


def test_an_older_scan_recorded_after_a_newer_one_neither_reopens_nor_exposes(
        store: Store, state_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Replica B scanned 09:50-10:00 (fixed: private); replica A scanned 09:00-10:05 and read the bucket at 09:10,
    still public. A is recorded last: it must not reopen the finding nor open a new exposure interval."""
    store.record_scan(scan([bucket("leaky")], when=at(0)))
    store.record_scan(_started(scan([bucket("leaky", Level.PRIVATE)], when=at(2)), 1.83))
    stale = _started(scan([bucket("leaky")], when=at(2.08)), 1)
    with caplog.at_level(logging.WARNING, logger="cloudwatchdog.state.store"):
        out = store.record_scan(stale)
    store.record_scan(_started(scan([bucket("leaky", Level.PRIVATE)], when=at(3)), 2.83))

    assert _types(store) == ["finding.new", "finding.resolved"]
    [view] = store.list_findings(at=at(4))
    assert view.finding.state is FindingState.RESOLVED
    assert len(view.window.intervals) == 1
    window = store.resource_window(LEAKY, at(4))
    assert [(i.start, i.end) for i in window.intervals] == [(iso(at(0)), iso(at(2)))]
    # The stale scan is recorded with its coverage, and says why nothing changed.
    assert stale.id in [sid for sid, _, _ in store.scans()]
    engine = create_engine(state_url)
    try:
        with Session(engine) as s:
            assert s.scalars(select(CoverageRow.account).where(CoverageRow.scan_id == stale.id)).all() == [ACCOUNT]
            assert s.get(ScanRow, stale.id) is not None
    finally:
        engine.dispose()
    assert any(stale.id in r.getMessage() and "not applied" in r.getMessage() for r in caplog.records)
    # What it returns is the store's view, not a reopening.
    [f] = out.findings
    assert f.state is FindingState.RESOLVED and out.resolved == ()


def test_staleness_is_per_account(store: Store) -> None:
    """Only the account that a later-started scan already covered is skipped; the other account is applied."""
    store.record_scan(_started(scan([bucket("leaky", Level.PRIVATE)], when=at(2)), 1.83))
    both = scan([bucket("leaky"), bucket("other", account=OTHER)], when=at(2.1), accounts=(ACCOUNT, OTHER))
    out = store.record_scan(_started(both, 1))
    assert [(v.finding.resource_name, v.finding.state) for v in store.list_findings(at=at(3))] == \
        [("other", FindingState.NEW)]
    assert store.resource_window(LEAKY, at(3)).intervals == ()
    assert store.resource_window("arn:aws:s3:::other", at(3)).intervals != ()
    assert {f.resource_name: f.state for f in out.findings}["other"] is FindingState.NEW


def test_a_scan_that_started_later_is_applied_even_when_recorded_later(store: Store) -> None:
    """Out-of-order recording only skips the older-started scan: a newer-started one always applies."""
    store.record_scan(_started(scan([bucket("leaky")], when=at(2.1)), 1))
    store.record_scan(_started(scan([bucket("leaky", Level.PRIVATE)], when=at(2)), 1.83))
    assert _types(store) == ["finding.new", "finding.resolved"]


def test_a_suppressed_finding_escalates_silently(store: Store) -> None:
    """A muted finding whose severity rises must not emit an escalation (the alert hook would page on-call); its
    row takes the new severity, and when the suppression ends the reopening carries it."""
    b = bucket("leaky")
    sup = [Suppression(reason="public website", owner="web", expires=None, source="config", rule="aws-s3-*",
                       resource="*", label="suppressions[0]")]
    hooked: list[Event] = []

    def hook(_s: Session, events: Sequence[Event]) -> None:
        hooked.extend(events)

    store.record_scan(scan([b], [public_finding(b, Severity.MEDIUM)], when=at(0)), suppressions=sup, on_events=hook)
    out = store.record_scan(scan([b], [public_finding(b, Severity.CRITICAL)], when=at(1)), suppressions=sup,
                            on_events=hook)
    assert [e.type for e in hooked] == [EventType.SUPPRESSED]
    assert _types(store) == ["finding.suppressed"]
    assert (out.findings[0].state, out.findings[0].severity) == (FindingState.SUPPRESSED, Severity.CRITICAL)
    [view] = store.list_findings(at=at(1))
    assert (view.finding.state, view.finding.severity) == (FindingState.SUPPRESSED, Severity.CRITICAL)
    store.record_scan(scan([b], [public_finding(b, Severity.CRITICAL)], when=at(2)), on_events=hook)
    last = hooked[-1]
    assert (last.type, last.state, last.severity) == (EventType.UNSUPPRESSED, FindingState.REOPENED,
                                                      Severity.CRITICAL)
    assert EventType.ESCALATED not in [e.type for e in hooked]


def test_scans_started_within_one_second_are_ordered_to_the_microsecond(store: Store) -> None:
    """Two scans of one account that started in the same second (a rescan and a full scan, two replicas): the one
    that started later wins whichever is recorded first; the order is exact, not a tie at the second."""
    t = at(1)

    def started(result: ScanResult, ms: int) -> ScanResult:
        exact = iso(t).replace("Z", f".{ms:03d}000Z")
        return replace(result, started_at=iso(t), started_at_exact=exact)

    store.record_scan(scan([bucket("leaky")], when=at(0)))
    store.record_scan(started(scan([bucket("leaky", Level.PRIVATE)], when=at(1.1)), 700))  # fixed: resolves
    older = store.record_scan(started(scan([bucket("leaky")], when=at(1.2)), 200))  # read before the fix
    assert _types(store) == ["finding.new", "finding.resolved"]  # the older one reopens nothing
    assert [f.state for f in older.findings] == [FindingState.RESOLVED]
    # And the other way round: a scan that started later in the same second is applied.
    store.record_scan(started(scan([bucket("leaky")], when=at(1.3)), 900))
    assert _types(store) == ["finding.new", "finding.resolved", "finding.reopened"]
    # A result whose exact start disagrees with started_at (set alone, as the demo's history does) is taken at
    # the second.
    lone = replace(scan([bucket("leaky", Level.PRIVATE)], when=at(5)), started_at=iso(at(4)),
                   started_at_exact=iso(t).replace("Z", ".999000Z"))
    store.record_scan(lone)
    assert _types(store)[-1] == "finding.resolved"
