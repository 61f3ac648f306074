"""The scheduler built from a config: one job per scan job, the report, delivery and each digest target, with
stable ids, at most one run at a time, missed runs coalesced, jitter where it belongs, the configured time zone;
and the digest job sending what piled up for a digest target (real Slack-format POST to a local receiver)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.receivers import HttpReceiver

from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.commands.scan import configured_rules, open_store
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.daemon.jobs import DaemonJobs, plan_scan_jobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.scheduler import build_scheduler, delivery_waker, job_specs
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client


def _config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(path)


def _jobs(cfg: Config) -> DaemonJobs:
    scan_jobs = plan_scan_jobs(cfg)
    status = DaemonStatus()
    for j in scan_jobs:
        status.scan_jobs[j.job_id] = ScanJobStatus(j.job_id, 60.0, j.providers)
    return DaemonJobs(cfg, [], open_store(cfg, None), DaemonMetrics(), status, scan_jobs)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


def test_jobs_of_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK", "https://hooks.example.com/services/x")
    cfg = _config(tmp_path, """state: {url: "sqlite:///state.db"}
providers:
  aws: {regions: [us-east-1]}
  gcp: {projects: [proj-one]}
notifications:
  - {type: slack, name: chat, webhook_url: "${HOOK}", mode: digest, schedule: "30 8 * * 1-5"}
  - {type: webhook, name: siem, url: "${HOOK}"}
schedules:
  scan: "*/20 * * * *"
  scan_providers: {gcp: every 6h}
  report: "0 7 * * *"
  deliver: every 10s
  timezone: Europe/Paris
  jitter: 45
""")
    jobs = _jobs(cfg)
    scheduler: Any = build_scheduler(cfg, job_specs(cfg, jobs, plan_scan_jobs(cfg)))
    scheduler.start(paused=True)  # job defaults apply when jobs are added to a started scheduler
    by_id = {j.id: j for j in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert sorted(by_id) == ["deliver", "digest:chat", "report", "scan", "scan:gcp"]
    for job in by_id.values():
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time is None
    assert str(scheduler.timezone) == "Europe/Paris"
    assert type(by_id["scan"].trigger).__name__ == "CronTrigger"
    assert by_id["scan:gcp"].trigger.interval == timedelta(hours=6)
    assert by_id["deliver"].trigger.interval == timedelta(seconds=10)
    assert by_id["scan"].trigger.jitter == 45 and by_id["digest:chat"].trigger.jitter == 45
    assert by_id["deliver"].trigger.jitter is None, "delivery is never delayed"
    # The digest runs on weekdays at 08:30 Paris time (crontab weekdays: 1-5 is Monday to Friday).
    saturday = datetime(2025, 1, 4, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    nxt = by_id["digest:chat"].trigger.get_next_fire_time(None, saturday)
    assert nxt.strftime("%a %H:%M %Z") == "Mon 08:30 CET"
    jobs.store.close()


def test_report_off(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 'state: {url: "sqlite:///state.db"}\nproviders: {aws: {}}\nschedules: {report: null}\n')
    jobs = _jobs(cfg)
    assert [s.job_id for s in job_specs(cfg, jobs, plan_scan_jobs(cfg))] == ["scan", "deliver"]
    jobs.store.close()


def test_delivery_waker(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 'state: {url: "sqlite:///state.db"}\nproviders: {aws: {}}\n'
                            'schedules: {deliver: every 1h}\n')
    jobs = _jobs(cfg)
    scheduler: Any = build_scheduler(cfg, job_specs(cfg, jobs, plan_scan_jobs(cfg)))
    scheduler.start(paused=True)
    try:
        later = scheduler.get_job("deliver").next_run_time
        wake = delivery_waker(scheduler, jobs)
        jobs.status.job_started("deliver")
        wake()  # running: it loops by itself, the schedule is left alone
        assert scheduler.get_job("deliver").next_run_time == later
        jobs.status.job_finished("deliver")
        wake()
        soon = scheduler.get_job("deliver").next_run_time
        assert soon < later and abs((soon - datetime.now(soon.tzinfo)).total_seconds()) < 5
    finally:
        scheduler.shutdown(wait=False)
        jobs.store.close()


def test_digest_job(tmp_path: Path, moto: MotoServer, receiver: HttpReceiver) -> None:
    s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    for bucket in ("open-a", "open-b"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    cfg = _config(tmp_path, f"""state: {{url: "sqlite:///state.db"}}
providers:
  aws: {{endpoint_url: {moto.endpoint}, accounts: [{{id: "123456789012"}}], object_acl_sample: 0, sharing: false}}
notifications:
  - {{type: slack, name: chat, webhook_url: "{receiver.url('/services/T0/B0/digest')}", mode: digest,
     min_severity: high}}
""")
    scan_jobs = plan_scan_jobs(cfg)
    status = DaemonStatus()
    status.scan_jobs["scan"] = ScanJobStatus("scan", 60.0, ("aws",))
    store = open_store(cfg, None)
    store.add_hook(outbox_hook(cfg))
    jobs = DaemonJobs(cfg, configured_rules(cfg), store, DaemonMetrics(), status, scan_jobs)
    try:
        assert jobs.scan("scan") == "ok"
        jobs.deliver()
        assert receiver.requests == [], "a digest target gets nothing until its schedule"
        assert jobs.run("digest:chat", lambda: jobs.digest("chat"))
        (request,) = receiver.requests
        text = json.dumps(request.json())
        assert "open-a" in text and "open-b" in text
        assert jobs.metrics.registry.get_sample_value("cloudwatchdog_alert_deliveries_total",
                                                      {"outcome": "sent"}) == 1
        started = time.monotonic()
        jobs.digest("chat")  # nothing piled up since: nothing sent
        assert len(receiver.requests) == 1 and time.monotonic() - started < 5
    finally:
        store.close()
