"""A small Azure Resource Manager emulator: FOR TESTS AND THE DEMO ONLY, never a stand-in for Azure.

Nothing emulates Azure's management plane (ARM) the way moto emulates AWS or Azurite emulates blob storage, so this
module serves the few read-only ARM calls the Azure collector makes, over HTTPS on 127.0.0.1 (azure-core refuses to
send a bearer token over plain HTTP), in the real API's JSON shapes (the azure-mgmt-storage and
azure-mgmt-resource-subscriptions models deserialize them; tests/emulators/test_arm.py checks that):

- ``GET /subscriptions`` and ``GET /subscriptions/{id}``
- ``GET /subscriptions/{id}/providers/Microsoft.Storage/storageAccounts`` (and per resource group, and one account)
- ``GET .../storageAccounts/{name}/blobServices[/default]``
- ``GET .../storageAccounts/{name}/blobServices/default/containers[/{container}]``

Lists are paged (``page_size``) with ``nextLink``/``$skiptoken`` like ARM. The server checks that a bearer token is
present, never what it says. Its state is seeded through the Python API (``add_subscription``, ``add_account``,
``add_container``, ...). Given an ``AzuriteServer``, each account whose name is an Azurite account gets Azurite as
its blob endpoint, and containers, blobs and the static website setting are written to Azurite too, so the
management plane and the data plane agree. Failures are injected on demand: ``deny`` (403 on a subscription),
``fail`` (any status, e.g. 500 or 429, optionally a limited number of times) and ``respond`` (any body, e.g. an
unexpected shape or a broken ``nextLink`` page), each for requests whose path and query match a pattern.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from cloudwatchdog.emulators.tls import TlsFiles

if TYPE_CHECKING:
    from cloudwatchdog.emulators.azurite import AzuriteServer

DEFAULT_TENANT = "5b1f0a8e-6c2d-4e3f-9a4b-7c8d9e0f1a2b"
STORAGE_PROVIDER = "Microsoft.Storage"
_CREATED = "2023-03-14T09:26:53.0000000Z"
_PUBLIC_ACCESS = {"none": "None", "blob": "Blob", "container": "Container"}


class ArmEmulatorError(RuntimeError):
    """The emulator was seeded inconsistently, or could not start."""


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    status: int
    body: bytes
    headers: dict[str, str]
    remaining: int | None  # None: for ever


@dataclass
class _Account:
    subscription_id: str
    resource_group: str
    name: str
    body: dict[str, Any]
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    azurite: bool = False

    @property
    def id(self) -> str:
        return self.body["id"]  # type: ignore[no-any-return]


def account_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{STORAGE_PROVIDER}"
            f"/storageAccounts/{name}")


def error_body(code: str, message: str) -> dict[str, Any]:
    """ARM's error envelope."""
    return {"error": {"code": code, "message": message}}


