"""Distributed scans end to end, on real parts: the PostgreSQL the suite starts (queue and state store), moto server
with 50 accounts entered by assume-role, and three `cloudwatchdog worker` processes, one of them killed with SIGKILL
while it holds a unit. The scan must come out exactly as a single-process scan of the same estate, and a unit that
fails on every run must be its account's coverage error and resolve nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import MotoServer, account_session
from cloudwatchdog.services.raw import load_raw
from cloudwatchdog.state.store import Store

ACCOUNTS = [f"{100000000000 + i}" for i in range(50)]
SLOW = ACCOUNTS[7]  # many buckets: a unit that runs long enough to kill its worker
SLOW_BUCKETS = 120
REPO = Path(__file__).resolve().parents[2]


def _seed_account(moto: MotoServer, i: int, account: str) -> None:
    s3 = account_session(moto.endpoint, account).client("s3", endpoint_url=moto.endpoint)
    names = [f"slow-{account}-{n:03d}" for n in range(SLOW_BUCKETS)] if account == SLOW else [f"b-{account}"]
    for name in names:
        s3.create_bucket(Bucket=name)
    if i % 5 == 0 or account == SLOW:  # some exposure: a public-read ACL (needs ACLs enabled)
        s3.put_bucket_ownership_controls(Bucket=names[0], OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        s3.put_public_access_block(Bucket=names[0], PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
        s3.put_bucket_acl(Bucket=names[0], ACL="public-read")


def _config(tmp_path: Path, moto: MotoServer, state_url: str, *, max_attempts: int,
            accounts: list[str] = ACCOUNTS) -> Path:
    cfg = {
        "state": {"url": state_url},
        "providers": {"aws": {
            "endpoint_url": moto.endpoint, "credential": "emulator", "regions": ["us-east-1"], "sharing": False,
            "object_acl_sample": 0, "max_workers": 2,
            "accounts": [{"id": a, "name": f"acct-{a[-2:]}", "role_arn": f"arn:aws:iam::{a}:role/Audit"}
                         for a in accounts],
        }},
        "fleet": {"heartbeat": 0.3, "stalled_after": 2, "poll_interval": 0.3, "max_attempts": max_attempts,
                  "scan_timeout": 240},
    }
    path = tmp_path / f"config-{max_attempts}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


class Workers:
    """`cloudwatchdog worker` subprocesses, each logging to its own file."""

    def __init__(self, config: Path, logs: Path, n: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("HTTP_PROXY", None)
        env.pop("HTTPS_PROXY", None)
        self.logs = [logs / f"worker-{i}.log" for i in range(n)]
        self.procs = [subprocess.Popen([sys.executable, "-m", "cloudwatchdog", "worker", "-c", str(config)],
                                       stdout=subprocess.DEVNULL, stderr=log.open("w"), stdin=subprocess.DEVNULL,
                                       env=env, cwd=logs)
                      for log in self.logs]

    def text(self, i: int) -> str:
        return self.logs[i].read_text(errors="replace")

    def holder(self, unit_account: str) -> int | None:
        """The worker that has started the unit of ``unit_account`` (and not finished it)."""
        started = re.compile(rf"unit aws/\d+/{unit_account} of scan \S+: started")
        for i, proc in enumerate(self.procs):
            if proc.poll() is None and started.search(self.text(i)):
                return i
        return None

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> MotoServer:
    """The 50 accounts, seeded once for this module's tests."""
    moto_server.reset()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: _seed_account(moto_server, *item), enumerate(ACCOUNTS)))
    return moto_server


