"""Typed inputs of the Azure Blob exposure analysis (frozen, free of any SDK): what normalize/azure.py produces
from a raw subscription snapshot and exposure/azure_blob.py judges.

A setting is its typed value, ``None`` when Azure leaves it unset (``allowBlobPublicAccess`` of an older account,
an absent network rule set), or a ``ReadError`` when the call failed or answered in a shape we do not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cloudwatchdog.model import ReadError

WEB_CONTAINER = "$web"
PUBLIC_ACCESS_LEVELS = ("None", "Blob", "Container")

# Resource types (Resource.type) of this provider.
ACCOUNT_TYPE = "azure.storage.account"
CONTAINER_TYPE = "azure.storage.container"


@dataclass(frozen=True)
class NetworkRuleSet:
    """``networkAcls``: the storage firewall of the account's public endpoint."""

    default_action: str  # Allow | Deny
    ip_rules: tuple[str, ...] = ()  # IPv4/IPv6 addresses and CIDR ranges (ipRules and ipv6Rules)
    virtual_network_rules: tuple[str, ...] = ()  # subnet resource ids
    resource_access_rules: tuple[str, ...] = ()  # resource instance ids (authenticated Azure services)
    bypass: str | None = None  # AzureServices, Logging, Metrics or None


@dataclass(frozen=True)
class StaticWebsite:
    enabled: bool
    index_document: str | None = None
    error_document: str | None = None


@dataclass(frozen=True)
class StorageAccount:
    subscription: str
    id: str  # the ARM resource id
    name: str
    resource_group: str
    location: str
    kind: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    allow_blob_public_access: bool | ReadError | None = None  # None: unset, which Azure treats as allowed
    public_network_access: str | ReadError | None = None  # Enabled | Disabled | SecuredByPerimeter; None: unset
    network: NetworkRuleSet | ReadError | None = None  # None: no rule set, every network allowed
    allow_shared_key_access: bool | ReadError | None = None  # None: unset, which Azure treats as allowed
    minimum_tls_version: str | ReadError | None = None
    https_only: bool | ReadError | None = None
    blob_endpoint: str | None = None
    # Get Blob Service Properties; None: not read because the account has no $web container (nothing to serve).
    static_website: StaticWebsite | ReadError | None = None
    # Why the container listing is incomplete (it failed, or stopped half-way); None when complete.
    containers_error: ReadError | None = None
    other_errors: tuple[ReadError, ...] = ()  # account-entry problems that no single setting above carries


@dataclass(frozen=True)
class BlobContainer:
    account: StorageAccount
    name: str
    id: str  # the ARM resource id: <account id>/blobServices/default/containers/<name>
    public_access: str | ReadError  # None | Blob | Container

    @property
    def is_web(self) -> bool:
        return self.name == WEB_CONTAINER


__all__ = [
    "PUBLIC_ACCESS_LEVELS",
    "WEB_CONTAINER",
    "BlobContainer",
    "NetworkRuleSet",
    "StaticWebsite",
    "StorageAccount",
]
