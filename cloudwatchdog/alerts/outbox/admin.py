"""Inspection and repair: counts for metrics, the rows for `cloudwatchdog alerts list`, and given-up rows sent
again (`cloudwatchdog alerts retry`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from cloudwatchdog.alerts.outbox.rows import (
    DEAD,
    DIGEST_KIND,
    PENDING,
    SENDING,
    OutboxEntry,
    OutboxStats,
    _transaction,
)
from cloudwatchdog.state.schema import AlertOutboxRow as Row
from cloudwatchdog.state.timefmt import now_utc, utc

if TYPE_CHECKING:
    from cloudwatchdog.state.store import Store


def outbox_stats(store: Store, *, now: datetime | None = None) -> OutboxStats:
    when = utc(now) if now is not None else now_utc()
    with _transaction(store) as s:
        counts: dict[str, int] = {status: int(n) for status, n in
                                  s.execute(select(Row.status, func.count()).group_by(Row.status)).all()}
        held = s.execute(select(func.count()).select_from(Row).where(
            Row.status == PENDING, Row.next_attempt_at.is_(None))).scalar_one()
        oldest = s.execute(select(func.min(Row.created_at)).where(
            Row.status.in_((PENDING, SENDING)), Row.next_attempt_at.is_not(None))).scalar()
    age = None if oldest is None else max(0.0, (when - utc(oldest)).total_seconds())
    return OutboxStats(pending=counts.get(PENDING, 0) + counts.get(SENDING, 0), dead=counts.get(DEAD, 0),
                       oldest_pending_age_seconds=age, held=int(held))


def list_outbox(store: Store, *, statuses: Collection[str] | None = None, limit: int = 100) -> list[OutboxEntry]:
    """Outbox rows, newest first (``statuses`` None: all)."""
    q = select(Row).order_by(Row.id.desc()).limit(limit)
    if statuses is not None:
        q = q.where(Row.status.in_(list(statuses)))
    with _transaction(store) as s:
        rows = list(s.scalars(q))
        digest_ids = [r.id for r in rows if r.kind == DIGEST_KIND]
        sizes: dict[int, int] = {}
        if digest_ids:
            sizes = {int(k): int(v) for k, v in s.execute(
                select(Row.digest_id, func.count()).where(Row.digest_id.in_(digest_ids)).group_by(Row.digest_id))
                .all() if k is not None}
    out = []
    for r in rows:
        finding = r.event.get("finding") if isinstance(r.event, dict) else None
        name = str(finding.get("resource_name")) if isinstance(finding, dict) and "resource_name" in finding else None
        out.append(OutboxEntry(r.delivery_id, r.target, r.kind, r.mode, r.status, r.attempts, r.severity,
                               r.fingerprint, name, r.created_at, r.next_attempt_at, r.sent_at, r.last_status,
                               r.last_error, sizes.get(r.id, 0)))
    return out


def retry_dead(store: Store, delivery_id: str | None = None, *, now: datetime | None = None) -> int:
    """Make dead rows due again with a fresh set of attempts: the one ``delivery_id``, or every dead row (None).
    Returns how many. Raises LookupError for an unknown delivery id or one that is not dead."""
    when = utc(now) if now is not None else now_utc()
    with _transaction(store) as s:
        q = select(Row).where(Row.status == DEAD)
        if delivery_id is not None:
            row = s.scalars(select(Row).where(Row.delivery_id == delivery_id)).first()
            if row is None:
                raise LookupError(f"no alert with delivery id {delivery_id!r} in the outbox")
            if row.status != DEAD:
                raise LookupError(f"alert {delivery_id} is {row.status}, not dead: only dead alerts are retried")
            q = q.where(Row.id == row.id)
        rows = list(s.scalars(q.with_for_update()))
        for r in rows:
            r.status, r.attempts, r.first_attempt_at, r.next_attempt_at = PENDING, 0, None, when
            r.lease_owner = r.lease_until = None
        return len(rows)
