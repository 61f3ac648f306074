"""Distributed scans: Azure subscriptions as units of work (``Provider.units``).

Each listed subscription is a unit of its own. With none listed, the subscriptions the credential can list are
listed once, here in the coordinator, and each becomes a unit that names that one subscription. When the listing
fails or stops half-way, or finds nothing, the section stays one unit, whose ``collect`` reports exactly what a
single-process scan would.

Differences in the raw answers only: a discovered subscription's snapshot says ``via: configured`` and holds its
own GET of the subscription, and the listing request is the coordinator's, counted in no unit.
"""

from __future__ import annotations

import logging

from cloudwatchdog.providers.azure.settings import AzureProvider
from cloudwatchdog.providers.base import Unit

log = logging.getLogger("cloudwatchdog.providers.azure.units")


def azure_units(cfg: AzureProvider) -> list[Unit]:
    if cfg.subscriptions:
        return [Unit(s, cfg.model_copy(update={"subscriptions": [s]})) for s in cfg.subscriptions]
    whole = Unit("discovered", cfg)
    from cloudwatchdog.providers.azure.collect import discover_subscriptions
    from cloudwatchdog.providers.azure.session import make_credential

    credential = None
    try:
        credential = make_credential(cfg)
        targets = discover_subscriptions(cfg, credential)
    except Exception as exc:  # collect says why, in the section's own snapshot
        log.warning("azure: cannot list the subscriptions apart (%s: %s); they are one unit", type(exc).__name__,
                    str(exc)[:200])
        return [whole]
    finally:
        close = getattr(credential, "close", None)
        if callable(close):
            close()
    if not targets or any(t.error for t in targets):
        log.warning("azure: the subscription listing was not complete; the subscriptions are one unit")
        return [whole]
    try:  # each unit's settings as a worker will read them (an id from the listing our settings refuse: one unit)
        return [Unit(t.subscription_id, AzureProvider.model_validate(
            {**cfg.model_dump(), "subscriptions": [t.subscription_id]}), t.name) for t in targets]
    except ValueError as exc:
        log.warning("azure: a listed subscription cannot be a unit of its own (%s); they are one unit",
                    str(exc).splitlines()[0][:200])
        return [whole]


__all__ = ["azure_units"]
