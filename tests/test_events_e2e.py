"""Change events end to end: `cloudwatchdog daemon` as a real subprocess with its scans scheduled a day apart, the
moto server's EventBridge routing CloudTrail-shaped events to an SQS queue, and a signed webhook receiving
finding.new for a bucket made public (within seconds of its event), then finding.resolved after the fix event."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon.harness import DaemonProcess, RestartableReceiver, http_get, wait_for
from support.azure import SUB_A, AzureEmulators
from support.receivers import free_port

from cloudwatchdog.emulators.aws_events import EventPipe
from cloudwatchdog.emulators.azurite_queue import AzuriteQueueServer, deliver, resource_event
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client

SECRET = "events-e2e-secret"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[RestartableReceiver]:
    r = RestartableReceiver()
    r.start()
    yield r
    r.stop()


def _alerts(receiver: RestartableReceiver, bucket: str, event: str, rule: str = "aws-s3-bucket-public") -> list[Any]:
    out = []
    for r in list(receiver.requests):
        expected = "sha256=" + hmac.new(SECRET.encode(), r.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, r.headers["x-cloudwatchdog-signature"])
        f = r.json()["finding"]
        if f["resource_name"] == bucket and f["rule_id"] == rule and \
                r.headers["x-cloudwatchdog-event"] == event:
            out.append(r)
    return out


def test_a_change_event_alerts_within_seconds(tmp_path: Path, moto: MotoServer, receiver: RestartableReceiver) -> None:
    s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    s3.create_bucket(Bucket="quarterly-results")
    pipe = EventPipe(moto.endpoint).create()
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws:
    endpoint_url: {moto.endpoint}
    accounts: [{{id: "123456789012", name: prod}}]
    object_acl_sample: 0
    sharing: false
    events: {{queue_url: "{pipe.queue_url}"}}
notifications:
  - {{type: webhook, name: siem, url: "{receiver.url()}", secret: "{SECRET}", timeout: 3}}
schedules: {{scan: every 24h, report: null}}
daemon: {{listen: "127.0.0.1:{port}", shutdown_grace: 10}}
""")
    daemon = DaemonProcess(config, port=port)
    try:
        daemon.start()
        daemon.wait_healthy()
        wait_for(lambda: bool(daemon.events("scan_recorded")), 30, "the start-up scan", on_timeout=daemon.output)

        s3.put_bucket_policy(Bucket="quarterly-results", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::quarterly-results/*"}]}))
        pipe.emit("PutBucketPolicy", {"bucketName": "quarterly-results"})
        landed = time.monotonic()
        wait_for(lambda: bool(_alerts(receiver, "quarterly-results", "finding.new")), 20,
                 "finding.new from the change event", interval=0.05, on_timeout=daemon.output)
        print(f"alerted {time.monotonic() - landed:.2f}s after the event landed in the queue")
        assert time.monotonic() - landed < 10

        s3.delete_bucket_policy(Bucket="quarterly-results")
        pipe.emit("DeleteBucketPolicy", {"bucketName": "quarterly-results"})
        wait_for(lambda: bool(_alerts(receiver, "quarterly-results", "finding.resolved")), 20,
                 "finding.resolved from the fix event", interval=0.05, on_timeout=daemon.output)
        assert len(daemon.events("scan_started")) == 1, "no scheduled scan ran meanwhile: the events did it"
        code, body = http_get(daemon.url + "/metrics")
        assert code == 200
        assert 'cloudwatchdog_change_events_total{outcome="rescanned",source="aws:cloudwatchdog-events"} 2.0' in \
            body.decode()
        assert daemon.health()[1]["event_sources"] == {"aws:cloudwatchdog-events": {"ok": True, "error": None}}
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        daemon.close()


def test_an_azure_change_event_alerts_within_seconds(tmp_path: Path, azure: AzureEmulators,
                                                     receiver: RestartableReceiver) -> None:
    azure.arm.add_subscription(SUB_A, "production")
    azure.arm.add_account(SUB_A, "cwdevents1", resource_group="rg-web", allow_blob_public_access=True)
    azure.arm.add_container("cwdevents1", "brochures", "None")
    rule, name = "azure-storage-container-public", "cwdevents1/brochures"
    port = free_port()
    with AzuriteQueueServer("cwdqueues", azure.tls) as queues:
        queue = queues.queue_client("cloudwatchdog-events")
        queue.create_queue()
        config = tmp_path / "config.yaml"
        config.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws: {{enabled: false}}
  azure:
    arm_endpoint: {azure.arm.endpoint}
    credential: emulator
    ca_bundle: {azure.tls.ca_file}
    subscriptions: ["{SUB_A}"]
    events: {{queue_account_url: "{queues.account_url}", queue: cloudwatchdog-events, credential: emulator}}
notifications:
  - {{type: webhook, name: siem, url: "{receiver.url()}", secret: "{SECRET}", timeout: 3}}
schedules: {{scan: every 24h, report: null}}
daemon: {{listen: "127.0.0.1:{port}", shutdown_grace: 10}}
""")
        daemon = DaemonProcess(config, port=port)
        try:
            daemon.start()
            daemon.wait_healthy()
            wait_for(lambda: bool(daemon.events("scan_recorded")), 30, "the start-up scan", on_timeout=daemon.output)
            azure.arm.add_container("cwdevents1", "brochures", "Container")
            deliver(queue, resource_event(SUB_A, "rg-web", "cwdevents1", "brochures"))
            landed = time.monotonic()
            wait_for(lambda: bool(_alerts(receiver, name, "finding.new", rule)), 20, "finding.new from Event Grid",
                     interval=0.05, on_timeout=daemon.output)
            assert time.monotonic() - landed < 10
            azure.arm.add_container("cwdevents1", "brochures", "None")
            deliver(queue, resource_event(SUB_A, "rg-web", "cwdevents1", "brochures"))
            wait_for(lambda: bool(_alerts(receiver, name, "finding.resolved", rule)), 20, "finding.resolved",
                     interval=0.05, on_timeout=daemon.output)
            assert len(daemon.events("scan_started")) == 1
            daemon.signal(signal.SIGTERM)
            assert daemon.wait(30) == 0
        finally:
            daemon.close()
