"""Google Cloud as a provider: Cloud Storage buckets in projects listed or discovered."""

from __future__ import annotations

from typing import Any

from cloudwatchdog.model import Coverage, Resource, Snapshot
from cloudwatchdog.providers.base import OcsfCloud, PolicyError, PolicyVerdict, Progress
from cloudwatchdog.providers.gcp.settings import GcpProvider


class Gcp:
    name = "gcp"
    title = "Google Cloud"
    account_noun = "project"
    settings = GcpProvider
    ocsf = OcsfCloud("GCP", 99, "GCP Project")
    aggregate_types: frozenset[str] = frozenset()
    policy_resources: tuple[str, ...] = ()

    def default_settings(self) -> None:
        return None

    def collect(self, settings: Any, progress: Progress | None = None) -> list[Snapshot]:
        from cloudwatchdog.providers.gcp.collect import collect_gcp

        return list(collect_gcp(settings, progress))

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.gcp.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        raise PolicyError("Google Cloud policies are not judged offline")


PROVIDER = Gcp()
