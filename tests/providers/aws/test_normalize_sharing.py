"""The sharing normalizer: raw ``sharing`` sections (the collector's recorded answers) -> typed resources. Pure, so
the raw answers are written here in the shape the collector records them (tests/collectors/test_aws_sharing.py
checks that shape against a real moto server); malformed and failed answers must become errors, never crashes and
never silently private resources."""

from __future__ import annotations

from typing import Any

import pytest

from cloudwatchdog.model import CoverageStatus, Level, ReadError
from cloudwatchdog.providers.aws.exposure_sharing import BlockPublicAccess, Grantee, ShareKind
from cloudwatchdog.providers.aws.inventory import analyse_snapshot
from cloudwatchdog.providers.aws.normalize import ShapeError
from cloudwatchdog.providers.aws.normalize_sharing import (
    normalize_sharing,
    parse_create_volume_permissions,
    parse_db_cluster_snapshot_attributes,
    parse_db_snapshot_attributes,
    parse_image_bpa,
    parse_launch_permissions,
    parse_snapshot_bpa,
)

ACCOUNT = "123456789012"
ALL = Grantee("group", "all")


def ok(payload: Any) -> dict[str, Any]:
    return {"ok": payload}


def err(operation: str, code: str = "UnauthorizedOperation") -> dict[str, Any]:
    return {"error": {"operation": operation, "code": code, "message": "You are not authorized"}}


def ebs(snapshot_id: str, permissions: list[dict[str, str]] | None, **listing: Any) -> dict[str, Any]:
    entry = {"SnapshotId": snapshot_id, "OwnerId": ACCOUNT, "Encrypted": False, "VolumeId": "vol-1",
             "VolumeSize": 8, "State": "completed", "Tags": [{"Key": "Name", "Value": f"{snapshot_id}-name"}],
             **listing}
    calls = {} if permissions is None else {"DescribeSnapshotAttribute": ok(
        {"SnapshotId": snapshot_id, "CreateVolumePermissions": permissions})}
    return {"id": snapshot_id, "listing": entry, "calls": calls}


