"""The demo world never depends on, nor changes, the user's environment: its scan config carries each cloud's
emulator credential and loopback endpoints, so a developer's AWS profile, keys, endpoint, Google credentials or
emulator host cannot reach it (the real emulators, the real demo command)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cloudwatchdog.cli import main


def test_the_demo_ignores_the_users_cloud_environment_and_leaves_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "aws-config"
    broken.write_text("[[[ this is not an ini file\n")
    hostile = {
        "AWS_PROFILE": "nosuch",
        "AWS_CONFIG_FILE": str(broken),
        "AWS_SHARED_CREDENTIALS_FILE": str(broken),
        "AWS_ACCESS_KEY_ID": "AKIAUSERSOWNKEY00000",
        "AWS_SECRET_ACCESS_KEY": "users-own-secret",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "no-such-key.json"),
        "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9",
    }
    for name, value in hostile.items():
        monkeypatch.setenv(name, value)
    before = dict(os.environ)

    out = tmp_path / "out"
    assert main(["demo", "--output", str(out), "--no-azure", "--no-history"]) == 0, capsys.readouterr().err

    assert dict(os.environ) == before, "the demo sets no process environment variable"
    doc = json.loads(next(out.glob("cloudwatchdog-scan-*.json")).read_text())
    assert doc["scan"]["complete"] is True
    assert {(c["provider"], c["status"]) for c in doc["scan"]["coverage"]} == {("aws", "ok"), ("gcp", "ok")}
    assert len(doc["scan"]["coverage"]) == 4 and all(not c["errors"] for c in doc["scan"]["coverage"])
