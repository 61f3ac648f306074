"""The clouds cloudwatchdog scans: one line each. A new cloud is a package ``providers/<name>/`` with a
``plugin.py`` implementing ``providers.base.Provider``, and one line here (README, "Adding a cloud")."""

from __future__ import annotations

from cloudwatchdog.providers.base import Provider
from cloudwatchdog.registry import Registry

PROVIDERS: Registry[Provider] = Registry("provider", Provider, {
    "aws": "cloudwatchdog.providers.aws.plugin:PROVIDER",
    "gcp": "cloudwatchdog.providers.gcp.plugin:PROVIDER",
    "azure": "cloudwatchdog.providers.azure.plugin:PROVIDER",
})


def aggregate_types() -> frozenset[str]:
    """Every provider's aggregate resource types (not counted as exposed resources of their own)."""
    return frozenset(t for _, p in PROVIDERS.items() for t in p.aggregate_types)
