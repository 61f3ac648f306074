"""Azure Blob verdicts, one table row per EXPOSURE.md rule (and per decision the README documents for the gaps):
anonymous access = account flag AND container level AND network; the flag false makes it latent; the firewall
restricts or closes; $web with static website on is public whatever the level and the flag; unreadable settings
make a verdict unknown only when the verdict depends on them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from cloudwatchdog.model import Exposure, Level, ReadError
from cloudwatchdog.providers.azure.exposure import (
    account_exposure,
    anonymous_grant,
    blob_public_access_allowed,
    container_exposure,
    network_reach,
)
from cloudwatchdog.providers.azure.model import BlobContainer, NetworkRuleSet, StaticWebsite, StorageAccount

SUB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ACCOUNT_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/app"

ALLOW = NetworkRuleSet("Allow")
ALLOW_WITH_RULES = NetworkRuleSet("Allow", ("203.0.113.0/24",), (SUBNET,))
DENY_IP = NetworkRuleSet("Deny", ("203.0.113.0/24", "198.51.100.7"))
DENY_VNET = NetworkRuleSet("Deny", (), (SUBNET,))
DENY_NOTHING = NetworkRuleSet("Deny", bypass="AzureServices")
DENY_SLASH8 = NetworkRuleSet("Deny", ("20.0.0.0/8",))
DENY_SLASH7 = NetworkRuleSet("Deny", ("20.0.0.0/7",))
DENY_TWO_SLASH8 = NetworkRuleSet("Deny", ("20.0.0.0/8", "40.0.0.0/8"))
DENY_HALF_INTERNET = NetworkRuleSet("Deny", ("0.0.0.0/1",))
DENY_IPV6_BROAD = NetworkRuleSet("Deny", ("2001:db8::/31",))
DENY_IPV6_NARROW = NetworkRuleSet("Deny", ("2001:db8::/48",))
DENY_BAD_RULE = NetworkRuleSet("Deny", ("not-an-ip",))
UNREADABLE = ReadError("ListStorageAccounts", "InvalidResponse", "allowBlobPublicAccess is not a boolean: 'yes'")
WEBSITE_ON = StaticWebsite(True, "index.html")
WEBSITE_OFF = StaticWebsite(False)
WEBSITE_ERROR = ReadError("GetBlobServiceProperties", "AuthorizationFailure", "HTTP 403: request not authorized")


def account(**settings: Any) -> StorageAccount:
    values: dict[str, Any] = {"allow_blob_public_access": True, "network": ALLOW}
    values.update(settings)
    return StorageAccount(subscription=SUB, id=ACCOUNT_ID, name="acct", resource_group="rg", location="westeurope",
                          kind="StorageV2", **values)


def container(level: str | ReadError = "Blob", name: str = "data", **settings: Any) -> BlobContainer:
    return BlobContainer(account(**settings), name, f"{ACCOUNT_ID}/blobServices/default/containers/{name}", level)


@dataclass(frozen=True)
class Row:
    name: str
    container: BlobContainer
    level: Level
    latent: bool = False
    read: bool = False
    list: bool = False
    first_evidence: str | None = None  # a substring of the decisive (first) evidence
    mentions: str | None = None  # a substring that some evidence must hold


ROWS = [
    # --- anonymous access: flag AND level AND network ---
    Row("Blob level, flag true, firewall Allow", container("Blob"), Level.PUBLIC, read=True,
        first_evidence="public access level Blob"),
    Row("Container level lists too", container("Container"), Level.PUBLIC, read=True, list=True,
        first_evidence="public access level Container"),
    Row("level None is private whatever else", container("None"), Level.PRIVATE),
    Row("level None with the flag unset and an open firewall", container("None", allow_blob_public_access=None),
        Level.PRIVATE),
    Row("flag unset (null) counts as allowed", container("Blob", allow_blob_public_access=None), Level.PUBLIC,
        read=True, mentions="treats an unset value as allowed"),
    Row("no network rule set lets every network in", container("Blob", network=None), Level.PUBLIC, read=True,
        mentions="no network rule set"),
    Row("publicNetworkAccess Enabled explicitly", container("Blob", public_network_access="Enabled"), Level.PUBLIC,
        read=True),
    # --- the account flag false neutralises container levels: latent ---
    Row("flag false neutralises Blob", container("Blob", allow_blob_public_access=False), Level.PRIVATE, latent=True,
        read=True, mentions="allowBlobPublicAccess is false"),
    Row("flag false neutralises Container", container("Container", allow_blob_public_access=False), Level.PRIVATE,
        latent=True, read=True, list=True),
    Row("flag false and a closed network: still latent", container(
        "Container", allow_blob_public_access=False, public_network_access="Disabled"), Level.PRIVATE, latent=True,
        read=True, list=True),
    # --- network: Allow ignores rules; Deny restricts to rules; Disabled closes ---
    Row("defaultAction Allow ignores its IP and VNet rules", container("Blob", network=ALLOW_WITH_RULES),
        Level.PUBLIC, read=True, mentions="restrict nothing then"),
    Row("Deny with IP rules restricts to them (latent, rules reported)", container("Blob", network=DENY_IP),
        Level.PRIVATE, latent=True, read=True, mentions="only IP 203.0.113.0/24, IP 198.51.100.7"),
    Row("Deny with a VNet rule restricts to the subnet", container("Container", network=DENY_VNET), Level.PRIVATE,
        latent=True, read=True, list=True, mentions="subnet vnet1/app"),
    Row("Deny with no rule closes the endpoint", container("Blob", network=DENY_NOTHING), Level.PRIVATE,
        latent=True, read=True, mentions="no IP or virtual network rule"),
    Row("publicNetworkAccess Disabled closes it even with defaultAction Allow", container(
        "Blob", public_network_access="Disabled", network=ALLOW), Level.PRIVATE, latent=True, read=True,
        mentions="publicNetworkAccess is Disabled"),
    Row("an IP rule of exactly a /8 still restricts", container("Blob", network=DENY_SLASH8), Level.PRIVATE,
        latent=True, read=True),
    Row("an IP rule broader than a /8 is the internet", container("Blob", network=DENY_SLASH7), Level.PUBLIC,
        read=True, mentions="more than a /8"),
    Row("two /8 rules together are broader than a /8", container("Blob", network=DENY_TWO_SLASH8), Level.PUBLIC,
        read=True),
    Row("0.0.0.0/1 is the internet", container("Container", network=DENY_HALF_INTERNET), Level.PUBLIC, read=True,
        list=True),
    Row("IPv6 broader than /32 is the internet", container("Blob", network=DENY_IPV6_BROAD), Level.PUBLIC,
        read=True),
    Row("narrow IPv6 restricts", container("Blob", network=DENY_IPV6_NARROW), Level.PRIVATE, latent=True, read=True),
    Row("network security perimeter: cannot tell", container("Blob", public_network_access="SecuredByPerimeter"),
        Level.UNKNOWN, mentions="network security perimeter"),
    Row("an unparsable IP rule: cannot tell", container("Blob", network=DENY_BAD_RULE), Level.UNKNOWN),
    Row("an unexpected publicNetworkAccess value: cannot tell", container("Blob", public_network_access="Maybe"),
        Level.UNKNOWN),
    # --- unreadable settings: unknown only when the verdict depends on them ---
    Row("container level unreadable", container(ReadError("ListContainers", "InvalidResponse", "x")), Level.UNKNOWN,
        first_evidence="ListContainers failed"),
    Row("flag unreadable and the internet comes in: cannot tell", container(
        "Blob", allow_blob_public_access=UNREADABLE), Level.UNKNOWN, mentions="allowBlobPublicAccess is not a boolean"),
    Row("flag unreadable but the firewall restricts: latent either way", container(
        "Blob", allow_blob_public_access=UNREADABLE, network=DENY_IP), Level.PRIVATE, latent=True, read=True),
    Row("flag unreadable, level None: private", container("None", allow_blob_public_access=UNREADABLE),
        Level.PRIVATE),
    Row("network unreadable with a grant: cannot tell", container("Blob", network=UNREADABLE), Level.UNKNOWN),
    Row("network unreadable, level None: private", container("None", network=UNREADABLE), Level.PRIVATE),
    # --- $web with static website on is public, whatever the level and the flag; the firewall still applies ---
    Row("$web served as a website despite level None and flag false", container(
        "None", "$web", allow_blob_public_access=False, static_website=WEBSITE_ON), Level.PUBLIC, read=True,
        first_evidence="static website hosting is on"),
    Row("$web website behind a restricting firewall: latent", container(
        "None", "$web", static_website=WEBSITE_ON, network=DENY_IP), Level.PRIVATE, latent=True, read=True),
    Row("$web website with public network access disabled", container(
        "None", "$web", static_website=WEBSITE_ON, public_network_access="Disabled"), Level.PRIVATE, latent=True,
        read=True),
    Row("$web with website off is an ordinary private container", container(
        "None", "$web", static_website=WEBSITE_OFF), Level.PRIVATE, mentions="static website hosting is off"),
    Row("$web with website off and Container level: the level decides", container(
        "Container", "$web", static_website=WEBSITE_OFF), Level.PUBLIC, read=True, list=True),
    Row("$web Container level plus website: both routes", container(
        "Container", "$web", static_website=WEBSITE_ON, allow_blob_public_access=True), Level.PUBLIC, read=True,
        list=True),
    Row("$web website unreadable on an open network: cannot tell", container(
        "None", "$web", static_website=WEBSITE_ERROR), Level.UNKNOWN, mentions="AuthorizationFailure"),
    # behind the firewall the website would be latent if on, plainly private if off: the latent flag depends on
    # the unreadable setting, so the verdict is unknown (never "private, not latent")
    Row("$web website unreadable behind a VNet firewall: cannot tell latent from private", container(
        "None", "$web", static_website=WEBSITE_ERROR, network=DENY_VNET), Level.UNKNOWN,
        first_evidence="AuthorizationFailure", mentions="held back by the network (latent), not public"),
    Row("$web website unreadable behind an IP firewall: cannot tell", container(
        "None", "$web", static_website=WEBSITE_ERROR, network=DENY_IP), Level.UNKNOWN, mentions="AuthorizationFailure"),
    Row("$web website unreadable, public network access disabled: cannot tell", container(
        "None", "$web", static_website=WEBSITE_ERROR, public_network_access="Disabled"), Level.UNKNOWN,
        mentions="publicNetworkAccess is Disabled"),
    Row("$web website never collected behind the firewall: cannot tell", container(
        "None", "$web", static_website=None, network=DENY_VNET), Level.UNKNOWN, mentions="NotCollected"),
    Row("$web Blob level behind the firewall is latent whether or not the website is on", container(
        "Blob", "$web", static_website=WEBSITE_ERROR, network=DENY_IP), Level.PRIVATE, latent=True, read=True,
        mentions="whether or not the website is on"),
    Row("$web Blob level held back by the flag, website unreadable, open network: cannot tell", container(
        "Blob", "$web", static_website=WEBSITE_ERROR, allow_blob_public_access=False), Level.UNKNOWN,
        mentions="AuthorizationFailure"),
    Row("$web website never collected on an open network: cannot tell", container(
        "None", "$web", static_website=None), Level.UNKNOWN, mentions="NotCollected"),
    Row("a container named like $web in spirit is not $web", container("None", "web", static_website=WEBSITE_ON),
        Level.PRIVATE),
    # --- allowSharedKeyAccess does not affect anonymous access ---
    Row("shared key access changes nothing", container("None", allow_shared_key_access=True), Level.PRIVATE),
    Row("shared key access off does not make a public container private", container(
        "Blob", allow_shared_key_access=False), Level.PUBLIC, read=True),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_container_verdict(row: Row) -> None:
    e = container_exposure(row.container)
    details = [ev.detail for ev in e.evidence]
    assert (e.level, e.latent, e.read, e.list, e.write) == (row.level, row.latent, row.read, row.list, False), details
    assert e.evidence, "every verdict carries evidence"
    if row.first_evidence:
        assert row.first_evidence in details[0], details
    if row.mentions:
        assert any(row.mentions in d for d in details), details


def test_decisive_evidence_comes_first_for_a_public_container() -> None:
    details = [e.detail for e in container_exposure(container("Container")).evidence]
    grant = next(i for i, d in enumerate(details) if "public access level Container" in d)
    flag = next(i for i, d in enumerate(details) if "allowBlobPublicAccess is true" in d)
    network = next(i for i, d in enumerate(details) if "defaultAction is Allow" in d)
    assert grant == 0 and grant < flag < network


def test_latent_names_the_guardrail() -> None:
    e = container_exposure(container("Blob", allow_blob_public_access=False))
    assert "(latent)" in " ".join(ev.detail for ev in e.evidence)


@pytest.mark.parametrize(("net", "pna", "kind"), [
    (ALLOW, None, "internet"),
    (None, None, "internet"),
    (ALLOW, "Disabled", "closed"),
    (DENY_NOTHING, None, "closed"),
    (DENY_IP, None, "restricted"),
    (DENY_VNET, "Enabled", "restricted"),
    (DENY_SLASH7, None, "internet"),
    (DENY_IP, "SecuredByPerimeter", "unknown"),
    (UNREADABLE, None, "unknown"),
    (ALLOW, UNREADABLE, "unknown"),
])
def test_network_reach(net: Any, pna: Any, kind: str) -> None:
    assert network_reach(account(network=net, public_network_access=pna)).kind == kind


def test_restricted_reach_lists_the_rules() -> None:
    reach = network_reach(account(network=NetworkRuleSet("Deny", ("203.0.113.0/24",), (SUBNET,))))
    assert reach.rules == ("203.0.113.0/24", SUBNET)


@pytest.mark.parametrize(("flag", "allowed"), [(True, True), (None, True), (False, False), (UNREADABLE, None)])
def test_blob_public_access_allowed(flag: Any, allowed: bool | None) -> None:
    assert blob_public_access_allowed(account(allow_blob_public_access=flag)) is allowed


@pytest.mark.parametrize(("c", "grant"), [
    (container("Blob"), True),
    (container("Container", allow_blob_public_access=False), True),
    (container("None"), False),
    (container(ReadError("ListContainers", "X", "y")), None),
    (container("None", "$web", static_website=WEBSITE_ON), True),
    (container("None", "$web", static_website=WEBSITE_OFF), False),
    (container("None", "$web", static_website=WEBSITE_ERROR), None),
    (container("Blob", "$web", static_website=WEBSITE_ERROR), True),
])
def test_anonymous_grant(c: BlobContainer, grant: bool | None) -> None:
    assert anonymous_grant(c) is grant


def _exposures(*pairs: tuple[str, BlobContainer]) -> list[tuple[str, Exposure]]:
    return [(name, container_exposure(c)) for name, c in pairs]


def test_account_is_public_when_a_container_is() -> None:
    acct = account()
    e = account_exposure(acct, _exposures(("open", container("Container")), ("closed", container("None"))))
    assert (e.level, e.read, e.list) == (Level.PUBLIC, True, True)
    assert "container open is public (read, list)" in e.evidence[0].detail


def test_account_is_latent_when_a_container_is() -> None:
    acct = account(allow_blob_public_access=False)
    e = account_exposure(acct, _exposures(("held", container("Blob", allow_blob_public_access=False))))
    assert (e.level, e.latent, e.read) == (Level.PRIVATE, True, True)


def test_account_is_private_with_only_private_containers() -> None:
    e = account_exposure(account(), _exposures(("a", container("None")), ("b", container("None"))))
    assert (e.level, e.latent) == (Level.PRIVATE, False)
    assert any("none of its 2 containers" in ev.detail for ev in e.evidence)


def test_incomplete_listing_makes_the_account_unknown() -> None:
    error = ReadError("ListContainers", "InternalServerError", "HTTP 500")
    acct = replace(account(), containers_error=error)
    e = account_exposure(acct, _exposures(("a", container("None"))))
    assert e.level is Level.UNKNOWN
    assert "the container listing is incomplete: ListContainers failed: InternalServerError" in e.evidence[0].detail


def test_a_known_public_container_keeps_an_incomplete_account_public() -> None:
    acct = replace(account(), containers_error=ReadError("ListContainers", "Throttled", "HTTP 429"))
    e = account_exposure(acct, _exposures(("open", container("Blob"))))
    assert e.level is Level.PUBLIC


def test_an_unknown_container_makes_the_account_unknown() -> None:
    unknown = container("Blob", public_network_access="SecuredByPerimeter")
    e = account_exposure(unknown.account, _exposures(("nsp", unknown)))
    assert e.level is Level.UNKNOWN
    assert any("container nsp could not be determined" in ev.detail for ev in e.evidence)


def test_account_without_containers_is_private() -> None:
    assert account_exposure(account(), []).level is Level.PRIVATE
