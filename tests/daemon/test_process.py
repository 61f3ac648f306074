"""`cloudwatchdog daemon` as a real subprocess against the moto server: SIGTERM/SIGINT wait for a running scan
(which is then recorded) or, past the grace period, exit without recording it; exit code 0 both ways. Config
mistakes exit 2 naming file, line and key; `--once` scans once and exits. A delaying proxy in front of moto makes the
scan slow enough to be caught running."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support.receivers import free_port

from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.state.store import Store
from daemon.harness import CLI, DaemonProcess, SlowProxy, http_get, wait_for


def _write_config(tmp_path: Path, endpoint: str, port: int, *, grace: float = 60, scan: str = "every 1h",
                  extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws:
    endpoint_url: {endpoint}
    accounts: [{{id: "123456789012", name: prod}}]
    object_acl_sample: 0
    sharing: false
    max_workers: 2
schedules: {{scan: "{scan}", report: null, deliver: every 30s}}
daemon: {{listen: "127.0.0.1:{port}", log_format: json, shutdown_grace: {grace}}}
{extra}""")
    return path


def _buckets(moto: MotoServer, n: int, *, public: bool = False) -> None:
    s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    for i in range(n):
        s3.create_bucket(Bucket=f"bucket-{i}")
        if public:
            s3.put_bucket_policy(Bucket=f"bucket-{i}", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::bucket-{i}/*"}]}))


def _scans(tmp_path: Path) -> list[tuple[str, Any, bool]]:
    with Store.open("sqlite:///state.db", base_dir=tmp_path, create=False) as store:
        return store.scans()


def _scan_running(daemon: DaemonProcess) -> bool:
    try:
        return "scan" in daemon.health()[1]["running_jobs"]
    except (OSError, ValueError):
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_waits_for_the_running_scan(tmp_path: Path, moto: MotoServer, sig: signal.Signals) -> None:
    _buckets(moto, 3)
    port = free_port()
    with SlowProxy(moto.endpoint, delay=0.3) as proxy, \
            DaemonProcess(_write_config(tmp_path, proxy.endpoint, port), port=port) as daemon:
        # The first scan starts at once; catch it running.
        wait_for(lambda: _scan_running(daemon), 30, "the first scan to be running", on_timeout=daemon.output)
        daemon.signal(sig)
        assert daemon.wait(60) == 0
        records = daemon.records()
    (recorded,) = [r for r in records if r.get("event") == "scan_recorded"]
    (shutdown,) = [r for r in records if r.get("event") == "shutdown"]
    assert "scan" in shutdown["running_jobs"] and "waiting up to 60s for " in shutdown["message"]
    assert records[-1]["event"] == "stopped" and records[-1]["message"] == "stopped"
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)
    assert records.index(shutdown) < records.index(recorded), "the scan finished after the signal"
    (scan,) = _scans(tmp_path)
    assert scan[0] == recorded["scan_id"] and scan[2], "the scan that was running is recorded, complete"
    assert recorded["resources"] >= 3


def test_scan_past_the_grace_period_is_not_recorded(tmp_path: Path, moto: MotoServer) -> None:
    _buckets(moto, 3)
    port = free_port()
    with SlowProxy(moto.endpoint, delay=1.0) as proxy, \
            DaemonProcess(_write_config(tmp_path, proxy.endpoint, port, grace=1), port=port) as daemon:
        wait_for(lambda: _scan_running(daemon), 30, "the first scan to be running", on_timeout=daemon.output)
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        elapsed = time.monotonic() - started
        records = daemon.records()
        requests_then = proxy.requests
        time.sleep(1.5)
        assert proxy.requests == requests_then, "no scan goes on after the exit"
    assert elapsed < 10, f"the daemon took {elapsed:.1f}s to stop with a 1s grace period"
    (stopped,) = [r for r in records if r.get("event") == "stopped"]
    assert stopped["level"] == "warning" and "scan" in stopped["abandoned_jobs"]
    assert "not recorded" in stopped["message"]
    assert not [r for r in records if r.get("event") == "scan_recorded"]
    assert _scans(tmp_path) == [], "an interrupted scan is never recorded"


def test_second_signal_stops_waiting(tmp_path: Path, moto: MotoServer) -> None:
    _buckets(moto, 3)
    port = free_port()
    with SlowProxy(moto.endpoint, delay=1.0) as proxy, \
            DaemonProcess(_write_config(tmp_path, proxy.endpoint, port, grace=300), port=port) as daemon:
        wait_for(lambda: _scan_running(daemon), 30, "the first scan to be running", on_timeout=daemon.output)
        daemon.signal(signal.SIGINT)
        wait_for(lambda: bool(daemon.events("shutdown")), 10, "the shutdown to begin", on_timeout=daemon.output)
        daemon.signal(signal.SIGINT)
        assert daemon.wait(20) == 0
    assert _scans(tmp_path) == []


def test_healthz_metrics_and_report_of_a_running_daemon(tmp_path: Path, moto: MotoServer) -> None:
    _buckets(moto, 1, public=True)
    port = free_port()
    config = _write_config(tmp_path, moto.endpoint, port, scan="every 2s")
    text = config.read_text().replace("report: null", "report: every 2s")
    config.write_text(text)
    with DaemonProcess(config, port=port) as daemon:
        daemon.wait_healthy()
        wait_for(lambda: len(daemon.events("scan_recorded")) >= 2, 30, "two scans", on_timeout=daemon.output)
        wait_for(lambda: bool(daemon.events("report_written")), 30, "a report", on_timeout=daemon.output)
        code, health = daemon.health()
        assert code == 200 and health["status"] == "ok" and health["scans"]["scan"]["last_outcome"] == "ok"
        code, body = http_get(daemon.url + "/metrics")
        assert code == 200
        metrics = body.decode()
        assert 'cloudwatchdog_scans_total{job="scan",outcome="ok"}' in metrics
        assert 'cloudwatchdog_scheduler_running 1.0' in metrics
        code, page = http_get(daemon.url + "/report")
        assert code == 200 and b"<html" in page and b"bucket-0" in page
        daemon.signal(signal.SIGHUP)  # no reload, and no death either
        wait_for(lambda: bool(daemon.events("sighup")), 10, "SIGHUP to be logged", on_timeout=daemon.output)
        assert daemon.health()[0] == 200
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        (started,) = daemon.events("daemon_started")
    assert started["jobs"] == ["scan", "report", "deliver"]


def test_config_error_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("providers:\n  aws: {}\nschedules:\n  scan: every 0s\n")
    proc = subprocess.run([CLI, "daemon", "-c", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}:4: schedules.scan: 'every 0s': the interval must be " \
        "at least 1 second"


def test_listen_address_in_use_exits_2(tmp_path: Path, moto: MotoServer) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = _write_config(tmp_path, moto.endpoint, port)
        proc = subprocess.run([CLI, "daemon", "-c", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{path}:11: daemon.listen: cannot listen on 127.0.0.1:{port}: Address already in use" in proc.stderr


def test_once(tmp_path: Path, moto: MotoServer) -> None:
    _buckets(moto, 2)
    path = _write_config(tmp_path, moto.endpoint, free_port())
    proc = subprocess.run([CLI, "daemon", "-c", str(path), "--once"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(_scans(tmp_path)) == 1
    events = [json.loads(line).get("event") for line in proc.stderr.splitlines()]
    assert events[-1] == "once_done" and "scan_recorded" in events