def region(
    *snapshots: dict[str, Any],
    images: tuple[dict[str, Any], ...] = (),
    db: tuple[dict[str, Any], ...] = (),
    clusters: tuple[dict[str, Any], ...] = (),
    snapshot_bpa: dict[str, Any] | None = None,
    image_bpa: dict[str, Any] | None = None,
    listing_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    calls = {
        "DescribeSnapshots": ok({"Snapshots": [s["listing"] for s in snapshots]}),
        "DescribeImages": ok({"Images": [i["listing"] for i in images]}),
        "DescribeDBSnapshots": ok({"DBSnapshots": [d["listing"] for d in db]}),
        "DescribeDBClusterSnapshots": ok({"DBClusterSnapshots": [c["listing"] for c in clusters]}),
        "GetSnapshotBlockPublicAccessState": snapshot_bpa or ok({"State": "unblocked", "ManagedBy": "account"}),
        "GetImageBlockPublicAccessState": image_bpa or ok({"ImageBlockPublicAccessState": "unblocked"}),
        **(listing_overrides or {}),
    }
    return {"calls": calls, "ebs_snapshots": list(snapshots), "images": list(images), "db_snapshots": list(db),
            "db_cluster_snapshots": list(clusters)}


def account(regions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schema_version": 1, "provider": "aws", "account": ACCOUNT, "name": "prod", "status": "ok",
            "error": None, "api_calls": 3, "calls": {"GetPublicAccessBlock": {"absent": "x"},
                                                    "ListBuckets": ok({"Buckets": []})},
            "buckets": [], "access_point_listings": {}, "access_points": [],
            "trusted_orgs": ["o-velora7x2k"],
            "sharing": {"regions_from": "config", "calls": {}, "regions": regions, **extra}}


# --- Parsers ----------------------------------------------------------------------------------------------------


def test_create_volume_permissions() -> None:
    assert parse_create_volume_permissions({"CreateVolumePermissions": [{"Group": "all"}, {"UserId": "1"}]}) == (
        ALL, Grantee("account", "1"))
    assert parse_create_volume_permissions({"SnapshotId": "snap-1"}) == (), "EC2 omits an empty list"


@pytest.mark.parametrize("payload", [
    {"CreateVolumePermissions": [{"Group": "everyone"}]},
    {"CreateVolumePermissions": [{}]},
    {"CreateVolumePermissions": "all"},
    {"CreateVolumePermissions": [{"UserId": 444455556666}]},
    "not a mapping",
])
def test_create_volume_permissions_that_are_not_understood_are_shape_errors(payload: Any) -> None:
    with pytest.raises(ShapeError):
        parse_create_volume_permissions(payload)


def test_launch_permissions_include_organizations() -> None:
    payload = {"LaunchPermissions": [
        {"Group": "all"}, {"UserId": "444455556666"},
        {"OrganizationArn": "arn:aws:organizations::1:organization/o-abc"},
        {"OrganizationalUnitArn": "arn:aws:organizations::1:ou/o-abc/ou-1"}]}
    assert [g.kind for g in parse_launch_permissions(payload)] == [
        "group", "account", "organization", "organizational-unit"]
    with pytest.raises(ShapeError):
        parse_create_volume_permissions({"CreateVolumePermissions": [{"OrganizationArn": "arn:x"}]})


def test_rds_restore_attribute() -> None:
    payload = {"DBSnapshotAttributesResult": {"DBSnapshotIdentifier": "s", "DBSnapshotAttributes": [
        {"AttributeName": "restore", "AttributeValues": ["all", "210987654321"]},
        {"AttributeName": "something-else", "AttributeValues": ["x"]}]}}
    assert parse_db_snapshot_attributes(payload) == (ALL, Grantee("account", "210987654321"))
    cluster = {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotAttributes": [
        {"AttributeName": "restore", "AttributeValues": []}]}}
    assert parse_db_cluster_snapshot_attributes(cluster) == ()
    with pytest.raises(ShapeError):
        parse_db_snapshot_attributes({"DBSnapshotAttributes": []})  # the result wrapper is missing


def test_rds_restore_attribute_not_shared() -> None:
    empty = {"DBSnapshotAttributesResult": {"DBSnapshotAttributes": [
        {"AttributeName": "restore", "AttributeValues": []}]}}
    assert parse_db_snapshot_attributes(empty) == (), "[] is genuinely shared with no one"
    no_values = {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotAttributes": [
        {"AttributeName": "restore"}]}}
    assert parse_db_cluster_snapshot_attributes(no_values) == (), "botocore drops an empty AttributeValues list"


