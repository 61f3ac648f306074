"""Hostile text from a cloud, end to end: a lone surrogate (JSON can carry one; no UTF-8 file or database can
store it) in a raw snapshot must not crash any output format or the state store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer


def test_a_lone_surrogate_in_a_raw_snapshot_reaches_every_output_as_a_replacement_character(
        moto: MotoServer, aws_sessions: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s3 = aws_sessions[DEFAULT_ACCOUNT].client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="velora-data")
    s3.put_bucket_acl(Bucket="velora-data", ACL="public-read")
    s3.put_bucket_tagging(Bucket="velora-data", Tagging={"TagSet": [{"Key": "owner", "Value": "sales"}]})
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    sharing: false\n"
                   f"    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\"}}\n")
    raw = tmp_path / "raw.json"
    assert main(["scan", "-c", str(cfg), "--no-state", "--output", str(tmp_path / "live"), "--save-raw",
                 str(raw)]) == 0
    # The saved answers, with the bucket's tag value and name carrying lone surrogates (as "\ud800" escapes).
    # (The tags come from the tagging API's listing, which names the bucket by its ARN.)
    text = raw.read_text().replace('"sales"', '"sa\\ud800les"').replace('"velora-data"', '"velora-\\udfffdata"') \
        .replace('"arn:aws:s3:::velora-data"', '"arn:aws:s3:::velora-\\udfffdata"')
    assert "\\ud800" in text and "\\udfff" in text
    raw.write_text(text)
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["scan", "-c", str(cfg), "--from-raw", str(raw), "--format", "json,html,csv,sarif,ocsf",
                 "--output", str(out), "--state-url", f"sqlite:///{tmp_path / 'state.db'}"])
    assert code == 0, capsys.readouterr().err
    files = {p.suffix: p for p in out.iterdir()}
    assert set(files) == {".json", ".html", ".csv", ".sarif"}
    doc = json.loads(next(p for p in out.iterdir() if p.name.endswith(".json") and ".ocsf" not in p.name)
                     .read_text(encoding="utf-8"))
    names = {r["name"] for r in doc["resources"]}
    assert "velora-\ufffddata" in names
    [bucket] = [r for r in doc["resources"] if r["name"] == "velora-\ufffddata"]
    assert bucket["tags"] == {"owner": "sa\ufffdles"}
    for p in out.iterdir():
        written = p.read_text(encoding="utf-8")
        assert "velora-\ufffddata" in written or "velora-\\ufffddata" in written, p.name
    assert main(["findings", "list", "--state-url", f"sqlite:///{tmp_path / 'state.db'}", "--json"]) == 0
    assert "velora-\ufffddata" in capsys.readouterr().out


@pytest.mark.parametrize("body", [
    '{"format": "cloudwatchdog-raw-snapshots", "snapshots": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"format": "cloudwatchdog-raw-snapshots", "n": ' + "9" * 50_000 + ', "snapshots": []}',
])
def test_a_hostile_raw_file_is_a_usage_error(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(body)
    assert main(["scan", "--from-raw", str(raw), "--no-state", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --from-raw {raw}: ") and "Traceback" not in err
