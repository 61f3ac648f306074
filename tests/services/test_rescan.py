"""Targeted rescans (services.rescan) against the real moto server: each kind of AWS target is read as a scan reads
it, alone, with a complete coverage that names it; what the config does not watch is not read at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.config import Config, load_config
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.events.model import ChangeTarget
from cloudwatchdog.model import CoverageStatus, Level
from cloudwatchdog.services.rescan import run_rescan
from cloudwatchdog.services.rules import configured_rules

ACCOUNT = "123456789012"


@pytest.fixture
def cfg(tmp_path: Path, moto: MotoServer) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(f"""providers:
  aws: {{endpoint_url: {moto.endpoint}, credential: emulator, accounts: [{{id: "{ACCOUNT}"}}],
         regions: [eu-west-1], object_acl_sample: 0}}
""")
    return load_config(path)


def _target(kind: str, name: str, region: str = "eu-west-1") -> ChangeTarget:
    return ChangeTarget("aws", ACCOUNT, kind, name, region, "test")


def test_snapshots_and_access_points_are_read_alone(cfg: Config, moto: MotoServer) -> None:
    session: Any = account_session(moto.endpoint, region="eu-west-1")
    ec2 = emulator_client(session, "ec2", moto.endpoint, region="eu-west-1")
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    shared, other = (ec2.create_snapshot(VolumeId=volume)["SnapshotId"] for _ in range(2))
    ec2.modify_snapshot_attribute(SnapshotId=shared, Attribute="createVolumePermission", OperationType="add",
                                  GroupNames=["all"])
    s3 = emulator_client(session, "s3", moto.endpoint, region="eu-west-1")
    for bucket in ("ap-bucket", "bystander"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    control = emulator_client(session, "s3control", moto.endpoint, region="eu-west-1")
    control.create_access_point(AccountId=ACCOUNT, Name="internet-ap", Bucket="ap-bucket")
    control.create_access_point(AccountId=ACCOUNT, Name="other-ap", Bucket="bystander")
    rules = configured_rules(cfg)

    result = run_rescan(cfg, rules, "aws", ACCOUNT, [_target("aws.ec2.snapshot", shared)])
    assert result is not None
    assert [(r.type, r.name, r.exposure.level) for r in result.resources] == [
        ("aws.ec2.snapshot", shared, Level.PUBLIC)], f"{other} is not read into the result"
    (cov,) = result.coverage
    assert cov.status is CoverageStatus.OK, cov.errors
    assert cov.targets == (f"aws.ec2.snapshot:{shared}",) and cov.resources == 1
    assert {f.resource_name for f in result.findings} == {shared}

    result = run_rescan(cfg, rules, "aws", ACCOUNT, [_target("aws.s3.access_point", "internet-ap")])
    assert result is not None
    assert [(r.type, r.name) for r in result.resources] == [("aws.s3.access_point", "internet-ap")]
    assert result.resources[0].exposure.level is not Level.UNKNOWN, "its bucket was read for the verdict"
    assert result.coverage[0].status is CoverageStatus.OK, result.coverage[0].errors
    assert result.raw[0]["calls"]["ListBuckets"]["ok"]["LeftOutOfTargetedRescan"] == 1


def test_what_the_config_does_not_watch_is_not_read(cfg: Config, moto: MotoServer) -> None:
    rules = configured_rules(cfg)
    assert run_rescan(cfg, rules, "aws", "999999999999", [_target("aws.s3.bucket", "x-y-z")]) is None
    assert run_rescan(cfg, rules, "aws", ACCOUNT, [_target("aws.ec2.snapshot", "snap-0123456789abcdef0",
                                                            region="ap-south-1")]) is None, "region not configured"
    assert run_rescan(cfg, rules, "gcp", ACCOUNT, None) is None, "a provider off (or without events)"


def test_a_whole_account_rescan(cfg: Config, moto: MotoServer) -> None:
    s3 = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    s3.create_bucket(Bucket="whole-one")
    s3.put_bucket_policy(Bucket="whole-one", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::whole-one/*"}]}))
    result = run_rescan(cfg, configured_rules(cfg), "aws", ACCOUNT, None)
    assert result is not None and result.coverage[0].targets is None
    assert {r.type for r in result.resources} >= {"aws.account", "aws.s3.bucket"}


def test_a_rescanned_exposure_says_whether_access_logging_records_it(cfg: Config, moto: MotoServer) -> None:
    """As a full scan does: the finding a rescan records carries the access logging answer (moto's bucket logs
    nothing: off), so an event-driven finding is no poorer than a scheduled one."""
    session: Any = account_session(moto.endpoint, region="eu-west-1")
    s3 = emulator_client(session, "s3", moto.endpoint, region="eu-west-1")
    s3.create_bucket(Bucket="opened-now", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(Bucket="opened-now", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::opened-now/*"}]}))
    result = run_rescan(cfg, configured_rules(cfg), "aws", ACCOUNT, [_target("aws.s3.bucket", "opened-now")])
    assert result is not None and result.findings
    for finding in result.findings:
        assert finding.access_logging is not None, finding.rule_id
        assert finding.access_logging.status == "off"


def test_a_member_of_an_organization_that_cannot_be_listed_is_an_error_not_unwatched(tmp_path: Path) -> None:
    """The management account cannot be entered (its endpoint refuses connections), so the member an event names
    cannot be found: an error of this rescan (the change is read again later), never "not watched" (the message
    would be dropped)."""
    from support.receivers import free_port

    path = tmp_path / "org.yaml"
    path.write_text(f"""providers:
  aws: {{endpoint_url: "http://127.0.0.1:{free_port()}", credential: emulator, organization: {{role_name: Audit}},
         regions: [eu-west-1], object_acl_sample: 0, max_attempts: 1}}
""")
    org_cfg = load_config(path)
    member = "210987654321"
    result = run_rescan(org_cfg, configured_rules(org_cfg), "aws", member,
                        [ChangeTarget("aws", member, "aws.s3.bucket", "b", "eu-west-1", "test")])
    assert result is not None, "an unreadable organization is not an unwatched account"
    (cov,) = result.coverage
    assert cov.account == member and cov.status is CoverageStatus.ERROR
    assert any("management account" in e for e in cov.errors), cov.errors
    assert not result.complete
