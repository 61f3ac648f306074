"""Change events from AWS, in-process: the daemon's jobs and its event consumer against the real moto server
(EventBridge rule -> SQS queue, events put on the bus in CloudTrail's shape), a real SQLite store and a real webhook
receiver. A change is a targeted rescan, recorded and alerted; it resolves nothing else and touches no other
account's coverage; bursts coalesce; a message is deleted only once its rescan is recorded."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.receivers import HttpReceiver, free_port

from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.commands.scan import config_suppressions, configured_rules, open_store
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.daemon.events import build_consumers
from cloudwatchdog.daemon.jobs import DaemonJobs, plan_scan_jobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.emulators.aws_events import EventPipe
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.events.consumer import Consumer
from cloudwatchdog.model import FindingState
from cloudwatchdog.state.schema import CoverageRow, TargetedCoverageRow
from cloudwatchdog.state.store import Store

OTHER = "210987654321"
_ACTIVE = {FindingState.NEW, FindingState.OPEN, FindingState.REOPENED}


def _config(tmp_path: Path, moto: MotoServer, hook: str, queue_url: str, extra: str = "") -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws:
    endpoint_url: {moto.endpoint}
    accounts:
      - {{id: "123456789012", name: prod}}
      - {{id: "{OTHER}", name: staging, role_arn: "arn:aws:iam::{OTHER}:role/audit"}}
    object_acl_sample: 0
    sharing: false
    events: {{queue_url: "{queue_url}", debounce_seconds: 0.3, wait_seconds: 0, visibility_timeout: 2{extra}}}
notifications:
  - {{type: webhook, name: siem, url: "{hook}", timeout: 5}}
""")
    return load_config(path)


