"""The test-only ARM emulator (cloudwatchdog/emulators/arm.py; nothing else emulates Azure Resource Manager): the real
azure-mgmt-storage and azure-mgmt-resource-subscriptions clients read its answers into their models (so its JSON has
the real API's shapes), it pages like ARM, refuses requests without a bearer token, fails on demand, and keeps
Azurite's data plane in step with what it reports."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import (
    DecodeError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient
from support.azure import SUB_A, SUB_B, AzureEmulators

from cloudwatchdog.emulators.arm import ArmEmulatorError
from cloudwatchdog.providers.azure.session import EmulatorCredential

SUBNET = f"/subscriptions/{SUB_A}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/app"


def _kwargs(azure: AzureEmulators, **extra: Any) -> dict[str, Any]:
    return {"base_url": azure.arm.endpoint, "connection_verify": str(azure.tls.ca_file),
            "credential_scopes": [f"{azure.arm.endpoint}/.default"], "retry_total": 0, **extra}


def _storage(azure: AzureEmulators, sub: str = SUB_A, **extra: Any) -> StorageManagementClient:
    return StorageManagementClient(EmulatorCredential(), sub, **_kwargs(azure, **extra))


def test_subscriptions_list_and_get(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_subscription(SUB_B, "Hidden", listed=False, state="Disabled")
    client = SubscriptionClient(EmulatorCredential(), **_kwargs(azure))
    listed: list[Any] = list(client.subscriptions.list())
    assert [(s.subscription_id, s.display_name, s.state) for s in listed] == [(SUB_A, "Velora Production", "Enabled")]
    assert listed[0].tenant_id and listed[0].subscription_policies.spending_limit == "Off"
    assert client.subscriptions.get(SUB_B).state == "Disabled"
    with pytest.raises(ResourceNotFoundError):
        client.subscriptions.get("99999999-9999-4999-8999-999999999999")


def test_storage_accounts_deserialize_into_the_sdk_models(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_account(SUB_A, "cwdtest1", resource_group="rg-web", allow_blob_public_access=True,
                          allow_shared_key_access=False, public_network_access="Enabled", default_action="Deny",
                          ip_rules=["203.0.113.0/24"], virtual_network_rules=[SUBNET], tags={"team": "web"})
    azure.arm.add_account(SUB_A, "cwdtest2", resource_group="rg-data", allow_blob_public_access=None,
                          default_action=None)
    client = _storage(azure)
    accounts = {a.name: a for a in client.storage_accounts.list()}
    web: Any = accounts["cwdtest1"]
    assert web.id.endswith("/resourceGroups/rg-web/providers/Microsoft.Storage/storageAccounts/cwdtest1")
    assert (web.location, web.kind, web.sku.name, web.tags) == ("westeurope", "StorageV2", "Standard_LRS",
                                                                {"team": "web"})
    props = web.properties
    assert (props.allow_blob_public_access, props.allow_shared_key_access, props.public_network_access) == (
        True, False, "Enabled")
    assert props.minimum_tls_version == "TLS1_2" and props.enable_https_traffic_only is True
    rules = props.network_rule_set
    assert (rules.default_action, rules.bypass) == ("Deny", "AzureServices")
    assert [r.ip_address_or_range for r in rules.ip_rules] == ["203.0.113.0/24"]
    assert [r.virtual_network_resource_id for r in rules.virtual_network_rules] == [SUBNET]
    assert props.primary_endpoints.blob == f"{azure.azurite.account_url('cwdtest1')}/"
    unset: Any = accounts["cwdtest2"].properties
    assert unset.allow_blob_public_access is None and unset.network_rule_set is None
    assert [a.name for a in client.storage_accounts.list_by_resource_group("rg-data")] == ["cwdtest2"]
    got: Any = client.storage_accounts.get_properties("rg-web", "cwdtest1")
    assert got.properties.allow_blob_public_access is True
    with pytest.raises(ResourceNotFoundError):
        client.storage_accounts.get_properties("rg-web", "cwdtest2")


def test_containers_and_blob_service(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_account(SUB_A, "cwdtest1", resource_group="rg-web", allow_blob_public_access=True)
    for name, level in (("brochures", "Container"), ("images", "Blob"), ("private", "None")):
        azure.arm.add_container("cwdtest1", name, level)
    client = _storage(azure)
    containers: dict[Any, Any] = {c.name: c for c in client.blob_containers.list("rg-web", "cwdtest1")}
    assert {n: c.properties.public_access for n, c in containers.items()} == {
        "brochures": "Container", "images": "Blob", "private": "None"}
    assert containers["images"].id.endswith("/storageAccounts/cwdtest1/blobServices/default/containers/images")
    assert client.blob_containers.get("rg-web", "cwdtest1", "brochures").public_access == "Container"
    service: Any = client.blob_services.get_service_properties("rg-web", "cwdtest1")
    assert service.name == "default" and service.cors.cors_rules == [] and service.sku.name == "Standard_LRS"


def test_the_data_plane_agrees_with_the_management_plane(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_account(SUB_A, "cwdtest2")
    azure.arm.add_container("cwdtest2", "docs", "Blob", blobs={"a.pdf": b"%PDF"})
    azure.arm.add_container("cwdtest2", "$web", blobs={"index.html": b"<html>"})
    azure.arm.set_static_website("cwdtest2", index_document="index.html")
    data = azure.azurite.service_client("cwdtest2")
    assert {c.name: c.public_access for c in data.list_containers()} == {"$web": None, "docs": "blob"}
    assert data.get_container_client("docs").download_blob("a.pdf").readall() == b"%PDF"
    website = data.get_service_properties()["static_website"]
    assert (website.enabled, website.index_document) == (True, "index.html")


def test_lists_are_paged_with_next_links(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_account(SUB_A, "cwdtest1")
    for i in range(5):
        azure.arm.add_container("cwdtest1", f"cont{i}")
    azure.arm.page_size = 2
    names = [c.name for c in _storage(azure).blob_containers.list("rg-storage", "cwdtest1")]
    assert names == ["cont0", "cont1", "cont2", "cont3", "cont4"]
    assert azure.arm.hits(r"/containers\?") == 3 and azure.arm.hits(r"\$skiptoken=4") == 1


def test_requests_without_a_bearer_token_are_refused(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    url = f"{azure.arm.endpoint}/subscriptions?api-version=2022-12-01"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=10, context=azure.tls.client_context())
    assert err.value.code == 401
    assert json.loads(err.value.read())["error"]["code"] == "AuthenticationFailed"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer eyJ0eXAi.e30."})
    with urllib.request.urlopen(request, timeout=10, context=azure.tls.client_context()) as response:
        assert json.loads(response.read())["value"][0]["subscriptionId"] == SUB_A


def test_clients_that_do_not_trust_the_session_ca_cannot_connect(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    client = SubscriptionClient(EmulatorCredential(), base_url=azure.arm.endpoint, retry_total=0)
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        list(client.subscriptions.list())


def test_deny_answers_403_for_the_whole_subscription(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_subscription(SUB_B, "Velora Data")
    azure.arm.deny(SUB_B)
    with pytest.raises(HttpResponseError) as err:
        list(_storage(azure, SUB_B).storage_accounts.list())
    error: Any = err.value.error
    assert err.value.status_code == 403 and error.code == "AuthorizationFailed"
    assert list(_storage(azure, SUB_A).storage_accounts.list()) == []


def test_faults_can_be_limited_and_clients_retry_through_them(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.fail(r"/storageAccounts\?", status=503, code="ServerBusy", times=1, retry_after=0)
    client = _storage(azure, retry_total=1, retry_backoff_factor=0)
    assert list(client.storage_accounts.list()) == []
    assert azure.arm.hits(r"/storageAccounts\?") == 2


def test_respond_serves_any_body(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.respond(r"/storageAccounts\?", b"<html>gateway timeout page</html>")
    with pytest.raises(DecodeError):
        list(_storage(azure).storage_accounts.list())
    azure.arm.respond(r"/subscriptions\?", {"value": "not a list"}, status=200, times=1)
    request = urllib.request.Request(f"{azure.arm.endpoint}/subscriptions?api-version=2022-12-01",
                                     headers={"Authorization": "Bearer eyJ0eXAi.e30."})
    with urllib.request.urlopen(request, timeout=10, context=azure.tls.client_context()) as response:
        assert json.loads(response.read()) == {"value": "not a list"}
    with urllib.request.urlopen(request, timeout=10, context=azure.tls.client_context()) as response:
        assert json.loads(response.read())["value"][0]["subscriptionId"] == SUB_A  # times=1 is used up


def test_seeding_mistakes_are_refused(azure: AzureEmulators) -> None:
    with pytest.raises(ArmEmulatorError, match="add_subscription"):
        azure.arm.add_account(SUB_A, "cwdtest1")
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_account(SUB_A, "cwdtest1")
    with pytest.raises(ArmEmulatorError, match="exists already"):
        azure.arm.add_account(SUB_A, "cwdtest1")
    with pytest.raises(ArmEmulatorError, match="None, Blob or Container"):
        azure.arm.add_container("cwdtest1", "x", "Public")
    with pytest.raises(ArmEmulatorError, match="add_account first"):
        azure.arm.add_container("nosuchaccount", "x")
    azure.arm.add_account(SUB_A, "notinazurite")
    with pytest.raises(ArmEmulatorError, match="no Azurite data plane"):
        azure.arm.set_static_website("notinazurite")
    assert azure.arm.account_body("notinazurite")["properties"]["primaryEndpoints"]["blob"] == (
        "https://notinazurite.blob.core.windows.net/")
