"""Accounts are shown by name beside their id wherever people read them: the terminal, the JSON (coverage and
findings), the report, the findings list and alerts (the name comes from the config, or from discovery)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.messages import slack_message
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer
from cloudwatchdog.state.codec import finding_from_dict


def test_the_configured_name_is_shown_beside_the_id(moto: MotoServer, aws_sessions: dict[str, Any], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    s3 = aws_sessions[DEFAULT_ACCOUNT].client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="velora-exports")
    s3.put_bucket_acl(Bucket="velora-exports", ACL="public-read")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    sharing: false\n"
                   f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\", name: velora-prod}}\n")
    state = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["scan", "-c", str(cfg), "--state-url", state, "--output", str(tmp_path / "out"),
                 "--format", "json,html"]) == 0
    printed = capsys.readouterr().out
    assert f"{DEFAULT_ACCOUNT} (velora-prod) velora-exports" in printed
    doc = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert [c["name"] for c in doc["scan"]["coverage"]] == ["velora-prod"]
    [public] = [f for f in doc["findings"] if f["resource_name"] == "velora-exports"]
    assert public["account_name"] == "velora-prod"
    assert f"{DEFAULT_ACCOUNT}</span> (velora-prod)" in next((tmp_path / "out").glob("*.html")).read_text()
    assert main(["findings", "list", "--state-url", state]) == 0
    assert "(velora-prod)" in capsys.readouterr().out
    # Alerts carry it too: the stored finding keeps the name.
    finding = finding_from_dict(public)
    message = slack_message([AlertEvent(EventKind.NEW, finding, "2026-12-01T00:00:00Z")], Templates(None), False,
                            False)
    assert "(velora-prod)" in json.dumps(message)


def test_the_report_from_the_store_names_the_accounts_in_its_coverage(moto: MotoServer, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    sharing: false\n"
                   f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\", name: velora-prod}}\n")
    state = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["scan", "-c", str(cfg), "--state-url", state, "--output", str(tmp_path / "out")]) == 0
    assert main(["report", "--state-url", state, "--format", "json,html", "--output", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    report = json.loads(next((tmp_path / "r").glob("*.json")).read_text())
    assert [c["name"] for c in report["coverage"]] == ["velora-prod"]
    assert f"{DEFAULT_ACCOUNT}</span> (velora-prod)" in next((tmp_path / "r").glob("*.html")).read_text()
