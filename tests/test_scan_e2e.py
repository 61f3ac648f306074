"""The whole pipeline against a real moto server: collect -> normalize -> exposure -> rules -> JSON.

The demo estate states, for each resource, the verdict shared/EXPOSURE.md prescribes; the scan must agree with
every one of them, and every seeded mistake must raise a finding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo_estate import DemoEstate, seed_demo_estate
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer
from cloudwatchdog.rules import load_rules
from cloudwatchdog.scan import ScanResult, run_scan


@pytest.fixture
def estate(moto: MotoServer) -> DemoEstate:
    return seed_demo_estate(moto.endpoint)


@pytest.fixture
def scanned(estate: DemoEstate) -> ScanResult:
    return run_scan(Config(providers=Providers(aws=estate.aws_provider())), load_rules())


def test_every_verdict_matches_the_estate(estate: DemoEstate, scanned: ScanResult) -> None:
    by_name = {(r.type, r.name): r for r in scanned.resources}
    wrong = []
    for b in estate.buckets:
        r = by_name[("aws.s3.bucket", b.name)]
        if (r.exposure.level.value, r.exposure.latent) != (b.expected, b.latent):
            wrong.append(f"bucket {b.name}: got {r.exposure.level.value} latent={r.exposure.latent}, "
                         f"want {b.expected} latent={b.latent}: {[e.detail for e in r.exposure.evidence]}")
    for a in estate.access_points:
        r = by_name[("aws.s3.access_point", a.name)]
        if r.exposure.level.value != a.expected:
            wrong.append(f"access point {a.name}: got {r.exposure.level.value}, want {a.expected}")
    assert not wrong, "\n".join(wrong)
    assert len(by_name) == len(estate.buckets) + len(estate.access_points) + len(estate.accounts)


def test_every_mistake_raises_a_finding_and_healthy_buckets_none(estate: DemoEstate, scanned: ScanResult) -> None:
    flagged = {f.resource_name for f in scanned.findings}
    missed = [x.name for x in (*estate.buckets, *estate.access_points) if x.issue and x.name not in flagged]
    assert not missed, f"seeded mistakes without a finding: {missed}"
    healthy = {b.name for b in estate.buckets if not b.issue and b.expected == "private" and not b.latent}
    assert not healthy & flagged, f"findings on healthy buckets: {sorted(healthy & flagged)}"


def test_coverage_is_complete(estate: DemoEstate, scanned: ScanResult) -> None:
    assert scanned.complete
    assert {c.account for c in scanned.coverage} == {a.id for a in estate.accounts}
    assert all(c.api_calls > 0 for c in scanned.coverage)


def _config(tmp_path: Path, endpoint: str, accounts: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(f"providers:\n  aws:\n    endpoint_url: {endpoint}\n    regions: [us-east-1, eu-central-1]\n"
                 f"    accounts:\n{accounts}")
    return p


def _scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--format", "json", "--output", "-", *args])
    return code, json.loads(capsys.readouterr().out)


def test_cli_scan_json_contract(estate: DemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, estate.endpoint_url, f'      - {{id: "{DEFAULT_ACCOUNT}", name: prod}}\n')
    code, doc = _scan_json(capsys, "-c", str(cfg), "--fail-on", "critical")
    assert code == 1, "the estate has critical findings"
    assert doc["schema_version"] == 1
    assert set(doc["scan"]) >= {"id", "started_at", "finished_at", "coverage"}
    assert doc["scan"]["coverage"][0]["status"] == "ok"
    resource = next(r for r in doc["resources"] if r["name"] == "velora-web-assets")
    assert set(resource) >= {"uid", "provider", "account", "region", "type", "name", "exposure"}
    assert resource["type"] == "aws.s3.bucket" and resource["uid"] == "arn:aws:s3:::velora-web-assets"
    assert set(resource["exposure"]) == {"level", "latent", "read", "list", "write", "external_principals",
                                         "evidence"}
    assert resource["exposure"]["level"] == "public" and resource["exposure"]["read"] is True
    finding = next(f for f in doc["findings"] if f["resource_name"] == "velora-web-assets")
    assert set(finding) >= {"id", "rule_id", "title", "severity", "resource_uid", "provider", "account", "region",
                            "resource_type", "resource_name", "message", "evidence", "remediation", "state",
                            "first_seen", "last_seen"}
    assert finding["rule_id"] == "aws-s3-bucket-public" and finding["severity"] == "critical"
    assert finding["evidence"] and finding["remediation"]["cli"]
    assert "velora-web-assets" in finding["remediation"]["cli"]


def test_cli_exit_codes(estate: DemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = f'      - {{id: "{DEFAULT_ACCOUNT}", name: prod}}\n'
    code, _ = _scan_json(capsys, "-c", str(_config(tmp_path, estate.endpoint_url, ok)))
    assert code == 0, "no --fail-on and a complete scan"
    # The default chain acts as 123456789012 in moto, so an account configured with another id cannot be
    # entered: the scan is incomplete (3) unless findings at --fail-on apply (1).
    bad = ok + '      - {id: "999999999999", name: ghost}\n'
    code, doc = _scan_json(capsys, "-c", str(_config(tmp_path, estate.endpoint_url, bad)))
    ghost = next(c for c in doc["scan"]["coverage"] if c["account"] == "999999999999")
    assert code == 3 and ghost["status"] == "error" and ghost["errors"]
    code, _ = _scan_json(capsys, "-c", str(_config(tmp_path, estate.endpoint_url, bad)), "--fail-on", "high")
    assert code == 1


def test_cli_scan_writes_files(estate: DemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, estate.endpoint_url, f'      - {{id: "{DEFAULT_ACCOUNT}"}}\n')
    out = tmp_path / "out"
    assert main(["scan", "-c", str(cfg), "--output", str(out)]) == 0
    files = list(out.glob("cloudwatchdog-scan-*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["schema_version"] == 1
    printed = capsys.readouterr().out
    assert "Coverage" in printed and str(files[0]) in printed


def test_cli_config_error_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("providers:\n  aws:\n    regoins: [us-east-1]\n")
    assert main(["scan", "-c", str(p)]) == 2
    assert f"{p}:3: providers.aws.regoins: unknown key" in capsys.readouterr().err
    assert main(["scan", "--format", "pdf", "-c", str(p)]) == 2


def test_cli_two_formats_to_stdout_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--format", "json,json2", "--output", "-"]) == 2
    assert "unknown format" in capsys.readouterr().err


def test_unknown_disabled_rule_names_the_config_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("rules:\n  disable:\n    - aws-s3-bucket-latent-public\n    - aws-s3-bucket-publik\n")
    assert main(["scan", "-c", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}:4: rules.disable[1]: unknown rule id 'aws-s3-bucket-publik'" in err


def test_save_raw_and_replay_offline(estate: DemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, estate.endpoint_url, f'      - {{id: "{DEFAULT_ACCOUNT}"}}\n')
    raw = tmp_path / "raw.json"
    code, live = _scan_json(capsys, "-c", str(cfg), "--save-raw", str(raw))
    assert code == 0 and raw.exists()
    # Replaying needs no cloud: point the config at a closed port to prove no call is made.
    dead = _config(tmp_path, "http://127.0.0.1:9", f'      - {{id: "{DEFAULT_ACCOUNT}"}}\n')
    code, replayed = _scan_json(capsys, "-c", str(dead), "--from-raw", str(raw))
    assert code == 0
    assert replayed["resources"] == live["resources"]
    assert [f["id"] for f in replayed["findings"]] == [f["id"] for f in live["findings"]]


def test_from_raw_rejects_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1}')
    assert main(["scan", "--from-raw", str(bad)]) == 2
    assert "not a file written by" in capsys.readouterr().err
    bad.write_text("{oops")
    assert main(["scan", "--from-raw", str(bad)]) == 2
    assert "not JSON: line 1" in capsys.readouterr().err


def test_unwritable_output_is_a_usage_error_not_a_traceback(
    estate: DemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, estate.endpoint_url, f'      - {{id: "{DEFAULT_ACCOUNT}"}}\n')
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["scan", "-c", str(cfg), "--no-progress", "--output", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert "--output" in err and str(blocker) in err
    assert main(["scan", "-c", str(cfg), "--no-progress", "--output", str(blocker / "sub")]) == 2
    assert "--output" in capsys.readouterr().err


def test_check_policy_on_a_file_that_is_not_utf8_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # (Here rather than tests/commands: a CLI end-to-end check of the pre-deploy gate.)
    policy = tmp_path / "policy.json"
    policy.write_bytes(b"\xff\xfe{\x00}")
    assert main(["check-policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert str(policy) in err and "UTF-8" in err


def test_from_raw_that_is_not_utf8_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "raw.json"
    bad.write_bytes(b'{"format": "\xff"}')
    assert main(["scan", "--from-raw", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_unwritable_save_raw_fails_before_scanning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The config points at a closed port: reaching the scan would show as coverage errors, not as exit 2.
    cfg = _config(tmp_path, "http://127.0.0.1:9", f'      - {{id: "{DEFAULT_ACCOUNT}"}}\n')
    code = main(["scan", "-c", str(cfg), "--output", str(tmp_path / "out"),
                 "--save-raw", str(tmp_path / "missing-dir" / "raw.json")])
    assert code == 2
    assert "--save-raw" in capsys.readouterr().err