# RDS always returns the restore attribute: an answer without it says nothing about sharing.
RDS_WITHOUT_RESTORE = [
    pytest.param(parse_db_snapshot_attributes, {"DBSnapshotAttributesResult": {}}, id="db result without list"),
    pytest.param(parse_db_snapshot_attributes, {"DBSnapshotAttributesResult": {"DBSnapshotAttributes": []}},
                 id="db list without restore"),
    pytest.param(parse_db_snapshot_attributes, {"DBSnapshotAttributesResult": {"DBSnapshotAttributes": [
        {"AttributeName": "copy", "AttributeValues": ["all"]}]}}, id="db list with another attribute only"),
    pytest.param(parse_db_cluster_snapshot_attributes, {"DBClusterSnapshotAttributesResult": {}},
                 id="cluster result without list"),
    pytest.param(parse_db_cluster_snapshot_attributes,
                 {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotAttributes": []}},
                 id="cluster list without restore"),
    pytest.param(parse_db_cluster_snapshot_attributes, {"DBSnapshotAttributesResult": {"DBSnapshotAttributes": [
        {"AttributeName": "restore", "AttributeValues": ["all"]}]}}, id="cluster answer under the db key"),
]


@pytest.mark.parametrize(("parse", "payload"), RDS_WITHOUT_RESTORE)
def test_rds_answer_without_the_restore_attribute_is_a_shape_error(parse: Any, payload: Any) -> None:
    with pytest.raises(ShapeError):
        parse(payload)


@pytest.mark.parametrize(("clustered", "payload"), [
    (False, {"DBSnapshotAttributesResult": {}}),
    (False, {"DBSnapshotAttributesResult": {"DBSnapshotAttributes": []}}),
    (True, {"DBClusterSnapshotAttributesResult": {}}),
    (True, {"DBClusterSnapshotAttributesResult": {"DBClusterSnapshotAttributes": []}}),
])
def test_rds_snapshot_with_a_strange_attributes_answer_is_unknown_not_private(
    clustered: bool, payload: dict[str, Any]
) -> None:
    if clustered:
        entry = {"id": "orders", "listing": {"DBClusterSnapshotIdentifier": "orders"},
                 "calls": {"DescribeDBClusterSnapshotAttributes": ok(payload)}}
        section = region(clusters=(entry,))
    else:
        entry = {"id": "orders", "listing": {"DBSnapshotIdentifier": "orders"},
                 "calls": {"DescribeDBSnapshotAttributes": ok(payload)}}
        section = region(db=(entry,))
    resources, coverage = analyse_snapshot(account({"us-east-1": section}))
    found = next(r for r in resources if r.name == "orders")
    assert found.exposure.level is Level.UNKNOWN
    assert any("InvalidResponse" in e.detail for e in found.exposure.evidence), found.exposure.evidence
    assert coverage.status is CoverageStatus.PARTIAL and any("orders" in e for e in coverage.errors)


def test_block_public_access_states() -> None:
    assert parse_snapshot_bpa({"State": "block-all-sharing", "ManagedBy": "declarative-policy"}) == (
        BlockPublicAccess("block-all-sharing", "declarative-policy"))
    assert parse_image_bpa({"ImageBlockPublicAccessState": "block-new-sharing"}) == BlockPublicAccess(
        "block-new-sharing")
    for bad in ({"State": "block-everything"}, {}, {"State": None}):
        with pytest.raises(ShapeError):
            parse_snapshot_bpa(bad)
    with pytest.raises(ShapeError):
        parse_image_bpa({"ImageBlockPublicAccessState": "block-all-sharing"})  # not a state AMIs have


# --- Sections ---------------------------------------------------------------------------------------------------


def test_no_section_means_not_collected_and_no_error() -> None:
    raw = account({})
    del raw["sharing"]
    inv = normalize_sharing(raw)
    assert (inv.collected, inv.resources, inv.errors) == (False, (), ())


def test_a_complete_region() -> None:
    image = {"id": "ami-1", "listing": {"ImageId": "ami-1", "Name": "base", "Public": False, "Tags": [],
                                        "BlockDeviceMappings": [{"Ebs": {"SnapshotId": "snap-r", "Encrypted": True}}]},
             "calls": {"DescribeImageAttribute": ok({"LaunchPermissions": [{"UserId": "444455556666"}]})}}
    db = {"id": "customers", "listing": {"DBSnapshotIdentifier": "customers", "Encrypted": False,
                                         "DBInstanceIdentifier": "customers-db", "Engine": "postgres",
                                         "DBSnapshotArn": f"arn:aws:rds:eu-west-1:{ACCOUNT}:snapshot:customers",
                                         "TagList": [{"Key": "team", "Value": "crm"}]},
          "calls": {"DescribeDBSnapshotAttributes": ok({"DBSnapshotAttributesResult": {"DBSnapshotAttributes": [
              {"AttributeName": "restore", "AttributeValues": ["all"]}]}})}}
    inv = normalize_sharing(account({"eu-west-1": region(ebs("snap-1", [{"Group": "all"}]), images=(image,),
                                                         db=(db,))}))
    assert inv.errors == () and inv.regions == ("eu-west-1",)
    by_id = {r.id: r for r in inv.resources}
    snap, ami, rds = by_id["snap-1"], by_id["ami-1"], by_id["customers"]
    assert snap.kind is ShareKind.EBS_SNAPSHOT and snap.grantees == (ALL,)
    assert snap.arn == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:snapshot/snap-1" and snap.tags == {"Name": "snap-1-name"}
    assert snap.block_public_access == BlockPublicAccess("unblocked", "account")
    assert snap.trusted_orgs == frozenset({"o-velora7x2k"})
    assert ami.block_public_access == BlockPublicAccess("unblocked") and ami.backing_snapshots == ("snap-r",)
    assert (ami.encrypted, ami.aws_public_flag, ami.arn) == (True, False, "arn:aws:ec2:eu-west-1::image/ami-1")
    assert rds.block_public_access is None and rds.arn.endswith(":snapshot:customers")
    assert rds.details["source"] == "customers-db" and rds.tags == {"team": "crm"}


def test_an_unimplemented_guardrail_is_unavailable_not_an_error() -> None:
    inv = normalize_sharing(account({"us-east-1": region(
        ebs("snap-1", []), snapshot_bpa={"absent": "InvalidAction"}, image_bpa={"absent": "UnsupportedOperation"})}))
    assert inv.errors == ()
    assert inv.resources[0].block_public_access == BlockPublicAccess(
        None, unavailable="GetSnapshotBlockPublicAccessState: InvalidAction")


def test_an_unreadable_or_strange_guardrail_is_an_error_of_the_region() -> None:
    inv = normalize_sharing(account({
        "us-east-1": region(ebs("snap-1", [{"Group": "all"}]), snapshot_bpa=err("GetSnapshotBlockPublicAccessState")),
        "eu-west-1": region(ebs("snap-2", [{"Group": "all"}]), snapshot_bpa=ok({"State": "paused"})),
    }))
    by_id = {r.id: r for r in inv.resources}
    assert isinstance(by_id["snap-1"].block_public_access, ReadError)
    bad = by_id["snap-2"].block_public_access
    assert isinstance(bad, ReadError) and bad.code == "InvalidResponse" and "paused" in bad.message
    assert any(e.startswith("region us-east-1: GetSnapshotBlockPublicAccessState failed: Unauthorized")
               for e in inv.errors)
    assert any(e.startswith("region eu-west-1: GetSnapshotBlockPublicAccessState failed: InvalidResponse")
               for e in inv.errors)


def test_a_listing_that_failed_half_way_keeps_what_arrived_and_is_an_error() -> None:
    raw = account({"us-east-1": region(ebs("snap-1", [{"Group": "all"}]), listing_overrides={
        "DescribeSnapshots": err("DescribeSnapshots", "RequestLimitExceeded")})})
    inv = normalize_sharing(raw)
    assert [r.id for r in inv.resources] == ["snap-1"]
    assert inv.errors == ("EBS snapshots in us-east-1: DescribeSnapshots failed: RequestLimitExceeded: "
                          "You are not authorized",)
    resources, coverage = analyse_snapshot(raw)
    assert coverage.status is CoverageStatus.PARTIAL and coverage.errors == inv.errors
    assert next(r for r in resources if r.name == "snap-1").exposure.level is Level.PUBLIC


def test_listed_but_never_read_is_an_error() -> None:
    snap = ebs("snap-1", [])
    section = region(snap)
    section["calls"]["DescribeSnapshots"] = ok({"Snapshots": [snap["listing"], {"SnapshotId": "snap-lost"}]})
    inv = normalize_sharing(account({"us-east-1": section}))
    assert inv.errors == ("EBS snapshot snap-lost: DescribeSnapshots failed: NotCollected: listed, but its sharing "
                          "was not read",)


def test_a_resource_whose_attribute_was_never_recorded_is_unknown() -> None:
    raw = account({"us-east-1": region(ebs("snap-1", None))})  # the worker crashed: no calls at all
    resources, coverage = analyse_snapshot(raw)
    snap = next(r for r in resources if r.name == "snap-1")
    assert snap.exposure.level is Level.UNKNOWN and snap.properties["read_errors"]
    assert coverage.status is CoverageStatus.PARTIAL and any("snap-1" in e for e in coverage.errors)


def test_a_malformed_attribute_answer_is_unknown_not_private() -> None:
    snap = ebs("snap-1", [])
    snap["calls"]["DescribeSnapshotAttribute"] = ok({"CreateVolumePermissions": [{"Group": "everyone"}]})
    resources, coverage = analyse_snapshot(account({"us-east-1": region(snap)}))
    found = next(r for r in resources if r.name == "snap-1")
    assert found.exposure.level is Level.UNKNOWN
    assert any("InvalidResponse" in e.detail for e in found.exposure.evidence)
    assert coverage.status is CoverageStatus.PARTIAL


def test_malformed_tags_are_an_error_but_do_not_change_the_verdict() -> None:
    raw = account({"us-east-1": region(ebs("snap-1", [{"Group": "all"}], Tags=[{"Key": 1}]))})
    resources, coverage = analyse_snapshot(raw)
    snap = next(r for r in resources if r.name == "snap-1")
    assert snap.exposure.level is Level.PUBLIC and snap.tags == {}
    assert coverage.status is CoverageStatus.PARTIAL and len(coverage.errors) == 1


@pytest.mark.parametrize("section", ["nonsense", {"error": "reading snapshot and image sharing failed: X: y"},
                                     {"regions": ["us-east-1"]}, {"regions": {"us-east-1": "x"}}])
def test_a_broken_section_is_an_error_not_a_crash(section: Any) -> None:
    raw = account({})
    raw["sharing"] = section
    resources, coverage = analyse_snapshot(raw)
    assert coverage.status is CoverageStatus.PARTIAL and coverage.errors
    assert all(r.type == "aws.account" for r in resources)


def test_describe_regions_failure_is_an_error() -> None:
    raw = account({"us-east-1": region()}, regions_from="DescribeRegions",
                  calls={"DescribeRegions": err("DescribeRegions")})
    assert normalize_sharing(raw).errors == (
        "regions: DescribeRegions failed: UnauthorizedOperation: You are not authorized",)


def test_sharing_resources_survive_an_account_whose_buckets_could_not_be_listed() -> None:
    raw = account({"us-east-1": region(ebs("snap-1", [{"Group": "all"}]))})
    raw.update(status="error", error="cannot list buckets: AccessDenied: denied")
    resources, coverage = analyse_snapshot(raw)
    assert coverage.status is CoverageStatus.ERROR and coverage.resources == 1
    assert [(r.name, r.exposure.level) for r in resources] == [("snap-1", Level.PUBLIC)]


def test_resource_properties_for_rules() -> None:
    resources, _ = analyse_snapshot(account({"us-east-1": region(
        ebs("snap-1", [{"Group": "all"}, {"UserId": "444455556666"}, {"UserId": ACCOUNT}]))}))
    snap = next(r for r in resources if r.name == "snap-1")
    assert snap.type == "aws.ec2.snapshot" and snap.uid == f"arn:aws:ec2:us-east-1:{ACCOUNT}:snapshot/snap-1"
    props = snap.properties
    assert props["snapshot_kind"] == "ebs-snapshot" and props["public_settings"] is True
    assert props["shared_with_accounts"] == ["444455556666"]
    assert props["block_public_access"] == {"setting": "snapshot", "state": "unblocked", "managed_by": "account",
                                           "unavailable": None, "error": None}
    assert props["volume_id"] == "vol-1" and props["read_errors"] == []
