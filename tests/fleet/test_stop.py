"""A running unit that nobody waits for stops reading, and a worker told to stop (SIGTERM) finishes its unit without
looking lost: real `cloudwatchdog worker` processes, the PostgreSQL the suite starts, moto server behind a proxy on
127.0.0.1 that slows every request down and counts them."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from daemon.harness import SlowProxy

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import MotoServer, account_session
from cloudwatchdog.model import CoverageStatus
from cloudwatchdog.providers.aws.collect import collect_aws
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.state.store import Store
from fleet.test_distributed_e2e import Workers
from fleet.test_integrity import _conninfo, _jobs, _registered, _rows, _wait

LARGE = "200000000001"  # 120 buckets: its unit outlives a short scan_timeout
MEDIUM = "200000000002"  # 30 buckets: its unit outlives fleet.stalled_after
SMALL = "200000000003"  # one bucket
BUCKETS = {LARGE: 120, MEDIUM: 30, SMALL: 1}


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> MotoServer:
    moto_server.reset()

    def seed(account: str) -> None:
        s3 = account_session(moto_server.endpoint, account).client("s3", endpoint_url=moto_server.endpoint)
        for n in range(BUCKETS[account]):
            s3.create_bucket(Bucket=f"stop-{account}-{n:03d}")

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(seed, BUCKETS))
    return moto_server


def _aws(endpoint: str, accounts: list[str], max_workers: int) -> dict[str, Any]:
    return {"endpoint_url": endpoint, "credential": "emulator", "regions": ["us-east-1"], "sharing": False,
            "object_acl_sample": 0, "max_workers": max_workers,
            "accounts": [{"id": a, "role_arn": f"arn:aws:iam::{a}:role/Audit"} for a in accounts]}


def _write(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def _config(tmp_path: Path, postgres_url: str, aws: dict[str, Any], *, stalled_after: float, max_attempts: int,
            scan_timeout: float) -> Path:
    """The config of a fleet test (heartbeats every 0.3 s), with the store's schema made."""
    cfg = {"state": {"url": postgres_url}, "providers": {"aws": aws},
           "fleet": {"heartbeat": 0.3, "stalled_after": stalled_after, "poll_interval": 0.2,
                     "max_attempts": max_attempts, "scan_timeout": scan_timeout}}
    config = _write(tmp_path / "config.yaml", cfg)
    Store.open(postgres_url).close()
    return config


def _scan(config: Path, out: Path) -> int:
    return main(["scan", "-c", str(config), "--output", str(out), "--no-progress", "--distributed",
                 "--format", "json"])


def _requests_of(proxy: SlowProxy, read: Callable[[], object]) -> int:
    before = proxy.requests
    read()
    return proxy.requests - before


def test_a_timed_out_unit_stops_reading_and_its_worker_takes_the_next_unit(
        estate: MotoServer, postgres_url: str, tmp_path: Path) -> None:
    with SlowProxy(estate.endpoint, delay=0.0) as proxy:
        # What the whole unit costs: the same account read in this process.
        full = _requests_of(proxy, lambda: collect_aws(AwsProvider.model_validate(_aws(proxy.endpoint, [LARGE], 2))))
        assert full > 300, full

        config = _config(tmp_path, postgres_url, _aws(proxy.endpoint, [LARGE], 2), stalled_after=10, max_attempts=1,
                         scan_timeout=2.0)
        workers = Workers(config, tmp_path, 1)
        try:
            _wait("the worker listens", lambda: _registered(postgres_url), 30, workers)
            proxy.delay = 0.05  # two requests at a time: the whole unit would take some 9 s
            start = proxy.requests
            assert _scan(config, tmp_path / "first") == 3
            timed_out = time.monotonic()
            _wait("the unit stops", lambda: ": stopped: " in workers.text(0), 10, workers)
            stopped_after = time.monotonic() - timed_out
            sent = proxy.requests - start
            time.sleep(1.0)
            assert proxy.requests - start == sent, "the stopped unit still sends requests"
            assert sent < full / 3, (sent, full)
            assert stopped_after < 2.0, stopped_after
            with Store.open(postgres_url) as store:
                [(first, _, complete)] = store.scans()
                [cov] = store.report_data().coverage
            assert not complete and cov.coverage.status is CoverageStatus.ERROR
            assert "timed out" in cov.coverage.errors[0]
            _wait("its job leaves the queue", lambda: _jobs(postgres_url, first) == [], 10, workers)
            assert _rows(postgres_url) == 0
            log = workers.text(0)
            assert len(re.findall(rf"of scan {first}: stopped: its scan stopped waiting for it", log)) == 1, log
            assert "result dropped" not in log and ": done (" not in log

            # The same worker takes the next scan's unit.
            proxy.delay = 0.0
            _config(tmp_path, postgres_url, _aws(proxy.endpoint, [SMALL], 2), stalled_after=10, max_attempts=1,
                    scan_timeout=60)
            assert _scan(config, tmp_path / "second") == 0
        finally:
            workers.stop()
    with Store.open(postgres_url) as store:
        second = next(sid for sid, _, _ in store.scans() if sid != first)
    assert re.search(rf"unit aws/\d+/{SMALL} of scan {second}: done \(1 snapshots\)", workers.text(0))
    assert workers.procs[0].returncode == 0


