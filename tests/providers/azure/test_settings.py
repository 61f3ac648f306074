"""`providers.azure` config: valid sections parse to what the collector uses; every mistake names file, line and
key and says how to fix it (the emulator credential above all: it must never be usable against Azure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudwatchdog.config import load_config
from cloudwatchdog.providers.azure.settings import AzureProvider, is_loopback_url
from cloudwatchdog.yamlsource import SourceErrors

SUB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _path(tmp_path: Path, section: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text("providers:\n  azure:\n" + section)
    return p


def _load(tmp_path: Path, section: str) -> AzureProvider:
    azure = load_config(_path(tmp_path, section)).providers.azure
    assert azure is not None
    return azure


def _errors(tmp_path: Path, section: str) -> list[str]:
    p = _path(tmp_path, section)
    with pytest.raises(SourceErrors) as exc:
        load_config(p)
    return [str(e).removeprefix(f"{p}:") for e in exc.value.errors]


def test_defaults() -> None:
    azure = AzureProvider()
    assert (azure.credential, azure.subscriptions, azure.arm_endpoint) == ("default", [], None)
    assert azure.effective_arm_endpoint == "https://management.azure.com"


def test_full_section(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    azure = _load(tmp_path, f"""\
    arm_endpoint: https://management.usgovcloudapi.net/
    subscriptions: ["{SUB}"]
    exclude_subscriptions: ["5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"]
    ca_bundle: {ca}
    max_workers: 16
    max_attempts: 6
    retry_backoff: 2
""")
    assert azure.subscriptions == [SUB] and azure.max_workers == 16
    assert azure.effective_arm_endpoint == "https://management.usgovcloudapi.net"


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:8443", "https://localhost:8443", "https://[::1]:8443",
                                      "https://127.5.6.7"])
def test_emulator_credential_with_a_loopback_endpoint(tmp_path: Path, endpoint: str) -> None:
    azure = _load(tmp_path, f"    arm_endpoint: '{endpoint}'\n    credential: emulator\n")
    assert azure.credential == "emulator"


@pytest.mark.parametrize("endpoint", ["https://management.azure.com", "https://10.0.0.4:8443",
                                      "https://127.0.0.1.evil.example"])
def test_emulator_credential_is_refused_away_from_loopback(tmp_path: Path, endpoint: str) -> None:
    errors = _errors(tmp_path, f"    arm_endpoint: {endpoint}\n    credential: emulator\n")
    assert len(errors) == 1
    assert errors[0].startswith("4: providers.azure.credential: ")
    assert "accepted only with a loopback arm_endpoint" in errors[0] and endpoint in errors[0]


def test_emulator_credential_needs_an_endpoint(tmp_path: Path) -> None:
    (error,) = _errors(tmp_path, "    credential: emulator\n")
    assert error.startswith("3: providers.azure.credential: ") and "arm_endpoint is not set" in error


@pytest.mark.parametrize(("section", "line_key", "message"), [
    ("    arm_endpoint: http://127.0.0.1:8080\n", "3: providers.azure.arm_endpoint", "must be an https URL"),
    ("    credential: managed\n", "3: providers.azure.credential", "'default' or 'emulator'"),
    ("    subscriptions: [velora-prod]\n", "3: providers.azure.subscriptions[0]",
     "'velora-prod' is not a subscription id"),
    ("    ca_bundle: /nonexistent/ca.pem\n", "3: providers.azure.ca_bundle", "no such file: /nonexistent/ca.pem"),
    ("    max_workers: 0\n", "3: providers.azure.max_workers", "greater than or equal to 1"),
    ("    subscription: []\n", "3: providers.azure.subscription", "unknown key"),
])
def test_mistakes_name_line_and_key(tmp_path: Path, section: str, line_key: str, message: str) -> None:
    (error,) = _errors(tmp_path, section)
    assert error.startswith(line_key + ":"), error
    assert message in error, error


@pytest.mark.parametrize(("url", "loopback"), [
    ("https://127.0.0.1:1", True), ("https://localhost", True), ("https://[::1]:9", True),
    ("https://LOCALHOST:9", True), ("https://192.168.1.2", False), ("https://example.com", False), (None, False),
    ("not a url", False), ("https://[::1", False),
])
def test_is_loopback_url(url: str | None, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
