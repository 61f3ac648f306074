"""Fixtures: the emulated Azure estate (registered in tests/conftest.py as ``support.azure``).

Azurite (the real Azure Storage emulator, an npm package, run as a subprocess) serves the blob data plane; the ARM
emulator (cloudwatchdog/emulators/arm.py, a test-only HTTPS server in this process: nothing emulates Azure Resource
Manager) serves the management plane. Both serve HTTPS on 127.0.0.1 with a certificate made for this session, and
both are started once per session, on first use, and reset before every test that uses them. Tests never install
Azurite: a missing one is a failure that names scripts/install-test-deps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cloudwatchdog.demo.seed_azure import azure_estate_spec
from cloudwatchdog.emulators.arm import ArmEmulator
from cloudwatchdog.emulators.azurite import AzuriteServer, AzuriteUnavailable, find_azurite
from cloudwatchdog.emulators.tls import TlsFiles, make_tls_files
from cloudwatchdog.providers.azure.settings import AzureProvider

# Storage accounts tests may create (Azurite's accounts are fixed when it starts), besides the demo estate's.
TEST_ACCOUNTS = tuple(f"cwdtest{i}" for i in range(1, 9))
# The demo estate's subscriptions with storage (cloudwatchdog/demo/estate/azure.yaml).
SUB_PRODUCTION = "7d1e4c2a-5b3f-4e8d-9a61-0c2b8f4e3d15"
SUB_CONNECTED_CAR = "3f9a6b1c-2e4d-4a7b-8c5e-9d0f1a2b3c4d"
SUB_A = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SUB_B = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"


@dataclass(frozen=True)
class AzureEmulators:
    """The session's emulators, emptied for this test."""

    arm: ArmEmulator
    azurite: AzuriteServer
    tls: TlsFiles

    def provider(self, **overrides: Any) -> AzureProvider:
        """A provider section for the emulators: emulator credential, the session CA, quick retries."""
        values: dict[str, Any] = {
            "arm_endpoint": self.arm.endpoint,
            "credential": "emulator",
            "ca_bundle": str(self.tls.ca_file),
            "max_attempts": 2,
            "retry_backoff": 0,
        }
        values.update(overrides)
        return AzureProvider(**values)


@pytest.fixture(scope="session")
def azure_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("azure-tls"))


@pytest.fixture(scope="session")
def azurite_server(azure_tls: TlsFiles) -> Iterator[AzuriteServer]:
    try:
        binary = find_azurite()
    except AzuriteUnavailable as exc:
        pytest.fail(f"{exc} The test suite does not install it: run scripts/install-test-deps.", pytrace=False)
    with AzuriteServer((*azure_estate_spec().account_names, *TEST_ACCOUNTS), azure_tls, binary=binary) as server:
        yield server


@pytest.fixture(scope="session")
def arm_server(azure_tls: TlsFiles, azurite_server: AzuriteServer) -> Iterator[ArmEmulator]:
    with ArmEmulator(azure_tls, azurite=azurite_server) as server:
        yield server


@pytest.fixture
def azure(arm_server: ArmEmulator, azurite_server: AzuriteServer, azure_tls: TlsFiles) -> AzureEmulators:
    """Both emulators, reset: no subscription, account, container, fault or static website."""
    arm_server.reset()
    azurite_server.reset()
    return AzureEmulators(arm_server, azurite_server, azure_tls)
