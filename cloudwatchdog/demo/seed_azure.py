"""The Azure part of the demo estate: Velora Motors' storage accounts, seeded into Azurite and the ARM emulator.

Two subscriptions (production, connected-car data) and a sandbox without storage, eight storage accounts with
realistic names and tags, a handful of classic mistakes among healthy private accounts: a listable container of
dealer brochures, a forgotten customer export on an account old enough to have allowBlobPublicAccess unset, a
press archive held back only by the account flag, a dealer feed held back only by the firewall, a static website,
an account that still accepts shared keys. Deterministic; all data is fake.

``expected`` on each resource is the verdict shared/EXPOSURE.md prescribes, so the demo doubles as an end-to-end
fixture. Note that Azurite knows nothing of the ARM-level account flag and firewall: the data plane enforces the
container levels only, which is why the expected verdicts, not Azurite's answers, are the reference here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudwatchdog.demo.seed_aws import customer_csv
from cloudwatchdog.emulators.arm import ArmEmulator
from cloudwatchdog.emulators.azurite import (
    AzuriteError,
    AzuriteServer,
    AzuriteUnavailable,
    find_azurite,
    install_azurite,
)
from cloudwatchdog.emulators.tls import TlsFiles, make_tls_files
from cloudwatchdog.providers.azure.settings import AzureProvider

SUB_PRODUCTION = "7d1e4c2a-5b3f-4e8d-9a61-0c2b8f4e3d15"
SUB_CONNECTED_CAR = "3f9a6b1c-2e4d-4a7b-8c5e-9d0f1a2b3c4d"
SUB_SANDBOX = "b8e2d4f6-1a3c-4e5b-9d7f-2c4e6a8b0d1f"
SUBSCRIPTIONS = {
    SUB_PRODUCTION: "Velora Motors - Production",
    SUB_CONNECTED_CAR: "Velora Motors - Connected Car Data",
    SUB_SANDBOX: "Velora Motors - Sandbox",
}
DEMO_ACCOUNT_NAMES = (
    "velorabrochures",
    "veloracrmexports",
    "veloralegacypress",
    "veloradealerfeed",
    "velorawebsite",
    "veloraerp",
    "veloratelematics",
    "veloramlfeatures",
)
_OFFICE_RANGE = "203.0.113.0/24"  # documentation ranges: fake office and partner egress addresses
_PARTNER_IP = "198.51.100.14"


def _subnet(sub: str, group: str, vnet: str, subnet: str) -> str:
    return (f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{vnet}"
            f"/subnets/{subnet}")


class AzureDemoUnavailable(RuntimeError):
    """The Azure part of the demo cannot run here; the message says what is missing."""


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


class _Seeder:
    def __init__(self, arm: ArmEmulator) -> None:
        self.arm = arm
        self.accounts: list[DemoStorageAccount] = []
        self.containers: list[DemoContainer] = []

    def account(self, sub: str, name: str, *, group: str, expected: str, latent: bool = False,
                issue: str | None = None, tags: Mapping[str, str], **settings: Any) -> None:
        self.arm.add_account(sub, name, resource_group=group, tags=tags, **settings)
        self.accounts.append(DemoStorageAccount(sub, name, group, expected, latent, issue))

    def container(self, name: str, account: str, level: str = "None", *, expected: str = "private",
                  latent: bool = False, issue: str | None = None, blobs: Mapping[str, bytes] | None = None) -> None:
        self.arm.add_container(account, name, level, blobs=blobs)
        sub = next(a.subscription for a in self.accounts if a.name == account)
        self.containers.append(DemoContainer(sub, account, name, expected, latent, issue))


def _tags(team: str, env: str = "prod", classification: str = "internal", **more: str) -> dict[str, str]:
    return {"team": team, "env": env, "data-classification": classification, "cost-center": f"cc-{team}", **more}


def _pdf(title: str) -> bytes:
    return f"%PDF-1.4\n% Velora Motors - {title} (fake)\n".encode()


def _seed_production(s: _Seeder) -> None:
    sub = SUB_PRODUCTION
    s.account(sub, "velorabrochures", group="rg-marketing", expected="public",
              issue="allows anonymous blob access and its firewall admits every network, with two public containers",
              tags=_tags("marketing", classification="public"), allow_blob_public_access=True,
              allow_shared_key_access=False)
    s.container("dealer-brochures", "velorabrochures", "Container", expected="public",
                issue="Container level: anyone can list and download every brochure, including the unreleased "
                      "2026 dealer price list",
                blobs={"2025/velora-c3.pdf": _pdf("C3 brochure"), "2025/velora-ev-s.pdf": _pdf("EV-S brochure"),
                       "2026/dealer-pricelist-CONFIDENTIAL.pdf": _pdf("2026 dealer price list")})
    s.container("press-images", "velorabrochures", "Blob", expected="public",
                issue="Blob level: anyone who has or guesses a URL can download the images",
                blobs={"launch/ev-s-front.jpg": b"\xff\xd8\xff fake jpeg"})
    s.container("brochure-drafts", "velorabrochures", expected="private",
                blobs={"2026/velora-crossline-draft.pdf": _pdf("Crossline draft")})

    s.account(sub, "veloracrmexports", group="rg-crm", expected="public",
              issue="created before 2023 and never hardened: allowBlobPublicAccess and allowSharedKeyAccess unset "
                    "(both treated as allowed), firewall open",
              tags=_tags("crm", classification="confidential", project="dealer-portal-2019"),
              allow_blob_public_access=None, allow_shared_key_access=None, minimum_tls_version="TLS1_0")
    s.container("crm-exports-2019", "veloracrmexports", "Container", expected="public",
                issue="a 2019 customer export (names, e-mail addresses, VINs, GPS positions) listable by anyone",
                blobs={f"exports/customers_part{n:02d}.csv": customer_csv(n + 40) for n in range(1, 3)})

    s.account(sub, "veloralegacypress", group="rg-legacy", expected="private", latent=True,
              tags=_tags("communications", classification="public"), allow_blob_public_access=False,
              allow_shared_key_access=False)
    s.container("press-archive-2012", "veloralegacypress", "Container", expected="private", latent=True,
                issue="Container level on an account that disallows anonymous access: one flag away from public",
                blobs={"2012/launch-press-kit.pdf": _pdf("2012 press kit")})

    s.account(sub, "veloradealerfeed", group="rg-sales", expected="private", latent=True,
              issue="allows anonymous blob access; only the firewall keeps the inventory feed off the internet",
              tags=_tags("sales", classification="confidential", partner="dealer-network"),
              allow_blob_public_access=True, allow_shared_key_access=False, default_action="Deny",
              ip_rules=[_OFFICE_RANGE, _PARTNER_IP],
              virtual_network_rules=[_subnet(sub, "rg-network", "vnet-sales", "snet-dealer-sync")])
    s.container("inventory-feed", "veloradealerfeed", "Blob", expected="private", latent=True,
                issue="Blob level: anonymous reads from the office range and a dealer's address, one firewall "
                      "change away from the internet",
                blobs={"feeds/inventory-2025-05-01.json": b'{"vehicles": []}\n'})

    s.account(sub, "velorawebsite", group="rg-web", expected="public",
              issue="serves a static website from an endpoint every network reaches",
              tags=_tags("web", classification="public", **{"public-by-design": "true"}),
              allow_blob_public_access=False, allow_shared_key_access=False)
    s.container("$web", "velorawebsite", expected="public",
                issue="static website hosting serves every blob in $web, including a forgotten staging export",
                blobs={"index.html": b"<!doctype html><title>Velora Motors</title>\n",
                       "staging/leads-export.csv": customer_csv(77, rows=5)})
    s.arm.set_static_website("velorawebsite", index_document="index.html", error_document="404.html")

    s.account(sub, "veloraerp", group="rg-finance", expected="private",
              tags=_tags("finance", classification="restricted"), allow_blob_public_access=False,
              allow_shared_key_access=False, public_network_access="Disabled", default_action="Deny",
              virtual_network_rules=[_subnet(sub, "rg-network", "vnet-erp", "snet-sap")])
    s.container("invoices", "veloraerp")
    s.container("payroll-exports", "veloraerp")


def _seed_connected_car(s: _Seeder) -> None:
    sub = SUB_CONNECTED_CAR
    s.account(sub, "veloratelematics", group="rg-connected-car", expected="private",
              issue="accepts shared key authorisation: a leaked account key reads every vehicle's telemetry",
              tags=_tags("connected-car", classification="confidential"), allow_blob_public_access=False,
              allow_shared_key_access=True, default_action="Deny",
              virtual_network_rules=[_subnet(sub, "rg-network", "vnet-telematics", "snet-ingest")])
    s.container("raw-telemetry", "veloratelematics")
    s.container("ota-manifests", "veloratelematics")

    s.account(sub, "veloramlfeatures", group="rg-data-science", expected="private",
              tags=_tags("data-science", classification="internal"), allow_blob_public_access=False,
              allow_shared_key_access=False, public_network_access="Disabled", default_action="Deny")
    s.container("feature-store", "veloramlfeatures")
    s.container("training-sets", "veloramlfeatures")


def seed_azure_estate(arm: ArmEmulator, ca_file: Path) -> AzureDemoEstate:
    """Seed the Velora Motors Azure estate into an empty ARM emulator (attached to an Azurite server that has the
    ``DEMO_ACCOUNT_NAMES`` accounts) and describe it."""
    for sub, name in SUBSCRIPTIONS.items():
        arm.add_subscription(sub, name)
    seeder = _Seeder(arm)
    _seed_production(seeder)
    _seed_connected_car(seeder)
    return AzureDemoEstate(arm.endpoint, ca_file, dict(SUBSCRIPTIONS), tuple(seeder.accounts),
                           tuple(seeder.containers))


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
    azurite = AzuriteServer(DEMO_ACCOUNT_NAMES, tls, binary=binary)
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
    "DEMO_ACCOUNT_NAMES",
    "SUBSCRIPTIONS",
    "SUB_CONNECTED_CAR",
    "SUB_PRODUCTION",
    "SUB_SANDBOX",
    "AzureDemo",
    "AzureDemoEstate",
    "AzureDemoUnavailable",
    "DemoContainer",
    "DemoStorageAccount",
    "seed_azure_estate",
    "start_azure_demo",
]
