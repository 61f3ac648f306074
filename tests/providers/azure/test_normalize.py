"""Raw Azure subscription snapshots -> typed inventory: every malformed answer becomes a per-resource ReadError
(never a crash, never a silently empty setting), and listings that stopped half-way are carried as incomplete."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloudwatchdog.model import CoverageStatus, Level, ReadError
from cloudwatchdog.providers.azure.inventory import analyse_snapshot
from cloudwatchdog.providers.azure.model import NetworkRuleSet, StaticWebsite
from cloudwatchdog.providers.azure.normalize import normalize_subscription, parse_network, parse_static_website

SUB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _account_id(name: str, group: str = "rg-data") -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"


def _entry(name: str, **properties: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "allowBlobPublicAccess": True,
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
        "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
        "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"},
    }
    props.update(properties)
    return {"id": _account_id(name), "name": name, "type": "Microsoft.Storage/storageAccounts",
            "location": "westeurope", "kind": "StorageV2", "tags": {"team": "data"}, "properties": props}


def _container(account: str, name: str, level: Any = "None") -> dict[str, Any]:
    return {"id": f"{_account_id(account)}/blobServices/default/containers/{name}", "name": name,
            "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
            "properties": {"publicAccess": level, "leaseState": "Available"}}


def _snapshot(accounts: list[dict[str, Any]], reads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema_version": 1, "provider": "azure", "account": SUB, "name": "Velora Test", "status": "ok",
        "error": None, "api_calls": 5,
        "calls": {"ListStorageAccounts": {"ok": {"value": accounts}}},
        "storage_accounts": [{"id": _account_id(name), "name": name, "calls": calls} for name, calls in reads.items()],
    }


def _containers_ok(account: str, *containers: tuple[str, Any]) -> dict[str, Any]:
    return {"ok": {"value": [_container(account, n, level) for n, level in containers]}}


NO_WEB = {"absent": "NoWebContainer"}


def _basic() -> dict[str, Any]:
    return _snapshot([_entry("acct1")], {"acct1": {"ListContainers": _containers_ok("acct1", ("pub", "Blob"),
                                                                                     ("priv", "None")),
                                                   "GetBlobServiceProperties": NO_WEB}})


def test_a_well_formed_snapshot() -> None:
    inv = normalize_subscription(_basic())
    assert inv.status == "ok" and inv.errors == () and inv.api_calls == 5 and inv.name == "Velora Test"
    (acct,) = inv.accounts
    assert (acct.name, acct.resource_group, acct.location, acct.kind) == ("acct1", "rg-data", "westeurope", "StorageV2")
    assert acct.allow_blob_public_access is True and acct.tags == {"team": "data"}
    assert acct.network == NetworkRuleSet("Allow", bypass="AzureServices")
    assert acct.static_website is None and acct.containers_error is None
    assert {(c.name, c.public_access) for c in inv.containers} == {("pub", "Blob"), ("priv", "None")}
    assert all(c.account == acct for c in inv.containers)


def test_unset_settings_are_none_not_errors() -> None:
    snap = _basic()
    props = snap["calls"]["ListStorageAccounts"]["ok"]["value"][0]["properties"]
    for key in ("allowBlobPublicAccess", "networkAcls", "minimumTlsVersion", "supportsHttpsTrafficOnly"):
        props.pop(key)
    (acct,) = normalize_subscription(snap).accounts
    assert (acct.allow_blob_public_access, acct.network, acct.allow_shared_key_access, acct.public_network_access) == (
        None, None, None, None)


@pytest.mark.parametrize(("key", "value", "attribute"), [
    ("allowBlobPublicAccess", "yes", "allow_blob_public_access"),
    ("allowSharedKeyAccess", 1, "allow_shared_key_access"),
    ("publicNetworkAccess", 42, "public_network_access"),
    ("networkAcls", "open", "network"),
    ("networkAcls", {"defaultAction": "Maybe"}, "network"),
    ("networkAcls", {"defaultAction": "Deny", "ipRules": [{"action": "Allow"}]}, "network"),
    ("networkAcls", {"defaultAction": "Deny", "ipRules": "1.2.3.4"}, "network"),
    ("networkAcls", {"defaultAction": "Deny", "virtualNetworkRules": [{"action": "Allow"}]}, "network"),
    ("minimumTlsVersion", ["TLS1_2"], "minimum_tls_version"),
])
def test_a_malformed_setting_is_a_read_error_of_that_setting_only(key: str, value: Any, attribute: str) -> None:
    snap = _basic()
    snap["calls"]["ListStorageAccounts"]["ok"]["value"][0]["properties"][key] = value
    inv = normalize_subscription(snap)
    (acct,) = inv.accounts
    error = getattr(acct, attribute)
    assert isinstance(error, ReadError) and error.code == "InvalidResponse"
    assert any("storage account acct1" in e and "InvalidResponse" in e for e in inv.errors)
    others = {"allow_blob_public_access", "allow_shared_key_access", "public_network_access", "network",
              "minimum_tls_version"} - {attribute}
    assert not any(isinstance(getattr(acct, o), ReadError) for o in others)


def test_properties_that_are_not_a_mapping_make_every_setting_unreadable() -> None:
    snap = _basic()
    snap["calls"]["ListStorageAccounts"]["ok"]["value"][0]["properties"] = ["nope"]
    resources, coverage = analyse_snapshot(snap)
    (acct,) = normalize_subscription(snap).accounts
    assert isinstance(acct.allow_blob_public_access, ReadError) and isinstance(acct.network, ReadError)
    by_name = {r.name: r for r in resources}
    assert by_name["acct1/pub"].exposure.level is Level.UNKNOWN  # Blob level: depends on the flag and network
    assert by_name["acct1/priv"].exposure.level is Level.PRIVATE  # None: depends on nothing else
    assert coverage.status is CoverageStatus.PARTIAL


def test_an_account_entry_without_id_is_reported_not_dropped_silently() -> None:
    snap = _basic()
    snap["calls"]["ListStorageAccounts"]["ok"]["value"].append({"name": "ghost", "properties": {}})
    resources, coverage = analyse_snapshot(snap)
    assert "ghost" not in {r.name for r in resources}
    assert coverage.status is CoverageStatus.PARTIAL
    assert any("an account entry without id or name" in e for e in coverage.errors)


def test_an_id_that_is_not_a_storage_account_id() -> None:
    snap = _basic()
    snap["calls"]["ListStorageAccounts"]["ok"]["value"][0]["id"] = "/weird/id"
    snap["storage_accounts"][0]["id"] = "/weird/id"
    inv = normalize_subscription(snap)
    (acct,) = inv.accounts
    assert acct.resource_group == "unknown" and acct.other_errors
    resources, coverage = analyse_snapshot(snap)
    account_resource = next(r for r in resources if r.type == "azure.storage.account")
    assert account_resource.exposure.level is Level.PUBLIC  # its Blob-level container is known to be public
    assert account_resource.properties["read_errors"] and coverage.status is CoverageStatus.PARTIAL
    snap["storage_accounts"][0]["calls"]["ListContainers"]["ok"]["value"].pop(0)  # only the private one left
    resources, _ = analyse_snapshot(snap)
    assert resources[0].exposure.level is Level.UNKNOWN


@pytest.mark.parametrize("level", ["Public", None, 3, "blobs"])
def test_an_unexpected_container_level_makes_that_container_unknown(level: Any) -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"]["ok"]["value"][0]["properties"]["publicAccess"] = level
    resources, coverage = analyse_snapshot(snap)
    by_name = {r.name: r for r in resources}
    assert by_name["acct1/pub"].exposure.level is Level.UNKNOWN
    assert by_name["acct1/priv"].exposure.level is Level.PRIVATE
    assert coverage.status is CoverageStatus.PARTIAL


def test_level_names_are_case_insensitive() -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"]["ok"]["value"][0]["properties"]["publicAccess"] = "blob"
    assert {c.public_access for c in normalize_subscription(snap).containers} == {"Blob", "None"}


def test_a_container_entry_without_a_name_makes_the_listing_incomplete() -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"]["ok"]["value"].append({"properties": {}})
    inv = normalize_subscription(snap)
    assert inv.accounts[0].containers_error is not None and len(inv.containers) == 2


def test_a_listing_that_failed_half_way_keeps_what_was_read() -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"] = {
        "error": {"operation": "ListContainers", "code": "InternalServerError", "message": "HTTP 500: boom"},
        "partial": [_container("acct1", "pub", "Blob")],
    }
    resources, coverage = analyse_snapshot(snap)
    by_name = {r.name: r for r in resources}
    assert by_name["acct1/pub"].exposure.level is Level.PUBLIC
    assert "acct1/priv" not in by_name
    assert by_name["acct1"].exposure.level is Level.PUBLIC  # one known public container is enough
    assert by_name["acct1"].properties["containers_complete"] is False
    assert coverage.status is CoverageStatus.PARTIAL
    assert any("ListContainers failed: InternalServerError" in e for e in coverage.errors)


def test_a_listing_that_failed_with_nothing_public_leaves_the_account_unknown() -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"] = {
        "error": {"operation": "ListContainers", "code": "AuthorizationFailed", "message": "HTTP 403"}, "partial": []}
    resources, _ = analyse_snapshot(snap)
    (acct,) = resources
    assert acct.exposure.level is Level.UNKNOWN and acct.properties["read_errors"]


def test_an_account_never_read_is_not_collected() -> None:
    snap = _basic()
    snap["storage_accounts"] = []
    inv = normalize_subscription(snap)
    error = inv.accounts[0].containers_error
    assert isinstance(error, ReadError) and error.code == "NotCollected"


def test_a_storage_account_listing_that_failed_half_way() -> None:
    snap = _basic()
    accounts = snap["calls"]["ListStorageAccounts"]["ok"]["value"]
    snap["calls"]["ListStorageAccounts"] = {
        "error": {"operation": "ListStorageAccounts", "code": "TooManyRequests", "message": "HTTP 429"},
        "partial": accounts,
    }
    resources, coverage = analyse_snapshot(snap)
    assert {r.name for r in resources} == {"acct1", "acct1/pub", "acct1/priv"}
    assert coverage.status is CoverageStatus.PARTIAL
    assert any("stopped after 1 accounts" in e for e in coverage.errors)


def test_an_error_snapshot_has_no_resources_and_error_coverage() -> None:
    snap = {"provider": "azure", "account": SUB, "status": "error", "error": "cannot list storage accounts: "
            "AuthorizationFailed: HTTP 403", "api_calls": 1, "calls": {}}
    resources, coverage = analyse_snapshot(snap)
    assert resources == [] and coverage.status is CoverageStatus.ERROR
    assert coverage.errors == ("cannot list storage accounts: AuthorizationFailed: HTTP 403",)


@pytest.mark.parametrize("snap", [
    {"provider": "azure", "account": SUB, "status": "weird"},
    {"provider": "azure"},
    {"provider": "azure", "account": SUB, "status": "ok", "calls": "nope"},
    {"provider": "azure", "account": SUB, "status": "ok", "calls": {"ListStorageAccounts": {"ok": {"value": "x"}}}},
    {"provider": "azure", "account": SUB, "status": "ok", "calls": {"ListStorageAccounts": ["?"]}},
    {"provider": "azure", "account": SUB, "status": "ok", "calls": {"ListStorageAccounts": {"ok": {"value": [7]}}}},
])
def test_broken_snapshots_never_crash_and_never_look_complete(snap: dict[str, Any]) -> None:
    _, coverage = analyse_snapshot(snap)
    assert coverage.status is not CoverageStatus.OK


def test_static_website_results() -> None:
    snap = _basic()
    calls = snap["storage_accounts"][0]["calls"]
    calls["ListContainers"]["ok"]["value"].append(_container("acct1", "$web"))
    calls["GetBlobServiceProperties"] = {"ok": {"StaticWebsite": {"Enabled": True, "IndexDocument": "index.html",
                                                                  "ErrorDocument404Path": None}}}
    assert normalize_subscription(snap).accounts[0].static_website == StaticWebsite(True, "index.html", None)
    calls["GetBlobServiceProperties"] = {"error": {"code": "AuthorizationFailure", "message": "HTTP 403"}}
    website = normalize_subscription(snap).accounts[0].static_website
    assert isinstance(website, ReadError) and website.code == "AuthorizationFailure"
    calls["GetBlobServiceProperties"] = {"ok": {"StaticWebsite": {"Enabled": "yes"}}}
    website = normalize_subscription(snap).accounts[0].static_website
    assert isinstance(website, ReadError) and website.code == "InvalidResponse"


def test_a_web_container_whose_website_setting_was_skipped_is_not_collected() -> None:
    snap = _basic()
    snap["storage_accounts"][0]["calls"]["ListContainers"]["ok"]["value"].append(_container("acct1", "$web"))
    website = normalize_subscription(snap).accounts[0].static_website  # still {"absent": ...}: inconsistent
    assert isinstance(website, ReadError) and website.code == "NotCollected"


@pytest.mark.parametrize(("payload", "expected"), [
    ({"StaticWebsite": None}, StaticWebsite(False)),
    ({"StaticWebsite": {"Enabled": False}}, StaticWebsite(False)),
    ({"StaticWebsite": {"Enabled": True, "IndexDocument": "i.html", "ErrorDocument404Path": "404.html"}},
     StaticWebsite(True, "i.html", "404.html")),
])
def test_parse_static_website(payload: dict[str, Any], expected: StaticWebsite) -> None:
    assert parse_static_website(payload) == expected


def test_parse_network_reads_ipv4_ipv6_vnet_and_resource_rules() -> None:
    rules = parse_network({
        "defaultAction": "deny",
        "bypass": "Logging, Metrics",
        "ipRules": [{"value": "203.0.113.0/24", "action": "Allow"}],
        "ipv6Rules": [{"value": "2001:db8::/48"}],
        "virtualNetworkRules": [{"id": "/subscriptions/x/.../subnets/a", "action": "Allow", "state": "Succeeded"}],
        "resourceAccessRules": [{"tenantId": "t", "resourceId": "/subscriptions/x/.../workspaces/w"}],
    })
    assert rules == NetworkRuleSet("Deny", ("203.0.113.0/24", "2001:db8::/48"), ("/subscriptions/x/.../subnets/a",),
                                   ("/subscriptions/x/.../workspaces/w",), "Logging, Metrics")


def test_normalizing_does_not_change_the_snapshot() -> None:
    snap = _basic()
    before = copy.deepcopy(snap)
    analyse_snapshot(snap)
    assert snap == before
