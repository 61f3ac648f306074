"""`cloudwatchdog worker` as an operator sees it: a state store it cannot reach is one line on stderr and exit 2 (no
traceback, no password; the queue's case is in test_units.py); SIGTERM is a clean stop (exit 0, the worker leaves
the queue's list of workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cloudwatchdog.cli import main
from cloudwatchdog.state.store import Store

REPO = Path(__file__).resolve().parents[2]


def test_a_worker_that_cannot_reach_its_state_store_says_so_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("providers: {aws: {accounts: [{id: '111111111111'}]}}\n"
                      "state: {url: 'postgresql+psycopg://cwd:s3cret-pw@127.0.0.1:1/store'}\n")
    code = main(["worker", "-c", str(config)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "127.0.0.1:1" in err and "s3cret-pw" not in err and "Traceback" not in err


def _workers(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone() == (None,):
            return 0
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
        return int(row[0]) if row else 0


def test_sigterm_stops_a_worker_cleanly(postgres_url: str, tmp_path: Path) -> None:
    Store.open(postgres_url).close()
    config = tmp_path / "c.yaml"
    config.write_text(f"state: {{url: '{postgres_url}'}}\nfleet: {{heartbeat: 0.3}}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    worker = subprocess.Popen([sys.executable, "-m", "cloudwatchdog", "worker", "-c", str(config)], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    conninfo = str(make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        deadline = time.monotonic() + 30
        while _workers(conninfo) == 0:
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never registered"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    assert "Traceback" not in err
    assert _workers(conninfo) == 0  # unregistered: nobody waits for its heartbeats
