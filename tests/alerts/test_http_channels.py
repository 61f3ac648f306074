"""Slack, Teams, PagerDuty and webhook deliveries to a real HTTP receiver on 127.0.0.1: what arrives, signatures,
retryable vs permanent answers, Retry-After, timeouts, and no secret in any log line or error."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import pytest
from support.receivers import HttpReceiver, Reply

from cloudwatchdog.alerts.delivery import parse_retry_after
from cloudwatchdog.alerts.events import EventKind
from cloudwatchdog.alerts.registry import build_payload, deliver
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.settings.notifications import (
    PagerDutyTarget,
    SlackTarget,
    TargetBase,
    TeamsTarget,
    WebhookTarget,
)

from .samples import event

SECRET_PATH = "/services/T0001/B0001/SeCrEtToKeN"


def slack(receiver: HttpReceiver, **kw: Any) -> TargetBase:
    return SlackTarget.model_validate({"type": "slack", "name": "chat", "webhook_url": receiver.url(SECRET_PATH),
                                       **kw})


def hook(receiver: HttpReceiver, **kw: Any) -> TargetBase:
    return WebhookTarget.model_validate({"type": "webhook", "name": "siem", "url": receiver.url("/cwd?token=QWERTY"),
                                         **kw})


def send(target: TargetBase, kind: EventKind = EventKind.NEW, delivery_id: str = "d-1", **changes: Any) -> Any:
    payload = build_payload(target, [event(kind, **changes)], Templates())
    return deliver(target, payload, delivery_id)


def test_slack_delivery(receiver: HttpReceiver) -> None:
    result = send(slack(receiver))
    assert result.ok and result.status == 200
    (req,) = receiver.requests
    assert req.method == "POST" and req.path == SECRET_PATH
    assert req.headers["content-type"].startswith("application/json")
    assert req.headers["user-agent"].startswith("cloudwatchdog/")
    body = req.json()
    assert body["blocks"][0]["type"] == "header" and "acme-public-assets" in body["blocks"][1]["text"]["text"]


def test_teams_delivery(receiver: HttpReceiver) -> None:
    target = TeamsTarget.model_validate({"type": "teams", "name": "ops", "webhook_url": receiver.url("/workflows/1")})
    receiver.reply_with(Reply(202, b""))  # Teams workflows answer 202 Accepted
    result = send(target)
    assert result.ok and result.status == 202
    body = receiver.requests[0].json()
    assert body["type"] == "message"
    assert body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert body["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_pagerduty_trigger_then_resolve_with_the_fingerprint(receiver: HttpReceiver) -> None:
    target = PagerDutyTarget.model_validate({"type": "pagerduty", "name": "pd", "routing_key": "R0123456789abcdef",
                                             "events_url": receiver.url("/v2/enqueue")})
    receiver.reply_with(Reply(202, b'{"status":"success","dedup_key":"x"}'), Reply(202, b"{}"))
    assert send(target, EventKind.NEW).ok
    assert send(target, EventKind.RESOLVED).ok
    trigger, resolve = (r.json() for r in receiver.requests)
    assert receiver.requests[0].path == "/v2/enqueue"
    assert trigger["routing_key"] == "R0123456789abcdef" and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == event().finding.id
    assert trigger["payload"]["severity"] == "error" and trigger["payload"]["source"]
    assert resolve == {"routing_key": "R0123456789abcdef", "event_action": "resolve",
                       "dedup_key": event().finding.id}


def test_webhook_body_headers_and_hmac_over_the_raw_body(receiver: HttpReceiver) -> None:
    target = hook(receiver, secret="hmac-s3cret", headers={"Authorization": "Bearer tok-123"})
    result = send(target, EventKind.REOPENED, delivery_id="outbox-42", resource_name="bücket-ünïcode")
    assert result.ok
    (req,) = receiver.requests
    expected = "sha256=" + hmac.new(b"hmac-s3cret", req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-cloudwatchdog-signature"], expected)
    assert req.headers["x-cloudwatchdog-delivery"] == "outbox-42"
    assert req.headers["x-cloudwatchdog-event"] == "finding.reopened"
    assert req.headers["authorization"] == "Bearer tok-123"
    body = req.json()
    assert body["event"] == "finding.reopened"
    assert body["finding"] == event(EventKind.REOPENED, resource_name="bücket-ünïcode").finding.to_dict()
    # A tampered body does not verify.
    tampered = req.body.replace(b"reopened", b"resolved")
    assert hmac.new(b"hmac-s3cret", tampered, hashlib.sha256).hexdigest() not in expected


def test_webhook_without_secret_is_unsigned(receiver: HttpReceiver) -> None:
    assert send(hook(receiver)).ok
    assert "x-cloudwatchdog-signature" not in receiver.requests[0].headers


def test_retry_of_the_same_delivery_keeps_its_id(receiver: HttpReceiver) -> None:
    target = hook(receiver)
    receiver.reply_with(Reply(500, b"oops"))
    first = send(target, delivery_id="same-id")
    second = send(target, delivery_id="same-id")
    assert not first.ok and first.retryable and first.status == 500
    assert second.ok
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests]
    bodies = [r.body for r in receiver.requests]
    assert ids == ["same-id", "same-id"] and bodies[0] == bodies[1]


@pytest.mark.parametrize(("status", "retryable"), [
    (500, True), (502, True), (503, True), (408, True), (429, True),
    (400, False), (401, False), (403, False), (404, False), (410, False), (301, False),
])
def test_status_classification(receiver: HttpReceiver, status: int, retryable: bool) -> None:
    receiver.reply_with(Reply(status, b"no_service"))
    result = send(slack(receiver))
    assert not result.ok and result.status == status and result.retryable is retryable
    assert result.error is not None and f"HTTP {status}" in result.error


def test_429_retry_after_seconds(receiver: HttpReceiver) -> None:
    receiver.reply_with(Reply(429, b"rate_limited", {"Retry-After": "30"}))
    result = send(slack(receiver))
    assert result.retryable and result.retry_after == 30.0


def test_503_retry_after_http_date(receiver: HttpReceiver) -> None:
    receiver.reply_with(Reply(503, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    result = send(slack(receiver))
    assert result.retryable and result.retry_after == 0.0  # a date in the past: retry now


def test_parse_retry_after() -> None:
    from datetime import UTC, datetime

    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 60.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_timeout_is_retryable(receiver: HttpReceiver) -> None:
    receiver.reply_with(Reply(200, b"ok", delay=1.5))
    result = send(slack(receiver, timeout=0.3))
    assert not result.ok and result.retryable and result.error and "timed out" in result.error


def test_connection_refused_is_retryable_and_names_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    from support.receivers import free_port

    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    target = SlackTarget.model_validate({"type": "slack", "name": "chat", "webhook_url": url})
    with caplog.at_level(logging.DEBUG):
        result = send(target)
    assert not result.ok and result.retryable
    assert "SeCrEtToKeN" not in (result.error or "")
    assert "SeCrEtToKeN" not in caplog.text
    assert "http://127.0.0.1:" in caplog.text  # scheme and host are logged


def test_no_secret_in_logs_or_errors(receiver: HttpReceiver, caplog: pytest.LogCaptureFixture) -> None:
    # A receiver that echoes what it got (some do, in error bodies) must not get the secrets into our logs.
    pd = PagerDutyTarget.model_validate({"type": "pagerduty", "name": "pd", "routing_key": "ROUTINGKEY123",
                                         "events_url": receiver.url("/v2/enqueue")})
    receiver.reply_with(Reply(400, b'{"message":"Event object is invalid","errors":["routing_key ROUTINGKEY123"]}'),
                        Reply(403, f"forbidden {SECRET_PATH}".encode()))
    with caplog.at_level(logging.DEBUG):
        r1 = send(pd)
        r2 = send(slack(receiver))
    for r in (r1, r2):
        assert not r.ok and not r.retryable
    text = caplog.text + (r1.error or "") + (r2.error or "")
    assert "ROUTINGKEY123" not in text and "SeCrEtToKeN" not in text
    assert "[redacted]" in (r1.error or "") and "[redacted]" in (r2.error or "")
    assert f"http://127.0.0.1:{receiver.port}" in caplog.text
    assert json.loads(receiver.requests[0].body)["routing_key"] == "ROUTINGKEY123"  # it was sent, only not logged


def test_a_receiver_that_trickles_its_answer_is_cut_off_by_the_total_deadline() -> None:
    """Each read finishes within the timeout, but the answer never ends: without a total deadline the attempt
    would outlive the outbox lease and another worker would send the alert again. A raw socket server on
    127.0.0.1 (HttpReceiver answers in one piece; this needs one byte at a time)."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
            try:
                while not stop.wait(0.3):  # one byte every 0.3 s: each read is well within the 1 s timeout
                    conn.sendall(b"x")
            except OSError:
                pass  # the client hung up: what the deadline is for

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    port = listener.getsockname()[1]
    target = WebhookTarget.model_validate({"type": "webhook", "name": "slow", "url": f"http://127.0.0.1:{port}/x",
                                           "timeout": 1})
    try:
        started = time.monotonic()
        result = deliver(target, build_payload(target, [event(EventKind.NEW)], Templates()), "dlv-slow")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.join(5)
        listener.close()
    assert not result.ok and result.retryable and "total deadline" in (result.error or "")
    assert elapsed < 3 * target.timeout, "ended before the outbox lease (3 x timeout) runs out"
