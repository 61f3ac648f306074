"""`cloudwatchdog init` writes a config that loads, for exactly the clouds whose credentials it can see (in a
fake home and environment: no real credentials are read, no network is used)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.commands.init import render_config, starters
from cloudwatchdog.config import load_config


def _home(tmp_path: Path, *files: str) -> Path:
    home = tmp_path / "home"
    for f in files:
        (home / f).parent.mkdir(parents=True, exist_ok=True)
        (home / f).write_text("[default]\n")
    home.mkdir(exist_ok=True)
    return home


@pytest.mark.parametrize(("environ", "files", "expected"), [
    ({}, (), []),
    ({"AWS_PROFILE": "prod"}, (), ["aws"]),
    ({}, (".aws/credentials",), ["aws"]),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}, (".azure/azureProfile.json",), ["gcp", "azure"]),
    ({}, (".config/gcloud/application_default_credentials.json", ".aws/config"), ["aws", "gcp"]),
    ({"AZURE_CLIENT_ID": "x", "AZURE_TENANT_ID": "t"}, (), ["azure"]),
])
def test_each_cloud_whose_credentials_are_there_gets_a_section_that_loads(
        tmp_path: Path, environ: dict[str, str], files: tuple[str, ...], expected: list[str]) -> None:
    found = starters(environ, _home(tmp_path, *files))
    assert list(found) == expected
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(render_config(found, "config.yaml"))
    cfg = load_config(cfg_file)
    assert list(cfg.providers.enabled()) == expected
    assert cfg.state.url == "sqlite:///cloudwatchdog.db"


def test_the_command_writes_once_and_says_what_it_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    home = _home(tmp_path, ".aws/config")
    monkeypatch.setenv("HOME", str(home))
    for name in [k for k in os.environ if k.startswith(("AWS_", "GOOGLE_", "AZURE_", "CLOUDSDK_"))]:
        monkeypatch.delenv(name)
    target = tmp_path / "config.yaml"
    assert main(["init", "--output", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {target}" in out and "AWS: " in out and f"Next: cloudwatchdog scan -c {target}" in out
    assert list(load_config(target).providers.enabled()) == ["aws"]
    assert main(["init", "--output", str(target)]) == 2
    assert "exists already; --force replaces it" in capsys.readouterr().err
    assert main(["init", "--output", str(target), "--force"]) == 0
