"""Azure collector: reads the storage settings exposure analysis needs, one raw snapshot per subscription.

Management plane (Azure Resource Manager, read with the Reader role): the subscription, its storage accounts (the
listing carries every account setting: allowBlobPublicAccess, publicNetworkAccess, the network rule set,
allowSharedKeyAccess, minimumTlsVersion, ...) and each account's blob containers with their public access level.
Data plane: the static website setting (Get Blob Service Properties on the account's blob endpoint; Reader's
``Microsoft.Storage/storageAccounts/blobServices/read`` authorises it), read only for accounts that have a ``$web``
container, since without one no website is served.

Each call's result is one of::

    {"ok": <response payload, the REST API's JSON>}
    {"absent": "<code>"}                                  not configured / not needed (no $web container)
    {"error": {"operation", "code", "message"}, "partial": [<items read before a listing failed>]}

Nothing here raises for a cloud-side problem. Snapshot shape, schema_version 1::

    {"schema_version": 1, "provider": "azure", "account": "<subscription id>", "name": "<display name>" | null,
     "tenant_id": ..., "state": "Enabled" | ..., "via": "configured" | "discovered", "credential": "default|emulator",
     "arm_endpoint": url, "status": "ok" | "error", "error": null | "<why the subscription could not be read>",
     "api_calls": N, "started_at": iso, "finished_at": iso,
     "calls": {"GetSubscription": r (configured) | "ListSubscriptions": r (discovery failed),
               "ListStorageAccounts": r},
     "storage_accounts": [{"id": arm id, "name": n, "calls": {"ListContainers": r, "GetBlobServiceProperties": r}}]}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.providers.azure.session import (
    CallCounter,
    blob_service_client,
    describe_exception,
    make_credential,
    storage_client,
    subscription_client,
)
from cloudwatchdog.providers.azure.settings import AzureProvider, is_loopback_url

log = logging.getLogger("cloudwatchdog.providers.azure.collect")

SCHEMA_VERSION = 1
MAX_PAGES = 10_000  # a listing longer than this is a service that pages for ever
WEB_CONTAINER = "$web"
SCANNED_STATES = frozenset({"Enabled", "Warned", "PastDue"})  # Disabled and Deleted subscriptions serve nothing
NO_BLOB_KINDS = frozenset({"filestorage"})  # premium file shares only: no blob service, no containers
# Documented answers meaning "not there": recorded as absent, not as errors.
ABSENT_CODES = {"ListContainers": frozenset({"FeatureNotSupportedForAccount"})}

Snapshot = dict[str, Any]
CallResult = dict[str, Any]
Progress = Callable[[str, int], None]
ShouldStop = Callable[[], bool]
STOPPED = "stopped before the subscription was read in full: the scan stopped waiting for it"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class PagingError(RuntimeError):
    """A listing whose pages never end (a repeated continuation token, or too many pages)."""


class InvalidResponse(ValueError):
    """An answer that does not have the documented shape."""


def check_list_page(pipeline_response: Any) -> None:
    """``raw_response_hook`` of a listing call: every successful page must be ``{"value": [objects...],
    "nextLink"?: str}``. The SDK does not check this (it turns a missing ``value`` into an empty page, and a string
    into its characters), and an empty page must never be mistaken for "nothing there"."""
    http = pipeline_response.http_response
    if http.status_code != 200:
        return
    try:
        body = http.json()
    except ValueError as exc:
        raise InvalidResponse(f"a listing page is not JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise InvalidResponse(f"a listing page has no value list: {str(body)[:200]}")
    if not all(isinstance(item, dict) for item in body["value"]):
        raise InvalidResponse("a listing page holds an entry that is not an object")
    next_link = body.get("nextLink")
    if next_link is not None and not isinstance(next_link, str):
        raise InvalidResponse(f"a listing page has a nextLink that is not a string: {next_link!r}")


def _jsonable(item: Any) -> Any:
    """An SDK model (hybrid models are dicts of the wire JSON) or plain value as JSON values."""
    as_dict = getattr(item, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return item


def _error(operation: str, exc: BaseException) -> dict[str, Any]:
    code, message = describe_exception(exc)
    return {"operation": operation, "code": code, "message": message}


def guard(operation: str, fn: Callable[[], Any], *, where: str) -> CallResult:
    """Run one call; its outcome as a CallResult, never raising."""
    try:
        return {"ok": fn()}
    except Exception as exc:  # the collector's edge: any SDK, network or parsing failure is data
        result = {"error": _error(operation, exc)}
        log.warning("azure %s: %s failed: %s: %s", where, operation, result["error"]["code"],
                    result["error"]["message"])
        return result


def list_all(operation: str, paged: Callable[..., Any], *, where: str) -> CallResult:
    """Every item of a paged ARM listing (``paged(**kwargs)`` starts it), as ``{"ok": {"value": [...]}}``; when a
    page fails half-way, the error with the items read before it (``partial``)."""
    items: list[Any] = []
    try:
        pager = paged(raw_response_hook=check_list_page).by_page()
        seen: set[str] = set()
        for page in pager:
            items.extend(_jsonable(item) for item in page)
            token = pager.continuation_token
            if token:
                if token in seen or len(seen) >= MAX_PAGES:
                    raise PagingError(f"the listing repeats its nextLink {str(token).split('?')[0]!r}")
                seen.add(str(token))
    except Exception as exc:
        error = _error(operation, exc)
        log.warning("azure %s: %s failed after %d items: %s: %s", where, operation, len(items), error["code"],
                    error["message"])
        return {"error": error, "partial": items}
    return {"ok": {"value": items}}


@dataclass
class SubscriptionTarget:
    """One subscription to scan, how it was found, and what was learnt about it before scanning."""

    subscription_id: str
    via: str  # configured | discovered
    name: str | None = None
    tenant_id: str | None = None
    state: str | None = None
    calls: dict[str, CallResult] = field(default_factory=dict)
    error: str | None = None
    counter: CallCounter = field(default_factory=CallCounter)


def _subscription_fields(target: SubscriptionTarget, entry: Any) -> None:
    if isinstance(entry, dict):
        name, tenant, state = entry.get("displayName"), entry.get("tenantId"), entry.get("state")
        target.name = name if isinstance(name, str) else target.name
        target.tenant_id = tenant if isinstance(tenant, str) else target.tenant_id
        target.state = state if isinstance(state, str) else target.state


def discover_subscriptions(cfg: AzureProvider, credential: Any) -> list[SubscriptionTarget]:
    """The configured subscriptions (each read with GET /subscriptions/{id}), or every subscription the credential
    can list (minus ``exclude_subscriptions`` and those Disabled or Deleted)."""
    loopback = cfg.credential == "emulator"
    if cfg.subscriptions:
        targets = []
        for sub in dict.fromkeys(s.lower() for s in cfg.subscriptions):
            target = SubscriptionTarget(sub, "configured", counter=CallCounter(loopback_only=loopback))
            client = subscription_client(cfg, credential, target.counter)

            def get(client: Any = client, sub: str = sub) -> Any:
                return _jsonable(client.subscriptions.get(sub))

            result = guard("GetSubscription", get, where=f"subscription {sub}")
            target.calls["GetSubscription"] = result
            _subscription_fields(target, result.get("ok"))
            targets.append(target)
        return targets
    counter = CallCounter(loopback_only=loopback)
    client = subscription_client(cfg, credential, counter)
    listing = list_all("ListSubscriptions", client.subscriptions.list, where="subscriptions")
    if "error" in listing and not listing.get("partial"):
        err = listing["error"]
        target = SubscriptionTarget("unknown", "discovered", counter=counter,
                                    error=f"cannot list subscriptions: {err['code']}: {err['message']}")
        target.calls["ListSubscriptions"] = listing
        return [target]
    entries = listing.get("ok", {}).get("value") or listing.get("partial") or []
    if not entries:
        return [SubscriptionTarget("unknown", "discovered", counter=counter,
                                   error="the credential can list no subscription: give it the Reader role on the "
                                         "subscriptions to scan, or name them in providers.azure.subscriptions")]
    excluded = {s.lower() for s in cfg.exclude_subscriptions}
    targets = []
    for entry in entries:
        found = entry.get("subscriptionId") if isinstance(entry, dict) else None
        if not isinstance(found, str) or not found or found.lower() in excluded:
            continue
        target = SubscriptionTarget(found.lower(), "discovered", counter=CallCounter(loopback_only=loopback))
        _subscription_fields(target, entry)
        if target.state is not None and target.state not in SCANNED_STATES:
            log.info("azure subscription %s: skipped, state %s", found, target.state)
            continue
        targets.append(target)
    if targets:
        targets[0].counter = counter  # the discovery requests are counted with the first subscription's
    if "error" in listing:
        # Discovery stopped half-way: scan what was found, and say that more may exist.
        err = listing["error"]
        target = SubscriptionTarget("unknown", "discovered",
                                    error=f"the subscription listing failed after {len(entries)} subscriptions: "
                                          f"{err['code']}: {err['message']}")
        target.calls["ListSubscriptions"] = {"error": err}
        targets.append(target)
    return targets


def _empty_snapshot(target: SubscriptionTarget, cfg: AzureProvider, started: str) -> Snapshot:
    return {
        "schema_version": SCHEMA_VERSION,
        "provider": "azure",
        "account": target.subscription_id,
        "name": target.name,
        "tenant_id": target.tenant_id,
        "state": target.state,
        "via": target.via,
        "credential": cfg.credential,
        "arm_endpoint": cfg.effective_arm_endpoint,
        "status": "error" if target.error else "ok",
        "error": target.error,
        "api_calls": target.counter.value,
        "started_at": started,
        "finished_at": started,
        "calls": dict(target.calls),
        "storage_accounts": [],
    }


def _container_names(listing: CallResult) -> set[str] | None:
    """The listed container names; None when the listing is incomplete (then $web may exist unseen)."""
    if "absent" in listing:
        return set()
    if "ok" not in listing:
        return None
    value = listing["ok"].get("value") if isinstance(listing["ok"], dict) else None
    if not isinstance(value, list):
        return None
    return {str(c.get("name")) for c in value if isinstance(c, dict)}


def _blob_endpoint(account: dict[str, Any]) -> str | None:
    props = account.get("properties")
    endpoints = props.get("primaryEndpoints") if isinstance(props, dict) else None
    blob = endpoints.get("blob") if isinstance(endpoints, dict) else None
    return blob if isinstance(blob, str) and blob else None


def _resource_group(account_id: str) -> str | None:
    parts = account_id.split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" in lowered:
        i = lowered.index("resourcegroups")
        if i + 1 < len(parts) and parts[i + 1]:
            return parts[i + 1]
    return None


def static_website_payload(properties: Any) -> dict[str, Any]:
    """Get Blob Service Properties' StaticWebsite element, in the REST XML's element names."""
    website = properties.get("static_website") if isinstance(properties, dict) else None
    if website is None:
        return {"StaticWebsite": None}
    return {
        "StaticWebsite": {
            "Enabled": getattr(website, "enabled", None),
            "IndexDocument": getattr(website, "index_document", None),
            "ErrorDocument404Path": getattr(website, "error_document404_path", None),
            "DefaultIndexDocumentPath": getattr(website, "default_index_document_path", None),
        }
    }


class SubscriptionReader:
    """Reads one subscription's storage accounts with shared clients (Azure SDK clients are thread-safe)."""

    def __init__(self, cfg: AzureProvider, credential: Any, target: SubscriptionTarget) -> None:
        self.cfg = cfg
        self.credential = credential
        self.target = target
        self.storage = storage_client(cfg, credential, target.subscription_id, target.counter)

    def list_accounts(self) -> CallResult:
        return list_all("ListStorageAccounts", self.storage.storage_accounts.list,
                        where=f"subscription {self.target.subscription_id}")

    def read_account(self, account: dict[str, Any]) -> dict[str, Any]:
        account_id, name = str(account.get("id") or ""), str(account.get("name") or "")
        where = f"subscription {self.target.subscription_id} storage account {name or account_id}"
        calls: dict[str, CallResult] = {}
        group = _resource_group(account_id)
        if not group or not name:
            invalid = {"operation": "ListContainers", "code": "InvalidResponse",
                       "message": f"the account has no usable id/name: id={account_id!r} name={name!r}"}
            calls["ListContainers"] = {"error": invalid, "partial": []}
            return {"id": account_id, "name": name, "calls": calls}
        if str(account.get("kind") or "").lower() in NO_BLOB_KINDS:
            calls["ListContainers"] = {"absent": "NoBlobService"}
            calls["GetBlobServiceProperties"] = {"absent": "NoBlobService"}
            return {"id": account_id, "name": name, "calls": calls}
        calls["ListContainers"] = list_all(
            "ListContainers", lambda **kw: self.storage.blob_containers.list(group, name, **kw), where=where
        )
        error = calls["ListContainers"].get("error")
        if error and error["code"] in ABSENT_CODES["ListContainers"] and not calls["ListContainers"].get("partial"):
            calls["ListContainers"] = {"absent": error["code"]}
            calls["GetBlobServiceProperties"] = {"absent": error["code"]}
            return {"id": account_id, "name": name, "calls": calls}
        names = _container_names(calls["ListContainers"])
        if names is not None and WEB_CONTAINER not in names:
            calls["GetBlobServiceProperties"] = {"absent": "NoWebContainer"}
        else:
            calls["GetBlobServiceProperties"] = self.read_static_website(account, where)
        return {"id": account_id, "name": name, "calls": calls}

    def read_static_website(self, account: dict[str, Any], where: str) -> CallResult:
        endpoint = _blob_endpoint(account)
        operation = "GetBlobServiceProperties"
        if endpoint is None:
            return {"error": {"operation": operation, "code": "InvalidResponse",
                              "message": "the account has no primaryEndpoints.blob"}}
        if not endpoint.startswith("https://"):
            return {"error": {"operation": operation, "code": "InsecureEndpoint",
                              "message": f"refused to send a token to a non-https blob endpoint {endpoint}"}}
        if self.cfg.credential == "emulator" and not is_loopback_url(endpoint):
            return {"error": {"operation": operation, "code": "EmulatorOnly",
                              "message": f"refused to send the emulator credential to {endpoint}: not loopback"}}

        def run() -> dict[str, Any]:
            client = blob_service_client(self.cfg, self.credential, endpoint, self.target.counter)
            with client:
                return static_website_payload(client.get_service_properties())

        return guard(operation, run, where=where)


