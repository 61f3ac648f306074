"""Pure: one raw Azure subscription snapshot (``cloudwatchdog.providers.azure.collect``) -> typed storage inventory.

Imports no SDK. Each setting becomes its typed value, ``None`` when Azure leaves it unset, or a ``ReadError`` when the
call failed or answered in a shape we do not understand. A malformed answer is logged with the resource and becomes
``ReadError(code="InvalidResponse")``: never a crash, never a silently empty setting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.azure.model import (
    PUBLIC_ACCESS_LEVELS,
    BlobContainer,
    NetworkRuleSet,
    StaticWebsite,
    StorageAccount,
)
from cloudwatchdog.providers.shapes import ShapeError
from cloudwatchdog.providers.shapes import as_list as _list
from cloudwatchdog.providers.shapes import as_mapping as _mapping
from cloudwatchdog.providers.shapes import as_non_empty_str as _str

log = logging.getLogger("cloudwatchdog.providers.azure.normalize")

INVALID = "InvalidResponse"
NOT_COLLECTED = "NotCollected"
UNKNOWN = "unknown"
_ACCOUNT_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Storage/storageAccounts/"
    r"(?P<name>[^/]+)$",
    re.IGNORECASE,
)
_ACTIONS = {"allow": "Allow", "deny": "Deny"}
_LEVELS = {level.lower(): level for level in PUBLIC_ACCESS_LEVELS}


@dataclass(frozen=True)
class AzureSubscriptionInventory:
    """Everything read from one subscription. ``errors`` lists every failure, one readable line each."""

    subscription: str
    name: str | None
    status: str  # ok | error (the subscription could not be read, or its storage accounts not listed)
    error: str | None
    api_calls: int
    accounts: tuple[StorageAccount, ...]
    containers: tuple[BlobContainer, ...]
    errors: tuple[str, ...]


def _optional_bool(props: Mapping[str, Any], key: str) -> bool | None:
    value = props.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ShapeError(f"{key} is not a boolean: {value!r}")


def _optional_str(props: Mapping[str, Any], key: str) -> str | None:
    value = props.get(key)
    if value is None or (isinstance(value, str) and value):
        return value
    raise ShapeError(f"{key} is not a string: {value!r}")


def parse_network(value: Any) -> NetworkRuleSet | None:
    """``networkAcls``; None when absent (every network allowed)."""
    if value is None:
        return None
    acls = _mapping(value, "networkAcls")
    action = _ACTIONS.get(str(acls.get("defaultAction", "")).lower())
    if action is None:
        raise ShapeError(f"networkAcls.defaultAction is neither Allow nor Deny: {acls.get('defaultAction')!r}")
    ips: list[str] = []
    for key in ("ipRules", "ipv6Rules"):
        for rule in _list(acls.get(key) or [], f"networkAcls.{key}"):
            entry = _mapping(rule, f"networkAcls.{key} entry")
            if str(entry.get("action", "Allow")).lower() != "allow":
                raise ShapeError(f"networkAcls.{key} entry with action {entry.get('action')!r}")
            ips.append(_str(entry.get("value"), f"networkAcls.{key} value"))
    subnets = tuple(
        _str(_mapping(r, "virtualNetworkRules entry").get("id"), "virtualNetworkRules id")
        for r in _list(acls.get("virtualNetworkRules") or [], "networkAcls.virtualNetworkRules")
    )
    resources = tuple(
        _str(_mapping(r, "resourceAccessRules entry").get("resourceId"), "resourceAccessRules resourceId")
        for r in _list(acls.get("resourceAccessRules") or [], "networkAcls.resourceAccessRules")
    )
    bypass = acls.get("bypass")
    if bypass is not None and not isinstance(bypass, str):
        raise ShapeError(f"networkAcls.bypass is not a string: {bypass!r}")
    return NetworkRuleSet(action, tuple(ips), subnets, resources, bypass or None)


def parse_static_website(payload: Any) -> StaticWebsite:
    body = _mapping(payload, "service properties response")
    if "StaticWebsite" not in body:
        raise ShapeError("service properties response has no StaticWebsite element")
    website = body["StaticWebsite"]
    if website is None:  # an account kind without static website hosting
        return StaticWebsite(enabled=False)
    site = _mapping(website, "StaticWebsite")
    enabled = site.get("Enabled")
    if not isinstance(enabled, bool):
        raise ShapeError(f"StaticWebsite.Enabled is not a boolean: {enabled!r}")
    index, error = site.get("IndexDocument"), site.get("ErrorDocument404Path")
    return StaticWebsite(enabled, index if isinstance(index, str) else None, error if isinstance(error, str) else None)


def parse_public_access(value: Any) -> str:
    level = _LEVELS.get(value.lower()) if isinstance(value, str) else None
    if level is None:
        raise ShapeError(f"publicAccess is not one of None, Blob, Container: {value!r}")
    return level


class _Notes:
    """Collects one readable line per failure for the coverage entry."""

    def __init__(self, subscription: str) -> None:
        self.subscription = subscription
        self.errors: list[str] = []

    def note(self, resource: str, error: ReadError) -> ReadError:
        line = f"{resource}: {error.describe()}" if resource else error.describe()
        if line not in self.errors:
            self.errors.append(line)
        return error

    def call_error(self, result: Any, operation: str, resource: str) -> ReadError | None:
        """The ReadError of a call result that is not ``ok``/``absent``, noted; None otherwise."""
        if result is None:
            return self.note(resource, ReadError(operation, NOT_COLLECTED, "the snapshot holds no answer for it"))
        if not isinstance(result, Mapping):
            return self.note(resource, ReadError(operation, INVALID, f"call result is a {type(result).__name__}"))
        if "error" in result:
            err = result["error"] if isinstance(result["error"], Mapping) else {}
            return self.note(resource, ReadError(str(err.get("operation") or operation),
                                                 str(err.get("code") or "Unknown"), str(err.get("message") or "")))
        if "ok" not in result and "absent" not in result:
            return self.note(resource, ReadError(operation, INVALID, "call result has none of ok/absent/error"))
        return None

    def invalid(self, resource: str, operation: str, exc: ShapeError) -> ReadError:
        log.warning("azure subscription %s %s: unexpected %s response: %s", self.subscription, resource,
                    operation, exc)
        return self.note(resource, ReadError(operation, INVALID, str(exc)))


def _setting(notes: _Notes, resource: str, parse: Any, *args: Any) -> Any:
    """``parse(*args)``, or the ReadError of its ShapeError."""
    try:
        return parse(*args)
    except ShapeError as exc:
        return notes.invalid(resource, "ListStorageAccounts", exc)


def _account(entry: Mapping[str, Any], subscription: str, calls: Mapping[str, Any], notes: _Notes) -> StorageAccount:
    account_id, name = str(entry["id"]), str(entry["name"])
    resource = f"storage account {name}"
    match = _ACCOUNT_ID.match(account_id)
    other: list[ReadError] = []
    if match is None:
        other.append(notes.note(resource, ReadError("ListStorageAccounts", INVALID,
                                                    f"id is not a storage account resource id: {account_id!r}")))
    location = entry.get("location")
    kind = entry.get("kind")
    tags_raw = entry.get("tags")
    tags = ({str(k): str(v) for k, v in tags_raw.items() if isinstance(v, str)}
            if isinstance(tags_raw, Mapping) else {})

    raw_props = entry.get("properties")
    if not isinstance(raw_props, Mapping):
        error = notes.invalid(resource, "ListStorageAccounts",
                              ShapeError(f"properties is not a mapping: {type(raw_props).__name__}"))
        props: Mapping[str, Any] = {}
        flag: Any = error
        shared: Any = error
        https: Any = error
        tls: Any = error
        pna: Any = error
        network: Any = error
    else:
        props = raw_props
        flag = _setting(notes, resource, _optional_bool, props, "allowBlobPublicAccess")
        shared = _setting(notes, resource, _optional_bool, props, "allowSharedKeyAccess")
        https = _setting(notes, resource, _optional_bool, props, "supportsHttpsTrafficOnly")
        tls = _setting(notes, resource, _optional_str, props, "minimumTlsVersion")
        pna = _setting(notes, resource, _optional_str, props, "publicNetworkAccess")
        network = _setting(notes, resource, parse_network, props.get("networkAcls"))
    endpoints = props.get("primaryEndpoints")
    blob = endpoints.get("blob") if isinstance(endpoints, Mapping) else None

    listing = calls.get("ListContainers")
    containers_error = notes.call_error(listing, "ListContainers", resource)
    website_result = calls.get("GetBlobServiceProperties")
    website: StaticWebsite | ReadError | None
    if isinstance(website_result, Mapping) and "absent" in website_result:
        website = None
    elif (failed := notes.call_error(website_result, "GetBlobServiceProperties", resource)) is not None:
        website = failed
    else:
        assert isinstance(website_result, Mapping)
        try:
            website = parse_static_website(website_result["ok"])
        except ShapeError as exc:
            website = notes.invalid(resource, "GetBlobServiceProperties", exc)
    return StorageAccount(
        subscription=subscription,
        id=account_id,
        name=name,
        resource_group=match.group("rg") if match else UNKNOWN,
        location=location if isinstance(location, str) and location else UNKNOWN,
        kind=kind if isinstance(kind, str) else None,
        tags=tags,
        allow_blob_public_access=flag,
        public_network_access=pna,
        network=network,
        allow_shared_key_access=shared,
        minimum_tls_version=tls,
        https_only=https,
        blob_endpoint=blob if isinstance(blob, str) else None,
        static_website=website,
        containers_error=containers_error,
        other_errors=tuple(other),
    )


def _containers(account: StorageAccount, listing: Any, notes: _Notes) -> tuple[StorageAccount, list[BlobContainer]]:
    """The containers of one account; an entry that cannot be read makes the listing incomplete."""
    resource = f"storage account {account.name}"
    if not isinstance(listing, Mapping):
        return account, []
    if "ok" in listing:
        payload = listing["ok"]
        value = payload.get("value") if isinstance(payload, Mapping) else None
        if not isinstance(value, list):
            error = notes.invalid(resource, "ListContainers", ShapeError("the listing has no value list"))
            return _incomplete(account, error), []
        entries: list[Any] = value
    else:
        partial = listing.get("partial")
        entries = partial if isinstance(partial, list) else []
    out: list[BlobContainer] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            error = notes.invalid(resource, "ListContainers", ShapeError(f"a container entry has no name: {entry!r}"))
            account = _incomplete(account, error)
            continue
        cid = entry.get("id")
        container_id = cid if isinstance(cid, str) and cid else f"{account.id}/blobServices/default/containers/{name}"
        props = entry.get("properties")
        level: str | ReadError
        try:
            level = parse_public_access(_mapping(props, "container properties").get("publicAccess"))
        except ShapeError as exc:
            level = notes.invalid(f"{resource} container {name}", "ListContainers", exc)
        out.append(BlobContainer(account, name, container_id, level))
    return account, out


def _incomplete(account: StorageAccount, error: ReadError) -> StorageAccount:
    return replace(account, containers_error=account.containers_error or error)


def _needs_website(account: StorageAccount, containers: list[BlobContainer]) -> StorageAccount:
    """A $web container whose static website setting was never collected: say so."""
    if account.static_website is None and any(c.is_web for c in containers):
        return replace(account, static_website=ReadError("GetBlobServiceProperties", NOT_COLLECTED,
                                                         "the account has a $web container but the static website "
                                                         "setting was not read"))
    return account


def normalize_subscription(snapshot: Mapping[str, Any]) -> AzureSubscriptionInventory:
    """Typed inventory of one raw subscription snapshot."""
    subscription = str(snapshot.get("account") or UNKNOWN)
    notes = _Notes(subscription)
    status, error = snapshot.get("status"), snapshot.get("error")
    if status not in ("ok", "error"):
        status, error = "error", error or f"snapshot has an invalid status {status!r}"
    if error:
        notes.errors.append(str(error))
    raw_calls = snapshot.get("calls")
    calls: Mapping[str, Any] = raw_calls if isinstance(raw_calls, Mapping) else {}
    if "GetSubscription" in calls:
        notes.call_error(calls["GetSubscription"], "GetSubscription", "subscription")
    api_calls = snapshot.get("api_calls")
    name = snapshot.get("name")
    accounts: list[StorageAccount] = []
    containers: list[BlobContainer] = []
    if status == "ok":
        listing = calls.get("ListStorageAccounts")
        failed = notes.call_error(listing, "ListStorageAccounts", "storage accounts")
        entries: list[Any] = []
        if isinstance(listing, Mapping):
            source = listing.get("partial") if failed is not None else listing.get("ok")
            value = source.get("value") if isinstance(source, Mapping) else source
            if isinstance(value, list):
                entries = value
            elif failed is None:
                notes.note("storage accounts",
                           ReadError("ListStorageAccounts", INVALID, "the listing has no value list"))
        if failed is not None and entries:
            notes.errors.append(f"storage accounts: the listing stopped after {len(entries)} accounts; "
                                "more may exist unseen")
        reads = _reads_by_id(snapshot.get("storage_accounts"))
        for entry in entries:
            if not (isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and entry.get("id")
                    and isinstance(entry.get("name"), str) and entry.get("name")):
                notes.note("storage accounts", ReadError("ListStorageAccounts", INVALID,
                                                         f"an account entry without id or name: {entry!r}"[:300]))
                continue
            read = reads.get(str(entry["id"]).lower(), {})
            raw_account_calls = read.get("calls")
            account_calls: Mapping[str, Any] = raw_account_calls if isinstance(raw_account_calls, Mapping) else {}
            account = _account(entry, subscription, account_calls, notes)
            account, found = _containers(account, account_calls.get("ListContainers"), notes)
            account = _needs_website(account, found)
            found = [BlobContainer(account, c.name, c.id, c.public_access) for c in found]
            accounts.append(account)
            containers.extend(found)
    return AzureSubscriptionInventory(
        subscription=subscription,
        name=name if isinstance(name, str) else None,
        status=str(status),
        error=str(error) if error else None,
        api_calls=api_calls if isinstance(api_calls, int) else 0,
        accounts=tuple(accounts),
        containers=tuple(containers),
        errors=tuple(notes.errors),
    )


def _reads_by_id(value: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(value, list):
        return {}
    return {str(r["id"]).lower(): r for r in value if isinstance(r, Mapping) and isinstance(r.get("id"), str)}


__all__ = ["AzureSubscriptionInventory", "ShapeError", "normalize_subscription", "parse_network",
           "parse_public_access", "parse_static_website"]
