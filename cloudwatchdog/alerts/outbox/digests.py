"""Digests: every event held for a digest target bundled into one message, on the target's schedule."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from cloudwatchdog.alerts.digest import build_digests
from cloudwatchdog.alerts.event_codec import event_from_json
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.outbox.deliver import _attempt, _Claim, _claim, _owner
from cloudwatchdog.alerts.outbox.rows import (
    DEAD,
    DIGEST_KIND,
    DIGESTED,
    PENDING,
    SENT,
    DeliveryStats,
    _clip,
    _transaction,
    alert_settings,
    log,
)
from cloudwatchdog.alerts.targets import configured_targets, find_target, templates_for
from cloudwatchdog.model import Severity
from cloudwatchdog.state.schema import AlertOutboxRow as Row
from cloudwatchdog.state.timefmt import now_utc, utc

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.store import Store


def send_digests(store: Store, cfg: Config, target_name: str, *, now: datetime | None = None) -> DeliveryStats:
    """Bundle every event held for the digest target ``target_name`` into one message and deliver it (a failed
    delivery is retried by ``deliver_due`` like any other). Nothing held: nothing sent. Raises UnknownTarget for an
    unknown name and ValueError for a target that is not in digest mode."""
    target = find_target(cfg, target_name)
    if target.mode != "digest":
        raise ValueError(f"notification target {target.label!r} is not in digest mode")
    policy = alert_settings(cfg).policy()
    when = utc(now) if now is not None else now_utc()
    with _transaction(store) as s:
        members = list(s.scalars(
            select(Row).where(Row.target == target.label, Row.status == PENDING, Row.next_attempt_at.is_(None),
                              Row.kind != DIGEST_KIND)
            .order_by(Row.id).with_for_update(skip_locked=True)))
        if not members:
            return DeliveryStats(pending=0)
        events = [event_from_json(m.event) for m in members if isinstance(m.event, dict)]
        payload: Payload | None = None
        error = None
        try:
            built = build_digests([(target.label, e) for e in events], [target], templates_for)
            payload = built[0][1] if built else None
        except Exception as exc:
            error = _clip(f"cannot build the message: {type(exc).__name__}: {exc}")
            log.error("alert target %s: %s", target.label, error)
        top = max(members, key=lambda m: Severity(m.severity).rank)
        digest = Row(delivery_id=f"{target.label}:{DIGEST_KIND}:{members[0].id}", target=target.label,
                     kind=DIGEST_KIND, mode="digest", fingerprint=None, severity=top.severity,
                     status=PENDING if error is None else DEAD, attempts=0,
                     next_attempt_at=when if error is None else None, last_error=error, event=None, payload=payload,
                     created_at=when)
        s.add(digest)
        s.flush()
        digest_id = digest.id
        for m in members:
            m.status, m.digest_id = DIGESTED, digest_id
    if error is not None:
        return DeliveryStats(dead=1)
    targets = {t.label: t for t in configured_targets(cfg)}
    owner = _owner(None)
    claim = _claim(store, owner, when, 60, targets, policy, only_id=digest_id)
    if not isinstance(claim, _Claim):
        return DeliveryStats(pending=1)
    outcome = _attempt(store, claim, targets, owner, lambda: when if now is not None else now_utc(), policy)
    return DeliveryStats(sent=int(outcome == SENT), retried=int(outcome == PENDING), dead=int(outcome == DEAD),
                         pending=int(outcome == PENDING))
