"""`cloudwatchdog demo` end to end: the real emulators of all three clouds (moto server, gcp-storage-emulator,
Azurite + the demo ARM emulator), the seeded estate, a scan into a fresh store, the JSON and the HTML report."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.providers.registry import aggregate_types


def test_demo_scans_all_three_clouds_and_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped" not in printed, printed  # Azurite is installed by scripts/install-test-deps

    doc = json.loads(next(out.glob("cloudwatchdog-scan-*.json")).read_text())
    assert doc["scan"]["complete"] is True
    assert {c["provider"] for c in doc["scan"]["coverage"]} == {"aws", "gcp", "azure"}
    providers_with_findings = {f["provider"] for f in doc["findings"]}
    assert providers_with_findings == {"aws", "gcp", "azure"}
    # The replayed history: AWS findings open since backdated scans, the others new; one fixed in the history.
    by_name = {(f["provider"], f["resource_name"], f["rule_id"]): f for f in doc["findings"]}
    dealer = by_name[("aws", "velora-dealer-upload-inbox", "aws-s3-bucket-public")]
    assert dealer["state"] == "open"
    assert (_day(doc["scan"]["finished_at"]) - _day(dealer["first_seen"])).days == 12
    telematics = by_name[("aws", "velora-telematics-export-2015", "aws-s3-bucket-public")]
    assert (_day(doc["scan"]["finished_at"]) - _day(telematics["first_seen"])).days == 45
    assert all(f["state"] == "new" for f in doc["findings"] if f["provider"] != "aws")
    assert not any(f["resource_name"] == "velora-ci-artifacts" for f in doc["findings"]), "fixed in the history"

    html = (out / "cloudwatchdog-demo-report.html").read_text()
    assert "velora-ci-artifacts" in html, "the report lists the finding resolved in the last day"
    public = sum(1 for r in doc["resources"] if r["exposure"]["level"] == "public" and not r["exposure"]["latent"]
                 and r["type"] not in aggregate_types())
    assert public > 0 and f">{public}<" in html.replace(" ", "")
    assert "velora-telematics-export-2015" in html

    # A second run starts from an empty history again: everything is new, nothing resolved.
    assert main(["demo", "--output", str(out), "--no-azure", "--no-history"]) == 0
    assert "skipped Azure: left out on request" in capsys.readouterr().out
    again = json.loads(max(out.glob("cloudwatchdog-scan-*.json"), key=lambda p: p.stat().st_mtime).read_text())
    assert all(f["state"] == "new" for f in again["findings"])
    assert {c["provider"] for c in again["scan"]["coverage"]} == {"aws", "gcp"}


def _day(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
