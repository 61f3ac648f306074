"""Which finding lifecycle changes alert."""

from __future__ import annotations

from cloudwatchdog.alerts.events import EventKind, event_kind, events_from_findings
from cloudwatchdog.model import FindingState, Severity

from .samples import finding


def test_kinds_from_lifecycle_fields() -> None:
    assert event_kind(finding(state=FindingState.NEW)) is EventKind.NEW
    assert event_kind(finding(state=FindingState.REOPENED)) is EventKind.REOPENED
    assert event_kind(finding(state=FindingState.RESOLVED)) is EventKind.RESOLVED
    assert event_kind(finding(state=FindingState.OPEN, previous_severity=Severity.MEDIUM)) is EventKind.ESCALATED


def test_no_change_no_alert() -> None:
    assert event_kind(finding(state=FindingState.OPEN)) is None
    assert event_kind(finding(state=FindingState.SUPPRESSED)) is None
    # A severity that went down is not an escalation.
    assert event_kind(finding(state=FindingState.OPEN, previous_severity=Severity.CRITICAL)) is None


def test_events_from_findings_carry_tags_time_and_previous_severity() -> None:
    findings = [
        finding(id="a", state=FindingState.NEW),
        finding(id="b", state=FindingState.OPEN),
        finding(id="c", state=FindingState.OPEN, severity=Severity.CRITICAL, previous_severity=Severity.HIGH),
        finding(id="d", state=FindingState.RESOLVED, resolved_at="2026-03-02T09:00:00Z"),
    ]
    tags = {"arn:aws:s3:::acme-public-assets": {"env": "prod"}}
    events = events_from_findings(findings, "2026-03-02T10:00:00Z", tags)
    assert [(e.finding.id, e.kind) for e in events] == [("a", EventKind.NEW), ("c", EventKind.ESCALATED),
                                                        ("d", EventKind.RESOLVED)]
    assert events[0].at == "2026-03-02T10:00:00Z" and events[0].previous_severity is None
    assert events[1].previous_severity is Severity.HIGH
    assert events[2].at == "2026-03-02T09:00:00Z"
    assert all(e.resource_tags == {"env": "prod"} for e in events)
    assert events[0].webhook_event == "finding.new" and events[2].webhook_event == "finding.resolved"
    assert len({e.key for e in events}) == 3


def test_from_the_stores_lifecycle_events() -> None:
    from datetime import UTC, datetime

    from cloudwatchdog.alerts.events import from_lifecycle
    from cloudwatchdog.state.diff import Event, EventType

    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    f = finding(severity=Severity.CRITICAL)

    def store_event(kind: EventType, old_severity: Severity | None = None) -> Event:
        return Event(kind, f.id, at, "scan-1", FindingState.OPEN, f.severity, old_severity=old_severity, finding=f)

    esc = from_lifecycle(store_event(EventType.ESCALATED, old_severity=Severity.HIGH), {"env": "prod"})
    assert esc is not None and esc.kind is EventKind.ESCALATED and esc.previous_severity is Severity.HIGH
    assert esc.at == "2026-03-01T10:00:00Z" and esc.resource_tags == {"env": "prod"} and esc.finding is f
    for kind, expected in [(EventType.NEW, EventKind.NEW), (EventType.REOPENED, EventKind.REOPENED),
                           (EventType.RESOLVED, EventKind.RESOLVED)]:
        got = from_lifecycle(store_event(kind))
        assert got is not None and got.kind is expected and got.previous_severity is None
    for quiet in (EventType.DEESCALATED, EventType.SUPPRESSED, EventType.UNSUPPRESSED):
        assert from_lifecycle(store_event(quiet)) is None
    # A suppression that ends (expired, removed) while the resource is still exposed reopens the finding: it alerts.
    ended = Event(EventType.UNSUPPRESSED, f.id, at, "scan-1", FindingState.REOPENED, f.severity,
                  old_state=FindingState.SUPPRESSED, finding=f)
    got = from_lifecycle(ended)
    assert got is not None and got.kind is EventKind.REOPENED and got.webhook_event == "finding.reopened"
    assert from_lifecycle(Event(EventType.NEW, f.id, at, None, FindingState.NEW, f.severity)) is None


def test_the_key_tells_apart_events_of_one_finding_kind_and_time() -> None:
    """Several scans can share one timestamp (the store never moves time backwards): each lifecycle event keeps its
    own key, and the same event always gets the same key."""
    from datetime import UTC, datetime

    from cloudwatchdog.alerts.events import from_lifecycle
    from cloudwatchdog.state.diff import Event, EventType

    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    f = finding()

    def resolved(scan_id: str | None) -> Event:
        return Event(EventType.RESOLVED, f.id, at, scan_id, FindingState.RESOLVED, f.severity, finding=f)

    keys = [a.key for e in (resolved("scan-1"), resolved("scan-2"), resolved("scan-1"))
            for a in [from_lifecycle(e)] if a is not None]
    assert len(keys) == 3 and keys[0] != keys[1] and keys[0] == keys[2]
    assert keys[0] == f"{f.id}:resolved:2026-03-01T10:00:00Z:scan-1"
    cli = [from_lifecycle(resolved(None), origin=o) for o in ("event-7", "event-9")]
    assert cli[0] is not None and cli[1] is not None and cli[0].key != cli[1].key
