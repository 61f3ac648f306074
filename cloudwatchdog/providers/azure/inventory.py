"""Pure: a normalized Azure subscription inventory -> Resources (with exposure verdicts) and its coverage entry.

Resource uids are ARM resource ids: the storage account's, and ``<account id>/blobServices/default/containers/<name>``
for a container (what Azure itself calls the container resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudwatchdog.model import Coverage, CoverageStatus, Level, ReadError, Resource
from cloudwatchdog.providers.azure.exposure import (
    account_exposure,
    anonymous_grant,
    blob_public_access_allowed,
    container_exposure,
    network_reach,
)
from cloudwatchdog.providers.azure.model import (
    ACCOUNT_TYPE,
    CONTAINER_TYPE,
    BlobContainer,
    NetworkRuleSet,
    StaticWebsite,
    StorageAccount,
)
from cloudwatchdog.providers.azure.normalize import AzureSubscriptionInventory, normalize_subscription

PROVIDER = "azure"


def _value(setting: object) -> Any:
    """A setting for rules: its value, or None when it could not be read."""
    return None if isinstance(setting, ReadError) else setting


def _errors(*values: object) -> list[str]:
    return [v.describe() for v in values if isinstance(v, ReadError)]


def _network_dict(network: NetworkRuleSet | ReadError | None) -> dict[str, Any] | None:
    if not isinstance(network, NetworkRuleSet):
        return None
    return {
        "default_action": network.default_action,
        "ip_rules": list(network.ip_rules),
        "virtual_network_rules": list(network.virtual_network_rules),
        "resource_access_rules": list(network.resource_access_rules),
        "bypass": network.bypass,
    }


def _website_dict(website: StaticWebsite | ReadError | None) -> dict[str, Any] | None:
    if not isinstance(website, StaticWebsite):
        return None
    return {"enabled": website.enabled, "index_document": website.index_document,
            "error_document": website.error_document}


def _shared_key_allowed(account: StorageAccount) -> bool | None:
    value = account.allow_shared_key_access
    return None if isinstance(value, ReadError) else value is not False


def container_resource(container: BlobContainer) -> Resource:
    account = container.account
    reach = network_reach(account)
    website = account.static_website if container.is_web else None
    grants = container.public_access in ("Blob", "Container")
    properties: dict[str, Any] = {
        "container": container.name,
        "storage_account": account.name,
        "storage_account_id": account.id,
        "resource_group": account.resource_group,
        "public_access": _value(container.public_access),
        "account_blob_public_access_allowed": blob_public_access_allowed(account),
        "network_access": reach.kind,
        "static_website": (website.enabled if isinstance(website, StaticWebsite) else None) if container.is_web
        else None,
        "anonymous_grant": anonymous_grant(container),
        "read_errors": _errors(container.public_access, website,
                               *([account.allow_blob_public_access, reach.error] if grants else [])),
    }
    return Resource(
        uid=container.id,
        provider=PROVIDER,
        account=account.subscription,
        region=account.location,
        type=CONTAINER_TYPE,
        name=f"{account.name}/{container.name}",
        exposure=container_exposure(container),
        tags=dict(account.tags),
        properties=properties,
    )


def account_resource(account: StorageAccount, containers: list[Resource]) -> Resource:
    reach = network_reach(account)
    exposure = account_exposure(account, [(c.properties["container"], c.exposure) for c in containers])
    public = [c.properties["container"] for c in containers if c.exposure.level is Level.PUBLIC]
    anonymous = [c.properties["container"] for c in containers if c.properties.get("anonymous_grant")]
    properties: dict[str, Any] = {
        "resource_group": account.resource_group,
        "kind": account.kind,
        "allow_blob_public_access": _value(account.allow_blob_public_access),
        "blob_public_access_allowed": blob_public_access_allowed(account),
        "public_network_access": _value(account.public_network_access),
        "network": _network_dict(account.network),
        "network_access": reach.kind,
        "network_detail": reach.detail,
        "allow_shared_key_access": _value(account.allow_shared_key_access),
        "shared_key_access_allowed": _shared_key_allowed(account),
        "minimum_tls_version": _value(account.minimum_tls_version),
        "https_only": _value(account.https_only),
        "blob_endpoint": account.blob_endpoint,
        "static_website": _website_dict(account.static_website),
        "containers": len(containers),
        "containers_complete": account.containers_error is None,
        "public_containers": public,
        "public_container_count": len(public),
        "anonymous_containers": anonymous,
        "read_errors": _errors(account.allow_blob_public_access, account.public_network_access, account.network,
                               account.allow_shared_key_access, account.minimum_tls_version, account.https_only,
                               account.static_website, account.containers_error, *account.other_errors),
    }
    return Resource(
        uid=account.id,
        provider=PROVIDER,
        account=account.subscription,
        region=account.location,
        type=ACCOUNT_TYPE,
        aggregate=True,
        name=account.name,
        exposure=exposure,
        tags=dict(account.tags),
        properties=properties,
    )


def subscription_resources(inv: AzureSubscriptionInventory) -> list[Resource]:
    if inv.status == "error":
        return []
    out: list[Resource] = []
    for account in inv.accounts:
        containers = [container_resource(c) for c in inv.containers if c.account.id == account.id]
        out.append(account_resource(account, containers))
        out.extend(containers)
    return out


def subscription_coverage(inv: AzureSubscriptionInventory, resources: list[Resource]) -> Coverage:
    if inv.status == "error":
        return Coverage(PROVIDER, inv.subscription, CoverageStatus.ERROR, 0,
                        (inv.error or "subscription could not be scanned",), inv.api_calls, name=inv.name)
    errors = list(inv.errors)
    already = "\n".join(inv.errors)  # the normalizer lists each failed call once; don't repeat those
    for r in resources:
        read_errors = r.properties.get("read_errors", [])
        errors.extend(f"{r.type} {r.name}: {e}" for e in read_errors if e not in already)
        if r.exposure.level is Level.UNKNOWN and not read_errors and r.type == CONTAINER_TYPE:
            why = "; ".join(e.detail for e in r.exposure.evidence[:2])
            errors.append(f"{r.type} {r.name}: exposure could not be determined: {why}")
    status = CoverageStatus.PARTIAL if errors else CoverageStatus.OK
    return Coverage(PROVIDER, inv.subscription, status, len(resources), tuple(dict.fromkeys(errors)), inv.api_calls,
                    (ACCOUNT_TYPE, CONTAINER_TYPE), name=inv.name)


def analyse_snapshot(snapshot: Mapping[str, Any]) -> tuple[list[Resource], Coverage]:
    """Pure: one subscription's raw snapshot -> its resources with verdicts, and its coverage entry."""
    inventory = normalize_subscription(snapshot)
    found = subscription_resources(inventory)
    return found, subscription_coverage(inventory, found)


__all__ = ["ACCOUNT_TYPE", "CONTAINER_TYPE", "account_resource", "analyse_snapshot", "container_resource",
           "subscription_coverage", "subscription_resources"]
