"""Stored rows as domain values: a finding row as the Finding it records, the lifecycle's view of finding and
resource rows, an event row as its Event."""

from __future__ import annotations

from dataclasses import replace

from cloudwatchdog.model import Finding, FindingState, Level, Severity
from cloudwatchdog.state.codec import finding_from_dict
from cloudwatchdog.state.diff import Event, EventType, StoredFinding, StoredResource
from cloudwatchdog.state.schema import FindingEventRow, FindingRow, ResourceStateRow


def row_finding(row: FindingRow) -> Finding:
    f = finding_from_dict(row.data)
    return replace(f, state=FindingState(row.state), severity=Severity(row.severity))


def stored_finding(row: FindingRow) -> StoredFinding:
    return StoredFinding(finding=row_finding(row), state=FindingState(row.state), severity=Severity(row.severity),
                         first_seen=row.first_seen, last_seen=row.last_seen, resolved_at=row.resolved_at)


def stored_resource(row: ResourceStateRow) -> StoredResource:
    return StoredResource(uid=row.uid, provider=row.provider, account=row.account, region=row.region, type=row.type,
                          name=row.name, level=Level(row.level), latent=row.latent, public=row.public,
                          unknown=row.unknown, gone=row.gone, first_seen=row.first_seen, last_seen=row.last_seen)


def event_from_row(row: FindingEventRow) -> Event:
    return Event(type=EventType(row.type), fingerprint=row.fingerprint, at=row.at, scan_id=row.scan_id,
                 state=FindingState(row.state), severity=Severity(row.severity),
                 old_state=FindingState(row.old_state) if row.old_state else None,
                 old_severity=Severity(row.old_severity) if row.old_severity else None, detail=row.detail)
