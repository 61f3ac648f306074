"""The HTTP endpoint, over real HTTP on 127.0.0.1: /healthz follows the scheduler and the age of the last scan,
/metrics is Prometheus text from the daemon's own registry, /report serves the latest report with its CSP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloudwatchdog.daemon.http import HttpEndpoint, report_csp
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.scheduler import scheduler_alive
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.model import Coverage, CoverageStatus, Severity
from cloudwatchdog.settings.daemon import ListenAddress


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Daemon:
    status: DaemonStatus
    metrics: DaemonMetrics
    clock: Clock
    scheduler: Any
    url: str


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    from apscheduler.schedulers.background import BackgroundScheduler

    # A real scheduler (with one idle job) stands for the daemon's; the status is what the jobs would fill in.
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: None, "interval", hours=1, id="idle")
    clock = Clock()
    status = DaemonStatus(stale_after=3, clock=clock)
    status.scan_jobs["scan"] = ScanJobStatus("scan", 60.0, ("aws",))
    status.scheduler_alive = scheduler_alive(scheduler)
    metrics = DaemonMetrics()
    metrics.declare_jobs(["scan"], ["deliver"])
    endpoint = HttpEndpoint(ListenAddress("127.0.0.1", 0), status, metrics).start()
    scheduler.start()
    try:
        yield Daemon(status, metrics, clock, scheduler, f"http://127.0.0.1:{endpoint.port}")
    finally:
        endpoint.stop()
        if scheduler.running:
            scheduler.shutdown(wait=False)


def test_healthz_follows_scans_and_scheduler(daemon: Daemon) -> None:
    code, headers, body = _get(daemon.url + "/healthz")
    doc = json.loads(body)
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert doc["status"] == "ok" and doc["scheduler"] == "running"
    assert doc["scans"]["scan"]["last_success"] is None and doc["scans"]["scan"]["max_age_seconds"] == 180

    # No scan for more than 3 intervals since the start: 503.
    daemon.clock.now += 181
    code, _, body = _get(daemon.url + "/healthz")
    doc = json.loads(body)
    assert code == 503 and doc["status"] == "unhealthy" and doc["scans"]["scan"]["stale"]
    assert doc["problems"] == ["scan job scan: the start, with no scan was 181s ago (limit 180s)"]

    # A scan recorded: healthy again, until it too is older than 3 intervals.
    daemon.status.scan_recorded("scan", scan_id="s1", duration=2.0, outcome="incomplete")
    code, _, body = _get(daemon.url + "/healthz")
    assert code == 200 and json.loads(body)["scans"]["scan"]["last_outcome"] == "incomplete"
    daemon.clock.now += 179
    assert _get(daemon.url + "/healthz")[0] == 200
    daemon.clock.now += 2
    code, _, body = _get(daemon.url + "/healthz")
    assert code == 503 and "the last successful scan was 181s ago" in json.loads(body)["problems"][0]

    # A scan slower than its interval stretches the limit.
    daemon.status.scan_recorded("scan", scan_id="s2", duration=100.0, outcome="ok")
    daemon.clock.now += 250
    code, _, body = _get(daemon.url + "/healthz")
    assert code == 200 and json.loads(body)["scans"]["scan"]["max_age_seconds"] == 300

    # A scheduler that stopped: 503 at once.
    daemon.scheduler.shutdown(wait=False)
    code, _, body = _get(daemon.url + "/healthz")
    doc = json.loads(body)
    assert code == 503 and doc["scheduler"] == "stopped" and "the scheduler is not running" in doc["problems"]


def test_healthz_while_stopping(daemon: Daemon) -> None:
    daemon.status.stopping = True
    code, _, body = _get(daemon.url + "/healthz")
    assert code == 503 and json.loads(body)["problems"] == ["shutting down"]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics(daemon: Daemon) -> None:
    m = daemon.metrics
    m.scans.labels("scan", "ok").inc()
    m.scan_duration.labels("scan").observe(3.2)
    m.record_coverage([Coverage("aws", "123456789012", CoverageStatus.OK, 4, (), 31),
                       Coverage("aws", "210987654321", CoverageStatus.PARTIAL, 2, ("AccessDenied",), 12)],
                      {"aws": 6})
    m.set_open_findings({Severity.CRITICAL: 2, Severity.HIGH: 1})
    m.deliveries.labels("sent").inc(5)
    m.outbox_pending.set(3)
    code, headers, body = _get(daemon.url + "/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=")
    s = _samples(body.decode())
    assert s[("cloudwatchdog_scans_total", (("job", "scan"), ("outcome", "ok")))] == 1
    assert s[("cloudwatchdog_scans_total", (("job", "scan"), ("outcome", "failed")))] == 0
    assert s[("cloudwatchdog_scan_duration_seconds_count", (("job", "scan"),))] == 1
    assert s[("cloudwatchdog_scan_duration_seconds_sum", (("job", "scan"),))] == pytest.approx(3.2)
    assert s[("cloudwatchdog_api_calls_total", (("provider", "aws"),))] == 43
    assert s[("cloudwatchdog_scan_errors_total", (("provider", "aws"),))] == 1
    assert s[("cloudwatchdog_accounts", (("provider", "aws"), ("status", "partial")))] == 1
    assert s[("cloudwatchdog_accounts", (("provider", "aws"), ("status", "error")))] == 0
    assert s[("cloudwatchdog_resources", (("provider", "aws"),))] == 6
    assert s[("cloudwatchdog_open_findings", (("severity", "critical"),))] == 2
    assert s[("cloudwatchdog_open_findings", (("severity", "medium"),))] == 0
    assert s[("cloudwatchdog_alert_deliveries_total", (("outcome", "sent"),))] == 5
    assert s[("cloudwatchdog_outbox_pending", ())] == 3
    assert s[("cloudwatchdog_job_runs_total", (("job", "deliver"), ("outcome", "ok")))] == 0
    assert s[("cloudwatchdog_scheduler_running", ())] == 1
    assert ("cloudwatchdog_build_info", (("version", __import__("cloudwatchdog").__version__),)) in s
    assert any(name == "process_resident_memory_bytes" for name, _ in s)


def test_registries_are_separate() -> None:
    a, b = DaemonMetrics(), DaemonMetrics()
    a.scans.labels("scan", "ok").inc()
    assert 'cloudwatchdog_scans_total{job="scan",outcome="ok"} 1.0' in a.exposition().decode()
    assert "cloudwatchdog_scans_total{" not in b.exposition().decode()


def test_report(daemon: Daemon, tmp_path: Path) -> None:
    code, _, body = _get(daemon.url + "/report")
    assert code == 404 and b"no report yet" in body
    page = tmp_path / "cloudwatchdog-report-2025-01-01.html"
    csp = "default-src 'none'; style-src 'sha256-abc='; img-src data:"
    page.write_text(f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}">'
                    "</head><body>report &lt;b&gt;</body></html>", encoding="utf-8")
    daemon.status.latest_report = page
    code, headers, body = _get(daemon.url + "/report")
    assert code == 200 and body == page.read_bytes()
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == f"{csp}; frame-ancestors 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
    assert _get(daemon.url + "/nothing")[0] == 404


def test_report_csp_fallback() -> None:
    assert report_csp("<html>no policy</html>").startswith("default-src 'none'")


def test_report_can_be_turned_off(tmp_path: Path) -> None:
    status = DaemonStatus()
    status.latest_report = tmp_path / "r.html"
    status.latest_report.write_text("<html></html>")
    endpoint = HttpEndpoint(ListenAddress("127.0.0.1", 0), status, DaemonMetrics(), serve_report=False).start()
    try:
        assert _get(f"http://127.0.0.1:{endpoint.port}/report")[0] == 404
    finally:
        endpoint.stop()


def test_idle_and_half_open_connections_are_bounded_and_closed(tmp_path: Path) -> None:
    """200 connections that send nothing (or half a request) neither starve /healthz nor hold 200 threads, and
    are closed after the idle timeout."""
    import socket
    import threading
    import time

    status = DaemonStatus()
    endpoint = HttpEndpoint(ListenAddress("127.0.0.1", 0), status, DaemonMetrics(), idle_timeout=1.0,
                            max_connections=8).start()
    threads_before = threading.active_count()
    idle: list[socket.socket] = []
    try:
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5)
            if i % 2:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request, never finished
            idle.append(s)
        time.sleep(0.3)
        assert threading.active_count() <= threads_before + 8
        # Slots free up as the idle timeout closes connections: /healthz answers within a few seconds.
        deadline = time.monotonic() + 8
        code = 0
        while time.monotonic() < deadline and code == 0:
            try:
                code = _get(f"http://127.0.0.1:{endpoint.port}/healthz")[0]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert code == 503  # answered (503: this status has no scheduler running)
        # Every idle connection has been closed by the server: reading gives end-of-file (or a reset).
        for s in idle:
            try:
                data = s.recv(1024)
            except (ConnectionResetError, TimeoutError):
                continue
            assert data == b"" or data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.1 400")
    finally:
        for s in idle:
            s.close()
        endpoint.stop()
