"""Alerts end to end: `cloudwatchdog scan` (the CLI's main() with a config file) against the moto server, recording
into the state store (SQLite and a real PostgreSQL server), delivering through the outbox to a real local webhook
receiver that checks the HMAC signature.

A public bucket alerts once (finding.new), a still-public bucket never again, a fixed one resolves; a receiver that
is down changes nothing in the scan's outcome and gets the alert once it is back (`alerts deliver`); delivery
processes killed with SIGKILL mid-delivery lose nothing and the retry carries the same delivery id; two delivery
processes on one PostgreSQL store never send the same alert twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.receivers import HttpReceiver, Received, Reply

from cloudwatchdog.alerts.outbox.admin import list_outbox
from cloudwatchdog.alerts.outbox.deliver import deliver_due
from cloudwatchdog.cli import main
from cloudwatchdog.config import load_config
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import now_utc

ROOT = Path(__file__).parents[1]
SECRET = "e2e-hook-secret"
PUBLIC_RULE = "aws-s3-bucket-public"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)


def make_public(s3: Any, bucket: str) -> None:
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resources}]}))


def write_config(tmp_path: Path, moto: MotoServer, url: str, state_url: str, *, timeout: float = 5) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(
        f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    object_acl_sample: 0\n"
        f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\", name: prod}}\n"
        f"state:\n  url: \"{state_url}\"\n"
        "notifications:\n"
        "  - type: webhook\n"
        "    name: siem\n"
        f"    url: \"{url}\"\n"
        "    secret: \"${HOOK_SECRET}\"\n"
        "    rules: [aws-s3-bucket-public]\n"
        f"    timeout: {timeout}\n")
    return p


def scan(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["scan", "-c", str(config), "--output", str(tmp_path / "out"), "--no-progress", *extra])
    return code, capsys.readouterr().err


def verified(req: Received) -> dict[str, Any]:
    """The body of a request whose HMAC signature is right (computed over the raw bytes, compared in constant
    time, as the README tells receivers to)."""
    expected = "sha256=" + hmac.new(SECRET.encode(), req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, req.headers["x-cloudwatchdog-signature"]), "bad signature"
    body: dict[str, Any] = req.json()
    return body


def alerts(receiver: HttpReceiver) -> list[tuple[str, str]]:
    return [(b["event"], b["finding"]["resource_name"]) for b in map(verified, receiver.requests)]


def test_a_public_bucket_alerts_once_and_its_fix_resolves(moto: MotoServer, s3: Any, state_url: str,
                                                          receiver: HttpReceiver, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="customer-exports")
    s3.create_bucket(Bucket="private-logs")
    make_public(s3, "customer-exports")
    config = write_config(tmp_path, moto, receiver.url("/hook"), state_url)

    code, err = scan(config, tmp_path, capsys)
    assert code == 0 and "Alerts: 1 delivered" in err
    assert alerts(receiver) == [("finding.new", "customer-exports")]
    first = receiver.requests[0]
    assert first.headers["x-cloudwatchdog-event"] == "finding.new"
    assert first.headers["x-cloudwatchdog-delivery"].startswith("siem:")

    for _ in range(2):  # still public: no second alert, whatever the number of scans
        code, err = scan(config, tmp_path, capsys)
        assert code == 0 and "Alerts:" not in err
    assert len(receiver.requests) == 1

    s3.delete_bucket_policy(Bucket="customer-exports")
    code, err = scan(config, tmp_path, capsys)
    assert code == 0 and "Alerts: 1 delivered" in err
    assert alerts(receiver) == [("finding.new", "customer-exports"), ("finding.resolved", "customer-exports")]
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests]
    assert len(set(ids)) == 2


def test_a_receiver_that_is_down_gets_the_alert_when_it_is_back(moto: MotoServer, s3: Any, state_url: str,
                                                                receiver: HttpReceiver, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="open-data")
    make_public(s3, "open-data")
    config = write_config(tmp_path, moto, receiver.url("/hook"), state_url)
    receiver.reply_with(Reply(503, b"maintenance"))

    code, err = scan(config, tmp_path, capsys, "--fail-on", "critical")
    assert code == 1, "the exit code says there are critical findings, nothing about alerts"
    assert "1 to retry" in err and "cloudwatchdog alerts list" in err
    assert main(["alerts", "list", "-c", str(config), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["alerts"]
    assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, 503)

    # Not due yet (backoff): nothing sent.
    assert main(["alerts", "deliver", "-c", str(config)]) == 0
    assert "0 delivered, 0 to retry, 0 failed for good, 1 waiting" in capsys.readouterr().out
    # The receiver is back; deliver what waits now.
    assert main(["alerts", "deliver", "-c", str(config), "--all"]) == 0
    assert "1 delivered" in capsys.readouterr().out
    assert alerts(receiver) == [("finding.new", "open-data"), ("finding.new", "open-data")]
    assert receiver.requests[0].headers["x-cloudwatchdog-delivery"] == \
        receiver.requests[1].headers["x-cloudwatchdog-delivery"] == row["delivery_id"]
    assert main(["alerts", "deliver", "-c", str(config), "--all"]) == 0
    assert len(receiver.requests) == 2, "delivered exactly once"


def test_a_receiver_not_listening_never_breaks_the_scan(moto: MotoServer, s3: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s3.create_bucket(Bucket="nobody-listens")
    make_public(s3, "nobody-listens")
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, moto, f"http://127.0.0.1:{port}/hook", state_url)
    code, err = scan(config, tmp_path, capsys, "--format", "json")
    assert code == 0 and "1 to retry" in err
    assert list((tmp_path / "out").glob("*.json")), "the scan's outputs are written"
    with Store.open(state_url) as store:
        [entry] = list_outbox(store)
        assert entry.status == "pending" and "ConnectError" in (entry.last_error or "")
        assert "nobody-listens" in {v.finding.resource_name for v in store.list_findings()}, "the scan is recorded"


DELIVER_SCRIPT = "import sys; from cloudwatchdog.cli import main; sys.exit(main(sys.argv[1:]))"


def _deliver_process(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOOK_SECRET": SECRET}
    return subprocess.Popen([sys.executable, "-c", DELIVER_SCRIPT, "alerts", "deliver", "--all", "-c", str(config)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_mid_delivery_loses_nothing_and_the_retry_keeps_the_delivery_id(
        moto: MotoServer, s3: Any, state_url: str, receiver: HttpReceiver, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="crash-test")
    make_public(s3, "crash-test")
    config = write_config(tmp_path, moto, receiver.url("/hook"), state_url, timeout=20)
    receiver.reply_with(Reply(503))  # the scan's own delivery attempt fails: the alert waits in the outbox
    code, _ = scan(config, tmp_path, capsys)
    assert code == 0 and len(receiver.requests) == 1

    # A delivery process; the receiver holds its request open; SIGKILL while it waits for the answer.
    receiver.reply_with(Reply(200, delay=15))
    proc = _deliver_process(config)
    try:
        _wait_for(lambda: len(receiver.requests) == 2, 60, "the delivery process's request")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    interrupted = receiver.requests[1].headers["x-cloudwatchdog-delivery"]

    cfg = load_config(config)
    with Store.open(state_url) as store:
        [entry] = list_outbox(store)
        assert entry.status == "sending" and entry.attempts == 2, "claimed by the killed process, lease held"
        assert deliver_due(store, cfg).sent == 0, "the lease has not expired: nobody else takes it"
        # After the lease (60 s, at least 3x the target's timeout) has expired:
        stats = deliver_due(store, cfg, now=now_utc() + timedelta(seconds=121))
        assert stats.sent == 1 and stats.pending == 0
        [entry] = list_outbox(store)
        assert entry.status == "sent" and entry.attempts == 3
    assert len(receiver.requests) == 3
    assert receiver.requests[2].headers["x-cloudwatchdog-delivery"] == interrupted == entry.delivery_id
    assert verified(receiver.requests[2])["finding"]["resource_name"] == "crash-test"


def test_two_delivery_processes_on_postgres_never_send_an_alert_twice(
        moto: MotoServer, s3: Any, postgres_url: str, receiver: HttpReceiver, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    buckets = [f"shared-{i:02d}" for i in range(12)]
    for name in buckets:
        s3.create_bucket(Bucket=name)
        make_public(s3, name)
    config = write_config(tmp_path, moto, receiver.url("/hook"), postgres_url)
    receiver.reply_with(*[Reply(503)] * len(buckets))
    code, err = scan(config, tmp_path, capsys)
    assert code == 0 and f"{len(buckets)} to retry" in err
    first_round = len(receiver.requests)
    assert first_round == len(buckets)

    # Slow answers, so that both processes are delivering at the same time.
    receiver.reply_with(*[Reply(200, delay=0.3)] * len(buckets))
    procs = [_deliver_process(config) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = [int(m.group(1)) for out, _ in outputs for m in [re.search(rb"Alerts: (\d+) delivered", out)] if m]
    assert len(counts) == 2, outputs
    assert sum(counts) == len(buckets) and min(counts) > 0, counts
    delivered = receiver.requests[first_round:]
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in delivered]
    assert len(ids) == len(buckets) and len(set(ids)) == len(buckets), "each alert exactly once"
    assert sorted(verified(r)["finding"]["resource_name"] for r in delivered) == buckets
    with Store.open(postgres_url) as store:
        assert {e.status for e in list_outbox(store)} == {"sent"}