def _heartbeat_ages(conninfo: str) -> list[float]:
    with psycopg.connect(conninfo) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone() == (None,):
            return []
        return [float(age) for (age,) in conn.execute(
            "SELECT extract(epoch FROM now() - last_heartbeat) FROM procrastinate_workers")]


def test_a_worker_told_to_stop_finishes_its_unit_with_its_heartbeats_going_on(
        estate: MotoServer, postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    stalled_after = 1.5
    with SlowProxy(estate.endpoint, delay=0.0) as proxy:
        config = _config(tmp_path, postgres_url, _aws(proxy.endpoint, [MEDIUM, SMALL], 2),
                         stalled_after=stalled_after, max_attempts=3, scan_timeout=60)
        workers = Workers(config, tmp_path, 2)  # the other one would run the unit again, were it taken for lost
        conninfo = _conninfo(postgres_url)
        oldest: list[float] = []
        told: list[tuple[int, float]] = []

        def terminate_holder() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not told:
                i = workers.holder(MEDIUM)
                if i is not None:
                    time.sleep(0.3)
                    os.kill(workers.procs[i].pid, signal.SIGTERM)
                    told.append((i, time.monotonic()))
                time.sleep(0.05)
            while told and workers.procs[told[0][0]].poll() is None and time.monotonic() < deadline:
                oldest.append(max(_heartbeat_ages(conninfo), default=0.0))
                time.sleep(0.1)

        try:
            _wait("the workers listen", lambda: len(_heartbeat_ages(conninfo)) == 2, 30, workers)
            proxy.delay = 0.05  # 3 requests a bucket: the unit takes some 5 s, three times stalled_after
            watcher = threading.Thread(target=terminate_holder, daemon=True)
            watcher.start()
            with caplog.at_level(logging.WARNING, logger="cloudwatchdog.fleet"):
                code = _scan(config, tmp_path / "out")
            watcher.join(30)
            assert told, "the worker holding the medium unit was never seen"
            i, at = told[0]
            workers.procs[i].wait(30)
            lasted = time.monotonic() - at
        finally:
            workers.stop()
    assert code == 0
    assert workers.procs[i].returncode == 0
    log = workers.text(i)
    assert re.search(rf"unit aws/\d+/{MEDIUM} of scan \S+: done \(1 snapshots\)", log), log
    assert lasted > 2 * stalled_after, lasted  # it finished its unit before it stopped
    assert oldest and max(oldest) < stalled_after, max(oldest, default=None)
    assert "stopped answering" not in caplog.text
    runs = [m for w in range(2) for m in re.findall(rf"unit aws/\d+/{MEDIUM} of scan \S+: started", workers.text(w))]
    assert len(runs) == 1, "the unit ran twice"
    with Store.open(postgres_url) as store:
        coverage = {c.coverage.account: c.coverage for c in store.report_data().coverage}
    assert coverage[MEDIUM].status is CoverageStatus.OK and coverage[MEDIUM].resources >= BUCKETS[MEDIUM]


def _signal_the_large_unit(estate: MotoServer, postgres_url: str, tmp_path: Path, scan_timeout: float,
                           signals: list[signal.Signals]) -> tuple[Workers, list[float], float]:
    """One worker takes the large unit of a distributed scan (some 9 s of reading); 0.3 s into it the worker gets
    ``signals``, half a second apart. (The worker, when each signal went and when the worker ended, as far as
    within 10 s; when the scan, which must be incomplete, returned.)"""
    with SlowProxy(estate.endpoint, delay=0.0) as proxy:
        config = _config(tmp_path, postgres_url, _aws(proxy.endpoint, [LARGE], 2), stalled_after=10, max_attempts=1,
                         scan_timeout=scan_timeout)
        workers = Workers(config, tmp_path, 1)
        told: list[float] = []

        def signal_holder() -> None:
            deadline = time.monotonic() + 60
            while workers.holder(LARGE) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            for n, sig in enumerate(signals):
                time.sleep(0.5 if n else 0.3)
                workers.procs[0].send_signal(sig)
                told.append(time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                workers.procs[0].wait(10)
                told.append(time.monotonic())

        try:
            _wait("the worker listens", lambda: _registered(postgres_url), 30, workers)
            proxy.delay = 0.05  # the whole unit would take some 9 s
            watcher = threading.Thread(target=signal_holder, daemon=True)
            watcher.start()
            assert _scan(config, tmp_path / "out") == 3  # the unit never finished: its account is an error
            returned = time.monotonic()
            watcher.join(30)
        finally:
            workers.stop()
    return workers, told, returned


def test_a_worker_told_to_stop_still_stops_its_unit_when_the_scan_times_out(
        estate: MotoServer, postgres_url: str, tmp_path: Path) -> None:
    """procrastinate stops listening for aborts when its worker is told to stop; the unit still hears of it."""
    workers, told, timed_out = _signal_the_large_unit(estate, postgres_url, tmp_path, 2.5, [signal.SIGTERM])
    assert len(told) == 2, "the worker holding the unit was never seen, or it did not end"
    assert told[0] < timed_out, "the worker was not told to stop before the scan timed out"
    assert workers.procs[0].returncode == 0
    assert ": stopped: its scan stopped waiting for it" in workers.text(0)
    assert told[1] - timed_out < 3.0, told[1] - timed_out  # the unit would have run some 6 s more


def test_a_second_ctrl_c_ends_a_worker_at_once(estate: MotoServer, postgres_url: str, tmp_path: Path) -> None:
    """The first SIGINT asks the worker to finish its unit; the second ends it there and then (procrastinate would
    put back asyncio's SIGINT handler, which only cancels its main task, and go on waiting for the unit)."""
    workers, told, _ = _signal_the_large_unit(estate, postgres_url, tmp_path, 4.0, [signal.SIGINT, signal.SIGINT])
    assert len(told) == 3, "the worker holding the unit was never seen, or it did not end"
    assert workers.procs[0].returncode == -signal.SIGINT  # ended by the signal itself (a shell shows 130)
    assert told[2] - told[1] < 2.0, told[2] - told[1]  # the unit had some 8 s to go
    assert "done (" not in workers.text(0)


def test_a_unit_stops_reading_when_its_coordinator_dies(
        estate: MotoServer, postgres_url: str, tmp_path: Path) -> None:
    """A coordinator killed with SIGKILL asks for no abort; its scan lease goes with its connection, and the unit
    sees that at its worker's next heartbeat: it stops reading and records nothing."""
    with SlowProxy(estate.endpoint, delay=0.0) as proxy:
        config = _config(tmp_path, postgres_url, _aws(proxy.endpoint, [LARGE], 2), stalled_after=10, max_attempts=1,
                         scan_timeout=120)
        workers = Workers(config, tmp_path, 1)
        coordinator = None
        try:
            _wait("the worker listens", lambda: _registered(postgres_url), 30, workers)
            proxy.delay = 0.05  # the whole unit would take some 9 s
            coordinator = subprocess.Popen(
                [sys.executable, "-m", "cloudwatchdog", "scan", "-c", str(config), "--distributed", "--no-progress",
                 "--output", str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
            _wait("the worker takes the unit", lambda: workers.holder(LARGE) is not None, 60, workers)
            time.sleep(0.3)
            requests = proxy.requests
            coordinator.kill()
            killed = time.monotonic()
            _wait("the unit stops", lambda: "stopped: its scan stopped waiting" in workers.text(0), 10, workers)
            stopped = time.monotonic()
            sent_after = proxy.requests - requests
        finally:
            if coordinator is not None and coordinator.poll() is None:
                coordinator.kill()
            workers.stop()
    assert stopped - killed < 3.0, stopped - killed  # a heartbeat is 0.3 s; the unit had some 8 s to go
    assert sent_after < 3 * 120 // 2, sent_after  # far from the rest of the unit's reads
    assert "nothing recorded" in workers.text(0) and "done (" not in workers.text(0)
    assert workers.procs[0].returncode == 0  # stopped by workers.stop(): it went on taking units