class ArmEmulator:
    """``with ArmEmulator(tls, azurite=azurite) as arm: arm.add_subscription(...) ... arm.endpoint``"""

    def __init__(self, tls: TlsFiles, *, azurite: AzuriteServer | None = None, port: int = 0,
                 page_size: int = 100) -> None:
        self.tls = tls
        self.azurite = azurite
        self.page_size = page_size
        self._port = port
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._listed: set[str] = set()
        self._accounts: dict[str, _Account] = {}  # by name (storage account names are globally unique)
        self._faults: list[_Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path?query) of every request, in order

    # --- life cycle ---

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise ArmEmulatorError("the ARM emulator is not running")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ArmEmulator:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        server.daemon_threads = True
        server.socket = self.tls.server_context().wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="arm-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ArmEmulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every subscription, account, container and fault (Azurite is reset separately)."""
        with self._lock:
            self._subscriptions.clear()
            self._listed.clear()
            self._accounts.clear()
            self._faults.clear()
            self.requests.clear()
            self.page_size = 100

    # --- seeding ---

    def add_subscription(self, subscription_id: str, display_name: str, *, tenant_id: str = DEFAULT_TENANT,
                         state: str = "Enabled", listed: bool = True) -> dict[str, Any]:
        """A subscription; ``listed=False`` keeps it out of ``GET /subscriptions`` (the credential cannot see it)
        while ``GET /subscriptions/{id}`` still answers."""
        body = {
            "id": f"/subscriptions/{subscription_id}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": subscription_id,
            "tenantId": tenant_id,
            "displayName": display_name,
            "state": state,
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }
        with self._lock:
            self._subscriptions[subscription_id] = body
            if listed:
                self._listed.add(subscription_id)
        return body

    def add_account(
        self,
        subscription_id: str,
        name: str,
        *,
        resource_group: str = "rg-storage",
        location: str = "westeurope",
        kind: str = "StorageV2",
        sku: str = "Standard_LRS",
        tags: Mapping[str, str] | None = None,
        allow_blob_public_access: bool | None = False,
        allow_shared_key_access: bool | None = None,
        public_network_access: str | None = None,
        default_action: str | None = "Allow",
        ip_rules: Iterable[str] = (),
        virtual_network_rules: Iterable[str] = (),
        bypass: str = "AzureServices",
        minimum_tls_version: str | None = "TLS1_2",
        https_only: bool = True,
        extra_properties: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A storage account. ``None`` leaves a setting unset (absent from the JSON, as ARM returns settings that
        were never set); ``default_action=None`` leaves out the whole network rule set. When an Azurite server is
        attached and ``name`` is one of its accounts, the blob endpoint is Azurite's."""
        with self._lock:
            if subscription_id not in self._subscriptions:
                raise ArmEmulatorError(f"add_subscription({subscription_id!r}) first")
            if name in self._accounts:
                raise ArmEmulatorError(f"storage account {name!r} exists already (names are global)")
        backed = self.azurite is not None and name in self.azurite.accounts
        blob = f"{self.azurite.account_url(name)}/" if backed and self.azurite else f"https://{name}.blob.core.windows.net/"
        properties: dict[str, Any] = {
            "keyCreationTime": {"key1": _CREATED, "key2": _CREATED},
            "privateEndpointConnections": [],
            "minimumTlsVersion": minimum_tls_version,
            "allowBlobPublicAccess": allow_blob_public_access,
            "allowSharedKeyAccess": allow_shared_key_access,
            "publicNetworkAccess": public_network_access,
            "supportsHttpsTrafficOnly": https_only,
            "encryption": {
                "services": {
                    "file": {"keyType": "Account", "enabled": True, "lastEnabledTime": _CREATED},
                    "blob": {"keyType": "Account", "enabled": True, "lastEnabledTime": _CREATED},
                },
                "keySource": "Microsoft.Storage",
            },
            "accessTier": "Hot",
            "provisioningState": "Succeeded",
            "creationTime": _CREATED,
            "primaryEndpoints": {
                "dfs": f"https://{name}.dfs.core.windows.net/",
                "web": f"https://{name}.z6.web.core.windows.net/",
                "blob": blob,
                "queue": f"https://{name}.queue.core.windows.net/",
                "table": f"https://{name}.table.core.windows.net/",
                "file": f"https://{name}.file.core.windows.net/",
            },
            "primaryLocation": location,
            "statusOfPrimary": "available",
        }
        if default_action is not None:
            properties["networkAcls"] = {
                "bypass": bypass,
                "virtualNetworkRules": [
                    {"id": v, "action": "Allow", "state": "Succeeded"} for v in virtual_network_rules
                ],
                "ipRules": [{"value": ip, "action": "Allow"} for ip in ip_rules],
                "defaultAction": default_action,
            }
        properties = {k: v for k, v in properties.items() if v is not None}
        properties.update(extra_properties or {})
        body = {
            "sku": {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"},
            "kind": kind,
            "id": account_id(subscription_id, resource_group, name),
            "name": name,
            "type": f"{STORAGE_PROVIDER}/storageAccounts",
            "location": location,
            "tags": dict(tags or {}),
            "properties": properties,
        }
        with self._lock:
            self._accounts[name] = _Account(subscription_id, resource_group, name, body, azurite=backed)
        return body

    def add_container(self, account: str, name: str, public_access: str = "None",
                      blobs: Mapping[str, bytes] | None = None) -> dict[str, Any]:
        """A blob container with its public access level (None, Blob or Container); in Azurite too, with
        ``blobs``, when the account is backed by it."""
        level = _PUBLIC_ACCESS.get(public_access.lower())
        if level is None:
            raise ArmEmulatorError(f"public access level must be None, Blob or Container, not {public_access!r}")
        state = self._account(account)
        body = {
            "id": f"{state.id}/blobServices/default/containers/{name}",
            "name": name,
            "type": f"{STORAGE_PROVIDER}/storageAccounts/blobServices/containers",
            "etag": f'"0x8DC{hashlib.sha256(f"{account}/{name}".encode()).hexdigest()[:12].upper()}"',
            "properties": {
                "immutableStorageWithVersioning": {"enabled": False},
                "deleted": False,
                "remainingRetentionDays": 0,
                "defaultEncryptionScope": "$account-encryption-key",
                "denyEncryptionScopeOverride": False,
                "publicAccess": level,
                "leaseStatus": "Unlocked",
                "leaseState": "Available",
                "lastModifiedTime": "2024-05-02T08:15:00.0000000Z",
                "hasImmutabilityPolicy": False,
                "hasLegalHold": False,
            },
        }
        if state.azurite and self.azurite is not None:
            client = self.azurite.service_client(account)
            container = client.create_container(name, public_access=None if level == "None" else level.lower())
            for blob_name, data in sorted((blobs or {}).items()):
                container.upload_blob(blob_name, data, overwrite=True)
        elif blobs:
            raise ArmEmulatorError(f"account {account!r} has no Azurite data plane to hold blobs")
        with self._lock:
            state.containers[name] = body
        return body

    def remove_container(self, account: str, name: str) -> None:
        """Delete a container from the management plane (an account without Azurite behind it)."""
        state = self._account(account)
        with self._lock:
            state.containers.pop(name, None)

    def set_static_website(self, account: str, *, enabled: bool = True, index_document: str | None = "index.html",
                           error_document: str | None = "404.html") -> None:
        """Static website hosting is a data-plane setting (Get Blob Service Properties): written to Azurite."""
        state = self._account(account)
        if not state.azurite or self.azurite is None:
            raise ArmEmulatorError(f"account {account!r} has no Azurite data plane for its static website")
        from azure.storage.blob import StaticWebsite

        self.azurite.service_client(account).set_service_properties(
            static_website=StaticWebsite(enabled=enabled, index_document=index_document,
                                         error_document404_path=error_document)
        )

    def account_body(self, account: str) -> dict[str, Any]:
        return self._account(account).body

    def _account(self, name: str) -> _Account:
        with self._lock:
            state = self._accounts.get(name)
        if state is None:
            raise ArmEmulatorError(f"no storage account {name!r}; add_account first")
        return state

    # --- failures on demand ---

    def deny(self, subscription_id: str) -> None:
        """The credential has no role on the subscription: 403 AuthorizationFailed for everything under it."""
        self.fail(
            rf"^/subscriptions/{re.escape(subscription_id)}(/|\?|$)",
            status=403,
            code="AuthorizationFailed",
            message=(
                "The client 'c0ffee00-0000-4000-8000-000000000000' with object id "
                "'c0ffee00-0000-4000-8000-000000000000' does not have authorization to perform action "
                f"'Microsoft.Storage/storageAccounts/read' over scope '/subscriptions/{subscription_id}' or the "
                "scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        )

    def fail(self, pattern: str, *, status: int = 500, code: str = "InternalServerError",
             message: str = "Encountered internal server error. Diagnostic information: timestamp '20240502T081500Z'.",
             times: int | None = None, retry_after: int | None = None) -> None:
        """Answer requests whose ``path?query`` matches ``pattern`` (a regex, searched) with an ARM error."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.respond(pattern, error_body(code, message), status=status, times=times, headers=headers)

    def respond(self, pattern: str, body: Any, *, status: int = 200, times: int | None = None,
                headers: Mapping[str, str] | None = None) -> None:
        """Answer requests whose ``path?query`` matches ``pattern`` with ``body``: JSON-able values are sent as
        JSON, ``bytes``/``str`` as they are (for unexpected shapes and broken pages)."""
        raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        with self._lock:
            self._faults.append(_Fault(re.compile(pattern), status, raw, dict(headers or {}), times))

    def hits(self, pattern: str) -> int:
        """How many requests so far matched ``pattern``."""
        regex = re.compile(pattern)
        with self._lock:
            return sum(1 for _, target in self.requests if regex.search(target))

    # --- serving ---

    def handle(self, method: str, target: str, authorization: str | None) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers) for one request."""
        with self._lock:
            self.requests.append((method, target))
            if not authorization or not authorization.startswith("Bearer ") or len(authorization) < 10:
                return _json(401, error_body("AuthenticationFailed",
                                             "Authentication failed. The 'Authorization' header is missing."))
            for fault in self._faults:
                if fault.remaining != 0 and fault.pattern.search(target):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault.status, fault.body, {"Content-Type": "application/json; charset=utf-8",
                                                      **fault.headers}
            if method != "GET":
                return _json(405, error_body("MethodNotAllowed", "The emulator serves read-only GET requests."))
            parts = urlsplit(target)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return self._route(parts.path, query)

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        segments = [s for s in path.split("/") if s]
        low = [s.lower() for s in segments]
        if low == ["subscriptions"]:
            return self._page(path, query, [self._subscriptions[s] for s in sorted(self._listed)])
        if len(low) < 2 or low[0] != "subscriptions":
            return _json(404, error_body("NotFound", f"No route for {path}."))
        sub = segments[1]
        if sub not in self._subscriptions:
            return _json(404, error_body("SubscriptionNotFound", f"The subscription '{sub}' could not be found."))
        rest, rest_low = segments[2:], low[2:]
        if not rest:
            return _json(200, self._subscriptions[sub])
        accounts = [a for a in self._accounts.values() if a.subscription_id == sub]
        if rest_low == ["providers", "microsoft.storage", "storageaccounts"]:
            return self._page(path, query, [a.body for a in sorted(accounts, key=lambda a: a.name)])
        if len(rest_low) >= 5 and rest_low[0] == "resourcegroups" and rest_low[2:5] == [
            "providers", "microsoft.storage", "storageaccounts"
        ]:
            group = rest_low[1]
            in_group = sorted((a for a in accounts if a.resource_group.lower() == group), key=lambda a: a.name)
            if len(rest) == 5:
                return self._page(path, query, [a.body for a in in_group])
            name = rest[5]
            account = next((a for a in in_group if a.name == name), None)
            if account is None:
                return _json(404, error_body(
                    "ResourceNotFound",
                    f"The Resource '{STORAGE_PROVIDER}/storageAccounts/{name}' under resource group "
                    f"'{rest[1]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                ))
            return self._account_route(account, path, rest[6:], query)
        return _json(404, error_body("InvalidResourceType", f"The resource type could not be found for {path}."))

    def _account_route(self, account: _Account, path: str, rest: list[str],
                       query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        low = [s.lower() for s in rest]
        if not rest:
            return _json(200, account.body)
        service = {
            "id": f"{account.id}/blobServices/default",
            "name": "default",
            "type": f"{STORAGE_PROVIDER}/storageAccounts/blobServices",
            "sku": account.body["sku"],
            "properties": {"cors": {"corsRules": []},
                           "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}},
        }
        if low == ["blobservices"]:
            return _json(200, {"value": [service]})
        if low == ["blobservices", "default"]:
            return _json(200, service)
        if low == ["blobservices", "default", "containers"]:
            return self._page(path, query, [account.containers[c] for c in sorted(account.containers)])
        if len(low) == 4 and low[:3] == ["blobservices", "default", "containers"]:
            container = account.containers.get(rest[3])
            if container is None:
                return _json(404, error_body("ContainerNotFound", "The specified container does not exist."))
            return _json(200, container)
        return _json(404, error_body("InvalidResourceType", f"The resource type could not be found for {path}."))

    def _page(self, path: str, query: dict[str, str], items: list[dict[str, Any]]) -> tuple[int, bytes, dict[str, str]]:
        try:
            start = int(query.get("$skiptoken", "0"))
        except ValueError:
            return _json(400, error_body("InvalidSkipToken", "The $skiptoken is not valid."))
        end = start + self.page_size
        body: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            version = query.get("api-version", "")
            body["nextLink"] = f"{self.endpoint}{path}?api-version={version}&$skiptoken={end}"
        return _json(200, body)


def _json(status: int, body: Any) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"}


def _handler_for(emulator: ArmEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, body, headers = emulator.handle(self.command, self.path, self.headers.get("Authorization"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("x-ms-request-id", "00000000-0000-4000-8000-000000000000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


__all__ = ["DEFAULT_TENANT", "ArmEmulator", "ArmEmulatorError", "account_id", "error_body"]
