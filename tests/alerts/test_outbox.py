"""The alert outbox on both store backends (an SQLite file and a real PostgreSQL server), delivering to a real HTTP
receiver on 127.0.0.1: alerts written in the recording transaction, once per change whatever the number of scans,
restarts or replicas; retries with backoff and Retry-After; dead rows and `retry`; leases; per-finding order; tag
filters; digests; stats.

Scans are recorded from plain ScanResults (tests/state/helpers.py); the scans themselves are exercised end to end
in tests/test_alerts_e2e.py."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from state.helpers import at, bucket, public_finding, scan
from support.receivers import HttpReceiver, Reply

from cloudwatchdog.alerts.outbox.admin import list_outbox, outbox_stats, retry_dead
from cloudwatchdog.alerts.outbox.deliver import _claim, _owner, deliver_due
from cloudwatchdog.alerts.outbox.digests import send_digests
from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.alerts.outbox.rows import DeliveryStats, alert_settings
from cloudwatchdog.alerts.targets import configured_targets
from cloudwatchdog.config import Config
from cloudwatchdog.model import Level, Severity
from cloudwatchdog.settings.alerts import AlertsConfig
from cloudwatchdog.state.schema import AlertOutboxRow
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso, now_utc

SECRET = "hmac-secret-for-tests"
TOKEN_PATH = "/hooks/T0KEN-SECRET-PATH"


def webhook(receiver: HttpReceiver, name: str = "siem", **kw: Any) -> dict[str, Any]:
    return {"type": "webhook", "name": name, "url": receiver.url(TOKEN_PATH), "secret": SECRET, "timeout": 5, **kw}


def config(*targets: dict[str, Any], alerts: AlertsConfig | None = None) -> Config:
    cfg = Config.model_validate({"notifications": list(targets)})
    # Config has no `alerts:` key yet (cloudwatchdog/settings/alerts.py; the lead adds it): set it on the copy.
    return cfg.model_copy(update={"alerts": alerts}) if alerts is not None else cfg


@pytest.fixture
def open_store(state_url: str) -> Iterator[Any]:
    opened: list[Store] = []

    def make(cfg: Config) -> Store:
        s = Store.open(state_url, hooks=[outbox_hook(cfg)])
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def rows(store: Store) -> list[AlertOutboxRow]:
    with Session(store._engine) as s:
        return list(s.scalars(select(AlertOutboxRow).order_by(AlertOutboxRow.id)))


def events_received(receiver: HttpReceiver) -> list[tuple[str, str, str]]:
    """(event, resource name, delivery id) of each request, after checking its signature."""
    out = []
    for r in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), r.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, r.headers["x-cloudwatchdog-signature"])
        body = r.json()
        out.append((body["event"], body["finding"]["resource_name"], r.headers["x-cloudwatchdog-delivery"]))
    return out


def later(seconds: float) -> datetime:
    return now_utc() + timedelta(seconds=seconds)


# --- once per change -------------------------------------------------------------------------------------------------


def test_a_finding_alerts_once_across_scans_and_restarts_then_resolves(open_store: Any,
                                                                        receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    first = store.record_scan(scan([bucket("leaky")], when=at(0)))
    [row] = rows(store)
    fp = first.findings[0].id
    assert (row.status, row.kind, row.target, row.mode) == ("pending", "new", "siem", "immediate")
    assert row.delivery_id == f"siem:{fp}:new:{iso(at(0))}:{first.id}"
    assert TOKEN_PATH not in str(row.payload) and SECRET not in str(row.payload), "no secret in the stored payload"

    assert deliver_due(store, cfg) == DeliveryStats(sent=1, retried=0, dead=0, pending=0)
    assert events_received(receiver) == [("finding.new", "leaky", row.delivery_id)]
    assert receiver.requests[0].path == TOKEN_PATH

    # Still public: more scans, a restart of the process (a new Store), nothing more.
    store.record_scan(scan([bucket("leaky")], when=at(1)))
    store.close()
    store = open_store(cfg)
    store.record_scan(scan([bucket("leaky")], when=at(2)))
    assert deliver_due(store, cfg).sent == 0 and len(rows(store)) == 1 and len(receiver.requests) == 1

    # Fixed: the webhook wants resolved by default.
    store.record_scan(scan([bucket("leaky", Level.PRIVATE)], when=at(3)))
    assert deliver_due(store, cfg).sent == 1
    assert [e[:2] for e in events_received(receiver)] == [("finding.new", "leaky"), ("finding.resolved", "leaky")]
    assert [r.status for r in rows(store)] == ["sent", "sent"]


def test_replicas_sharing_one_store_queue_one_alert(open_store: Any, receiver: HttpReceiver) -> None:
    """Two daemons on one store record their own scans of the same estate at the same time: one alert."""
    cfg = config(webhook(receiver))
    replicas = [open_store(cfg), open_store(cfg)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def record(store: Store, hour: float) -> None:
        try:
            barrier.wait()
            store.record_scan(scan([bucket("shared")], when=at(hour)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(s, 5 + i)) for i, s in enumerate(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.kind for r in rows(replicas[0])] == ["new"]
    stats = [deliver_due(s, cfg) for s in replicas]
    assert sum(s.sent for s in stats) == 1 and len(receiver.requests) == 1


def test_chat_targets_skip_resolved_unless_asked_and_filters_route(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver, "all"),
                 webhook(receiver, "chat-like", events=["new", "reopened", "escalated"]),
                 webhook(receiver, "prod-only", tags={"env": "prod"}))
    store = open_store(cfg)
    prod = replace(bucket("prod-data"), tags={"env": "prod"})
    dev = replace(bucket("dev-data"), tags={"env": "dev"})
    store.record_scan(scan([prod, dev], when=at(0)))  # tags travel with the scan's resources
    assert sorted((r.target, r.kind) for r in rows(store)) == [
        ("all", "new"), ("all", "new"), ("chat-like", "new"), ("chat-like", "new"), ("prod-only", "new")]
    [prod_row] = [r for r in rows(store) if r.target == "prod-only"]
    assert prod_row.event is not None and prod_row.event["finding"]["resource_name"] == "prod-data"

    # The prod bucket is deleted: this scan has no tags for it, the tags come from its stored alert.
    store.record_scan(scan([dev], when=at(1)))
    resolved = sorted((r.target, r.event["finding"]["resource_name"]) for r in rows(store)
                      if r.kind == "resolved" and r.event is not None)
    assert resolved == [("all", "prod-data"), ("prod-only", "prod-data")]


# --- retries -----------------------------------------------------------------------------------------------------


def test_retries_back_off_honour_retry_after_and_keep_the_delivery_id(open_store: Any,
                                                                      receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("flaky")], when=at(0)))
    receiver.reply_with(Reply(503, b"down"), Reply(429, b"slow down", {"Retry-After": "600"}))
    t = later(1)

    assert deliver_due(store, cfg, now=t) == DeliveryStats(sent=0, retried=1, dead=0, pending=1)
    [row] = rows(store)
    assert row.status == "pending" and row.attempts == 1 and row.last_status == 503
    assert row.next_attempt_at is not None
    assert t + timedelta(seconds=15) <= row.next_attempt_at <= t + timedelta(seconds=30), "base 30 s, equal jitter"
    assert deliver_due(store, cfg, now=t + timedelta(seconds=10)).retried == 0, "not due yet"

    t2 = t + timedelta(seconds=31)
    assert deliver_due(store, cfg, now=t2).retried == 1
    [row] = rows(store)
    assert row.attempts == 2 and row.last_status == 429
    assert row.next_attempt_at is not None and row.next_attempt_at >= t2 + timedelta(seconds=600)
    assert deliver_due(store, cfg, now=t2 + timedelta(seconds=300)).sent == 0, "Retry-After honoured"

    assert deliver_due(store, cfg, now=t2 + timedelta(seconds=601)).sent == 1
    [row] = rows(store)
    assert row.status == "sent" and row.attempts == 3 and row.sent_at is not None
    ids = {r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {row.delivery_id}


def test_a_permanent_failure_is_dead_visible_and_retried_on_demand(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("gone-hook")], when=at(0)))
    receiver.reply_with(Reply(404, f"no hook at {TOKEN_PATH}".encode()))
    assert deliver_due(store, cfg) == DeliveryStats(sent=0, retried=0, dead=1, pending=0)
    [entry] = list_outbox(store, statuses=["dead"])
    assert entry.status == "dead" and entry.last_status == 404 and entry.resource_name == "gone-hook"
    assert entry.last_error is not None and entry.last_error.startswith("permanent failure: HTTP 404")
    assert TOKEN_PATH not in entry.last_error, "the webhook URL's path is a secret"
    assert outbox_stats(store).dead == 1

    with pytest.raises(LookupError, match="no alert with delivery id"):
        retry_dead(store, "siem:nope")
    assert retry_dead(store, entry.delivery_id) == 1
    assert deliver_due(store, cfg).sent == 1
    assert [r.status for r in rows(store)] == ["sent"]
    with pytest.raises(LookupError, match="is sent, not dead"):
        retry_dead(store, entry.delivery_id)


def test_gives_up_after_max_attempts_or_max_age(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver), alerts=AlertsConfig(max_attempts=2, give_up_after_hours=1))
    assert alert_settings(cfg).max_attempts == 2
    store = open_store(cfg)
    store.record_scan(scan([bucket("a")], when=at(0)))
    receiver.reply_with(*[Reply(500)] * 4)
    t = later(1)
    assert deliver_due(store, cfg, now=t).retried == 1
    assert deliver_due(store, cfg, now=t + timedelta(minutes=5)).dead == 1
    [row] = rows(store)
    assert row.status == "dead" and row.last_error == "gave up after 2 attempt(s): HTTP 500: ok"

    # By age: one failed attempt, the next one more than an hour after the first.
    assert retry_dead(store, row.delivery_id, now=t) == 1
    assert deliver_due(store, cfg, now=t + timedelta(seconds=1)).retried == 1
    assert deliver_due(store, cfg, now=t + timedelta(hours=2)).dead == 1


def test_rows_of_a_target_missing_from_this_runs_config_are_left_alone(open_store: Any,
                                                                         receiver: HttpReceiver) -> None:
    """`alerts deliver` with another config (or none) must not give up alerts meant for targets it does not know:
    they stay pending (held digest events stay held), no attempt counted, until a run that has the target."""
    digest = {"type": "slack", "name": "chat", "webhook_url": receiver.url("/slack"), "mode": "digest"}
    cfg = config(webhook(receiver, "old"), digest)
    store = open_store(cfg)
    store.record_scan(scan([bucket("orphan")], when=at(0)))
    for other in (config(webhook(receiver, "new")), Config()):
        assert deliver_due(store, other, include_waiting=True) == DeliveryStats(pending=1)
    state = sorted((r.target, r.status, r.attempts, r.next_attempt_at is None) for r in rows(store))
    assert state == [("chat", "pending", 0, True), ("old", "pending", 0, False)]
    assert receiver.requests == []
    assert deliver_due(store, cfg).sent == 1
    assert send_digests(store, cfg, "chat").sent == 1
    assert len(receiver.requests) == 2


def test_a_broken_template_does_not_lose_the_scan(open_store: Any, receiver: HttpReceiver, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "title.txt.j2").write_text("{{ no_such_variable }}")
    slack = {"type": "slack", "name": "chat", "webhook_url": receiver.url("/slack"), "templates_dir": str(templates)}
    cfg = config(slack)
    store = open_store(cfg)
    result = store.record_scan(scan([bucket("b")], when=at(0)))
    assert result.findings[0].state.value == "new", "the scan is recorded"
    [row] = rows(store)
    assert row.status == "dead" and row.payload is None
    assert "cannot build the message: UndefinedError" in (row.last_error or "")

    (templates / "title.txt.j2").write_text("Fixed: {{ event.finding.resource_name }}")
    assert retry_dead(store) == 1
    assert deliver_due(store, cfg).sent == 1
    assert receiver.requests[0].json()["blocks"][0]["text"]["text"] == "Fixed: b"


# --- leases and order --------------------------------------------------------------------------------------------


def test_an_expired_lease_is_claimed_again_a_live_one_is_not(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("leased")], when=at(0)))
    t = later(1)
    targets = {x.label: x for x in configured_targets(cfg)}
    # A worker claims the row and dies before delivering (the claim is committed, nothing else happens).
    claim = _claim(store, _owner("dead-worker"), t, 60, targets, alert_settings(cfg).policy())
    assert claim is not None and not isinstance(claim, str)
    [row] = rows(store)
    assert row.status == "sending" and row.lease_owner is not None and row.lease_owner.startswith("dead-worker#")
    assert row.lease_until == t + timedelta(seconds=60)

    assert deliver_due(store, cfg, now=t + timedelta(seconds=30)) == DeliveryStats(pending=1)
    assert receiver.requests == []
    assert deliver_due(store, cfg, now=t + timedelta(seconds=61)).sent == 1
    [row] = rows(store)
    assert row.status == "sent" and row.attempts == 2 and row.lease_owner is None


def test_a_resolve_never_overtakes_its_trigger(open_store: Any, receiver: HttpReceiver) -> None:
    pd = {"type": "pagerduty", "name": "pager", "routing_key": "R0UT1NGKEY", "events_url": receiver.url("/v2/enqueue")}
    cfg = config(pd)
    store = open_store(cfg)
    store.record_scan(scan([bucket("incident")], when=at(0)))
    receiver.reply_with(Reply(502))
    t = later(1)
    assert deliver_due(store, cfg, now=t).retried == 1
    store.record_scan(scan([bucket("incident", Level.PRIVATE)], when=at(1)))
    # The resolve is due at once, but the trigger before it is not delivered yet.
    assert deliver_due(store, cfg, now=t + timedelta(seconds=5)) == DeliveryStats(pending=2)
    assert deliver_due(store, cfg, now=t + timedelta(hours=1)).sent == 2
    actions = [r.json()["event_action"] for r in receiver.requests]
    assert actions == ["trigger", "trigger", "resolve"]
    assert all(r.json()["routing_key"] == "R0UT1NGKEY" for r in receiver.requests)
    assert all("R0UT1NGKEY" not in str(r.payload) for r in rows(store)), "the routing key is added at delivery"


def test_two_workers_never_deliver_the_same_row(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket(f"b{i:02d}") for i in range(24)], when=at(0)))
    assert len(rows(store)) == 24
    receiver.reply_with(*[Reply(200, delay=0.02)] * 24)
    workers = [open_store(cfg), open_store(cfg)]
    results: list[DeliveryStats] = []
    barrier = threading.Barrier(2)

    def work(s: Store, name: str) -> None:
        barrier.wait()
        results.append(deliver_due(s, cfg, worker=name))

    threads = [threading.Thread(target=work, args=(s, f"w{i}")) for i, s in enumerate(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert sum(r.sent for r in results) == 24
    assert all(r.status == "sent" for r in rows(store))


# --- digests and stats -------------------------------------------------------------------------------------------


def test_digest_targets_hold_events_until_their_digest(open_store: Any, receiver: HttpReceiver) -> None:
    slack = {"type": "slack", "name": "daily", "webhook_url": receiver.url("/slack"), "mode": "digest",
             "events": ["new", "resolved"]}
    cfg = config(slack)
    store = open_store(cfg)
    store.record_scan(scan([bucket("one"), bucket("two")], when=at(0)))
    assert deliver_due(store, cfg) == DeliveryStats(pending=0), "held for the digest"
    stats = outbox_stats(store)
    assert (stats.pending, stats.held, stats.oldest_pending_age_seconds) == (2, 2, None)
    assert receiver.requests == []

    assert send_digests(store, cfg, "daily") == DeliveryStats(sent=1)
    [req] = receiver.requests
    text = str(req.json())
    assert "one" in text and "two" in text
    statuses = sorted((r.kind, r.status) for r in rows(store))
    assert statuses == [("digest", "sent"), ("new", "digested"), ("new", "digested")]
    [digest] = [e for e in list_outbox(store) if e.kind == "digest"]
    assert digest.digest_of == 2 and digest.delivery_id.startswith("daily:digest:")

    assert send_digests(store, cfg, "daily") == DeliveryStats(), "nothing new piled up"
    store.record_scan(scan([bucket("one")], when=at(1)))  # "two" resolved
    assert send_digests(store, cfg, "daily").sent == 1
    assert "two" in str(receiver.requests[1].json()) and len(receiver.requests) == 2
    with pytest.raises(LookupError):
        send_digests(store, cfg, "no-such-target")


def test_a_failed_digest_is_retried_like_any_delivery(open_store: Any, receiver: HttpReceiver) -> None:
    slack = {"type": "slack", "name": "daily", "webhook_url": receiver.url("/slack"), "mode": "digest"}
    cfg = config(slack)
    store = open_store(cfg)
    store.record_scan(scan([bucket("x")], when=at(0)))
    receiver.reply_with(Reply(503))
    t = later(1)
    assert send_digests(store, cfg, "daily", now=t) == DeliveryStats(retried=1, pending=1)
    assert deliver_due(store, cfg, now=t + timedelta(minutes=2)).sent == 1
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body


def test_a_target_switched_from_digest_to_immediate_gets_its_held_events(open_store: Any,
                                                                         receiver: HttpReceiver) -> None:
    digest = {"type": "slack", "name": "chat", "webhook_url": receiver.url("/slack"), "mode": "digest"}
    store = open_store(config(digest))
    store.record_scan(scan([bucket("held")], when=at(0)))
    immediate = config({**digest, "mode": "immediate"})
    assert deliver_due(store, immediate).sent == 1
    assert "held" in str(receiver.requests[0].json())


def test_outbox_stats(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    assert outbox_stats(store) == outbox_stats(store).__class__(0, 0, None, 0)
    store.record_scan(scan([bucket("s1"), bucket("s2")], when=at(0)))
    stats = outbox_stats(store, now=later(90))
    assert stats.pending == 2 and stats.dead == 0
    assert stats.oldest_pending_age_seconds is not None and 85 <= stats.oldest_pending_age_seconds <= 95
    receiver.reply_with(Reply(400), Reply(200))
    deliver_due(store, cfg)
    stats = outbox_stats(store)
    assert (stats.pending, stats.dead, stats.oldest_pending_age_seconds) == (0, 1, None)


def test_each_row_is_tried_once_per_run_even_when_waiting_rows_are_included(open_store: Any,
                                                                            receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("r1"), bucket("r2")], when=at(0)))
    receiver.reply_with(*[Reply(503)] * 10)
    assert deliver_due(store, cfg, include_waiting=True) == DeliveryStats(retried=2, pending=2)
    assert len(receiver.requests) == 2
    assert deliver_due(store, cfg, include_waiting=True).retried == 2, "`alerts deliver --all` ignores backoff"
    assert len(receiver.requests) == 4


def test_a_row_whose_worker_keeps_dying_is_given_up(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver), alerts=AlertsConfig(max_attempts=1))
    store = open_store(cfg)
    store.record_scan(scan([bucket("poison")], when=at(0)))
    t = later(1)
    targets = {x.label: x for x in configured_targets(cfg)}
    assert not isinstance(_claim(store, _owner("crashing"), t, 60, targets, alert_settings(cfg).policy()), str)
    assert deliver_due(store, cfg, now=t + timedelta(minutes=5)) == DeliveryStats(dead=1)
    [row] = rows(store)
    assert row.status == "dead" and "the last one interrupted" in (row.last_error or "")
    assert receiver.requests == []


def test_escalation_alerts_with_the_previous_severity(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver, min_severity="info"))
    store = open_store(cfg)
    b = bucket("growing")
    store.record_scan(scan([b], [public_finding(b, Severity.HIGH)], when=at(0)))
    store.record_scan(scan([b], [public_finding(b, Severity.HIGH)], when=at(1)))
    store.record_scan(scan([b], [public_finding(b, Severity.CRITICAL)], when=at(2)))
    store.record_scan(scan([b], [public_finding(b, Severity.MEDIUM)], when=at(3)))  # de-escalation: no alert
    assert [r.kind for r in rows(store)] == ["new", "escalated"]
    assert deliver_due(store, cfg).sent == 2
    escalated = receiver.requests[1].json()
    assert escalated["event"] == "finding.escalated" and escalated["finding"]["severity"] == "critical"
    assert escalated["finding"]["previous_severity"] == "high"


# --- regressions: events that used to be lost --------------------------------------------------------------------


def test_a_suppression_that_expires_while_still_exposed_alerts_reopened(open_store: Any,
                                                                       receiver: HttpReceiver) -> None:
    from datetime import date

    from cloudwatchdog.state.diff import Suppression

    cfg = config(webhook(receiver))
    store = open_store(cfg)
    sup = [Suppression(reason="r", owner="o", expires=date(2026, 3, 2), source="config", fingerprint=None,
                       rule="aws-s3-*", resource="*", label="suppressions[0]")]
    assert store.record_scan(scan([bucket("muted")], when=at(0)), suppressions=sup).findings[0].state.value == \
        "suppressed"
    assert rows(store) == []
    after = store.record_scan(scan([bucket("muted")], when=at(72)), suppressions=sup)  # expired
    assert after.findings[0].state.value == "reopened"
    assert deliver_due(store, cfg).sent == 1
    assert [e[:2] for e in events_received(receiver)] == [("finding.reopened", "muted")]


def test_scans_sharing_one_timestamp_each_alert_and_reenqueueing_is_idempotent(open_store: Any,
                                                                                receiver: HttpReceiver) -> None:
    """The store moves a scan's time forward to the latest recorded one, so several scans can share a timestamp:
    new, resolved, reopened, resolved of one finding within one second must be four deliveries, not three."""
    from cloudwatchdog.alerts.outbox.enqueue import enqueue
    from cloudwatchdog.state.diff import Event

    cfg = config(webhook(receiver))
    store = open_store(cfg)
    seen: list[Event] = []

    def capture(_: Session, events: Any) -> None:
        seen.extend(events)

    public, private = bucket("flappy"), bucket("flappy", Level.PRIVATE)
    for r in (public, private, public, private):
        store.record_scan(scan([r], when=at(1)), on_events=capture)
    fp = public_finding(public).id
    store.suppress(fp, reason="r", owner="o", expires=None, on_events=capture)
    assert [r.kind for r in rows(store)] == ["new", "resolved", "reopened", "resolved"]
    assert len({r.delivery_id for r in rows(store)}) == 4

    # The same lifecycle events enqueued again (scan events and a CLI one): no new row.
    targets = configured_targets(cfg)
    with Session(store._engine) as session, session.begin():
        enqueue(session, seen, targets)
    assert len(rows(store)) == 4
    assert deliver_due(store, cfg).sent == 4
    assert [e[0] for e in events_received(receiver)] == ["finding.new", "finding.resolved", "finding.reopened",
                                                         "finding.resolved"]


def test_cli_unsuppressions_in_one_second_each_alert(open_store: Any, receiver: HttpReceiver) -> None:
    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("cli")], when=at(0)))
    assert deliver_due(store, cfg).sent == 1
    fp = public_finding(bucket("cli")).id
    t = later(0)
    for _ in range(2):
        store.suppress(fp, reason="r", owner="o", expires=None, now=t)
        store.unsuppress(fp, now=t)
    reopened = [r for r in rows(store) if r.kind == "reopened"]
    assert len(reopened) == 2 and reopened[0].delivery_id != reopened[1].delivery_id


def test_an_attempt_that_outlived_its_lease_is_not_counted_as_sent(open_store: Any, receiver: HttpReceiver) -> None:
    from cloudwatchdog.alerts.outbox.deliver import _attempt
    from cloudwatchdog.alerts.outbox.rows import LOST

    cfg = config(webhook(receiver))
    store = open_store(cfg)
    store.record_scan(scan([bucket("slow")], when=at(0)))
    t = later(1)
    targets = {x.label: x for x in configured_targets(cfg)}
    policy = alert_settings(cfg).policy()
    slow_worker = _owner("slow")
    slow = _claim(store, slow_worker, t, 60, targets, policy)
    assert slow is not None and not isinstance(slow, str)
    other = _owner("other")
    taken = _claim(store, other, t + timedelta(seconds=61), 60, targets, policy)  # the slow one's lease expired
    assert taken is not None and not isinstance(taken, str)
    # The slow worker's delivery completes now: the row is the other worker's, so its outcome is not recorded.
    assert _attempt(store, slow, targets, slow_worker, lambda: t, policy) == LOST
    [row] = rows(store)
    assert (row.status, row.lease_owner) == ("sending", other)
    assert len(receiver.requests) == 1

