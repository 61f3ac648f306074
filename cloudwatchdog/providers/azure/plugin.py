"""Azure as a provider: storage accounts and their blob containers in subscriptions listed or discovered."""

from __future__ import annotations

from typing import Any

from cloudwatchdog.model import Coverage, Resource, Snapshot
from cloudwatchdog.providers.azure.model import ACCOUNT_TYPE
from cloudwatchdog.providers.azure.settings import AzureProvider
from cloudwatchdog.providers.base import OcsfCloud, PolicyError, PolicyVerdict, Progress


class Azure:
    name = "azure"
    title = "Azure"
    account_noun = "subscription"
    settings = AzureProvider
    ocsf = OcsfCloud("Azure", 99, "Azure Subscription")
    aggregate_types = frozenset({ACCOUNT_TYPE})
    policy_resources: tuple[str, ...] = ()

    def default_settings(self) -> None:
        return None

    def collect(self, settings: Any, progress: Progress | None = None) -> list[Snapshot]:
        from cloudwatchdog.providers.azure.collect import collect_azure

        return list(collect_azure(settings, progress))

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.azure.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        raise PolicyError("Azure policies are not judged offline")


PROVIDER = Azure()