class Daemon:
    """The daemon's jobs and its one event consumer, stepped by the test."""

    def __init__(self, cfg: Config, pipe: EventPipe) -> None:
        self.pipe = pipe
        self.store: Store = open_store(cfg, None)
        self.store.add_hook(outbox_hook(cfg))
        self.metrics = DaemonMetrics()
        self.status = DaemonStatus()
        jobs = plan_scan_jobs(cfg)
        for j in jobs:
            self.status.scan_jobs[j.job_id] = ScanJobStatus(j.job_id, 3600.0, j.providers)
        self.jobs = DaemonJobs(cfg, configured_rules(cfg), self.store, self.metrics, self.status, jobs,
                               config_suppressions(cfg))
        (self.consumer,) = build_consumers(cfg, self.jobs).consumers

    def drain(self, timeout: float = 10.0) -> None:
        """Receive and rescan until the queue is empty (nothing visible, nothing in flight) and nothing waits to
        be rescanned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.consumer.step()
            if not len(self.consumer.batcher) and self.pipe.counts() == (0, 0):
                return
            time.sleep(0.05)
        raise AssertionError(f"the queue did not drain: {self.pipe.counts()}")

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    def rescans(self) -> float:
        return sum(self.sample("cloudwatchdog_rescans_total", provider="aws", outcome=o)
                   for o in ("ok", "incomplete", "failed"))

    def active(self) -> dict[str, str]:
        return {v.finding.resource_name: v.finding.state.value for v in self.store.list_findings(states=_ACTIVE)
                if v.finding.rule_id == "aws-s3-bucket-public"}


def _coverage(store: Store) -> list[tuple[str, list[str] | None]]:
    """Every recorded coverage row: (account, its targets, None for a scan of the whole account)."""
    with store.read_session() as s:
        targeted = {(t.scan_id, t.account): list(t.targets) for t in s.query(TargetedCoverageRow)}
        return [(c.account, targeted.get((c.scan_id, c.account)))
                for c in s.query(CoverageRow).order_by(CoverageRow.id)]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture
def pipe(moto: MotoServer) -> EventPipe:
    return EventPipe(moto.endpoint).create()


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)


@pytest.fixture
def daemon(tmp_path: Path, moto: MotoServer, receiver: HttpReceiver, pipe: EventPipe) -> Iterator[Daemon]:
    d = Daemon(_config(tmp_path, moto, receiver.url(), pipe.queue_url), pipe)
    yield d
    d.store.close()


def _public(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def _alerts(receiver: HttpReceiver) -> list[tuple[str, str]]:
    return sorted((r.headers["x-cloudwatchdog-event"], r.json()["finding"]["resource_name"])
                  for r in receiver.requests if r.json()["finding"]["rule_id"] == "aws-s3-bucket-public")


def test_a_change_is_a_targeted_rescan_that_alerts_and_touches_nothing_else(
        daemon: Daemon, s3: Any, moto: MotoServer, pipe: EventPipe, receiver: HttpReceiver) -> None:
    other_s3 = emulator_client(account_session(moto.endpoint, OTHER), "s3", moto.endpoint)
    for name in ("open-data", "public-already"):
        s3.create_bucket(Bucket=name)
    _public(s3, "public-already")
    other_s3.create_bucket(Bucket="staging-logs")
    _public(other_s3, "staging-logs")
    assert daemon.jobs.scan("scan") == "ok"
    daemon.jobs.deliver()
    assert daemon.active() == {"public-already": "new", "staging-logs": "new"}
    receiver.requests.clear()

    # public-already is deleted without an event: a targeted rescan of open-data must not resolve it.
    s3.delete_bucket_policy(Bucket="public-already")
    s3.delete_bucket(Bucket="public-already")
    _public(s3, "open-data")
    pipe.emit("PutBucketPolicy", {"bucketName": "open-data", "bucketPolicy": {"Version": "2012-10-17"}})
    daemon.drain()
    daemon.jobs.deliver()

    assert _alerts(receiver) == [("finding.new", "open-data")]
    # The rescan looked at open-data only: public-already (gone, unread) and another account's staging-logs keep
    # the state of their last scan.
    assert daemon.active() == {"public-already": "new", "staging-logs": "new", "open-data": "new"}
    assert pipe.counts() == (0, 0), "the message is deleted once its rescan is recorded"
    rows = _coverage(daemon.store)
    assert rows[-1] == ("123456789012", ["aws.s3.bucket:open-data"]), "the scope is in the scan record"
    assert len(rows) == 3, "the rescan records the one account it read, and no coverage of the other"
    report = daemon.store.report_data()
    assert {(c.coverage.account, c.coverage.resources) for c in report.coverage} == {
        ("123456789012", 3), (OTHER, 2)}, "the report's coverage stays that of the full scans"
    assert daemon.sample("cloudwatchdog_change_events_total", source="aws:cloudwatchdog-events",
                         outcome="rescanned") == 1
    assert daemon.sample("cloudwatchdog_change_event_latency_seconds_count", source="aws:cloudwatchdog-events") == 1
    assert daemon.sample("cloudwatchdog_change_event_source_up", source="aws:cloudwatchdog-events") == 1

    # The fix event: the bucket is private again, resolved; the same event again alerts nothing more.
    receiver.requests.clear()
    s3.delete_bucket_policy(Bucket="open-data")
    pipe.emit("DeleteBucketPolicy", {"bucketName": "open-data"})
    daemon.drain()
    pipe.emit("DeleteBucketPolicy", {"bucketName": "open-data"})
    daemon.drain()
    daemon.jobs.deliver()
    assert _alerts(receiver) == [("finding.resolved", "open-data")]
    assert daemon.active() == {"public-already": "new", "staging-logs": "new"}


def test_a_deleted_bucket_resolves_through_its_event(daemon: Daemon, s3: Any, pipe: EventPipe,
                                                     receiver: HttpReceiver) -> None:
    s3.create_bucket(Bucket="gone-soon")
    _public(s3, "gone-soon")
    assert daemon.jobs.scan("scan") == "ok"
    s3.delete_bucket_policy(Bucket="gone-soon")
    s3.delete_bucket(Bucket="gone-soon")
    pipe.emit("DeleteBucket", {"bucketName": "gone-soon"})
    daemon.drain()
    assert "gone-soon" not in daemon.active()


def test_an_account_wide_change_rescans_the_whole_account(daemon: Daemon, s3: Any, moto: MotoServer,
                                                          pipe: EventPipe) -> None:
    for name in ("alpha-bucket", "beta-bucket"):
        s3.create_bucket(Bucket=name)
        _public(s3, name)
    pipe.emit("PutAccountPublicAccessBlock", {"accountId": "123456789012"}, service="s3control")
    daemon.drain()
    assert daemon.active() == {"alpha-bucket": "new", "beta-bucket": "new"}
    rows = _coverage(daemon.store)
    assert rows == [("123456789012", None)], "the whole account, and only it"


def test_a_burst_coalesces_and_duplicates_alert_once(daemon: Daemon, s3: Any, pipe: EventPipe,
                                                     receiver: HttpReceiver) -> None:
    names = [f"burst-{i:02d}" for i in range(8)]
    for name in names:
        s3.create_bucket(Bucket=name)
        _public(s3, name)
    burst = [(op, {"bucketName": n}, "s3", "123456789012", None, None)
             for n in names for op in ("CreateBucket", "PutBucketPolicy", "PutBucketPolicy")]
    pipe.emit_many(burst)
    daemon.drain()
    daemon.jobs.deliver()
    assert daemon.rescans() <= 2, "24 events over 8 buckets: one rescan per window, not one per event"
    assert _alerts(receiver) == [("finding.new", n) for n in names], "each bucket alerts once"
    assert pipe.counts() == (0, 0)


def test_malformed_and_unwatched_messages_are_logged_and_dropped(
        daemon: Daemon, s3: Any, pipe: EventPipe, caplog: pytest.LogCaptureFixture) -> None:
    s3.create_bucket(Bucket="after-junk")
    _public(s3, "after-junk")
    pipe.send_raw("this is not json")
    pipe.send_raw(json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
                              "detail": {"eventName": "PutBucketPolicy", "recipientAccountId": "123456789012",
                                         "requestParameters": {"bucketName": "../../etc"}}}))
    pipe.emit("PutBucketPolicy", {"bucketName": "someone-elses"}, account="999999999999")
    pipe.emit("GetBucketPolicy", {"bucketName": "after-junk"})  # not a change
    pipe.emit("PutBucketPolicy", {"bucketName": "after-junk"}, error_code="AccessDenied")  # failed: no change
    pipe.emit("PutBucketPolicy", {"bucketName": "after-junk"})
    with caplog.at_level(logging.INFO, logger="cloudwatchdog.events"):
        daemon.drain()
    assert daemon.active() == {"after-junk": "new"}, "the consumer kept going"
    assert pipe.counts() == (0, 0), "nothing blocks the queue"
    src = "aws:cloudwatchdog-events"
    assert daemon.sample("cloudwatchdog_change_events_total", source=src, outcome="malformed") == 2
    assert daemon.sample("cloudwatchdog_change_events_total", source=src, outcome="unwatched") == 1
    assert daemon.sample("cloudwatchdog_change_events_total", source=src, outcome="ignored") == 2
    malformed = [r for r in caplog.records if getattr(r, "event", "") == "change_event_malformed"]
    assert len(malformed) == 2 and all(getattr(r, "message_id", "") for r in malformed)
    assert any(getattr(r, "event", "") == "change_event_unwatched" and getattr(r, "message_ids", None)
               for r in caplog.records)


def test_a_crash_before_recording_reads_the_message_again(daemon: Daemon, s3: Any, pipe: EventPipe) -> None:
    s3.create_bucket(Bucket="crash-test")
    _public(s3, "crash-test")
    pipe.emit("PutBucketPolicy", {"bucketName": "crash-test"})

    def crash(*_: object) -> str:
        raise RuntimeError("killed before the rescan was recorded")

    dying = Consumer(daemon.consumer.source, crash, daemon.consumer.observer, window=0, wait=1)
    dying.step()
    assert pipe.counts() == (0, 1), "not deleted: in flight until its visibility timeout"
    assert daemon.active() == {}
    daemon.drain()  # until the visibility timeout (2 s) shows it again
    assert daemon.active() == {"crash-test": "new"}
    assert pipe.counts() == (0, 0)


def test_an_unreachable_queue_is_unhealthy_while_schedules_go_on(
        tmp_path: Path, moto: MotoServer, receiver: HttpReceiver, s3: Any) -> None:
    dead = f"http://127.0.0.1:{free_port()}/123456789012/nowhere"
    d = Daemon(_config(tmp_path, moto, receiver.url(), dead), EventPipe(moto.endpoint))
    try:
        assert d.consumer.step() > 0, "a failed receive backs off"
        health = d.status.health()
        assert not health.ok and any("aws:nowhere cannot be read" in p for p in health.body["problems"])
        assert health.body["event_sources"]["aws:nowhere"]["ok"] is False
        assert d.sample("cloudwatchdog_change_event_source_up", source="aws:nowhere") == 0
        assert d.jobs.scan("scan") == "ok", "the scheduled scans are untouched"
    finally:
        d.store.close()


def test_a_rescan_that_cannot_read_leaves_the_message(tmp_path: Path, moto: MotoServer, receiver: HttpReceiver
                                                      ) -> None:
    """The account cannot be read (its endpoint refuses connections): the rescan is recorded with its error, but
    the change is not settled, so the message must stay for another try ("failed", not "recorded")."""
    from cloudwatchdog.events.model import ChangeTarget

    cfg = _config(tmp_path, moto, receiver.url(), f"http://127.0.0.1:{free_port()}/123456789012/nowhere")
    dead = cfg.providers.aws.model_copy(update={"endpoint_url": f"http://127.0.0.1:{free_port()}",
                                                "max_attempts": 1})
    cfg = cfg.model_copy(update={"providers": cfg.providers.model_copy(update={"aws": dead})})
    d = Daemon(cfg, EventPipe(moto.endpoint))
    try:
        target = ChangeTarget("aws", "123456789012", "aws.s3.bucket", "somewhere", "us-east-1", "test")
        assert d.jobs.rescan("aws", "123456789012", [target]) == "failed"
        assert d.sample("cloudwatchdog_rescans_total", provider="aws", outcome="incomplete") == 1
    finally:
        d.store.close()
