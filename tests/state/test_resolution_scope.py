"""A finding resolves only when the scan positively knows: not when a setting of its resource could not be read
(the verdict may be known while the rule's own input is missing), and not by absence when the scan did not enumerate
that kind of resource there (a feature turned off, a region dropped from the config)."""

from __future__ import annotations

from dataclasses import replace

from cloudwatchdog.model import Coverage, CoverageStatus, Finding, FindingState, Level
from cloudwatchdog.state.diff import Diff, EventType, IntervalOp, diff_resources
from tests.state.test_diff import NOW, coverage, finding, resource, run, stored, stored_resource


def _resolved(d: Diff) -> set[str]:
    return {e.fingerprint for e in d.events if e.type is EventType.RESOLVED}


def test_known_verdict_with_unreadable_settings_resolves_nothing() -> None:
    f = finding(rule="azure-storage-account-shared-key-access")
    r = replace(resource(level=Level.PRIVATE), properties={"read_errors": ["allowSharedKeyAccess: not a boolean"]})
    d = run(resources=[r], previous=[stored(f, FindingState.OPEN)])
    assert _resolved(d) == set()
    # The same resource read cleanly does resolve it.
    d = run(resources=[resource(level=Level.PRIVATE)], previous=[stored(f, FindingState.OPEN)])
    assert _resolved(d) == {f.id}


S3_SCOPE = ("aws.account", "aws.s3.bucket", "aws.s3.access_point")


def _snapshot_finding() -> Finding:
    return replace(finding(uid="arn:aws:ec2:eu-west-1:111111111111:snapshot/snap-1", rule="aws-ec2-snapshot-public"),
                   resource_type="aws.ec2.snapshot", region="eu-west-1")


def test_absent_resource_outside_the_scanned_scope_is_not_resolved() -> None:
    f = _snapshot_finding()
    prev = [stored(f, FindingState.OPEN)]
    s3_only = Coverage("aws", "111111111111", CoverageStatus.OK, 1, scope=S3_SCOPE)
    assert _resolved(run(cov=[s3_only], previous=prev)) == set(), "sharing off: the snapshot is not gone"
    other_region = replace(s3_only, scope=(*S3_SCOPE, "aws.ec2.snapshot@us-east-1"))
    assert _resolved(run(cov=[other_region], previous=prev)) == set(), "its region was not listed"
    its_region = replace(s3_only, scope=(*S3_SCOPE, "aws.ec2.snapshot@eu-west-1"))
    assert _resolved(run(cov=[its_region], previous=prev)) == {f.id}


def test_absent_resource_interval_stays_open_outside_scope() -> None:
    prev = replace(stored_resource(), type="aws.ec2.snapshot", region="eu-west-1")
    s3_only = Coverage("aws", prev.account, CoverageStatus.OK, 0, scope=("aws.s3.bucket",))
    assert diff_resources(NOW, [], [s3_only], {prev.uid: prev}) == []
    in_scope = replace(s3_only, scope=("aws.ec2.snapshot",))
    [change] = diff_resources(NOW, [], [in_scope], {prev.uid: prev})
    assert change.interval is IntervalOp.CLOSE and change.resource.gone


def test_unstated_scope_means_everything() -> None:
    f = finding()
    assert coverage().scope is None
    assert _resolved(run(previous=[stored(f, FindingState.OPEN)])) == {f.id}
