"""Verdicts of shared EBS snapshots, AMIs and RDS snapshots (shared/EXPOSURE.md, "Snapshots and images"): pure,
so typed inputs built here, one per case the spec and the AWS documentation distinguish."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.aws.exposure_sharing import (
    BlockPublicAccess,
    Grantee,
    SharedResource,
    ShareKind,
    grants_public,
    shared_exposure,
)

OWNER = "123456789012"
PARTNER = "444455556666"
ORG = "o-velora7x2k"
ALL = Grantee("group", "all")
DENIED = ReadError("GetSnapshotBlockPublicAccessState", "UnauthorizedOperation", "You are not authorized")


def snapshot(*grantees: Grantee, bpa: BlockPublicAccess | ReadError | None = None, **kw: object) -> SharedResource:
    return SharedResource(
        kind=ShareKind.EBS_SNAPSHOT,
        account=OWNER,
        region="eu-central-1",
        id="snap-0123456789abcdef0",
        arn=f"arn:aws:ec2:eu-central-1:{OWNER}:snapshot/snap-0123456789abcdef0",
        grantees=tuple(grantees),
        block_public_access=bpa if bpa is not None else BlockPublicAccess("unblocked", "account"),
        trusted_orgs=frozenset({ORG}),
        **kw,  # type: ignore[arg-type]
    )


def image(*grantees: Grantee, **kw: object) -> SharedResource:
    base = replace(snapshot(*grantees), kind=ShareKind.IMAGE, id="ami-0123456789abcdef0",
                   arn="arn:aws:ec2:eu-central-1::image/ami-0123456789abcdef0",
                   block_public_access=BlockPublicAccess("unblocked"))
    return replace(base, **kw)  # type: ignore[arg-type]


def rds(*grantees: Grantee, cluster: bool = False, **kw: object) -> SharedResource:
    kind = ShareKind.DB_CLUSTER_SNAPSHOT if cluster else ShareKind.DB_SNAPSHOT
    base = replace(snapshot(*grantees), kind=kind, id="customers-final", block_public_access=None,
                   arn=f"arn:aws:rds:eu-central-1:{OWNER}:snapshot:customers-final")
    return replace(base, **kw)  # type: ignore[arg-type]


def sources(res: SharedResource) -> list[str]:
    return [e.source for e in shared_exposure(res).evidence]


def details(res: SharedResource) -> str:
    return " | ".join(e.detail for e in shared_exposure(res).evidence)


# --- EBS snapshots ----------------------------------------------------------------------------------------------


def test_group_all_with_guardrail_unblocked_is_public_and_readable() -> None:
    exposure = shared_exposure(snapshot(ALL))
    assert (exposure.level, exposure.latent, exposure.read, exposure.list, exposure.write) == (
        Level.PUBLIC, False, True, False, False)
    assert exposure.evidence[0].source == "snapshot-permission" and "group all" in exposure.evidence[0].detail
    assert "unblocked in eu-central-1" in details(snapshot(ALL))


def test_block_new_sharing_leaves_an_already_public_snapshot_public() -> None:
    res = snapshot(ALL, bpa=BlockPublicAccess("block-new-sharing", "declarative-policy"))
    assert shared_exposure(res).level is Level.PUBLIC
    assert "only refuses new public sharing" in details(res) and "managed by declarative-policy" in details(res)


def test_block_all_sharing_makes_it_latent() -> None:
    exposure = shared_exposure(snapshot(ALL, bpa=BlockPublicAccess("block-all-sharing")))
    assert (exposure.level, exposure.latent, exposure.read) == (Level.PRIVATE, True, True)
    assert any("neutralised (latent)" in e.detail for e in exposure.evidence)


def test_block_all_sharing_does_not_cut_sharing_with_named_accounts() -> None:
    exposure = shared_exposure(snapshot(ALL, Grantee("account", PARTNER), bpa=BlockPublicAccess("block-all-sharing")))
    assert (exposure.level, exposure.latent, exposure.external_principals) == (Level.CROSS_ACCOUNT, True, (PARTNER,))


def test_public_with_an_unreadable_guardrail_is_unknown_never_private() -> None:
    res = snapshot(ALL, bpa=DENIED)
    exposure = shared_exposure(res)
    assert (exposure.level, exposure.latent) == (Level.UNKNOWN, False)
    assert "UnauthorizedOperation" in details(res) and "cannot be told apart" in details(res)
    assert grants_public(res) is True  # the unreadable-resource rule escalates on this


def test_an_unreadable_guardrail_does_not_matter_for_a_snapshot_that_is_not_public() -> None:
    assert shared_exposure(snapshot(bpa=DENIED)).level is Level.PRIVATE
    cross = shared_exposure(snapshot(Grantee("account", PARTNER), bpa=DENIED))
    assert (cross.level, cross.external_principals) == (Level.CROSS_ACCOUNT, (PARTNER,))


def test_an_endpoint_without_the_guardrail_has_none_in_force() -> None:
    res = snapshot(ALL, bpa=BlockPublicAccess(None, unavailable="GetSnapshotBlockPublicAccessState: InvalidAction"))
    assert shared_exposure(res).level is Level.PUBLIC
    assert "not available at this endpoint (GetSnapshotBlockPublicAccessState: InvalidAction)" in details(res)


def test_named_accounts_are_cross_account_and_the_owner_is_not() -> None:
    res = snapshot(Grantee("account", PARTNER), Grantee("account", OWNER), Grantee("account", "210987654321"))
    exposure = shared_exposure(res)
    assert (exposure.level, exposure.read) == (Level.CROSS_ACCOUNT, True)
    assert exposure.external_principals == ("210987654321", PARTNER)
    assert "names the owning account 123456789012 itself (no effect)" in details(res)


def test_not_shared_is_private_and_says_so() -> None:
    exposure = shared_exposure(snapshot())
    assert (exposure.level, exposure.read, exposure.latent) == (Level.PRIVATE, False, False)
    assert "not shared with anyone" in exposure.evidence[0].detail


def test_an_unreadable_permission_is_unknown() -> None:
    denied = ReadError("DescribeSnapshotAttribute", "UnauthorizedOperation", "denied")
    res = replace(snapshot(), grantees=denied)
    exposure = shared_exposure(res)
    assert exposure.level is Level.UNKNOWN and exposure.evidence[0].source == "read-error"
    assert grants_public(res) is None


def test_another_error_makes_even_a_public_snapshot_unknown() -> None:
    gone = ReadError("DescribeSnapshotAttribute", "InvalidSnapshot.NotFound", "deleted mid-scan")
    exposure = shared_exposure(snapshot(ALL, other_errors=(gone,)))
    assert exposure.level is Level.UNKNOWN and "InvalidSnapshot.NotFound" in exposure.evidence[0].detail


def test_an_encrypted_public_snapshot_is_still_public_with_a_note() -> None:
    res = snapshot(ALL, encrypted=True, kms_key_id="arn:aws:kms:eu-central-1:123456789012:key/k1")
    assert shared_exposure(res).level is Level.PUBLIC
    assert "AWS refuses to share encrypted snapshots publicly" in details(res) and "key/k1" in details(res)
    assert sources(res).index("snapshot-permission") < sources(res).index("encryption"), "decisive evidence first"


def test_an_encrypted_cross_account_snapshot_notes_the_key() -> None:
    res = snapshot(Grantee("account", PARTNER), encrypted=True)
    assert shared_exposure(res).level is Level.CROSS_ACCOUNT
    assert "also need permission to use the key" in details(res)


# --- AMIs -------------------------------------------------------------------------------------------------------


def test_image_block_public_access_never_makes_a_public_ami_private() -> None:
    for bpa in (BlockPublicAccess("block-new-sharing"), BlockPublicAccess("unblocked"),
                ReadError("GetImageBlockPublicAccessState", "Throttling", "slow down")):
        res = image(ALL, block_public_access=bpa)
        exposure = shared_exposure(res)
        assert (exposure.level, exposure.latent, exposure.read) == (Level.PUBLIC, False, True), bpa
    assert "this AMI, already public, stays public" in details(image(ALL, block_public_access=BlockPublicAccess(
        "block-new-sharing")))


def test_ami_shared_with_the_trusted_organization_is_private() -> None:
    org = Grantee("organization", f"arn:aws:organizations::{OWNER}:organization/{ORG}")
    unit = Grantee("organizational-unit", f"arn:aws:organizations::{OWNER}:ou/{ORG}/ou-ab12-cdefgh34")
    res = image(org, unit)
    assert shared_exposure(res).level is Level.PRIVATE
    assert "inside the trusted organization o-velora7x2k" in details(res)


def test_ami_shared_with_another_organization_or_unit_is_cross_account() -> None:
    other = Grantee("organization", "arn:aws:organizations::999999999999:organization/o-partner0001")
    unit = Grantee("organizational-unit", "arn:aws:organizations::999999999999:ou/o-partner0001/ou-zz99-abcdefgh")
    exposure = shared_exposure(image(other, unit))
    assert exposure.level is Level.CROSS_ACCOUNT
    assert exposure.external_principals == ("org:o-partner0001", "ou:o-partner0001/ou-zz99-abcdefgh")


@pytest.mark.parametrize(("launch_all", "flag"), [(False, True), (True, False)])
def test_aws_public_flag_and_launch_permission_disagreeing_is_public(launch_all: bool, flag: bool) -> None:
    res = image(*([ALL] if launch_all else []), aws_public_flag=flag)
    exposure = shared_exposure(res)
    assert exposure.level is Level.PUBLIC
    assert any(e.source == "aws-image-public" and f"Public={str(flag).lower()}" in e.detail
               for e in exposure.evidence)
    assert grants_public(res) is True


def test_unreadable_launch_permission_of_an_ami_aws_calls_public_is_public() -> None:
    denied = ReadError("DescribeImageAttribute", "UnauthorizedOperation", "denied")
    exposure = shared_exposure(image(grantees=denied, aws_public_flag=True))
    assert exposure.level is Level.PUBLIC and exposure.read
    assert exposure.evidence[0].source == "read-error", "the unread setting is still shown"
    assert shared_exposure(image(grantees=denied, aws_public_flag=False)).level is Level.UNKNOWN


def test_public_ami_notes_its_backing_snapshots() -> None:
    res = image(ALL, backing_snapshots=("snap-0aaa", "snap-0bbb"))
    assert "anyone can launch the AMI and read the volumes created from its snapshots snap-0aaa, snap-0bbb" in (
        details(res))


# --- RDS --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", [False, True])
def test_rds_restore_all_is_public_with_no_guardrail(cluster: bool) -> None:
    res = rds(ALL, cluster=cluster)
    exposure = shared_exposure(res)
    assert (exposure.level, exposure.read, exposure.latent) == (Level.PUBLIC, True, False)
    assert sources(res)[0] == "restore-attribute"
    assert "RDS has no Block Public Access setting for snapshots" in details(res)
    noun = "RDS DB cluster snapshot" if cluster else "RDS DB snapshot"
    assert noun in details(res)


def test_rds_restore_accounts_are_cross_account() -> None:
    exposure = shared_exposure(rds(Grantee("account", "210987654321")))
    assert (exposure.level, exposure.external_principals) == (Level.CROSS_ACCOUNT, ("210987654321",))


def test_kinds_map_to_the_design_resource_types() -> None:
    assert [k.resource_type for k in ShareKind] == [
        "aws.ec2.snapshot", "aws.ec2.image", "aws.rds.snapshot", "aws.rds.snapshot"]
