"""Google Cloud as a provider: Cloud Storage buckets in projects listed or discovered."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudwatchdog.data.budget import Budget
from cloudwatchdog.model import AccessLogging, Coverage, DataSample, Resource, Snapshot
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
from cloudwatchdog.providers.gcp.settings import GcpProvider
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

if TYPE_CHECKING:  # annotations only: a scan does not load the forensics and change-event models
    from cloudwatchdog.forensics.model import AccessEvidence, AccessTarget, TimeSpan


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

    def starter(self, environ: Mapping[str, str], home: Path) -> Starter | None:
        gcloud = Path(environ.get("CLOUDSDK_CONFIG") or home / ".config" / "gcloud")
        adc = gcloud / "application_default_credentials.json"
        if environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
            found = f"GOOGLE_APPLICATION_CREDENTIALS={environ['GOOGLE_APPLICATION_CREDENTIALS']}"
        elif adc.is_file():
            found = f"{adc} (gcloud auth application-default login)"
        else:
            return None
        return Starter(found, """  gcp:
    # Application Default Credentials. With no `projects` and no `organization`, every project they can see is
    # scanned.
    credential: default
    # projects: [my-project-id]      # or organization: "123456789012" to discover every project below it
    # organization_domains: [example.com]   # members of these domains are ours, not external
""")

    def collect(self, settings: Any, progress: Progress | None = None,
                should_stop: ShouldStop | None = None) -> Iterator[Snapshot]:
        from cloudwatchdog.providers.gcp.collect import stream_gcp

        return stream_gcp(settings, progress, should_stop=should_stop)

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.gcp.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def sample(self, settings: Any, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
               scanned: Sequence[Resource]) -> dict[str, DataSample]:
        from cloudwatchdog.providers.gcp.sample import sample_gcp

        return sample_gcp(settings, resources, sampling, budget)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        raise PolicyError("Google Cloud policies are not judged offline")

    def access_evidence(self, settings: Any, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
        from cloudwatchdog.providers.gcp.access import gcp_access_evidence

        return gcp_access_evidence(settings, target, windows)

    def access_logging(self, settings: Any, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
        from cloudwatchdog.providers.gcp.access import gcp_access_logging

        return gcp_access_logging(settings, resources)

    def probe_targets(self, settings: Any, resources: Sequence[Resource],
                      scanned: Sequence[Resource]) -> dict[str, ProbeTarget]:
        from urllib.parse import quote

        from cloudwatchdog.providers.gcp.inventory import BUCKET_TYPE

        endpoints = {p.id: p.endpoint_url for p in settings.projects if p.endpoint_url}
        out: dict[str, ProbeTarget] = {}
        for r in resources:
            if r.type != BUCKET_TYPE or not r.exposure.list:
                continue  # a read needs an object name: not probed
            endpoint = (endpoints.get(r.account) or settings.effective_endpoint()
                        or "https://storage.googleapis.com")
            out[r.uid] = ProbeTarget(f"{endpoint.rstrip('/')}/storage/v1/b/{quote(r.name, safe='')}/o?maxResults=1",
                                     "LIST")
        return out

    def units(self, settings: Any) -> list[Unit]:
        """A unit per listed or discovered project (``units``)."""
        from cloudwatchdog.providers.gcp.units import gcp_units

        return gcp_units(settings)

    def scan_trust(self, snapshot: Snapshot) -> dict[str, set[str]]:
        from cloudwatchdog.providers.gcp.units import scan_trust

        return scan_trust(snapshot)

    def plan_trust(self, settings: Mapping[str, Any]) -> dict[str, set[str]]:
        from cloudwatchdog.providers.gcp.units import plan_trust

        return plan_trust(settings)

    def with_trust(self, snapshot: Snapshot, trust: Mapping[str, set[str]]) -> Snapshot:
        from cloudwatchdog.providers.gcp.units import with_trust

        return with_trust(snapshot, trust)


PROVIDER = Gcp()