def scan_subscription(
    cfg: AzureProvider, credential: Any, target: SubscriptionTarget, progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Snapshot:
    """Read every storage account (and its containers) of one subscription (``should_stop``: see collect_azure)."""
    started = _now()
    snapshot = _empty_snapshot(target, cfg, started)
    if target.error:
        return snapshot
    sub = target.subscription_id
    if progress:
        progress(sub, 0)
    reader = SubscriptionReader(cfg, credential, target)
    listing = reader.list_accounts()
    snapshot["calls"]["ListStorageAccounts"] = listing
    accounts: Iterable[Any]
    if "error" in listing:
        err = listing["error"]
        accounts = listing.get("partial") or []
        if not accounts:
            snapshot["status"] = "error"
            snapshot["error"] = f"cannot list storage accounts: {err['code']}: {err['message']}"
    else:
        accounts = listing["ok"]["value"]

    def job(account: Any) -> dict[str, Any]:
        if not isinstance(account, dict):
            return {"id": "", "name": "", "calls": {}}
        if should_stop is not None and should_stop():  # not read: unknown, and the subscription is an error
            snapshot.update(status="error", error=STOPPED)
            return {"id": account.get("id"), "name": account.get("name"), "calls": {}}
        try:
            result = reader.read_account(account)
        except Exception as exc:  # a bug or an unforeseen SDK shape costs this account, not the subscription
            log.exception("azure subscription %s: reading storage account %s failed", sub, account.get("name"))
            result = {"id": account.get("id"), "name": account.get("name"),
                      "calls": {"ListContainers": {"error": _error("ListContainers", exc), "partial": []}}}
        if progress:
            progress(f"{sub}/{account.get('name')}", 1)
        return result

    with ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix=f"azure-{sub[:8]}") as pool:
        snapshot["storage_accounts"] = list(pool.map(job, list(accounts)))
    snapshot["api_calls"] = target.counter.value
    snapshot["finished_at"] = _now()
    return snapshot


