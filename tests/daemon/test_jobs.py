"""The daemon's jobs, run in-process against the real moto server, a real SQLite store and a real webhook
receiver: a scan is recorded with its alerts queued and delivered, metrics and status follow, a scan finishing after
the shutdown grace period is not recorded, the report job renders and records like `cloudwatchdog report`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.receivers import HttpReceiver

from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.commands.scan import config_suppressions, configured_rules, open_store
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.daemon.http import report_csp
from cloudwatchdog.daemon.jobs import DaemonJobs, ScanJob, config_for, latest_report_file, plan_scan_jobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.model import FindingState
from cloudwatchdog.state.store import Store


def _config(tmp_path: Path, moto: MotoServer, receiver_url: str, extra: str = "") -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws:
    endpoint_url: {moto.endpoint}
    accounts: [{{id: "123456789012", name: prod}}]
    object_acl_sample: 0
    sharing: false
notifications:
  - {{type: webhook, name: siem, url: "{receiver_url}", timeout: 5}}
{extra}""")
    return load_config(path)


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)


def _make_public(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


class Harness:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.store: Store = open_store(cfg, None)
        self.store.add_hook(outbox_hook(cfg))
        self.metrics = DaemonMetrics()
        self.status = DaemonStatus()
        jobs = plan_scan_jobs(cfg)
        for j in jobs:
            self.status.scan_jobs[j.job_id] = ScanJobStatus(j.job_id, 3600.0, j.providers)
        self.jobs = DaemonJobs(cfg, configured_rules(cfg), self.store, self.metrics, self.status, jobs,
                               config_suppressions(cfg))
        self.woken = 0

        def wake() -> None:
            self.woken += 1

        self.jobs.wake_delivery = wake

    def sample(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        assert value is not None, f"no sample {name}{labels}"
        return value


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture
def harness(tmp_path: Path, moto: MotoServer, receiver: HttpReceiver) -> Iterator[Harness]:
    h = Harness(_config(tmp_path, moto, receiver.url()))
    yield h
    h.store.close()


def test_scan_is_recorded_alerts_queued_and_delivered(harness: Harness, s3: Any, receiver: HttpReceiver) -> None:
    _make_public(s3, "open-data")
    assert harness.jobs.run("scan", lambda: harness.jobs.scan("scan"))
    (scan_id, _, complete) = harness.store.scans()[0]
    assert complete
    assert harness.woken == 1, "a recorded scan wakes the deliver job"
    assert receiver.requests == [], "the scan job itself sends nothing: the deliver job does"

    harness.jobs.run("deliver", harness.jobs.deliver)
    got = sorted((r.headers["x-cloudwatchdog-event"], r.json()["finding"]["rule_id"],
                  r.json()["finding"]["resource_name"]) for r in receiver.requests)
    assert ("finding.new", "aws-s3-bucket-public", "open-data") in got
    assert {event for event, _, _ in got} == {"finding.new"}
    sent = len(got)

    status = harness.status.scan_jobs["scan"]
    assert status.last_scan_id == scan_id and status.last_outcome == "ok" and status.last_success is not None
    assert harness.sample("cloudwatchdog_scans_total", job="scan", outcome="ok") == 1
    assert harness.sample("cloudwatchdog_job_runs_total", job="scan", outcome="ok") == 1
    assert harness.sample("cloudwatchdog_job_runs_total", job="deliver", outcome="ok") == 1
    assert harness.sample("cloudwatchdog_scan_duration_seconds_count", job="scan") == 1
    assert harness.sample("cloudwatchdog_api_calls_total", provider="aws") > 0
    assert harness.sample("cloudwatchdog_accounts", provider="aws", status="ok") == 1
    assert harness.sample("cloudwatchdog_resources", provider="aws") >= 1
    active = harness.store.list_findings(states={FindingState.NEW, FindingState.OPEN, FindingState.REOPENED})
    by_severity: dict[str, int] = {}
    for v in active:
        by_severity[v.finding.severity.value] = by_severity.get(v.finding.severity.value, 0) + 1
    assert by_severity, "a public bucket has findings"
    for severity, n in by_severity.items():
        assert harness.sample("cloudwatchdog_open_findings", severity=severity) == n
    assert harness.sample("cloudwatchdog_alert_deliveries_total", outcome="sent") == sent
    assert harness.sample("cloudwatchdog_outbox_pending") == 0


def test_a_scan_job_lets_the_raw_answers_go(harness: Harness, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon never saves raw answers: its scans let each account's go once analysed (memory of a long-lived
    process), and still record everything."""
    _make_public(s3, "open-data")
    seen: list[Any] = []
    record = harness.jobs._record

    def watching(job_id: str, result: Any) -> Any:
        seen.append(result)
        return record(job_id, result)

    monkeypatch.setattr(harness.jobs, "_record", watching)
    assert harness.jobs.run("scan", lambda: harness.jobs.scan("scan"))
    (result,) = seen
    assert result.raw == () and "open-data" in {r.name for r in result.resources}
    assert harness.store.scans()[0][2]  # recorded, complete


def test_scan_never_fails_because_delivery_fails(harness: Harness, s3: Any, receiver: HttpReceiver) -> None:
    _make_public(s3, "open-data")

    def broken() -> None:
        raise RuntimeError("scheduler gone")

    harness.jobs.wake_delivery = broken
    assert harness.jobs.scan("scan") == "ok"
    assert len(harness.store.scans()) == 1
    # The receiver is down: the deliver job reports a retry, it does not raise.
    receiver.__exit__(None, None, None)
    assert harness.jobs.run("deliver", harness.jobs.deliver)
    retried = harness.sample("cloudwatchdog_alert_deliveries_total", outcome="retried")
    assert retried >= 1
    assert harness.sample("cloudwatchdog_outbox_pending") >= retried
    assert harness.sample("cloudwatchdog_outbox_oldest_pending_age_seconds") >= 0


def test_a_scan_finishing_after_the_grace_period_is_not_recorded(harness: Harness, s3: Any,
                                                                 receiver: HttpReceiver) -> None:
    _make_public(s3, "open-data")
    assert harness.jobs.abandon(timeout=1)
    assert harness.jobs.scan("scan") == "abandoned"
    assert harness.store.scans() == [] and harness.store.events() == []
    assert harness.sample("cloudwatchdog_scans_total", job="scan", outcome="abandoned") == 1
    assert harness.status.scan_jobs["scan"].last_success is None
    harness.jobs.run("deliver", harness.jobs.deliver)
    assert receiver.requests == []


def test_failed_scan(harness: Harness, moto: MotoServer) -> None:
    harness.store.close()  # a store that cannot be written: the scan fails, the job does not raise
    (harness.cfg.source_dir / "state.db").unlink()
    (harness.cfg.source_dir / "state.db").mkdir()
    assert not harness.jobs.run("scan", lambda: harness.jobs.scan("scan"))
    assert harness.sample("cloudwatchdog_scans_total", job="scan", outcome="failed") == 1
    assert harness.sample("cloudwatchdog_job_runs_total", job="scan", outcome="failed") == 1
    assert harness.status.scan_jobs["scan"].last_outcome == "failed"
    assert harness.status.running() == []


def test_report_job(harness: Harness, s3: Any) -> None:
    _make_public(s3, "open-data")
    harness.jobs.scan("scan")
    out = harness.cfg.resolve("out")
    assert latest_report_file(out) is None
    path = harness.jobs.report()
    assert path.parent == out and path.name.startswith("cloudwatchdog-report-") and path.suffix == ".html"
    page = path.read_text(encoding="utf-8")
    assert "open-data" in page
    assert not report_csp(page).startswith("default-src 'none'; style-src 'unsafe-inline'"), \
        "the report's own CSP is found"
    assert harness.status.latest_report == path == latest_report_file(out)
    assert harness.store.last_report_time() is not None, "recorded like `cloudwatchdog report`"
    assert [p.name for p in out.iterdir()] == [path.name], "written atomically, no temporary file left"
    assert harness.sample("cloudwatchdog_last_report_timestamp_seconds") > 0


def test_scan_jobs_per_provider(tmp_path: Path, moto: MotoServer) -> None:
    cfg = _config(tmp_path, moto, "http://127.0.0.1:9/hook")
    assert plan_scan_jobs(cfg) == [ScanJob("scan", ("aws",), "0 * * * *")]
    path = tmp_path / "two.yaml"
    path.write_text("""providers:
  aws: {regions: [us-east-1]}
  gcp: {projects: [proj-one]}
  azure: {enabled: false}
schedules:
  scan: every 15m
  scan_providers: {gcp: every 6h}
""")
    cfg = load_config(path)
    assert plan_scan_jobs(cfg) == [ScanJob("scan", ("aws",), "every 15m"), ScanJob("scan:gcp", ("gcp",), "every 6h")]
    only_gcp = config_for(cfg, ("gcp",))
    assert only_gcp.providers.aws is None and only_gcp.providers.gcp == cfg.providers.gcp
    assert only_gcp.schedules == cfg.schedules and only_gcp.source_dir == cfg.source_dir
