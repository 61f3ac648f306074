"""The gcp-storage-emulator harness: a real subprocess on 127.0.0.1, reset between tests, stopped cleanly."""

from __future__ import annotations

import socket
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.emulators.gcs import GcsEmulator, GcsEmulatorError, find_executable


def test_reset_forgets_every_bucket(gcs: GcsEmulator, gcs_client: Callable[..., Any]) -> None:
    client = gcs_client()
    client.create_bucket("velora-reset-me")
    assert [b.name for b in client.list_buckets()] == ["velora-reset-me"]
    gcs.reset()
    assert list(client.list_buckets()) == []


def test_buckets_report_the_configured_project_number(gcs: GcsEmulator, gcs_client: Callable[..., Any]) -> None:
    gcs_client().create_bucket("velora-numbered")
    (bucket,) = gcs_client().list_buckets()
    assert bucket.project_number == int(gcs.project_number)


def test_start_stop_is_idempotent_and_frees_the_port() -> None:
    emulator = GcsEmulator(project_number="42")
    with emulator:
        endpoint = emulator.endpoint
        assert emulator.start() is emulator
        with urllib.request.urlopen(endpoint + "/", timeout=5) as response:
            assert response.read() == b"OK"
    emulator.stop()
    with pytest.raises(GcsEmulatorError, match="not running"):
        _ = emulator.endpoint
    port = int(endpoint.rsplit(":", 1)[1])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_port_in_use_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(GcsEmulatorError, match="already in use"):
            GcsEmulator(port=s.getsockname()[1]).start()


def test_missing_executable_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert find_executable().is_file()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(GcsEmulatorError, match=r"cloudwatchdog\[demo\]"):
        GcsEmulator().start()
