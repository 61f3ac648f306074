"""The alert outbox: alerts written in the transaction that records the state change, then delivered with retries.

Enqueue (``outbox_hook``): the state store calls the hook inside the transaction that records a scan; the hook turns
the lifecycle events into alert events (``events.from_lifecycle``), routes them over the configured targets
(``routing.route``) and inserts one ``alert_outbox`` row per (target, event), keyed by the delivery id
``"<target>:<event key>"`` (unique: enqueueing the same event again is a no-op). Rows of ``immediate`` targets are
due at once, with the channel payload built then (``registry.build_payload``: it holds no secret); rows of
``digest`` targets are held until ``send_digests`` bundles them. The hook does no network I/O and never raises for a
target: a message that cannot be built becomes a ``dead`` row with the reason, so the scan is still recorded.

Deliver (``deliver_due``): a worker claims one due row at a time (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``;
SQLite: the database write lock), marks it ``sending`` with a lease (owner, until) and commits; then delivers it
outside any transaction (``registry.deliver``) and records the outcome: ``sent``; ``pending`` again after an
exponential backoff with jitter (``settings.alerts.RetryPolicy``, never sooner than Retry-After); or ``dead`` after a
permanent failure, too many attempts or too long. A worker killed mid-delivery (``kill -9``) leaves its row
``sending`` until the lease expires; then any worker claims it again. Rows of one finding for one target go out in
order (a PagerDuty resolve never overtakes its trigger).

A run delivers only the rows of the targets its own config names. Rows of any other target stay as they are
(pending or held, no attempt counted): a run with another config, or none (`cloudwatchdog alerts deliver` without
``-c``), must not give up alerts meant for targets it does not know. Rows of a target removed or renamed for good
stay pending (``alerts list`` shows them; ``outbox_stats`` counts them) until the target is configured again.

Each attempt ends well within its lease (``LEASE_PER_TIMEOUT`` x the target's timeout): HTTP and SMTP deliveries
are cut off after ``deadline.TOTAL_PER_TIMEOUT`` x the timeout in all, however slowly the receiver answers. Should
a lease still expire mid-delivery (a stalled process), the outcome is not recorded over the new holder's, and the
run does not count the row as sent: its new holder reports it.

The guarantee, precisely: every alert is delivered at least once, with the same delivery id on every attempt
(webhook ``X-Cloudwatchdog-Delivery``, email ``Message-ID``, PagerDuty ``dedup_key`` = the finding id). A crash
between a receiver's answer and the row being marked ``sent`` repeats that one delivery, which receivers drop by
its id. Everything else happens exactly once: one row per (target, event), one live lease per row.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.digest import build_digests
from cloudwatchdog.alerts.event_codec import event_from_json, event_to_json
from cloudwatchdog.alerts.events import AlertEvent, from_lifecycle
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.registry import build_payload, deliver
from cloudwatchdog.alerts.routing import route
from cloudwatchdog.alerts.targets import configured_targets, find_target, templates_for
from cloudwatchdog.model import Severity
from cloudwatchdog.settings.alerts import AlertsConfig, RetryPolicy
from cloudwatchdog.settings.notifications import TargetBase
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.schema import AlertOutboxRow as Row
from cloudwatchdog.state.schema import FindingEventRow as EventRow
from cloudwatchdog.state.timefmt import now_utc, utc

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.diff import Event
    from cloudwatchdog.state.store import EventHook, Store

log = logging.getLogger("cloudwatchdog.alerts.outbox")

PENDING, SENDING, SENT, DEAD, DIGESTED = "pending", "sending", "sent", "dead", "digested"
STATUSES = (PENDING, SENDING, SENT, DEAD, DIGESTED)
# Outcomes of one attempt that are no row status: the lease was lost meanwhile; the target is not configured.
LOST, SKIPPED = "lost", "skipped"
DIGEST_KIND = "digest"
# A claimed row's lease lasts at least this many times the target's timeout (an email takes several round trips).
LEASE_PER_TIMEOUT = 3
_CHUNK = 200
_ERROR_MAX = 1000


# --- results ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStats:
    """One delivery run: rows sent, rescheduled after a failure, given up; ``pending``: rows still waiting for a
    delivery afterwards (due later or now, including those of targets this run's config does not name; digest
    events held for their schedule are not counted)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    pending: int = 0

    @property
    def failed(self) -> int:
        return self.retried + self.dead


@dataclass(frozen=True)
class OutboxStats:
    """For metrics. ``pending``: rows not delivered yet (waiting, in flight, or held for a digest); ``dead``: rows
    given up; ``oldest_pending_age_seconds``: age of the oldest row waiting for delivery (not counting digest events
    held for their schedule), None when there is none; ``held``: digest events waiting for their schedule."""

    pending: int
    dead: int
    oldest_pending_age_seconds: float | None
    held: int = 0


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row, for `cloudwatchdog alerts list`."""

    delivery_id: str
    target: str
    kind: str
    mode: str
    status: str
    attempts: int
    severity: str
    fingerprint: str | None
    resource_name: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_status: int | None
    last_error: str | None
    digest_of: int  # events bundled in this digest message (0 for a single event)

    def to_dict(self) -> dict[str, Any]:
        def t(v: datetime | None) -> str | None:
            return None if v is None else utc(v).isoformat().replace("+00:00", "Z")

        return {"delivery_id": self.delivery_id, "target": self.target, "kind": self.kind, "mode": self.mode,
                "status": self.status, "attempts": self.attempts, "severity": self.severity,
                "fingerprint": self.fingerprint, "resource_name": self.resource_name,
                "created_at": t(self.created_at), "next_attempt_at": t(self.next_attempt_at),
                "sent_at": t(self.sent_at), "last_status": self.last_status, "last_error": self.last_error,
                "digest_of": self.digest_of}


def alert_settings(cfg: Config) -> AlertsConfig:
    """The `alerts:` section (retry policy), or its defaults when the config has none."""
    value = getattr(cfg, "alerts", None)
    return value if isinstance(value, AlertsConfig) else AlertsConfig()


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


# --- transactions ----------------------------------------------------------------------------------------------------


@contextmanager
def _transaction(store: Store) -> Iterator[Session]:
    # The store's own engine: on SQLite it begins every transaction with BEGIN IMMEDIATE (the write lock).
    engine = store.engine
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except SQLAlchemyError as exc:
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        message = text[0] if text else type(exc).__name__
        if store.url.password:
            message = message.replace(str(store.url.password), "***")
        raise StateError(f"state.url {store.display_url}: {message}") from None


# --- delivery --------------------------------------------------------------------------------------------------------


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


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_MAX else text[:_ERROR_MAX - 3] + "..."


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


# --- digests ---------------------------------------------------------------------------------------------------------


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


# --- inspection and repair -------------------------------------------------------------------------------------------


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
