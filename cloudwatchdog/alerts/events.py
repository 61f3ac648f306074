"""Alert events: the finding lifecycle changes that alert (pure).

Only changes alert: a finding that is new, reopened (resolved before, exposed again; or its suppression ended while
it is still exposed), escalated (its severity rose) or resolved. A finding that stays open at the same severity, or
is suppressed, sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from cloudwatchdog.model import Finding, FindingState, Severity


class EventKind(StrEnum):
    NEW = "new"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


KIND_LABELS: dict[EventKind, str] = {
    EventKind.NEW: "New finding",
    EventKind.REOPENED: "Finding reopened",
    EventKind.ESCALATED: "Finding escalated",
    EventKind.RESOLVED: "Finding resolved",
}


@dataclass(frozen=True)
class AlertEvent:
    """One lifecycle change of one finding, at ``at`` (ISO 8601). ``previous_severity`` is set for escalations;
    ``resource_tags`` are the resource's tags (tag filters match on them)."""

    kind: EventKind
    finding: Finding
    at: str
    previous_severity: Severity | None = None
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    # What recorded the change (the scan id, or ``event-<n>`` for a change made outside a scan): several scans can
    # share one timestamp, so the time alone does not tell two lifecycle events of a finding apart.
    origin: str = ""

    @property
    def key(self) -> str:
        """Stable identity of this event (finding, kind, time, origin): the outbox keys deliveries on it."""
        base = f"{self.finding.id}:{self.kind.value}:{self.at}"
        return f"{base}:{self.origin}" if self.origin else base

    @property
    def webhook_event(self) -> str:
        """The generic webhook's event name: ``finding.new`` ..."""
        return f"finding.{self.kind.value}"

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def event_kind(finding: Finding) -> EventKind | None:
    """The change a finding's lifecycle fields describe, or None when there is nothing to alert."""
    if finding.state is FindingState.NEW:
        return EventKind.NEW
    if finding.state is FindingState.REOPENED:
        return EventKind.REOPENED
    if finding.state is FindingState.RESOLVED:
        return EventKind.RESOLVED
    prev = finding.previous_severity
    if finding.state is FindingState.OPEN and prev is not None and finding.severity.rank > prev.rank:
        return EventKind.ESCALATED
    return None


def events_from_findings(
    findings: Iterable[Finding], at: str, tags_by_resource: Mapping[str, Mapping[str, str]] | None = None
) -> list[AlertEvent]:
    """The alert events of one scan's findings (as the state store returns them, lifecycle fields filled).
    ``tags_by_resource`` maps resource uid -> tags, for the targets' tag filters."""
    tags = tags_by_resource or {}
    out: list[AlertEvent] = []
    for f in findings:
        kind = event_kind(f)
        if kind is None:
            continue
        previous = f.previous_severity if kind is EventKind.ESCALATED else None
        out.append(AlertEvent(kind, f, f.resolved_at if kind is EventKind.RESOLVED and f.resolved_at else at,
                              previous, dict(tags.get(f.resource_uid, {}))))
    return out


class LifecycleEvent(Protocol):
    """What the state store's lifecycle events offer (cloudwatchdog.state.diff.Event), read structurally so this
    pure module imports no store code."""

    @property
    def type(self) -> str: ...  # "finding.new", "finding.reopened", "finding.escalated", "finding.resolved", ...

    @property
    def at(self) -> datetime: ...

    @property
    def scan_id(self) -> str | None: ...

    @property
    def state(self) -> str: ...  # the finding's state after the event

    @property
    def old_severity(self) -> Severity | None: ...

    @property
    def finding(self) -> Finding | None: ...


_KIND_BY_TYPE = {f"finding.{k.value}": k for k in EventKind}


_UNSUPPRESSED = "finding.unsuppressed"


def from_lifecycle(event: LifecycleEvent, resource_tags: Mapping[str, str] | None = None, *,
                   origin: str | None = None) -> AlertEvent | None:
    """The alert event of a store lifecycle event, or None for the ones that never alert (de-escalated,
    suppressed, an unsuppression that leaves the finding anything but reopened) and for an event without its
    finding. A suppression that ends (expired, removed from the config or with `findings unsuppress`) while the
    resource is still exposed reopens the finding: that alerts as ``reopened``. ``origin`` (default: the event's
    scan id) tells apart events of one finding and kind at the same time."""
    kind = _KIND_BY_TYPE.get(str(event.type))
    if str(event.type) == _UNSUPPRESSED and str(event.state) == EventKind.REOPENED.value:
        kind = EventKind.REOPENED
    if kind is None or event.finding is None:
        return None
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    when = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    previous = event.old_severity if kind is EventKind.ESCALATED else None
    return AlertEvent(kind, event.finding, when, previous, dict(resource_tags or {}),
                      origin if origin is not None else (event.scan_id or ""))
