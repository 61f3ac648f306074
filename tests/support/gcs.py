"""Fixtures: Google Cloud Storage.

Real parts: ``gcp-storage-emulator`` subprocesses on 127.0.0.1 (started once per session, only when a test asks,
wiped before every test that uses them), reached through the real google-cloud-storage client. The emulator serves
one project per process, so the two-project demo estate gets two emulators. A missing emulator is a failure with a
clear message, never a skip.

Stand-ins, where nothing emulates the service (each says so where it is used):
- ``resource_manager``: a test-only Resource Manager v3 HTTP server (tests/support/gcp_resource_manager.py) that
  the real google-cloud-resource-manager client talks to;
- ``gcs_fault_proxy``: a proxy between the client and the emulator that injects the failures the emulator cannot
  produce (tests/support/gcs_fault_proxy.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.emulators.gcs import GcsEmulator
from support.gcp_resource_manager import ResourceManagerServer
from support.gcs_fault_proxy import FaultProxy

# The demo estate's projects (cloudwatchdog/demo/estate/gcp.yaml), by id, and their numbers.
PROD = "velora-prod-7421"
ANALYTICS = "velora-analytics-3317"
PROJECT_NUMBERS = {PROD: "731204558310", ANALYTICS: "318845120947"}


@pytest.fixture(autouse=True)
def _no_real_gcp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may reach real Google Cloud with a developer's credentials: no ADC file, no gcloud config, no
    metadata server probing, no ambient emulator host."""
    empty = tmp_path_factory.getbasetemp() / "gcloud-empty-config"
    empty.mkdir(exist_ok=True)
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT",
                 "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(Path(empty)))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # the discard port: nothing answers


@pytest.fixture(scope="session")
def gcs_emulators() -> Iterator[dict[str, GcsEmulator]]:
    """One emulator per demo project, reporting that project's number (started once per session)."""
    started: dict[str, GcsEmulator] = {}
    try:
        for project in (PROD, ANALYTICS):
            started[project] = GcsEmulator(project_number=PROJECT_NUMBERS[project]).start()
        yield started
    finally:
        for emulator in started.values():
            emulator.stop()


@pytest.fixture
def gcs(gcs_emulators: dict[str, GcsEmulator]) -> GcsEmulator:
    """The session's emulator for the prod project, emptied for this test."""
    gcs_emulators[PROD].reset()
    return gcs_emulators[PROD]


@pytest.fixture
def gcs_pair(gcs_emulators: dict[str, GcsEmulator]) -> dict[str, GcsEmulator]:
    """Both emulators (project id -> emulator), emptied for this test."""
    for emulator in gcs_emulators.values():
        emulator.reset()
    return gcs_emulators


def make_gcs_client(endpoint: str, project: str = PROD) -> Any:
    """A real google-cloud-storage client for the emulator (anonymous: the emulator checks no credentials)."""
    from google.auth.credentials import AnonymousCredentials
    storage: Any = importlib.import_module("google.cloud.storage")  # the library ships no type information

    return storage.Client(project=project, credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                          client_options={"api_endpoint": endpoint})


@pytest.fixture
def gcs_client(gcs: GcsEmulator) -> Callable[..., Any]:
    """``gcs_client(project=PROD, endpoint=None)``: a client for the emptied emulator (or another endpoint)."""

    def factory(project: str = PROD, endpoint: str | None = None) -> Any:
        return make_gcs_client(endpoint or gcs.endpoint, project)

    return factory


@pytest.fixture
def gcs_fault_proxy(gcs: GcsEmulator) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the emptied emulator (see tests/support/gcs_fault_proxy.py)."""
    proxy = FaultProxy(gcs.endpoint).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def resource_manager() -> Iterator[ResourceManagerServer]:
    """A running, empty test-only Resource Manager v3 server; tests fill in organizations, folders, projects."""
    server = ResourceManagerServer().start()
    try:
        yield server
    finally:
        server.stop()
