"""AWS as a provider: S3 buckets and access points, EBS snapshots, AMIs and RDS snapshots."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudwatchdog.data.budget import Budget
from cloudwatchdog.model import AccessLogging, Coverage, DataSample, Resource, Snapshot
from cloudwatchdog.providers.aws.model import ACCOUNT_TYPE
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.base import (
    OcsfCloud,
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


class Aws:
    name = "aws"
    title = "AWS"
    account_noun = "account"
    settings = AwsProvider
    ocsf = OcsfCloud("AWS", 10, "AWS Account")
    aggregate_types = frozenset({ACCOUNT_TYPE})
    policy_resources = ("bucket", "access-point")

    def default_settings(self) -> AwsProvider:
        """Without a config file: the default credential chain, us-east-1."""
        return AwsProvider()

    def starter(self, environ: Mapping[str, str], home: Path) -> Starter | None:
        credentials = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
        config = Path(environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
        if environ.get("AWS_PROFILE"):
            found = f"AWS_PROFILE={environ['AWS_PROFILE']}"
        elif environ.get("AWS_ACCESS_KEY_ID"):
            found = "AWS_ACCESS_KEY_ID in the environment"
        elif environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
            found = "a workload identity in the environment"
        elif credentials.is_file() or config.is_file():
            found = f"{credentials if credentials.is_file() else config}"
        else:
            return None
        return Starter(found, """  aws:
    # With no `accounts` and no `organization`, the account of the default credentials is scanned
    # (AWS_PROFILE, the environment, ~/.aws, SSO, instance or task roles).
    regions: [us-east-1]             # or "all"; snapshots, AMIs and access points are read in these
    # accounts:                      # more accounts: a profile each, or a role assumed from the default chain
    #   - {id: "123456789012", name: prod, profile: prod}
    #   - {id: "210987654321", name: analytics, role_arn: "arn:aws:iam::210987654321:role/CloudWatchdogAudit"}
    # organization: {role_name: CloudWatchdogAudit}   # every member account of your AWS Organization
""")

    def collect(self, settings: Any, progress: Progress | None = None,
                should_stop: ShouldStop | None = None) -> Iterator[Snapshot]:
        from cloudwatchdog.providers.aws.collect import stream_aws

        return stream_aws(settings, progress=progress, should_stop=should_stop)

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.aws.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def sample(self, settings: Any, resources: Sequence[Resource], sampling: DataSamplingConfig, budget: Budget,
               scanned: Sequence[Resource]) -> dict[str, DataSample]:
        from cloudwatchdog.providers.aws.sample import sample_aws

        return sample_aws(settings, resources, sampling, budget)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        from cloudwatchdog.providers.aws.policy.analysis import ResourceKind, analyze_policy

        kind: ResourceKind = "access-point" if resource == "access-point" else "bucket"
        return analyze_policy(document, account_id=account_id, resource=kind, trusted_orgs=trusted_orgs)

    def access_evidence(self, settings: Any, target: AccessTarget, windows: Sequence[TimeSpan]) -> AccessEvidence:
        from cloudwatchdog.providers.aws.access import aws_access_evidence

        return aws_access_evidence(settings, target, windows)

    def access_logging(self, settings: Any, resources: Sequence[Resource]) -> dict[str, AccessLogging]:
        from cloudwatchdog.providers.aws.access import aws_access_logging

        return aws_access_logging(settings, resources)

    def probe_targets(self, settings: Any, resources: Sequence[Resource],
                      scanned: Sequence[Resource]) -> dict[str, ProbeTarget]:
        from urllib.parse import quote

        from cloudwatchdog.providers.aws.model import BUCKET_TYPE

        out: dict[str, ProbeTarget] = {}
        for r in resources:
            if r.type != BUCKET_TYPE or not r.exposure.list:
                continue  # a read needs an object name: not probed
            endpoint = settings.effective_endpoint() or f"https://s3.{r.region or 'us-east-1'}.amazonaws.com"
            out[r.uid] = ProbeTarget(f"{endpoint.rstrip('/')}/{quote(r.name, safe='')}?list-type=2&max-keys=1",
                                     "LIST")
        return out

    def event_source(self, settings: Any) -> EventSource | None:
        from cloudwatchdog.providers.aws.events import SqsSource

        events = getattr(settings, "events", None)
        return SqsSource(settings, events) if events is not None and events.enabled else None

    def rescan(self, settings: Any, account: str, targets: Sequence[ChangeTarget] | None) -> list[Snapshot]:
        from cloudwatchdog.providers.aws.collect_targets import rescan_aws

        return list(rescan_aws(settings, account, targets))

    def units(self, settings: Any) -> list[Unit]:
        from cloudwatchdog.providers.aws.units import aws_units

        return aws_units(settings)


PROVIDER = Aws()
