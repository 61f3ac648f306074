"""The Azure collector against the emulators (Azurite for the blob data plane; the test-only ARM emulator for the
management plane, which nothing else emulates), through the real azure-mgmt-storage,
azure-mgmt-resource-subscriptions and azure-storage-blob clients over HTTPS on 127.0.0.1: what it records, and how it
records failures instead of raising them."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import SUB_A, SUB_B, AzureEmulators

from cloudwatchdog.model import CoverageStatus, Level
from cloudwatchdog.providers.azure.collect import collect_azure
from cloudwatchdog.providers.azure.inventory import analyse_snapshot
from cloudwatchdog.providers.azure.session import EmulatorCredential

SUB_C = "9f8e7d6c-5b4a-4392-8a1b-0c9d8e7f6a5b"


def _seed(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_subscription(SUB_B, "Velora Data")
    azure.arm.add_account(SUB_A, "cwdtest1", resource_group="rg-web", allow_blob_public_access=True)
    azure.arm.add_container("cwdtest1", "brochures", "Container", blobs={"c3.pdf": b"%PDF"})
    azure.arm.add_container("cwdtest1", "$web", blobs={"index.html": b"<html>"})
    azure.arm.set_static_website("cwdtest1")
    azure.arm.add_account(SUB_A, "cwdtest2", resource_group="rg-data", default_action="Deny",
                          ip_rules=["203.0.113.0/24"])
    azure.arm.add_container("cwdtest2", "private")
    azure.arm.add_account(SUB_B, "cwdtest3", resource_group="rg-ml")


def _by_sub(snapshots: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["account"]: s for s in snapshots}


def _account(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in snapshot["storage_accounts"] if a["name"] == name)


def test_discovers_subscriptions_and_records_every_call(azure: AzureEmulators) -> None:
    _seed(azure)
    seen: list[tuple[str, int]] = []
    snapshots = _by_sub(collect_azure(azure.provider(), progress=lambda label, n: seen.append((label, n))))
    assert set(snapshots) == {SUB_A, SUB_B}
    prod = snapshots[SUB_A]
    assert (prod["provider"], prod["name"], prod["status"], prod["error"], prod["via"]) == (
        "azure", "Velora Production", "ok", None, "discovered")
    assert prod["schema_version"] == 1 and prod["credential"] == "emulator"
    listed = prod["calls"]["ListStorageAccounts"]["ok"]["value"]
    assert sorted(a["name"] for a in listed) == ["cwdtest1", "cwdtest2"]
    assert next(a for a in listed if a["name"] == "cwdtest1")["properties"]["allowBlobPublicAccess"] is True
    web = _account(prod, "cwdtest1")["calls"]
    assert sorted(c["name"] for c in web["ListContainers"]["ok"]["value"]) == ["$web", "brochures"]
    assert web["GetBlobServiceProperties"]["ok"]["StaticWebsite"]["Enabled"] is True
    assert _account(prod, "cwdtest2")["calls"]["GetBlobServiceProperties"] == {"absent": "NoWebContainer"}
    # The subscription listing (charged to the first subscription), one storage-account listing, two container
    # listings, one data-plane read.
    assert prod["api_calls"] == 5 and snapshots[SUB_B]["api_calls"] == 2
    assert (SUB_A, 0) in seen and (f"{SUB_A}/cwdtest1", 1) in seen and (f"{SUB_B}/cwdtest3", 1) in seen


def test_configured_subscriptions_are_read_by_id(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.add_subscription(SUB_C, "Velora Unlisted", listed=False)
    snapshots = collect_azure(azure.provider(subscriptions=[SUB_C, SUB_A.upper()]))
    assert [s["account"] for s in snapshots] == [SUB_C, SUB_A]
    assert snapshots[0]["via"] == "configured" and snapshots[0]["name"] == "Velora Unlisted"
    assert snapshots[0]["calls"]["GetSubscription"]["ok"]["subscriptionId"] == SUB_C
    assert azure.arm.hits(r"^/subscriptions\?") == 0


def test_discovery_skips_excluded_and_disabled_subscriptions(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.add_subscription(SUB_C, "Velora Cancelled", state="Disabled")
    snapshots = collect_azure(azure.provider(exclude_subscriptions=[SUB_B]))
    assert [s["account"] for s in snapshots] == [SUB_A]


def test_a_denied_subscription_is_an_error_snapshot_and_the_rest_completes(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.deny(SUB_B)
    snapshots = _by_sub(collect_azure(azure.provider()))
    assert snapshots[SUB_B]["status"] == "error"
    assert "cannot list storage accounts: AuthorizationFailed: HTTP 403" in snapshots[SUB_B]["error"]
    assert snapshots[SUB_A]["status"] == "ok" and len(snapshots[SUB_A]["storage_accounts"]) == 2


def test_a_container_listing_that_fails_half_way_keeps_its_first_pages(azure: AzureEmulators) -> None:
    _seed(azure)
    for name in ("alpha", "bravo", "charlie", "delta"):
        azure.arm.add_container("cwdtest2", name)
    azure.arm.page_size = 2
    azure.arm.fail(r"cwdtest2/blobServices/default/containers\?.*\$skiptoken=2", status=500)
    snapshot = _by_sub(collect_azure(azure.provider()))[SUB_A]
    listing = _account(snapshot, "cwdtest2")["calls"]["ListContainers"]
    assert listing["error"]["code"] == "InternalServerError" and "HTTP 500" in listing["error"]["message"]
    assert [c["name"] for c in listing["partial"]] == ["alpha", "bravo"]
    # The other account is complete, and its $web still gets its static website read.
    assert _account(snapshot, "cwdtest1")["calls"]["ListContainers"]["ok"]["value"]
    # A listing that stopped half-way may hide a $web container: its static website is read anyway.
    assert "ok" in _account(snapshot, "cwdtest2")["calls"]["GetBlobServiceProperties"]


def test_throttling_is_retried(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.fail(r"cwdtest1/blobServices/default/containers\?", status=429, code="TooManyRequests", times=1,
                   retry_after=0)
    snapshot = _by_sub(collect_azure(azure.provider(max_attempts=2)))[SUB_A]
    assert "ok" in _account(snapshot, "cwdtest1")["calls"]["ListContainers"]
    assert snapshot["api_calls"] == 6  # the retry is counted


def test_throttling_past_the_retries_is_an_error(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.fail(r"cwdtest1/blobServices/default/containers\?", status=429, code="TooManyRequests", retry_after=0)
    snapshot = _by_sub(collect_azure(azure.provider(max_attempts=2)))[SUB_A]
    error = _account(snapshot, "cwdtest1")["calls"]["ListContainers"]["error"]
    assert error["code"] == "TooManyRequests"
    assert azure.arm.hits(r"cwdtest1/blobServices/default/containers\?") == 2


@pytest.mark.parametrize(("body", "message"), [
    ({"value": "not a list"}, "no value list"),
    ({"values": []}, "no value list"),
    ({"value": [7]}, "not an object"),
    ("<html>busy</html>", "not JSON"),
])
def test_a_listing_page_of_an_unexpected_shape_is_an_error_not_an_empty_list(
        azure: AzureEmulators, body: Any, message: str) -> None:
    _seed(azure)
    azure.arm.respond(rf"/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts\?", body)
    snapshot = _by_sub(collect_azure(azure.provider()))[SUB_A]
    assert snapshot["status"] == "error"
    assert "InvalidResponse" in snapshot["error"] and message in snapshot["error"]


def test_a_subscription_listing_of_an_unexpected_shape_fails_discovery_loudly(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.respond(r"^/subscriptions\?", {"value": "not a list"})
    (snapshot,) = collect_azure(azure.provider())
    assert (snapshot["account"], snapshot["status"]) == ("unknown", "error")
    assert "cannot list subscriptions: InvalidResponse" in snapshot["error"]


def test_a_repeating_next_link_stops_with_an_error(azure: AzureEmulators) -> None:
    _seed(azure)
    loop = (f"{azure.arm.endpoint}/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Storage/"
            "storageAccounts/cwdtest2/blobServices/default/containers?$skiptoken=loop")
    azure.arm.respond(r"cwdtest2/blobServices/default/containers\?",
                      {"value": [{"name": "again", "properties": {"publicAccess": "None"}}], "nextLink": loop})
    snapshot = _by_sub(collect_azure(azure.provider()))[SUB_A]
    listing = _account(snapshot, "cwdtest2")["calls"]["ListContainers"]
    assert listing["error"]["code"] == "PagingError" and "repeats its nextLink" in listing["error"]["message"]


def test_the_emulator_credential_is_never_sent_away_from_loopback(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.add_account(SUB_B, "notinazurite")  # its blob endpoint is https://notinazurite.blob.core.windows.net/
    azure.arm.add_container("notinazurite", "$web")
    away = "https://management.example.invalid/next?$skiptoken=2"
    azure.arm.respond(r"cwdtest3/blobServices/default/containers\?",
                      {"value": [{"name": "first", "properties": {"publicAccess": "None"}}], "nextLink": away})
    snapshot = _by_sub(collect_azure(azure.provider()))[SUB_B]
    website = _account(snapshot, "notinazurite")["calls"]["GetBlobServiceProperties"]
    assert website["error"]["code"] == "EmulatorOnly"
    listing = _account(snapshot, "cwdtest3")["calls"]["ListContainers"]
    assert listing["error"]["code"] == "EmulatorOnlyError" and "not a loopback address" in listing["error"]["message"]
    assert [c["name"] for c in listing["partial"]] == ["first"]


def test_the_ca_bundle_can_come_from_requests_ca_bundle(azure: AzureEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(azure)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azure.tls.ca_file))
    snapshots = _by_sub(collect_azure(azure.provider(ca_bundle=None)))
    assert snapshots[SUB_A]["status"] == "ok"
    assert "ok" in _account(snapshots[SUB_A], "cwdtest1")["calls"]["GetBlobServiceProperties"]


def test_an_untrusted_certificate_is_an_error_snapshot_not_an_exception(
        azure: AzureEmulators, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(azure)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    (snapshot,) = collect_azure(azure.provider(ca_bundle=None))
    assert snapshot["status"] == "error" and "CERTIFICATE_VERIFY_FAILED" in snapshot["error"]


def test_an_unreachable_endpoint_is_an_error_snapshot(azure: AzureEmulators) -> None:
    cfg = azure.provider(arm_endpoint="https://127.0.0.1:9", subscriptions=[SUB_A])
    (snapshot,) = collect_azure(cfg)
    assert snapshot["status"] == "error" and snapshot["account"] == SUB_A
    assert snapshot["calls"]["GetSubscription"]["error"]["code"] == "ServiceRequestError"


def test_a_given_credential_is_used_and_not_closed(azure: AzureEmulators) -> None:
    _seed(azure)

    class Counting(EmulatorCredential):
        tokens = 0
        closed = False

        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            Counting.tokens += 1
            return super().get_token(*scopes, **kwargs)

        def close(self) -> None:
            Counting.closed = True

    collect_azure(azure.provider(), credential=Counting())
    assert Counting.tokens > 0 and not Counting.closed


def test_accounts_without_a_blob_service_have_no_containers_to_list(azure: AzureEmulators) -> None:
    _seed(azure)
    azure.arm.add_account(SUB_B, "cwdtest5", kind="FileStorage", sku="Premium_LRS")
    azure.arm.add_account(SUB_B, "cwdtest6")
    azure.arm.fail(r"cwdtest6/blobServices/default/containers\?", status=400, code="FeatureNotSupportedForAccount",
                   message="Blob is not supported for the account.")
    snapshot = _by_sub(collect_azure(azure.provider()))[SUB_B]
    assert _account(snapshot, "cwdtest5")["calls"]["ListContainers"] == {"absent": "NoBlobService"}
    assert _account(snapshot, "cwdtest6")["calls"]["ListContainers"] == {"absent": "FeatureNotSupportedForAccount"}
    assert azure.arm.hits(r"cwdtest5/blobServices") == 0
    resources, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.OK
    assert {r.name: r.exposure.level for r in resources if r.type == "azure.storage.account"} == {
        "cwdtest3": Level.PRIVATE, "cwdtest5": Level.PRIVATE, "cwdtest6": Level.PRIVATE}


def test_a_credential_that_sees_no_subscription_says_so(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production", listed=False)
    (snapshot,) = collect_azure(azure.provider())
    assert (snapshot["account"], snapshot["status"]) == ("unknown", "error")
    assert "can list no subscription" in snapshot["error"] and snapshot["api_calls"] == 1


def test_an_html_error_page_and_an_unreachable_endpoint_are_one_short_line(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Production")
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "<p>upstream</p>\n" * 2000 + "</body></html>"
    azure.arm.respond(rf"/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts", page, status=502)
    (snapshot,) = collect_azure(azure.provider(subscriptions=[SUB_A], max_attempts=1))
    assert snapshot["status"] == "error" and "<" not in snapshot["error"] and len(snapshot["error"]) < 200
    (snapshot,) = collect_azure(azure.provider(arm_endpoint="https://127.0.0.1:9", subscriptions=[SUB_A]))
    assert snapshot["error"] == ("cannot list storage accounts: ServiceRequestError: cannot reach 127.0.0.1:9: "
                                 "Connection refused (a network problem, not a credentials one)")
