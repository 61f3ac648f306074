"""Azure targeted rescans (I/O): one subscription; in it, only the storage accounts that hold the named containers,
read exactly as a scan reads them (their settings from the storage account listing, every container, the static
website). The listing is a real call recorded trimmed to those accounts (``LeftOutOfTargetedRescan`` says how many
were left out): a named container whose account or listing no longer has it is gone. ``targets`` None: the whole
subscription, as a scan reads it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from cloudwatchdog.events.model import ChangeTarget
from cloudwatchdog.providers.azure.collect import (
    Snapshot,
    SubscriptionReader,
    SubscriptionTarget,
    _empty_snapshot,
    _now,
    discover_subscriptions,
    scan_subscription,
)
from cloudwatchdog.providers.azure.model import CONTAINER_TYPE
from cloudwatchdog.providers.azure.session import describe_exception, make_credential
from cloudwatchdog.providers.azure.settings import AzureProvider

log = logging.getLogger("cloudwatchdog.providers.azure.collect")
LEFT_OUT = "LeftOutOfTargetedRescan"


def rescan_azure(cfg: AzureProvider, subscription: str, targets: Sequence[ChangeTarget] | None) -> list[Snapshot]:
    """Snapshots of one subscription: whole (``targets`` None) or of the named containers' storage accounts; none
    when the config does not scan it."""
    wanted = None if targets is None else {str(t.name).split("/", 1)[0] for t in targets
                                           if t.resource_type == CONTAINER_TYPE and t.name}
    if wanted is not None and not wanted:
        return []
    cred: Any = None
    try:
        cred = make_credential(cfg)
        found = [t for t in discover_subscriptions(cfg, cred) if t.subscription_id == subscription.lower()]
        if not found:
            return []
        (target,) = found[:1]
        if wanted is None:
            return [scan_subscription(cfg, cred, target)]
        return [_targeted(cfg, cred, target, wanted)]
    except Exception as exc:  # a bug must not crash the consumer: the subscription is an error (nothing resolves)
        code, message = describe_exception(exc)
        log.exception("azure subscription %s: targeted rescan failed", subscription)
        failed = SubscriptionTarget(subscription.lower(), "configured", error=f"rescan failed: {code}: {message}")
        return [_empty_snapshot(failed, cfg, _now())]
    finally:
        close = getattr(cred, "close", None)
        if callable(close):
            close()


def _targeted(cfg: AzureProvider, cred: Any, target: SubscriptionTarget, wanted: set[str]) -> Snapshot:
    snapshot = _empty_snapshot(target, cfg, _now())
    if target.error:
        return snapshot
    reader = SubscriptionReader(cfg, cred, target)
    listing = reader.list_accounts()
    if "error" in listing:
        err = listing["error"]
        snapshot["calls"]["ListStorageAccounts"] = listing
        snapshot["status"] = "error"
        snapshot["error"] = f"cannot list storage accounts: {err['code']}: {err['message']}"
        return snapshot
    entries = listing["ok"]["value"]
    kept = [a for a in entries if isinstance(a, dict) and str(a.get("name", "")).lower() in wanted]
    snapshot["calls"]["ListStorageAccounts"] = {"ok": {**listing["ok"], "value": kept,
                                                       LEFT_OUT: len(entries) - len(kept)}}
    snapshot["storage_accounts"] = [reader.read_account(a) for a in kept]
    snapshot["api_calls"] = target.counter.value
    snapshot["finished_at"] = _now()
    return snapshot


__all__ = ["LEFT_OUT", "rescan_azure"]
