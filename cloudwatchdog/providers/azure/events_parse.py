"""Pure: a Storage Queue message holding an Event Grid event of a subscription's resource changes -> what to
rescan.

Event Grid writes each event to the queue as base64-encoded JSON (a raw JSON body is read too)::

    {"id", "topic": "/subscriptions/<sub>", "subject": <resource URI>, "eventTime",
     "eventType": "Microsoft.Resources.ResourceWriteSuccess" | "Microsoft.Resources.ResourceDeleteSuccess",
     "data": {"operationName": "Microsoft.Storage/storageAccounts/write" | ".../blobServices/containers/write" ...,
              "subscriptionId", "resourceUri", "status": "Succeeded", ...}}

A blob container's change rescans that container; a storage account's (or its blob service's) change rescans the
whole subscription (account-level settings govern every container, and a new or deleted account changes the
listing). Other resources, actions and failed operations are ignored. Everything is untrusted text.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

from cloudwatchdog.events.model import ChangeTarget, Hint, HintError
from cloudwatchdog.providers.azure.model import CONTAINER_TYPE

PROVIDER = "azure"
EVENT_TYPES = ("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Resources.ResourceDeleteSuccess")
_URI = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/resourcegroups/[^/]{1,90}"
    r"/providers/microsoft\.storage/storageaccounts/(?P<account>[a-z0-9]{3,24})"
    r"(?P<rest>/.*)?$", re.IGNORECASE)
_BLOB_SERVICE = re.compile(r"^/blobservices/default/?$", re.IGNORECASE)
_CONTAINER = re.compile(r"^/blobservices/default/containers/(?P<name>[^/]*)/?$", re.IGNORECASE)
_CONTAINER_NAME = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])|\$web|\$root)$")


def decode_body(body: str) -> Any:
    """The event: base64-encoded JSON as Event Grid writes it, else the body as JSON."""
    text = body.strip()
    with contextlib.suppress(binascii.Error, ValueError):  # not base64 (or not text): read as it is
        text = base64.b64decode(text, validate=True).decode("utf-8")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise HintError(f"neither base64-encoded JSON nor JSON: {str(exc)[:120]}") from None


def parse_event_message(body: str) -> Hint:
    doc = decode_body(body)
    events = doc if isinstance(doc, list) else [doc]
    targets: list[ChangeTarget] = []
    ignored: list[str] = []
    for event in events[:50]:
        hint = parse_event(event)
        targets.extend(hint.targets)
        if hint.ignored:
            ignored.append(hint.ignored)
    return Hint(tuple(targets), None if targets else "; ".join(ignored)[:300] or "no event")


def parse_event(event: Any) -> Hint:
    if not isinstance(event, Mapping):
        raise HintError("the event is not an object")
    kind = event.get("eventType", event.get("type"))
    if not isinstance(kind, str):
        raise HintError("the event has no eventType")
    if kind not in EVENT_TYPES:
        return Hint(ignored=f"event type {kind[:80]!r} does not change storage settings")
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    status = data.get("status")
    if status is not None and str(status).lower() != "succeeded":
        return Hint(ignored=f"operation status {str(status)[:40]!r}: nothing changed")
    uri = data.get("resourceUri") or event.get("subject")
    if not isinstance(uri, str):
        raise HintError("the event names no resource (data.resourceUri, subject)")
    if "/providers/microsoft.storage/storageaccounts/" not in uri.lower():
        return Hint(ignored=f"{uri[:120]!r} is not a storage account or container")
    m = _URI.match(uri)
    if m is None:
        raise HintError(f"not a storage resource URI: {uri[:160]!r}")
    subscription, account, rest = m.group("sub").lower(), m.group("account").lower(), m.group("rest") or ""
    operation = str(data.get("operationName") or kind)[:120]
    if not rest or _BLOB_SERVICE.match(rest):
        return Hint((ChangeTarget(PROVIDER, subscription, event=operation),))
    container = _CONTAINER.match(rest)
    if container is None and rest.lower().startswith("/blobservices/default/containers"):
        raise HintError(f"not a container's resource URI: {uri[:160]!r}")
    if container is None:
        return Hint(ignored=f"{uri[:160]!r}: not a setting that shares blobs")
    name = container.group("name").lower()
    if not _CONTAINER_NAME.match(name):
        raise HintError(f"not a container name: {name[:80]!r}")
    return Hint((ChangeTarget(PROVIDER, subscription, CONTAINER_TYPE, f"{account}/{name}", event=operation),))


__all__ = ["EVENT_TYPES", "decode_body", "parse_event", "parse_event_message"]
