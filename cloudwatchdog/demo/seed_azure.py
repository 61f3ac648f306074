"""Seeds the Azure part of the demo estate (``estate/azure.yaml``) into Azurite (blob data plane) and the ARM
emulator (management plane), and describes what it seeded. ``start_azure_demo`` starts both emulators (HTTPS on
127.0.0.1, a fresh throwaway certificate) and seeds them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from cloudwatchdog.demo.content import Content, render
from cloudwatchdog.demo.estate_file import ESTATE_DIR, duplicates, load_estate
from cloudwatchdog.emulators.arm import ArmEmulator
from cloudwatchdog.emulators.azurite import (
    AzuriteError,
    AzuriteServer,
    AzuriteUnavailable,
    find_azurite,
    install_azurite,
)
from cloudwatchdog.emulators.tls import TlsFiles, make_tls_files
from cloudwatchdog.providers.azure.settings import AzureProvider, SubscriptionId
from cloudwatchdog.settings.base import StrictModel
from cloudwatchdog.yamlsource import KeyPath

ESTATE_FILE = ESTATE_DIR / "azure.yaml"

# --- The estate file ----------------------------------------------------------------------------------------


class Container(StrictModel):
    name: str
    access: Literal["None", "Blob", "Container"] = "None"  # the public access level
    expected: Literal["public", "private", "unknown"] = "private"
    latent: bool = False
    issue: str | None = None
    blobs: dict[str, Content] = {}


class AccountSettings(StrictModel):
    """ARM properties of a storage account, as ``ArmEmulator.add_account`` takes them: a key left out keeps the
    emulator's default, None leaves the setting unset."""

    allow_blob_public_access: bool | None = None
    allow_shared_key_access: bool | None = None
    public_network_access: Literal["Enabled", "Disabled", "SecuredByPerimeter"] | None = None
    default_action: Literal["Allow", "Deny"] | None = None
    ip_rules: list[str] = []
    virtual_network_rules: list[str] = []
    minimum_tls_version: Literal["TLS1_0", "TLS1_1", "TLS1_2"] | None = None


class StaticWebsite(StrictModel):
    index_document: str | None = "index.html"
    error_document: str | None = "404.html"


class StorageAccount(StrictModel):
    name: str
    resource_group: str
    expected: Literal["public", "private", "unknown"] = "private"  # the aggregate of its containers
    latent: bool = False
    issue: str | None = None  # what is wrong at the account level, in words; None when nothing is
    tags: dict[str, str] = {}
    settings: AccountSettings = AccountSettings()
    static_website: StaticWebsite | None = None
    containers: list[Container] = []


class Subscription(StrictModel):
    id: SubscriptionId
    name: str
    storage_accounts: list[StorageAccount] = []


class AzureEstateSpec(StrictModel):
    subscriptions: list[Subscription]

    @property
    def account_names(self) -> tuple[str, ...]:
        """Every storage account of the estate (Azurite serves a fixed set of accounts, given when it starts)."""
        return tuple(a.name for s in self.subscriptions for a in s.storage_accounts)


def _check(spec: AzureEstateSpec) -> list[tuple[KeyPath, str]]:
    problems = duplicates(((("subscriptions", i, "id"), s.id) for i, s in enumerate(spec.subscriptions)),
                          "subscription")
    return problems + duplicates(
        ((("subscriptions", i, "storage_accounts", j, "name"), a.name) for i, s in enumerate(spec.subscriptions)
         for j, a in enumerate(s.storage_accounts)), "storage account")


@cache
def azure_estate_spec(path: Path = ESTATE_FILE) -> AzureEstateSpec:
    """The Azure estate file, validated."""
    return load_estate(AzureEstateSpec, path, _check)


class AzureDemoUnavailable(RuntimeError):
    """The Azure part of the demo cannot run here; the message says what is missing."""


# --- What was seeded ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoStorageAccount:
    subscription: str
    name: str
    resource_group: str
    expected: str  # the account's aggregate verdict: public | private | unknown
    latent: bool = False
    issue: str | None = None  # what is wrong at the account level, in words; None when nothing is


@dataclass(frozen=True)
class DemoContainer:
    subscription: str
    account: str
    name: str
    expected: str
    latent: bool = False
    issue: str | None = None

    @property
    def resource_name(self) -> str:
        return f"{self.account}/{self.name}"


