"""Enqueue: the state store hook that turns a recorded change into outbox rows, in the recording transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cloudwatchdog.alerts.event_codec import event_to_json
from cloudwatchdog.alerts.events import AlertEvent, from_lifecycle
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.outbox.rows import DEAD, PENDING, _clip, log
from cloudwatchdog.alerts.registry import build_payload
from cloudwatchdog.alerts.routing import route
from cloudwatchdog.alerts.targets import configured_targets, templates_for
from cloudwatchdog.settings.notifications import TargetBase
from cloudwatchdog.state.schema import AlertOutboxRow as Row
from cloudwatchdog.state.schema import FindingEventRow as EventRow
from cloudwatchdog.state.timefmt import now_utc, utc

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.diff import Event
    from cloudwatchdog.state.store import EventHook

_CHUNK = 200


# --- resource tags for the tag filters -------------------------------------------------------------------------------


def _tags_for(session: Session, events: Sequence[Event]) -> dict[str, dict[str, str]]:
    """Tags by resource uid: as the recorded scan read them (each event carries its resource's), else (a resource
    this scan did not see, e.g. a deleted bucket whose finding resolves) the tags stored with the finding's latest
    alert."""
    out: dict[str, dict[str, str]] = {}
    missing: dict[str, str] = {}  # fingerprint -> resource uid
    for e in events:
        f = e.finding
        if f is None:
            continue
        if e.tags is not None:
            out[f.resource_uid] = dict(e.tags)
        elif f.resource_uid not in out:
            missing[f.id] = f.resource_uid
    fingerprints = sorted(missing)
    for i in range(0, len(fingerprints), _CHUNK):
        chunk = fingerprints[i:i + _CHUNK]
        for fp, doc in session.execute(select(Row.fingerprint, Row.event).where(Row.fingerprint.in_(chunk))
                                       .order_by(Row.id)):
            if fp is not None and isinstance(doc, dict) and isinstance(doc.get("tags"), dict) and doc["tags"]:
                out[missing[fp]] = {str(k): str(v) for k, v in doc["tags"].items()}
    return out


# --- enqueue ---------------------------------------------------------------------------------------------------------


def outbox_hook(cfg: Config, *, clock: Callable[[], datetime] = now_utc) -> EventHook:
    """The state store hook that fills the outbox, in the recording transaction: ``Store.open(url,
    hooks=[outbox_hook(cfg)])``. Targets are taken from ``cfg`` now (they were validated when it was loaded)."""
    targets = configured_targets(cfg)

    def hook(session: Session, events: Sequence[Event]) -> None:
        if targets and events:
            enqueue(session, events, targets, now=clock())

    return hook


def enqueue(session: Session, events: Sequence[Event], targets: Sequence[TargetBase], *,
            now: datetime | None = None) -> int:
    """Insert the outbox rows for ``events`` in ``session``'s transaction; returns the number of (target, event)
    pairs routed (a pair already in the outbox is left as it is)."""
    when = utc(now) if now is not None else now_utc()
    tags = _tags_for(session, events)
    alerts = [a for e in events if e.finding is not None
              for a in [from_lifecycle(e, tags.get(e.finding.resource_uid), origin=_origin(session, e))]
              if a is not None]
    routed = route(alerts, targets)
    by_name = {t.label: t for t in targets}
    rows = [_row(by_name[name], event, when) for name, event in routed]
    _insert_new(session, rows)
    return len(rows)


def _origin(session: Session, event: Event) -> str:
    """What tells this lifecycle event apart from another of the same finding, kind and time (several scans can
    share one timestamp; the CLI can suppress and unsuppress twice in a second): its scan id; for an event outside a
    scan, its ``finding_events`` row (written in this transaction just before the hook runs). The same event
    enqueued again gets the same origin, so it stays one row."""
    if event.scan_id:
        return event.scan_id
    row_id = session.execute(select(func.max(EventRow.id)).where(
        EventRow.fingerprint == event.fingerprint, EventRow.type == str(event.type), EventRow.at == event.at,
        EventRow.scan_id.is_(None))).scalar()
    return f"event-{row_id}" if row_id is not None else ""


def _row(target: TargetBase, event: AlertEvent, now: datetime) -> dict[str, Any]:
    immediate = target.mode != "digest"
    payload: Payload | None = None
    status, error = PENDING, None
    if immediate:
        try:
            payload = build_payload(target, [event], templates_for(target))
        except Exception as exc:  # a broken template must not lose the scan: the row says why, `alerts retry`
            status, error = DEAD, _clip(f"cannot build the message: {type(exc).__name__}: {exc}")
            log.error("alert target %s: %s", target.label, error)
    return {
        "delivery_id": f"{target.label}:{event.key}", "target": target.label, "kind": event.kind.value,
        "mode": "immediate" if immediate else "digest", "fingerprint": event.finding.id,
        "severity": event.finding.severity.value, "status": status, "attempts": 0,
        "next_attempt_at": now if immediate else None, "first_attempt_at": None, "lease_owner": None,
        "lease_until": None, "last_status": None, "last_error": error, "event": event_to_json(event),
        "payload": payload, "digest_id": None, "created_at": now, "sent_at": None,
    }


def _insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (delivery_id) DO NOTHING."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    for i in range(0, len(rows), _CHUNK):
        chunk = list(rows[i:i + _CHUNK])
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(Row).values(chunk).on_conflict_do_nothing(index_elements=["delivery_id"]))
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            session.execute(sqlite_insert(Row).values(chunk).on_conflict_do_nothing(
                index_elements=["delivery_id"]))
        else:  # another database: the store's write lock is held, so look first
            ids = {r["delivery_id"] for r in chunk}
            have = set(session.scalars(select(Row.delivery_id).where(Row.delivery_id.in_(ids))))
            fresh = [r for r in chunk if r["delivery_id"] not in have]
            if fresh:
                session.execute(insert(Row), fresh)

