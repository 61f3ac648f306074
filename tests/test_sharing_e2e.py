"""Snapshots and images end to end against a real moto server: collect -> normalize -> exposure -> rules -> JSON.

Guardrail states and failures moto cannot produce (snapshot Block Public Access, AccessDenied) are injected with
botocore before-send handlers on the real session the collector uses (see tests/collectors/test_aws_sharing.py);
everything else is moto's answer over HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.cli import main
from cloudwatchdog.commands.scan import exit_code
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import CoverageStatus, Level, ScanResult, Severity
from cloudwatchdog.providers.aws.collect import collect_aws
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan
from tests.providers.aws.test_collect_sharing import ec2_error, snapshot_bpa

PARTNER = "444455556666"
ORG = "o-velora7x2k"
REGION = "eu-central-1"


def _seed(session: Any, endpoint: str) -> dict[str, str]:
    ec2 = emulator_client(session, "ec2", endpoint, region=REGION)
    rds = emulator_client(session, "rds", endpoint, region=REGION)
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=20)["VolumeId"]
    ids: dict[str, str] = {}
    for name, groups in (("crm-db", ["all"]), ("quiet", [])):
        ids[name] = ec2.create_snapshot(
            VolumeId=volume,
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": name}]}])["SnapshotId"]
        if groups:
            ec2.modify_snapshot_attribute(SnapshotId=ids[name], Attribute="createVolumePermission",
                                          OperationType="add", GroupNames=groups)
    for name, permission in (
        ("org-golden", {"OrganizationArn": f"arn:aws:organizations::{DEFAULT_ACCOUNT}:organization/{ORG}"}),
        ("partner-org", {"OrganizationArn": "arn:aws:organizations::999999999999:organization/o-partner0001"}),
    ):
        ids[name] = ec2.register_image(
            Name=name, RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}])["ImageId"]
        ec2.modify_image_attribute(ImageId=ids[name], LaunchPermission={"Add": [permission]})
    login = {"MasterUsername": "admin", "MasterUserPassword": "not-a-real-password-1"}
    rds.create_db_instance(DBInstanceIdentifier="customers", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, **login)
    rds.create_db_snapshot(DBSnapshotIdentifier="customers-final", DBInstanceIdentifier="customers")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="customers-final", AttributeName="restore",
                                     ValuesToAdd=["all"])
    rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", **login)
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="orders-weekly", DBClusterIdentifier="orders")
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="orders-weekly", AttributeName="restore",
                                             ValuesToAdd=[PARTNER])
    return ids


def _scan(moto: MotoServer, session: Any) -> ScanResult:
    cfg = Config(providers=Providers(aws=AwsProvider(
        endpoint_url=moto.endpoint, regions=[REGION], object_acl_sample=0, max_attempts=2,
        accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")], trusted_organizations=[ORG])))
    snapshots = collect_aws(cfg.providers.aws, session=session)  # type: ignore[arg-type]
    return run_scan(cfg, load_rules(), replay=snapshots)


def _findings(result: ScanResult) -> dict[str, list[tuple[str, Severity]]]:
    out: dict[str, list[tuple[str, Severity]]] = {}
    for f in result.findings:
        out.setdefault(f.resource_name, []).append((f.rule_id, f.severity))
    return out


@pytest.fixture
def seeded(moto: MotoServer) -> tuple[Any, dict[str, str]]:
    session = account_core(moto.endpoint)
    return session, _seed(session, moto.endpoint)


def test_verdicts_and_findings(moto: MotoServer, seeded: tuple[Any, dict[str, str]]) -> None:
    session, ids = seeded
    result = _scan(moto, session)
    by_name = {r.name: r for r in result.resources}
    verdict = {name: (by_name[i].exposure.level, by_name[i].exposure.latent) for name, i in ids.items()}
    assert verdict == {
        "crm-db": (Level.PUBLIC, False),
        "quiet": (Level.PRIVATE, False),
        "org-golden": (Level.PRIVATE, False),  # shared with the trusted organization only
        "partner-org": (Level.CROSS_ACCOUNT, False),
    }
    assert by_name[ids["partner-org"]].exposure.external_principals == ("org:o-partner0001",)
    assert by_name["customers-final"].exposure.level is Level.PUBLIC
    assert by_name["orders-weekly"].exposure.external_principals == (PARTNER,)
    found = _findings(result)
    assert found[ids["crm-db"]] == [("aws-ec2-snapshot-public", Severity.CRITICAL)]
    assert found[ids["partner-org"]] == [("aws-ec2-image-cross-account", Severity.MEDIUM)]
    assert found["customers-final"] == [("aws-rds-snapshot-public", Severity.CRITICAL)]
    assert found["orders-weekly"] == [("aws-rds-snapshot-cross-account", Severity.MEDIUM)]
    assert ids["quiet"] not in found and ids["org-golden"] not in found
    assert result.complete
    cluster = next(f for f in result.findings if f.resource_name == "orders-weekly")
    assert cluster.remediation.cli and "describe-db-cluster-snapshot-attributes" in cluster.remediation.cli
    assert "--db-cluster-snapshot-identifier orders-weekly" in cluster.remediation.cli
    public = next(f for f in result.findings if f.resource_name == ids["crm-db"])
    assert "(crm-db)" in public.message and f"--snapshot-id {ids['crm-db']}" in str(public.remediation.cli)


def test_block_all_sharing_makes_the_public_snapshot_latent(
    moto: MotoServer, seeded: tuple[Any, dict[str, str]]
) -> None:
    session, ids = seeded
    session.register("before-send.ec2.GetSnapshotBlockPublicAccessState", snapshot_bpa("block-all-sharing"))
    result = _scan(moto, session)
    crm = next(r for r in result.resources if r.name == ids["crm-db"])
    assert (crm.exposure.level, crm.exposure.latent, crm.exposure.read) == (Level.PRIVATE, True, True)
    assert crm.properties["block_public_access"]["state"] == "block-all-sharing"
    assert _findings(result)[ids["crm-db"]] == [("aws-ec2-snapshot-latent-public", Severity.MEDIUM)]
    # The guardrail is for EBS snapshots only: the public RDS snapshot stays public.
    assert next(r for r in result.resources if r.name == "customers-final").exposure.level is Level.PUBLIC


def test_block_new_sharing_does_not_help(moto: MotoServer, seeded: tuple[Any, dict[str, str]]) -> None:
    session, ids = seeded
    session.register("before-send.ec2.GetSnapshotBlockPublicAccessState", snapshot_bpa("block-new-sharing"))
    result = _scan(moto, session)
    assert _findings(result)[ids["crm-db"]] == [("aws-ec2-snapshot-public", Severity.CRITICAL)]


def test_an_unreadable_guardrail_makes_the_public_snapshot_unknown_and_the_scan_incomplete(
    moto: MotoServer, seeded: tuple[Any, dict[str, str]]
) -> None:
    session, ids = seeded
    session.register(
        "before-send.ec2.GetSnapshotBlockPublicAccessState",
        lambda **_: ec2_error(403, "UnauthorizedOperation", "You are not authorized to perform this operation."))
    result = _scan(moto, session)
    by_name = {r.name: r for r in result.resources}
    assert by_name[ids["crm-db"]].exposure.level is Level.UNKNOWN
    assert by_name[ids["quiet"]].exposure.level is Level.PRIVATE, "not shared: the guardrail does not matter"
    assert _findings(result)[ids["crm-db"]] == [("aws-resource-unreadable", Severity.HIGH)]
    [coverage] = result.coverage
    assert coverage.status is CoverageStatus.PARTIAL
    assert coverage.errors == (f"region {REGION}: GetSnapshotBlockPublicAccessState failed: UnauthorizedOperation: "
                               "You are not authorized to perform this operation.",)
    assert exit_code(result, None) == 3
    assert exit_code(result, "critical") == 1, "the public RDS snapshot is critical"


def test_cli_json_and_offline_replay(moto: MotoServer, seeded: tuple[Any, dict[str, str]], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _, ids = seeded
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"providers:\n  aws:\n    endpoint_url: {moto.endpoint}\n    regions: [{REGION}]\n"
                   f"    trusted_organizations: [{ORG}]\n    accounts:\n      - {{id: \"{DEFAULT_ACCOUNT}\"}}\n")
    raw = tmp_path / "raw.json"
    code = main(["scan", "-c", str(cfg), "--format", "json", "--output", "-", "--save-raw", str(raw),
                 "--fail-on", "critical"])
    live = json.loads(capsys.readouterr().out)
    assert code == 1
    types = {r["type"] for r in live["resources"]}
    assert {"aws.ec2.snapshot", "aws.ec2.image", "aws.rds.snapshot"} <= types
    crm = next(r for r in live["resources"] if r["name"] == ids["crm-db"])
    assert crm["uid"] == f"arn:aws:ec2:{REGION}:{DEFAULT_ACCOUNT}:snapshot/{ids['crm-db']}"
    assert crm["exposure"]["level"] == "public" and crm["region"] == REGION and crm["tags"] == {"Name": "crm-db"}
    image = next(r for r in live["resources"] if r["name"] == ids["org-golden"])
    assert image["uid"] == f"arn:aws:ec2:{REGION}::image/{ids['org-golden']}"

    dead = tmp_path / "dead.yaml"
    dead.write_text(cfg.read_text().replace(moto.endpoint, "http://127.0.0.1:9"))
    code = main(["scan", "-c", str(dead), "--format", "json", "--output", "-", "--from-raw", str(raw)])
    replayed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert replayed["resources"] == live["resources"]
