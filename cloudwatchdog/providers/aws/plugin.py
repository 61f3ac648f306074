"""AWS as a provider: S3 buckets and access points, EBS snapshots, AMIs and RDS snapshots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cloudwatchdog.data.budget import Budget
from cloudwatchdog.model import Coverage, DataSample, Resource, Snapshot
from cloudwatchdog.providers.aws.model import ACCOUNT_TYPE
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.base import OcsfCloud, PolicyVerdict, Progress, Starter, Unit
from cloudwatchdog.settings.data_sampling import DataSamplingConfig


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

    def collect(self, settings: Any, progress: Progress | None = None) -> list[Snapshot]:
        from cloudwatchdog.providers.aws.collect import collect_aws

        return list(collect_aws(settings, progress=progress))

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

    def units(self, settings: Any) -> list[Unit]:
        from cloudwatchdog.providers.aws.units import aws_units

        return aws_units(settings)


PROVIDER = Aws()