def collect_azure(cfg: AzureProvider, progress: Progress | None = None, *, credential: Any = None,
                  should_stop: ShouldStop | None = None) -> list[Snapshot]:
    """Every subscription's raw snapshot (``stream_azure``), as a list."""
    return list(stream_azure(cfg, progress, credential=credential, should_stop=should_stop))


def stream_azure(cfg: AzureProvider, progress: Progress | None = None, *, credential: Any = None,
                 should_stop: ShouldStop | None = None) -> Iterator[Snapshot]:
    """Raw snapshots of every configured or discovered subscription, each handed out as soon as it is read; never
    raises for a cloud-side failure.

    ``progress(label, advance)`` is called with ``(subscription_id, 0)`` when a subscription starts, then with
    ``("<subscription>/<account>", 1)`` as each storage account is read. ``should_stop()`` is asked before each
    subscription and storage account: once true, nothing more is read, and each subscription not read in full is
    an ``error`` snapshot.
    """
    own = credential is None
    cred: Any = None
    try:
        try:
            cred = make_credential(cfg) if own else credential
            targets = discover_subscriptions(cfg, cred)
        except Exception as exc:  # e.g. the credential cannot be built or the client not created
            code, message = describe_exception(exc)
            log.exception("azure: subscription discovery failed")
            target = SubscriptionTarget("unknown", "discovered", error=f"cannot discover subscriptions: {code}: "
                                                                       f"{message}")
            targets = [target]
        for target in targets:
            if should_stop is not None and should_stop():
                target.error = target.error or STOPPED
                yield _empty_snapshot(target, cfg, _now())
                continue
            try:
                snapshot = scan_subscription(cfg, cred, target, progress, should_stop)
            except Exception as exc:  # a bug or an unforeseen SDK shape must not lose the other subscriptions
                code, message = describe_exception(exc)
                log.exception("azure subscription %s: scan failed", target.subscription_id)
                target.error = f"scan failed: {code}: {message}"
                snapshot = _empty_snapshot(target, cfg, _now())
            yield snapshot
    finally:
        if own and cred is not None:
            close = getattr(cred, "close", None)
            if callable(close):
                close()


__all__ = ["SCHEMA_VERSION", "SubscriptionReader", "SubscriptionTarget", "collect_azure", "discover_subscriptions",
           "list_all", "scan_subscription", "stream_azure"]
