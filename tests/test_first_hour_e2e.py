"""The first hour of a new user, end to end through the command line and the daemon, against real moto servers: an
AWS_PROFILE that does not exist, and a plain ``moto_server`` as config.example.yaml suggests (moto's built-in public
AMIs and their snapshots loaded, its HTML page for an action it does not implement). Whatever goes wrong is one clear
line per account and the account's coverage, never a traceback or a page of HTML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.receivers import free_port

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.state.store import Store


def _scan_document(out: Path) -> dict[str, Any]:
    return dict(json.loads(max(out.glob("cloudwatchdog-scan-*.json"), key=lambda p: p.stat().st_mtime).read_text()))


def test_scan_with_a_missing_aws_profile_is_one_line_and_exit_3(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)  # the default chain's endpoint: never a real account
    out = tmp_path / "out"
    assert main(["scan", "--no-state", "--format", "json", "--output", str(out)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    about = [line for line in err.splitlines() if "nosuch" in line]
    assert about == ["WARNING cloudwatchdog.providers.aws.collect: aws default account: cannot enter the account "
                     "with the default credentials (profile 'nosuch' from AWS_PROFILE): no profile 'nosuch' in the "
                     "files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name"]
    (coverage,) = _scan_document(out)["scan"]["coverage"]
    assert (coverage["provider"], coverage["account"], coverage["status"]) == ("aws", "unknown", "error")
    assert "profile 'nosuch' from AWS_PROFILE" in coverage["errors"][0]


def test_the_daemon_with_a_missing_aws_profile_records_the_failed_account(
    moto: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws: {{endpoint_url: "{moto.endpoint}", accounts: [{{id: "123456789012", name: prod}}], sharing: false}}
schedules: {{scan: "every 1h", report: null, deliver: every 30s}}
daemon: {{listen: "127.0.0.1:{free_port()}", log_format: json}}
""")
    env = dict(os.environ, AWS_PROFILE="nosuch")
    proc = subprocess.run([sys.executable, "-m", "cloudwatchdog", "daemon", "-c", str(config), "--once"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr  # as a scan with an account that could not be read
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    assert not any("Traceback" in json.dumps(r) or "exc_info" in r or "exception" in r for r in records)
    about = [r for r in records if "nosuch" in json.dumps(r)]
    assert len(about) == 1 and about[0]["level"] == "warning"
    assert "aws account 123456789012: cannot enter the account with the default credentials (profile 'nosuch' " \
           "from AWS_PROFILE)" in about[0]["message"]
    with Store.open("sqlite:///state.db", base_dir=tmp_path, create=False) as store:
        ((_, _, complete),) = store.scans()
    assert complete is False, "the scan is recorded, incomplete"


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[MotoServer]:
    """moto's server as a user runs it: ``moto_server``, nothing of our harness's."""
    with MotoServer(plain=True) as server:
        s3 = emulator_client(account_session(server.endpoint), "s3", server.endpoint)
        s3.create_bucket(Bucket="first-hour-bucket")
        yield server


def _plain_config(tmp_path: Path, endpoint: str, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"providers:\n  aws:\n    endpoint_url: {endpoint}\n    credential: emulator\n{extra}")
    return path


def test_a_plain_moto_server_scans_only_the_accounts_own_resources_with_short_errors(
    plain_moto: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, raw = tmp_path / "out", tmp_path / "raw.json"
    config = _plain_config(tmp_path, plain_moto.endpoint)
    assert main(["scan", "-c", str(config), "--no-state", "--format", "json", "--output", str(out),
                 "--save-raw", str(raw)]) == 3
    err = capsys.readouterr().err
    doc = _scan_document(out)
    # moto's ~1,300 built-in AMIs and their snapshots belong to Amazon's accounts, not the user's.
    assert sorted(r["type"] for r in doc["resources"]) == ["aws.account", "aws.s3.bucket"]
    (snapshot,) = json.loads(raw.read_text())["snapshots"]
    listing = snapshot["sharing"]["regions"]["us-east-1"]["calls"]["DescribeSnapshots"]["ok"]
    assert listing["Snapshots"] == [] and listing["NotOwnedLeftOut"] > 1000
    (coverage,) = doc["scan"]["coverage"]
    assert coverage["status"] == "partial"
    # moto has no snapshot or image Block Public Access: its HTML 500 page becomes one short, honest line.
    assert sorted(coverage["errors"]) == [
        f"region us-east-1: {operation} failed: InvalidResponse: the endpoint's answer is not an AWS response (an "
        "HTML page, 500 Internal Server Error)"
        for operation in ("GetImageBlockPublicAccessState", "GetSnapshotBlockPublicAccessState")
    ]
    assert "<" not in err and "Traceback" not in err
    assert all(len(line) < 400 for line in err.splitlines())
    assert any("DescribeSnapshots in us-east-1 listed" in line and "owned by other accounts" in line
               for line in err.splitlines())


def test_a_plain_moto_server_with_sharing_off_is_a_complete_scan(plain_moto: MotoServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = _plain_config(tmp_path, plain_moto.endpoint, "    sharing: false\n")
    assert main(["scan", "-c", str(config), "--no-state", "--format", "json", "--output", str(out)]) == 0
    doc = _scan_document(out)
    assert doc["scan"]["complete"] is True
    assert [r["name"] for r in doc["resources"] if r["type"] == "aws.s3.bucket"] == ["first-hour-bucket"]
