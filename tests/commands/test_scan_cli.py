"""`cloudwatchdog scan` with a state store that cannot record the scan (a read-only SQLite file, a read-only
PostgreSQL database: a hot standby, a locked or unwritable file): the scan's outputs and raw snapshots are written
all the same, then the command fails with one line naming state.url (exit 2), and nothing is half-recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client
from cloudwatchdog.services.raw import RAW_FORMAT
from cloudwatchdog.state.store import Store


def _read_only(state_url: str) -> str:
    """The same store, opened so that nothing can be written to it."""
    url = make_url(state_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    return url.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(
        hide_password=False)


@pytest.fixture
def leaky(moto: MotoServer, tmp_path: Path) -> Path:
    """A config for an AWS account (moto) with one public bucket, "leaky"."""
    s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    s3.create_bucket(Bucket="leaky")
    s3.put_bucket_policy(Bucket="leaky", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::leaky/*"}]}))
    config = tmp_path / "config.yaml"
    config.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    regions: [us-east-1]\n"
                      f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\"}}\n")
    return config


def test_a_scan_the_store_cannot_record_keeps_its_outputs_then_fails_clearly(
        leaky: Path, state_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store.open(state_url).close()
    out, raw = tmp_path / "out", tmp_path / "raw.json"
    code = main(["scan", "-c", str(leaky), "--state-url", _read_only(state_url), "--no-progress",
                 "--format", "json,html", "--output", str(out), "--save-raw", str(raw)])
    err = capsys.readouterr().err
    assert code == 2
    [document] = out.glob("cloudwatchdog-scan-*.json")
    findings = json.loads(document.read_text(encoding="utf-8"))["findings"]
    assert [f["resource_name"] for f in findings if f["rule_id"] == "aws-s3-bucket-public"] == ["leaky"]
    assert len(list(out.glob("cloudwatchdog-scan-*.html"))) == 1
    snapshot = json.loads(raw.read_text(encoding="utf-8"))
    assert snapshot["format"] == RAW_FORMAT and snapshot["snapshots"]
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert error.startswith("error: state.url ") and "not recorded" in error and "Traceback" not in err
    with Store.open(state_url) as store:
        assert store.scans() == [] and store.list_findings() == []


def test_a_scan_recorded_as_usual_still_writes_its_raw_snapshots(
        leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw.json"
    state = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["scan", "-c", str(leaky), "--state-url", state, "--no-progress", "--output", str(tmp_path / "out"),
                 "--save-raw", str(raw)]) == 0
    assert json.loads(raw.read_text(encoding="utf-8"))["format"] == RAW_FORMAT
    with Store.open(state) as store:
        assert len(store.scans()) == 1
    capsys.readouterr()
