"""Deliver: claim one due row under a lease, deliver it outside any transaction, record the outcome (sent, retried
after a backoff, or given up); ``deliver_due`` runs that over every due row of the configured targets."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.digest import build_digests
from cloudwatchdog.alerts.event_codec import event_from_json
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.outbox.rows import (
    DEAD,
    DIGEST_KIND,
    LOST,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    DeliveryStats,
    _clip,
    _transaction,
    alert_settings,
    log,
)
from cloudwatchdog.alerts.registry import build_payload, deliver
from cloudwatchdog.alerts.targets import configured_targets, templates_for
from cloudwatchdog.settings.alerts import RetryPolicy
from cloudwatchdog.settings.notifications import TargetBase
from cloudwatchdog.state.schema import AlertOutboxRow as Row
from cloudwatchdog.state.timefmt import now_utc, utc

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.store import Store

# A claimed row's lease lasts at least this many times the target's timeout (an email takes several round trips).
LEASE_PER_TIMEOUT = 3


@dataclass(frozen=True)
class _Claim:
    id: int
    delivery_id: str
    target: str
    kind: str
    attempts: int
    first_attempt_at: datetime
    payload: Payload | None
    event: dict[str, Any] | None


def _owner(worker: str | None) -> str:
    base = worker or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base[:180]}#{secrets.token_hex(4)}"  # unique per call: two runs in one process never share a lease


def _due(now: datetime, include_waiting: bool) -> Any:
    waiting = Row.next_attempt_at.is_not(None) if include_waiting else Row.next_attempt_at <= now
    return or_(and_(Row.status == PENDING, Row.next_attempt_at.is_not(None), waiting),
               and_(Row.status == SENDING, Row.lease_until < now))


def _not_blocked() -> Any:
    """No earlier undelivered row of the same finding for the same target (keeps trigger before resolve)."""
    earlier = aliased(Row)
    return ~select(earlier.id).where(earlier.target == Row.target, earlier.fingerprint == Row.fingerprint,
                                     earlier.id < Row.id, earlier.status.in_((PENDING, SENDING))).exists()


def _claim(store: Store, owner: str, now: datetime, lease_seconds: float, targets: Mapping[str, TargetBase],
           policy: RetryPolicy, *, include_waiting: bool = False, only_id: int | None = None,
           skip: Collection[int] = ()) -> _Claim | str | None:
    """Claim one due row, not one of ``skip`` (None: nothing due). A row whose lease expired after the last
    allowed attempt (its worker died every time) is given up instead: returns ``DEAD``."""
    # A row of a target this run's config does not name is left as it is: the config may be another one (a
    # `cloudwatchdog alerts deliver` without -c) or a target renamed by mistake; it is not this run's to give up.
    q = select(Row).where(_due(now, include_waiting), Row.target.in_(list(targets)))
    q = q.where(Row.id == only_id) if only_id is not None else q.where(_not_blocked())
    if skip:
        q = q.where(Row.id.not_in(list(skip)))
    q = q.order_by(Row.next_attempt_at, Row.id).limit(1).with_for_update(skip_locked=True, of=Row)
    with _transaction(store) as s:
        row = s.scalars(q).first()
        if row is None:
            return None
        if row.status == SENDING and row.attempts >= policy.max_attempts:
            row.status, row.lease_owner, row.lease_until, row.next_attempt_at = DEAD, None, None, None
            row.last_error = _clip(f"gave up after {row.attempts} attempt(s), the last one interrupted (the "
                                   f"delivering process stopped); last error: {row.last_error or 'none'}")
            log.warning("alert %s: given up after %d interrupted attempts", row.delivery_id, row.attempts)
            return DEAD
        target = targets.get(row.target)
        lease = max(lease_seconds, LEASE_PER_TIMEOUT * target.timeout if target else 0.0)
        row.status, row.lease_owner = SENDING, owner
        row.lease_until = now + timedelta(seconds=lease)
        row.attempts += 1
        row.first_attempt_at = row.first_attempt_at or now
        return _Claim(row.id, row.delivery_id, row.target, row.kind, row.attempts, row.first_attempt_at,
                      row.payload if isinstance(row.payload, dict) else None,
                      row.event if isinstance(row.event, dict) else None)


def _build(store: Store, target: TargetBase, claim: _Claim) -> Payload:
    """The payload of a row stored without one (its message could not be built then, or a digest)."""
    if claim.kind == DIGEST_KIND:
        with _transaction(store) as s:
            docs = list(s.scalars(select(Row.event).where(Row.digest_id == claim.id).order_by(Row.id)))
        events = [event_from_json(d) for d in docs if isinstance(d, dict)]
        built = build_digests([(target.label, e) for e in events], [target], templates_for)
        if not built:
            raise ValueError("the digest has no events, or the target is no longer in digest mode")
        return built[0][1]
    if claim.event is None:
        raise ValueError("the row holds no event")
    return build_payload(target, [event_from_json(claim.event)], templates_for(target))


def _finish(store: Store, claim: _Claim, owner: str, values: dict[str, Any]) -> bool:
    """Record the outcome, if this worker still holds the lease."""
    with _transaction(store) as s:
        done = s.execute(update(Row).where(Row.id == claim.id, Row.lease_owner == owner, Row.status == SENDING)
                         .values(lease_owner=None, lease_until=None, **values)
                         .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 1) == 0:
        log.warning("alert %s: the lease expired during delivery (another worker may deliver it again; the "
                    "delivery id lets the receiver drop the duplicate)", claim.delivery_id)
        return False
    return True


def _attempt(store: Store, claim: _Claim, targets: Mapping[str, TargetBase], owner: str,
             clock: Callable[[], datetime], policy: RetryPolicy) -> str:
    """Deliver one claimed row (outside any transaction) and record the outcome: SENT, PENDING (retry) or DEAD;
    LOST when the lease expired meanwhile (the row is another worker's now: this run counts nothing) and SKIPPED
    for a row whose target is not configured."""
    target = targets.get(claim.target)
    if target is None:  # not claimed by deliver_due; put it back untouched (the attempt does not count)
        _finish(store, claim, owner, {"status": PENDING, "attempts": max(0, claim.attempts - 1)})
        log.warning("alert %s: left pending: target %s is not in this config", claim.delivery_id, claim.target)
        return SKIPPED
    payload = claim.payload
    if payload is None:
        try:
            payload = _build(store, target, claim)
        except Exception as exc:
            error = _clip(f"cannot build the message: {type(exc).__name__}: {exc}")
            if not _finish(store, claim, owner, {"status": DEAD, "next_attempt_at": None, "last_error": error}):
                return LOST
            log.error("alert target %s: %s", target.label, error)
            return DEAD
    try:
        result = deliver(target, payload, claim.delivery_id)
    except Exception as exc:  # a bug in a channel must not stop the others; its message may hold a secret
        result = DeliveryResult(False, True, None, f"unexpected error in the {target.type} channel: "
                                                   f"{type(exc).__name__}")
        log.error("alert target %s: %s", target.label, result.error)
    now = clock()
    if result.ok:
        if not _finish(store, claim, owner, {"status": SENT, "sent_at": now, "next_attempt_at": None,
                                             "last_status": result.status,
                                             "last_error": _clip(result.error) if result.error else None}):
            return LOST
        return SENT
    error = _clip(result.error or "failed")
    age = (now - claim.first_attempt_at).total_seconds()
    if not result.retryable or policy.exhausted(claim.attempts, age):
        why = "permanent failure" if not result.retryable else f"gave up after {claim.attempts} attempt(s)"
        if not _finish(store, claim, owner, {"status": DEAD, "next_attempt_at": None, "last_status": result.status,
                                             "last_error": _clip(f"{why}: {error}")}):
            return LOST
        log.warning("alert %s to %s: %s (`cloudwatchdog alerts retry` sends it again)", claim.delivery_id,
                    target.label, why)
        return DEAD
    wait = policy.delay(claim.attempts, result.retry_after, random())
    if not _finish(store, claim, owner, {"status": PENDING, "next_attempt_at": now + timedelta(seconds=wait),
                                         "last_status": result.status, "last_error": error}):
        return LOST
    log.info("alert %s to %s: attempt %d failed, next in %ds", claim.delivery_id, target.label, claim.attempts, wait)
    return PENDING


def _reconcile(store: Store, targets: Mapping[str, TargetBase], now: datetime) -> None:
    """Held digest events of a target that is now `immediate` become due. Rows of a target this config does not
    name are left alone (see the module docstring)."""
    held = and_(Row.status == PENDING, Row.next_attempt_at.is_(None), Row.kind != DIGEST_KIND)
    immediate = [name for name, t in targets.items() if t.mode != "digest"]
    if not immediate:
        return
    with _transaction(store) as s:
        s.execute(update(Row).where(held, Row.target.in_(immediate)).values(next_attempt_at=now)
                  .execution_options(synchronize_session=False))


def _waiting(store: Store) -> int:
    with _transaction(store) as s:
        return int(s.execute(select(func.count()).select_from(Row).where(
            Row.status.in_((PENDING, SENDING)), Row.next_attempt_at.is_not(None))).scalar_one())


def deliver_due(store: Store, cfg: Config, *, now: datetime | None = None, limit: int = 100,
                worker: str | None = None, lease_seconds: float = 60, time_budget: float | None = None,
                include_waiting: bool = False) -> DeliveryStats:
    """Deliver up to ``limit`` due rows, one at a time, stopping early when ``time_budget`` seconds have passed
    (a delivery in flight finishes). ``now``: a fixed clock (tests); ``worker``: the lease owner's name (default
    ``host:pid``); ``include_waiting``: also rows waiting for their next retry (`alerts deliver --all`).
    Never raises for a delivery failure (a database failure is a StateError)."""
    policy = alert_settings(cfg).policy()
    targets = {t.label: t for t in configured_targets(cfg)}
    owner = _owner(worker)
    fixed = utc(now) if now is not None else None

    def clock() -> datetime:
        return fixed if fixed is not None else now_utc()

    started = time.monotonic()
    _reconcile(store, targets, clock())
    counts = {SENT: 0, PENDING: 0, DEAD: 0, LOST: 0, SKIPPED: 0}
    tried: list[int] = []  # each row at most once per run, even when its retry is due again meanwhile
    for _ in range(max(0, limit)):
        if time_budget is not None and time.monotonic() - started >= time_budget:
            break
        claim = _claim(store, owner, clock(), lease_seconds, targets, policy, include_waiting=include_waiting,
                       skip=tried)
        if claim is None:
            break
        if isinstance(claim, str):
            counts[claim] += 1
            continue
        tried.append(claim.id)
        counts[_attempt(store, claim, targets, owner, clock, policy)] += 1
    return DeliveryStats(sent=counts[SENT], retried=counts[PENDING], dead=counts[DEAD], pending=_waiting(store))
