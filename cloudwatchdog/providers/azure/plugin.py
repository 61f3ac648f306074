"""Azure as a provider: storage accounts and their blob containers in subscriptions listed or discovered."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudwatchdog.data.budget import Budget
from cloudwatchdog.model import AccessLogging, Coverage, DataSample, Resource, Snapshot
from cloudwatchdog.providers.azure.model import ACCOUNT_TYPE
from cloudwatchdog.providers.azure.settings import AzureProvider
from cloudwatchdog.providers.base import (
    OcsfCloud,
    PolicyError,
    PolicyVerdict,
    ProbeTarget,
    Progress,
    ShouldStop,
    Starter,
    Unit,
)
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

if TYPE_CHECKING:  # annotations only: a scan does not load the forensics and change-event models
    from cloudwatchdog.events.model import ChangeTarget, EventSource
    from cloudwatchdog.forensics.model import AccessEvidence, AccessTarget, TimeSpan


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

    def starter(self, environ: Mapping[str, str], home: Path) -> Starter | None:
        profile = Path(environ.get("AZURE_CONFIG_DIR") or home / ".azure") / "azureProfile.json"
        if environ.get("AZURE_CLIENT_ID") and environ.get("AZURE_TENANT_ID"):
            found = "AZURE_CLIENT_ID and AZURE_TENANT_ID in the environment"
        elif profile.is_file():
            found = f"{profile} (az login)"
        else:
            return None
        return Starter(found, """  azure:
    # DefaultAzureCredential (environment, workload identity, managed identity, az login). With no
    # `subscriptions`, every subscription the credential can list is scanned.
    credential: default
    # subscriptions: ["00000000-0000-0000-0000-000000000000"]
""")

    def collect(self, settings: Any, progress: Progress | None = None,
                should_stop: ShouldStop | None = None) -> Iterator[Snapshot]:
        from cloudwatchdog.providers.azure.collect import stream_azure

        return stream_azure(settings, progress, should_stop=should_stop)

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.azure.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def sample(self, settings: Any, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
               scanned: Sequence[Resource]) -> dict[str, DataSample]:
        from cloudwatchdog.providers.azure.sample import sample_azure

        return sample_azure(settings, resources, sampling, budget, scanned)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        raise PolicyError("Azure policies are not judged offline")

    def access_evidence(self, settings: Any, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
        from cloudwatchdog.providers.azure.access import azure_access_evidence

        return azure_access_evidence(settings, target, windows)

    def access_logging(self, settings: Any, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
        from cloudwatchdog.providers.azure.access import azure_access_logging

        return azure_access_logging(settings, resources)

    def probe_targets(self, settings: Any, resources: Sequence[Resource],
                      scanned: Sequence[Resource]) -> dict[str, ProbeTarget]:
        from urllib.parse import quote

        from cloudwatchdog.providers.azure.model import CONTAINER_TYPE

        endpoints = {r.uid: r.properties.get("blob_endpoint") for r in scanned if r.type == ACCOUNT_TYPE}
        out: dict[str, ProbeTarget] = {}
        for r in resources:
            endpoint = endpoints.get(str(r.properties.get("storage_account_id")))
            if r.type != CONTAINER_TYPE or not r.exposure.list or not isinstance(endpoint, str) or not endpoint:
                continue  # a read needs a blob name; no endpoint known: not probed
            container = quote(str(r.properties.get("container", "")), safe="")
            out[r.uid] = ProbeTarget(f"{endpoint.rstrip('/')}/{container}?restype=container&comp=list&maxresults=1",
                                     "LIST", settings.ca_bundle or True)
        return out

    def event_source(self, settings: Any) -> EventSource | None:
        from cloudwatchdog.providers.azure.events import StorageQueueSource

        events = getattr(settings, "events", None)
        return StorageQueueSource(settings, events) if events is not None and events.enabled else None

    def rescan(self, settings: Any, account: str, targets: Sequence[ChangeTarget] | None) -> list[Snapshot]:
        from cloudwatchdog.providers.azure.collect_targets import rescan_azure

        return list(rescan_azure(settings, account, targets))

    def units(self, settings: Any) -> list[Unit]:
        """A unit per listed or discovered subscription (``units``)."""
        from cloudwatchdog.providers.azure.units import azure_units

        return azure_units(settings)


PROVIDER = Azure()
