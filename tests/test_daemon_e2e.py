"""The daemon end to end: `cloudwatchdog daemon -c config.yaml` as a real subprocess, scanning the real moto server
every 2 seconds and alerting a real webhook receiver on 127.0.0.1 through the outbox.

A bucket made public is alerted (finding.new) within two scan intervals; a restart sends nothing twice; an alert
raised while the receiver is down arrives once it is back; a fixed bucket is alerted as finding.resolved; a daemon
killed with SIGKILL in the middle of a delivery loses nothing (the next daemon sends it again, with the same
X-Cloudwatchdog-Delivery id); /healthz answers 200 and /metrics counts the scans.
"""

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
from support.receivers import Reply, free_port

from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client

SCAN_INTERVAL = 2.0
# Time for one scan of a handful of buckets and one delivery on a busy 2-core machine, on top of the intervals.
SLACK = 8.0
WEBHOOK_TIMEOUT = 3.0
SECRET = "e2e-hmac-secret"
PUBLIC_RULE = "aws-s3-bucket-public"


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


def _policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def _alerts(receiver: RestartableReceiver, bucket: str, event: str | None = None) -> list[Any]:
    """The public-bucket alerts received for ``bucket`` (signature checked on the raw body)."""
    out = []
    for r in list(receiver.requests):
        expected = "sha256=" + hmac.new(SECRET.encode(), r.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, r.headers["x-cloudwatchdog-signature"])
        finding = r.json()["finding"]
        if finding["resource_name"] == bucket and finding["rule_id"] == PUBLIC_RULE and \
                (event is None or r.headers["x-cloudwatchdog-event"] == event):
            out.append(r)
    return out


def test_daemon_end_to_end(tmp_path: Path, moto: MotoServer, receiver: RestartableReceiver) -> None:
    s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    for bucket in ("alpha", "beta", "gamma"):
        s3.create_bucket(Bucket=bucket)
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
notifications:
  - {{type: webhook, name: siem, url: "{receiver.url()}", secret: "{SECRET}", timeout: {WEBHOOK_TIMEOUT}}}