@pytest.fixture
def workers_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Workers] = []

    def start(config: Path, n: int = 3) -> Workers:
        w = Workers(config, tmp_path, n)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def _kill_holder(workers: Workers, account: str, killed: list[int]) -> None:
    """Kill (SIGKILL) the worker that holds ``account``'s unit, as soon as one does."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        i = workers.holder(account)
        if i is not None:
            time.sleep(0.1)  # inside the unit: its buckets are being read (it takes over a second)
            os.kill(workers.procs[i].pid, signal.SIGKILL)
            workers.procs[i].wait()
            killed.append(i)
            return
        time.sleep(0.1)


def _scan(config: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "-c", str(config), "--output", str(out), "--no-progress", *extra])
    [document] = out.glob("*.json")
    return code, json.loads(document.read_text())


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    findings = sorted((f["id"], f["rule_id"], f["resource_uid"], f["state"], f["severity"],
                       json.dumps(f["evidence"], sort_keys=True), f["account_name"]) for f in doc["findings"])
    coverage = sorted((c["provider"], c["account"], c["status"], c["resources"], tuple(c["errors"]), c["name"])
                      for c in doc["scan"]["coverage"])
    resources = sorted(json.dumps({k: v for k, v in r.items()}, sort_keys=True) for r in doc["resources"])
    return {"findings": findings, "coverage": coverage, "resources": resources}


def test_distributed_scan_survives_a_killed_worker_and_equals_a_single_process_scan(
        estate: MotoServer, postgres_url: str, tmp_path: Path, workers_factory: Any) -> None:
    config = _config(tmp_path, estate, postgres_url, max_attempts=3)
    workers = workers_factory(config)  # they start while the single-process scan runs
    code_single, single = _scan(config, tmp_path / "single", "--state-url", f"sqlite:///{tmp_path / 'single.db'}")

    killed: list[int] = []
    killer = threading.Thread(target=_kill_holder, args=(workers, SLOW, killed), daemon=True)
    killer.start()
    code, distributed = _scan(config, tmp_path / "distributed", "--distributed", "--save-raw", str(tmp_path / "raw"))
    killer.join(timeout=5)

    assert killed, "the worker holding the slow unit was never seen"
    # --save-raw wrote each unit's answers as they were assembled: every account once, the retried unit's run.
    assert sorted(s["account"] for s in load_raw(str(tmp_path / "raw"))) == sorted(ACCOUNTS)
    retried = [i for i in range(3) if i not in killed and re.search(
        rf"unit aws/\d+/{SLOW} of scan \S+: started \(run 2 ", workers.text(i))]
    assert retried, "the killed worker's unit was not run again by another worker"
    assert code == code_single
    assert _comparable(distributed) == _comparable(single)
    assert len(distributed["findings"]) >= 10  # the comparison compares something
    assert {c["account"] for c in distributed["scan"]["coverage"]} == set(ACCOUNTS)
    assert all(c["status"] == "ok" for c in distributed["scan"]["coverage"])
    # Units run across the workers, not all in one.
    busy = [i for i in range(3) if "done (" in workers.text(i)]
    assert len(busy) >= 2


def test_a_unit_failing_on_every_run_is_its_accounts_error_and_resolves_nothing(
        estate: MotoServer, postgres_url: str, tmp_path: Path, workers_factory: Any) -> None:
    config = _config(tmp_path, estate, postgres_url, max_attempts=1, accounts=ACCOUNTS[:10])
    s3 = account_session(estate.endpoint, SLOW).client("s3", endpoint_url=estate.endpoint)
    s3.put_bucket_acl(Bucket=f"slow-{SLOW}-000", ACL="public-read")
    workers = workers_factory(config)
    code, first = _scan(config, tmp_path / "first")  # single-process: the slow account's finding is open
    slow_findings = {f["id"] for f in first["findings"] if f["account"] == SLOW}
    assert slow_findings
    # The exposure is fixed meanwhile: a complete read of the account would resolve the finding.
    s3.put_bucket_acl(Bucket=f"slow-{SLOW}-000", ACL="private")

    killed: list[int] = []
    killer = threading.Thread(target=_kill_holder, args=(workers, SLOW, killed), daemon=True)
    killer.start()
    code, doc = _scan(config, tmp_path / "second", "--distributed")
    killer.join(timeout=5)

    assert killed
    assert code == 3  # incomplete
    coverage = {c["account"]: c for c in doc["scan"]["coverage"]}
    assert coverage[SLOW]["status"] == "error"
    assert "the unit failed" in coverage[SLOW]["errors"][0] and "stopped answering" in coverage[SLOW]["errors"][0]
    assert coverage[SLOW]["name"] == f"acct-{SLOW[-2:]}"
    assert all(c["status"] == "ok" for a, c in coverage.items() if a != SLOW)
    assert not any(f["state"] == "resolved" for f in doc["findings"])
    with Store.open(postgres_url) as store:  # carried over with its last known state, not resolved
        kept = {r.finding.id: r.finding.state.value for r in store.list_findings() if r.finding.id in slow_findings}
    assert set(kept) == slow_findings and "resolved" not in kept.values()


def test_the_daemon_scans_through_the_workers_with_fleet_distributed(
        estate: MotoServer, postgres_url: str, tmp_path: Path, workers_factory: Any) -> None:
    accounts = ACCOUNTS[:3]
    config = _config(tmp_path, estate, postgres_url, max_attempts=3, accounts=accounts)
    doc = yaml.safe_load(config.read_text())
    doc["fleet"]["distributed"] = True
    doc["daemon"] = {"listen": None}
    config.write_text(yaml.safe_dump(doc))
    workers = workers_factory(config, 1)

    assert main(["daemon", "-c", str(config), "--once"]) == 0

    with Store.open(postgres_url) as store:
        [(scan_id, _, complete)] = store.scans()
        covered = {r.coverage.account for r in store.report_data().coverage}
    assert complete and covered == set(accounts)
    assert all(re.search(rf"unit aws/\d+/{a} of scan {scan_id}: done", workers.text(0)) for a in accounts)
