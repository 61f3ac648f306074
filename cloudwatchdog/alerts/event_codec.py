"""Alert events to and from the JSON kept in the outbox (pure): the finding in the shape of ``Finding.to_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.model import Severity
from cloudwatchdog.state.codec import finding_from_dict


def event_to_json(event: AlertEvent) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "at": event.at,
        "previous_severity": event.previous_severity.value if event.previous_severity else None,
        "tags": dict(event.resource_tags),
        "finding": event.finding.to_dict(),
        "origin": event.origin,
    }


def event_from_json(doc: Mapping[str, Any]) -> AlertEvent:
    """Raises KeyError or ValueError on a document that is not an event."""
    previous = doc.get("previous_severity")
    tags = doc.get("tags") or {}
    return AlertEvent(
        kind=EventKind(doc["kind"]),
        finding=finding_from_dict(doc["finding"]),
        at=str(doc["at"]),
        previous_severity=Severity(previous) if previous else None,
        resource_tags={str(k): str(v) for k, v in tags.items()},
        origin=str(doc.get("origin") or ""),
    )