schedules: {{scan: every {SCAN_INTERVAL:g}s, deliver: every 1s, report: null}}
daemon: {{listen: "127.0.0.1:{port}", shutdown_grace: 30}}
alerts: {{retry_base_seconds: 1, retry_max_seconds: 2}}
""")
    daemon = DaemonProcess(config, port=port)
    try:
        daemon.start()
        daemon.wait_healthy()
        wait_for(lambda: bool(daemon.events("scan_recorded")), 30, "a first scan", on_timeout=daemon.output)

        # 1. A bucket made public: finding.new within two scan intervals.
        s3.put_bucket_policy(Bucket="alpha", Policy=_policy("alpha"))
        made_public = time.monotonic()
        wait_for(lambda: bool(_alerts(receiver, "alpha", "finding.new")), 2 * SCAN_INTERVAL + SLACK,
                 "finding.new for alpha", interval=0.05, on_timeout=daemon.output)
        latency = time.monotonic() - made_public
        print(f"alpha alerted {latency:.1f}s after it was made public")
        (alpha,) = _alerts(receiver, "alpha")
        assert alpha.json()["event"] == "finding.new" and alpha.json()["finding"]["state"] == "new"

        # 2. Restart: the next daemon scans the same estate and sends nothing again.
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        before = len(receiver.requests)
        daemon.start()
        daemon.wait_healthy()
        wait_for(lambda: len(daemon.events("scan_recorded")) >= 2, 30, "two scans after the restart",
                 on_timeout=daemon.output)
        time.sleep(1.5)  # room for a (wrong) delivery after the second scan
        assert len(receiver.requests) == before, [r.json()["event"] for r in receiver.requests[before:]]
        assert len(_alerts(receiver, "alpha")) == 1

        # 3. Receiver down when beta goes public: the delivery fails, is retried, and arrives once it is back.
        receiver.stop()
        s3.put_bucket_policy(Bucket="beta", Policy=_policy("beta"))
        wait_for(lambda: any(r.get("retried", 0) > 0 for r in daemon.events("deliveries")), 2 * SCAN_INTERVAL + SLACK,
                 "a failed delivery", on_timeout=daemon.output)
        assert not _alerts(receiver, "beta")
        receiver.start()
        # The retries back off from alerts.retry_base_seconds (1 s here, 30 s by default).
        wait_for(lambda: bool(_alerts(receiver, "beta", "finding.new")), 15, "finding.new for beta after the outage",
                 on_timeout=daemon.output)

        # 4. Fixed: finding.resolved.
        s3.delete_bucket_policy(Bucket="beta")
        wait_for(lambda: bool(_alerts(receiver, "beta", "finding.resolved")), 2 * SCAN_INTERVAL + SLACK,
                 "finding.resolved for beta", on_timeout=daemon.output)
        assert [r.headers["x-cloudwatchdog-event"] for r in _alerts(receiver, "beta")] == \
            ["finding.new", "finding.resolved"]

        # 5. kill -9 while the receiver holds the delivery open: the next daemon sends it again, same delivery id.
        receiver.receiver.reply_with(Reply(delay=20.0))
        s3.put_bucket_policy(Bucket="gamma", Policy=_policy("gamma"))
        wait_for(lambda: bool(_alerts(receiver, "gamma")), 2 * SCAN_INTERVAL + SLACK, "the gamma delivery",
                 interval=0.02, on_timeout=daemon.output)
        daemon.kill9()
        (first,) = _alerts(receiver, "gamma")
        daemon.start()
        daemon.wait_healthy()
        # The killed daemon's lease lasts 3x the webhook timeout; then the delivery is claimed again.
        wait_for(lambda: len(_alerts(receiver, "gamma")) >= 2, 3 * WEBHOOK_TIMEOUT + 20, "gamma delivered again",
                 on_timeout=daemon.output)
        gamma = _alerts(receiver, "gamma")
        assert len(gamma) == 2
        assert gamma[1].headers["x-cloudwatchdog-delivery"] == first.headers["x-cloudwatchdog-delivery"]
        assert gamma[1].body == first.body
        assert gamma[1].headers["x-cloudwatchdog-event"] == "finding.new"

        # 6. Health and metrics of the running daemon (the delivery is counted once the receiver has answered).
        code, health = daemon.health()
        assert code == 200 and health["status"] == "ok" and health["scans"]["scan"]["last_success"]

        def metrics() -> dict[str, float]:
            code, body = http_get(daemon.url + "/metrics")
            assert code == 200
            return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines()
                    if line and not line.startswith("#")}

        wait_for(lambda: metrics()['cloudwatchdog_alert_deliveries_total{outcome="sent"}'] >= 1, 10,
                 "the redelivery to be counted", on_timeout=daemon.output)
        m = metrics()
        assert m['cloudwatchdog_scans_total{job="scan",outcome="ok"}'] >= 1
        assert m['cloudwatchdog_scans_total{job="scan",outcome="failed"}'] == 0
        assert m['cloudwatchdog_open_findings{severity="critical"}'] + \
            m['cloudwatchdog_open_findings{severity="high"}'] >= 2  # alpha and gamma
        assert m["cloudwatchdog_outbox_pending"] == 0
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        daemon.close()
    # Every alert of the whole run, in order: nothing lost, nothing but gamma's interrupted delivery twice.
    ours = [(r.headers["x-cloudwatchdog-event"], r.json()["finding"]["resource_name"])
            for r in receiver.requests if r.json()["finding"]["rule_id"] == PUBLIC_RULE]
    assert ours == [("finding.new", "alpha"), ("finding.new", "beta"), ("finding.resolved", "beta"),
                    ("finding.new", "gamma"), ("finding.new", "gamma")]
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests]
    assert len(set(ids)) == len(ids) - 1, "only the interrupted delivery came twice"