@dataclass(frozen=True)
class AzureDemoEstate:
    arm_endpoint: str
    ca_file: Path
    subscriptions: Mapping[str, str]
    accounts: tuple[DemoStorageAccount, ...]
    containers: tuple[DemoContainer, ...]

    def azure_provider(self, **overrides: Any) -> AzureProvider:
        """The scan config for this estate: every subscription the emulator credential can list."""
        values: dict[str, Any] = {
            "arm_endpoint": self.arm_endpoint,
            "credential": "emulator",
            "ca_bundle": str(self.ca_file),
        }
        values.update(overrides)
        return AzureProvider(**values)

    def expected_verdicts(self) -> dict[tuple[str, str], tuple[str, bool]]:
        """(resource type, resource name) -> (level, latent), as the scan should report them."""
        out = {("azure.storage.account", a.name): (a.expected, a.latent) for a in self.accounts}
        out.update({("azure.storage.container", c.resource_name): (c.expected, c.latent) for c in self.containers})
        return out


# --- Seeding ------------------------------------------------------------------------------------------------


def seed_azure_estate(arm: ArmEmulator, ca_file: Path, spec: AzureEstateSpec | None = None) -> AzureDemoEstate:
    """Seed the Azure estate (``estate/azure.yaml`` unless ``spec`` is given) into an empty ARM emulator attached
    to an Azurite server that has the estate's accounts (``spec.account_names``), and describe it."""
    spec = spec or azure_estate_spec()
    accounts: list[DemoStorageAccount] = []
    containers: list[DemoContainer] = []
    for sub in spec.subscriptions:
        arm.add_subscription(sub.id, sub.name)
    for sub in spec.subscriptions:
        for a in sub.storage_accounts:
            arm.add_account(sub.id, a.name, resource_group=a.resource_group, tags=a.tags,
                            **a.settings.model_dump(exclude_unset=True))
            accounts.append(DemoStorageAccount(sub.id, a.name, a.resource_group, a.expected, a.latent, a.issue))
            for c in a.containers:
                arm.add_container(a.name, c.name, c.access,
                                  blobs={k: render(v) for k, v in c.blobs.items()} if c.blobs else None)
                containers.append(DemoContainer(sub.id, a.name, c.name, c.expected, c.latent, c.issue))
            if a.static_website:
                arm.set_static_website(a.name, **a.static_website.model_dump())
    return AzureDemoEstate(arm.endpoint, ca_file, {s.id: s.name for s in spec.subscriptions}, tuple(accounts),
                           tuple(containers))


@dataclass
class AzureDemo:
    """The running Azure demo: its emulators and the seeded estate. ``stop()`` ends both emulators."""

    estate: AzureDemoEstate
    azurite: AzuriteServer
    arm: ArmEmulator
    _workdir: tempfile.TemporaryDirectory[str] = field(repr=False)

    @property
    def provider(self) -> AzureProvider:
        return self.estate.azure_provider()

    def stop(self) -> None:
        self.arm.stop()
        self.azurite.stop()
        self._workdir.cleanup()


def _azurite_binary(install: bool) -> Path:
    try:
        return find_azurite()
    except AzuriteUnavailable as missing:
        if not install:
            raise AzureDemoUnavailable(str(missing)) from None
        try:
            return install_azurite()
        except AzuriteUnavailable as failed:
            raise AzureDemoUnavailable(f"{missing} Installing it failed too: {failed}") from None


def start_azure_demo(*, install: bool = True) -> AzureDemo:
    """Start Azurite and the ARM emulator on 127.0.0.1 (HTTPS, a fresh throwaway certificate) and seed the estate.

    ``install``: when Azurite is missing but Node.js and npm are there, install it into the user cache first.
    Raises ``AzureDemoUnavailable`` naming what is missing (Node.js, Azurite, the cryptography package) so the demo
    can say which part it skipped and why."""
    try:
        import cryptography  # noqa: F401 (the emulators' certificate is made with it)
    except ImportError:
        raise AzureDemoUnavailable("the Python package cryptography is not installed (pip install "
                                   "'cloudwatchdog[demo]')") from None
    binary = _azurite_binary(install)
    workdir = tempfile.TemporaryDirectory(prefix="cloudwatchdog-azure-demo-")
    tls: TlsFiles = make_tls_files(Path(workdir.name))
    azurite = AzuriteServer(azure_estate_spec().account_names, tls, binary=binary)
    try:
        azurite.start()
    except AzuriteError as exc:
        workdir.cleanup()
        raise AzureDemoUnavailable(f"Azurite did not start: {exc}") from None
    arm = ArmEmulator(tls, azurite=azurite).start()
    try:
        estate = seed_azure_estate(arm, tls.ca_file)
    except BaseException:
        arm.stop()
        azurite.stop()
        workdir.cleanup()
        raise
    return AzureDemo(estate, azurite, arm, workdir)


__all__ = [
    "AzureDemo",
    "AzureDemoEstate",
    "AzureDemoUnavailable",
    "AzureEstateSpec",
    "DemoContainer",
    "DemoStorageAccount",
    "azure_estate_spec",
    "seed_azure_estate",
    "start_azure_demo",
]
