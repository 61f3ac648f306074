"""AWS as a provider: S3 buckets and access points, EBS snapshots, AMIs and RDS snapshots."""

from __future__ import annotations

from typing import Any

from cloudwatchdog.model import Coverage, Resource, Snapshot
from cloudwatchdog.providers.aws.model import ACCOUNT_TYPE
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.base import OcsfCloud, PolicyVerdict, Progress


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

    def collect(self, settings: Any, progress: Progress | None = None) -> list[Snapshot]:
        from cloudwatchdog.providers.aws.collect import collect_aws

        return list(collect_aws(settings, progress=progress))

    def analyse(self, snapshot: Snapshot) -> tuple[list[Resource], Coverage]:
        from cloudwatchdog.providers.aws.inventory import analyse_snapshot

        return analyse_snapshot(snapshot)

    def check_policy(self, document: str, *, account_id: str, resource: str,
                     trusted_orgs: frozenset[str]) -> PolicyVerdict:
        from cloudwatchdog.providers.aws.policy.analysis import ResourceKind, analyze_policy

        kind: ResourceKind = "access-point" if resource == "access-point" else "bucket"
        return analyze_policy(document, account_id=account_id, resource=kind, trusted_orgs=trusted_orgs)


PROVIDER = Aws()
