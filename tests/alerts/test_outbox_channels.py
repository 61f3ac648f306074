"""Every channel through the outbox: Slack, Teams, PagerDuty and webhook to a real HTTP receiver, email to a real
SMTP server (aiosmtpd), each from a recorded scan to a delivered message carrying the outbox's delivery id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from state.helpers import at, bucket, scan
from support.receivers import HttpReceiver, Reply, SmtpReceiver

from cloudwatchdog.alerts.outbox.deliver import deliver_due
from cloudwatchdog.alerts.outbox.digests import send_digests
from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.alerts.outbox.rows import DeliveryStats
from cloudwatchdog.config import Config
from cloudwatchdog.model import Level
from cloudwatchdog.state.schema import AlertOutboxRow
from cloudwatchdog.state.store import Store


@pytest.fixture
def store_for(tmp_path: Any) -> Iterator[Any]:
    opened: list[Store] = []

    def make(*targets: dict[str, Any]) -> tuple[Store, Config]:
        cfg = Config.model_validate({"notifications": list(targets)})
        s = Store.open(f"sqlite:///{tmp_path / 'state.db'}", hooks=[outbox_hook(cfg)])
        opened.append(s)
        return s, cfg

    yield make
    for s in opened:
        s.close()


def delivery_ids(store: Store) -> list[str]:
    with Session(store._engine) as s:
        return list(s.scalars(select(AlertOutboxRow.delivery_id).order_by(AlertOutboxRow.id)))


def test_slack(store_for: Any, receiver: HttpReceiver) -> None:
    store, cfg = store_for({"type": "slack", "name": "chat", "webhook_url": receiver.url("/services/T/B/x")})
    store.record_scan(scan([bucket("slack-bucket")], when=at(0)))
    assert deliver_due(store, cfg) == DeliveryStats(sent=1)
    [req] = receiver.requests
    body = req.json()
    assert req.path == "/services/T/B/x" and body["blocks"][0]["type"] == "header"
    assert "New finding" in body["blocks"][0]["text"]["text"] and "slack-bucket" in str(body["blocks"])


def test_teams(store_for: Any, receiver: HttpReceiver) -> None:
    store, cfg = store_for({"type": "teams", "name": "ops", "webhook_url": receiver.url("/workflows/1")})
    receiver.reply_with(Reply(202, b""))
    store.record_scan(scan([bucket("teams-bucket")], when=at(0)))
    assert deliver_due(store, cfg).sent == 1
    body = receiver.requests[0].json()
    card = body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive" and "teams-bucket" in str(card)


def test_pagerduty_trigger_and_resolve(store_for: Any, receiver: HttpReceiver) -> None:
    store, cfg = store_for({"type": "pagerduty", "name": "pager", "routing_key": "ROUTING-KEY-1",
                            "events_url": receiver.url("/v2/enqueue"), "min_severity": "critical"})
    result = store.record_scan(scan([bucket("pd-bucket")], when=at(0)))
    store.record_scan(scan([bucket("pd-bucket", Level.PRIVATE)], when=at(1)))
    assert deliver_due(store, cfg).sent == 2
    trigger, resolve = (r.json() for r in receiver.requests)
    fp = result.findings[0].id
    assert (trigger["event_action"], trigger["dedup_key"], trigger["routing_key"]) == ("trigger", fp, "ROUTING-KEY-1")
    assert trigger["payload"]["severity"] == "critical"
    assert resolve == {"routing_key": "ROUTING-KEY-1", "event_action": "resolve", "dedup_key": fp}


def test_webhook_headers(store_for: Any, receiver: HttpReceiver) -> None:
    store, cfg = store_for({"type": "webhook", "name": "siem", "url": receiver.url("/in"),
                            "headers": {"Authorization": "Bearer abc"}})
    store.record_scan(scan([bucket("hooked")], when=at(0)))
    assert deliver_due(store, cfg).sent == 1
    [req] = receiver.requests
    assert req.headers["x-cloudwatchdog-event"] == "finding.new"
    assert req.headers["x-cloudwatchdog-delivery"] == delivery_ids(store)[0]
    assert req.headers["authorization"] == "Bearer abc" and "x-cloudwatchdog-signature" not in req.headers


def test_email_immediate_and_digest(store_for: Any, smtp_plain: SmtpReceiver) -> None:
    mail = {"type": "email", "host": "127.0.0.1", "port": smtp_plain.port, "starttls": False,
            "from": "cloudwatchdog <alerts@example.com>", "to": ["sec@example.com"]}
    store, cfg = store_for({**mail, "name": "now"}, {**mail, "name": "daily", "mode": "digest"})
    store.record_scan(scan([bucket("mail-a"), bucket("mail-b")], when=at(0)))
    assert deliver_due(store, cfg) == DeliveryStats(sent=2), "the digest target's events are held"
    assert send_digests(store, cfg, "daily") == DeliveryStats(sent=1)
    assert len(smtp_plain.mails) == 3
    messages = [m.message() for m in smtp_plain.mails]
    ids = delivery_ids(store)
    immediate = [m for m in messages if "digest" not in str(m["X-Cloudwatchdog-Delivery"])]
    assert sorted(str(m["X-Cloudwatchdog-Delivery"]) for m in immediate) == \
        sorted(i.replace(":", "-") for i in ids if i.startswith("now:"))
    assert all(str(m["Message-ID"]).startswith("<now-") and str(m["Message-ID"]).endswith("@example.com>")
               for m in immediate)
    [digest] = [m for m in messages if "digest" in str(m["X-Cloudwatchdog-Delivery"])]
    text = digest.get_body(preferencelist=("plain",))
    assert text is not None and "mail-a" in text.get_content() and "mail-b" in text.get_content()
