"""The sharing collector (EBS snapshots, AMIs, RDS snapshots) against a real moto server subprocess, over HTTP
with real boto3 clients.

moto neither enforces IAM nor throttles, and does not implement snapshot or image Block Public Access (the
harness answers those InvalidAction, as an AWS endpoint without the action would). Failures and guardrail states
moto cannot produce are injected in-process with botocore ``before-send`` handlers on the session the collector
uses: the handler answers instead of moto for the matching request only; every other request goes to moto.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import CoverageStatus, Level, ReadError
from cloudwatchdog.providers.aws.collect import AccountReader, collect_aws
from cloudwatchdog.providers.aws.collect_sharing import KINDS, paginate
from cloudwatchdog.providers.aws.exposure_sharing import BlockPublicAccess, Grantee
from cloudwatchdog.providers.aws.inventory import analyse_snapshot
from cloudwatchdog.providers.aws.normalize_sharing import normalize_sharing
from cloudwatchdog.providers.aws.session import CallCounter, ClientFactory
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from tests.conftest import OTHER_ACCOUNT

PARTNER = "444455556666"
XML = HTTPHeaders.from_dict({"Content-Type": "text/xml"})


# --- Injection helpers (also used by tests/test_sharing_e2e.py) ----------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def ec2_error(status: int, code: str, message: str = "injected") -> AWSResponse:
    body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>injected</RequestID></Response>").encode()
    return AWSResponse("http://127.0.0.1/injected", status, XML, _Body(body))


def ec2_answer(operation: str, fields: dict[str, str]) -> AWSResponse:
    """A successful EC2 answer (XML), for operations moto does not implement."""
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = f"<{operation}Response><requestId>injected</requestId>{inner}</{operation}Response>".encode()
    return AWSResponse("http://127.0.0.1/injected", 200, XML, _Body(body))


def request_region(request: Any) -> str:
    auth = request.headers.get("Authorization", b"")
    text = auth.decode() if isinstance(auth, bytes) else str(auth)
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", text)
    return match.group(1) if match else ""


def request_params(request: Any) -> dict[str, str]:
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
    return dict(urllib.parse.parse_qsl(body))


def snapshot_bpa(state: str, region: str | None = None) -> Callable[..., AWSResponse | None]:
    """A before-send handler answering GetSnapshotBlockPublicAccessState with ``state`` (in ``region`` only)."""

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if region is None or request_region(request) == region:
            return ec2_answer("GetSnapshotBlockPublicAccessState", {"state": state, "managedBy": "account"})
        return None

    return handler


# --- Seeding ----------------------------------------------------------------------------------------------------


def seed(session: Any, endpoint: str, region: str, prefix: str) -> dict[str, str]:
    """A public, a partner-shared and a private EBS snapshot, an AMI shared with the partner, a public DB snapshot
    and a private cluster snapshot. Returns name -> id."""
    ec2 = emulator_client(session, "ec2", endpoint, region=region)
    rds = emulator_client(session, "rds", endpoint, region=region)
    ids: dict[str, str] = {}
    volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
    for name, groups, users in (("public", ["all"], []), ("partner", [], [PARTNER]), ("private", [], [])):
        snap = ec2.create_snapshot(
            VolumeId=volume, Description=f"{prefix} {name}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": f"{prefix}-{name}"}]}],
        )["SnapshotId"]
        if groups or users:
            ec2.modify_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission", OperationType="add",
                                          GroupNames=groups, UserIds=users)
        ids[name] = snap
    image = ec2.register_image(Name=f"{prefix}-image", RootDeviceName="/dev/xvda",
                               BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}])["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": PARTNER}]})
    ids["image"] = image
    login = {"MasterUsername": "admin", "MasterUserPassword": "not-a-real-password-1"}
    rds.create_db_instance(DBInstanceIdentifier=f"{prefix}-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, **login)
    rds.create_db_snapshot(DBSnapshotIdentifier=f"{prefix}-db-final", DBInstanceIdentifier=f"{prefix}-db")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{prefix}-db-final", AttributeName="restore",
                                     ValuesToAdd=["all"])
    rds.create_db_cluster(DBClusterIdentifier=f"{prefix}-aurora", Engine="aurora-postgresql", **login)
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=f"{prefix}-aurora-snap",
                                   DBClusterIdentifier=f"{prefix}-aurora")
    return ids


def provider(moto: MotoServer, **kwargs: Any) -> AwsProvider:
    values: dict[str, Any] = {"endpoint_url": moto.endpoint, "regions": ["us-east-1", "eu-west-1"],
                              "max_attempts": 2, "object_acl_sample": 0,
                              "accounts": [AwsAccount(id=DEFAULT_ACCOUNT, name="prod")]}
    values.update(kwargs)
    return AwsProvider(**values)


def levels(snapshot: dict[str, Any]) -> dict[str, tuple[str, Level]]:
    resources, _ = analyse_snapshot(snapshot)
    return {r.name: (r.region, r.exposure.level) for r in resources if r.type != "aws.account"}


# --- Tests ------------------------------------------------------------------------------------------------------


def test_reads_every_kind_in_every_region_of_two_accounts(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    prod_ids = seed(aws_sessions[DEFAULT_ACCOUNT], moto.endpoint, "eu-west-1", "prod")
    seed(aws_sessions[OTHER_ACCOUNT], moto.endpoint, "us-east-1", "ana")
    cfg = provider(moto, accounts=[
        AwsAccount(id=DEFAULT_ACCOUNT, name="prod"),
        AwsAccount(id=OTHER_ACCOUNT, name="analytics", role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit")])
    events: list[tuple[str, int]] = []
    prod, analytics = collect_aws(cfg, session=account_core(moto.endpoint),
                                  progress=lambda label, n: events.append((label, n)))

    section = prod["sharing"]
    assert section["regions_from"] == "config" and sorted(section["regions"]) == ["eu-west-1", "us-east-1"]
    west = section["regions"]["eu-west-1"]
    # moto has no snapshot/image Block Public Access: its harness answers InvalidAction, recorded as absent.
    assert west["calls"]["GetSnapshotBlockPublicAccessState"] == {"absent": "InvalidAction"}
    assert west["calls"]["GetImageBlockPublicAccessState"] == {"absent": "InvalidAction"}
    # Three snapshots plus the AMI's root snapshot, which moto creates with the image.
    assert len(west["ebs_snapshots"]) == 4 and [i["id"] for i in west["images"]] == [prod_ids["image"]]
    assert [d["id"] for d in west["db_snapshots"]] == ["prod-db-final"]
    assert [c["id"] for c in west["db_cluster_snapshots"]] == ["prod-aurora-snap"]
    public = next(s for s in west["ebs_snapshots"] if s["id"] == prod_ids["public"])
    assert public["calls"]["DescribeSnapshotAttribute"]["ok"]["CreateVolumePermissions"] == [{"Group": "all"}]
    assert public["listing"]["Tags"] == [{"Key": "Name", "Value": "prod-public"}]
    assert section["regions"]["us-east-1"]["ebs_snapshots"] == [], "each account sees only its own snapshots"

    got = levels(prod)
    assert got[prod_ids["public"]] == ("eu-west-1", Level.PUBLIC)
    assert got[prod_ids["partner"]] == ("eu-west-1", Level.CROSS_ACCOUNT)
    assert got[prod_ids["private"]] == ("eu-west-1", Level.PRIVATE)
    assert got[prod_ids["image"]] == ("eu-west-1", Level.CROSS_ACCOUNT)
    assert got["prod-db-final"] == ("eu-west-1", Level.PUBLIC)
    assert got["prod-aurora-snap"] == ("eu-west-1", Level.PRIVATE)
    assert {n for n, (region, _) in levels(analytics).items() if region == "us-east-1"} >= {
        "ana-db-final", "ana-aurora-snap"}
    _, coverage = analyse_snapshot(prod)
    assert coverage.status is CoverageStatus.OK and coverage.errors == ()
    assert (f"{DEFAULT_ACCOUNT}/snapshot/{prod_ids['public']}", 1) in events
    assert (f"{OTHER_ACCOUNT}/db-cluster-snapshot/ana-aurora-snap", 1) in events


def test_api_calls_per_region_and_resource(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    seed(session, moto.endpoint, "eu-west-1", "prod")
    with_sharing, = collect_aws(provider(moto), session=session)
    without, = collect_aws(provider(moto, sharing=False), session=session)
    assert "sharing" not in without
    # Per region: 4 listings and 2 guardrail states; per resource one attribute read (4 EBS snapshots, 1 AMI,
    # 1 DB snapshot, 1 cluster snapshot, all in eu-west-1).
    assert with_sharing["api_calls"] - without["api_calls"] == 2 * 6 + 7


def _more_pages(parsed: dict[str, Any], **_: Any) -> None:
    """after-call handler: moto answers every listing in one page, so say there is another (the same token every
    time, as a broken service would)."""
    parsed["NextToken"] = "page-2"


def test_a_listing_failing_half_way_keeps_the_first_pages(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    ec2 = emulator_client(session, "ec2", moto.endpoint)
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    created = {ec2.create_snapshot(VolumeId=volume)["SnapshotId"] for _ in range(3)}
    ec2.modify_snapshot_attribute(SnapshotId=sorted(created)[0], Attribute="createVolumePermission",
                                  OperationType="add", GroupNames=["all"])

    def later_pages_fail(request: Any, **_: Any) -> AWSResponse | None:
        if "NextToken" in request_params(request):
            return ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.")
        return None

    # moto's first page is real; the token after it and the failure of the next page are injected.
    session.register("after-call.ec2.DescribeSnapshots", _more_pages)
    session.register("before-send.ec2.DescribeSnapshots", later_pages_fail)
    counter = CallCounter()
    reader = AccountReader(DEFAULT_ACCOUNT, ClientFactory(session, provider(moto), counter))
    result, entries = paginate(reader, KINDS[0], "us-east-1")
    assert result["error"]["code"] == "RequestLimitExceeded"
    assert {e["SnapshotId"] for e in entries} == created, "the first page arrived and is kept"
    assert counter.value == 1 + 2, "page one, then page two tried max_attempts (2) times"

    snapshot, = collect_aws(provider(moto, regions=["us-east-1"]), session=session)
    resources, coverage = analyse_snapshot(snapshot)
    got = {r.name: r.exposure.level for r in resources if r.type == "aws.ec2.snapshot"}
    assert set(got) == created and got[sorted(created)[0]] is Level.PUBLIC, "what was listed is judged"
    assert coverage.status is CoverageStatus.PARTIAL
    assert coverage.errors == ("EBS snapshots in us-east-1: DescribeSnapshots failed: RequestLimitExceeded: "
                               "Request limit exceeded.",)


def test_a_listing_that_repeats_its_token_is_an_error_not_a_hang(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    rds = emulator_client(session, "rds", moto.endpoint)
    rds.create_db_cluster(DBClusterIdentifier="c1", Engine="aurora-postgresql", MasterUsername="admin",
                          MasterUserPassword="not-a-real-password-1")
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="c1-snap", DBClusterIdentifier="c1")
    session.register("after-call.rds.DescribeDBClusterSnapshots",
                            lambda parsed, **_: parsed.update(Marker="again"))
    reader = AccountReader(DEFAULT_ACCOUNT, ClientFactory(session, provider(moto), CallCounter()))
    result, entries = paginate(reader, KINDS[3], "us-east-1")
    assert result["error"]["code"] == "PaginationError" and "again" in result["error"]["message"]
    assert [e["DBClusterSnapshotIdentifier"] for e in entries] == ["c1-snap"], "a repeated page is not doubled"


def test_one_denied_attribute_costs_that_snapshot_only(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    ids = seed(session, moto.endpoint, "eu-west-1", "prod")

    def deny(request: Any, **_: Any) -> AWSResponse | None:
        if request_params(request).get("SnapshotId") == ids["private"]:
            return ec2_error(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
        return None

    session.register("before-send.ec2.DescribeSnapshotAttribute", deny)
    snapshot, = collect_aws(provider(moto), session=session)
    got = levels(snapshot)
    assert got[ids["private"]] == ("eu-west-1", Level.UNKNOWN), "unknown, never private"
    assert got[ids["public"]] == ("eu-west-1", Level.PUBLIC) and got["prod-db-final"][1] is Level.PUBLIC
    _, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.PARTIAL
    assert [e for e in coverage.errors if ids["private"] in e] == [
        f"EBS snapshot {ids['private']}: DescribeSnapshotAttribute failed: UnauthorizedOperation: You are not "
        "authorized to perform this operation."]


def test_a_region_whose_ec2_endpoint_fails_is_partial_and_the_rest_completes(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    ids = seed(session, moto.endpoint, "eu-west-1", "prod")
    seed(session, moto.endpoint, "us-east-1", "east")

    def west_is_down(request: Any, **_: Any) -> AWSResponse | None:
        if request_region(request) == "eu-west-1":
            return ec2_error(503, "Unavailable", "The service is unavailable.")
        return None

    session.register("before-send.ec2", west_is_down)
    snapshot, = collect_aws(provider(moto), session=session)
    got = levels(snapshot)
    assert ids["public"] not in got, "EC2 in eu-west-1 could not be listed"
    assert got["prod-db-final"] == ("eu-west-1", Level.PUBLIC), "RDS in the same region still answered"
    assert sum(1 for region, _ in got.values() if region == "us-east-1") == 4 + 1 + 1 + 1
    _, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.PARTIAL
    for prefix in ("EBS snapshots in eu-west-1: DescribeSnapshots failed: Unavailable",
                   "AMIs in eu-west-1: DescribeImages failed",
                   "region eu-west-1: GetSnapshotBlockPublicAccessState failed"):
        assert any(e.startswith(prefix) for e in coverage.errors), prefix
    assert not any("us-east-1" in e for e in coverage.errors)


def test_guardrail_states_are_read_per_region(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    west = seed(session, moto.endpoint, "eu-west-1", "west")
    east = seed(session, moto.endpoint, "us-east-1", "east")
    session.register("before-send.ec2.GetSnapshotBlockPublicAccessState",
                            snapshot_bpa("block-all-sharing", "eu-west-1"))
    snapshot, = collect_aws(provider(moto), session=session)
    inv = normalize_sharing(snapshot)
    by_id = {r.id: r for r in inv.resources}
    assert by_id[west["public"]].block_public_access == BlockPublicAccess("block-all-sharing", "account")
    assert by_id[east["public"]].block_public_access == BlockPublicAccess(
        None, unavailable="GetSnapshotBlockPublicAccessState: InvalidAction")
    resources, _ = analyse_snapshot(snapshot)
    verdicts = {r.name: (r.exposure.level, r.exposure.latent) for r in resources}
    assert verdicts[west["public"]] == (Level.PRIVATE, True)
    assert verdicts[east["public"]] == (Level.PUBLIC, False)


def test_regions_all_asks_describe_regions(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    ids = seed(session, moto.endpoint, "ap-southeast-2", "far")
    snapshot, = collect_aws(provider(moto, regions="all"), session=session)
    section = snapshot["sharing"]
    assert section["regions_from"] == "DescribeRegions" and "ok" in section["calls"]["DescribeRegions"]
    assert "ap-southeast-2" in section["regions"] and "us-east-1" in section["regions"]
    assert not {"ap-east-1", "me-south-1"} & set(section["regions"]), "regions not opted in are skipped"
    assert levels(snapshot)[ids["public"]] == ("ap-southeast-2", Level.PUBLIC)


def test_regions_all_falls_back_to_the_default_region_when_describe_regions_fails(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    seed(session, moto.endpoint, "us-east-1", "east")
    session.register("before-send.ec2.DescribeRegions",
                            lambda **_: ec2_error(403, "UnauthorizedOperation", "denied"))
    snapshot, = collect_aws(provider(moto, regions="all"), session=session)
    assert sorted(snapshot["sharing"]["regions"]) == ["us-east-1"]
    _, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.PARTIAL
    assert "regions: DescribeRegions failed: UnauthorizedOperation: denied" in coverage.errors


def test_a_crash_in_the_sharing_reader_keeps_the_buckets(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import cloudwatchdog.providers.aws.collect as collector

    session = account_core(moto.endpoint)
    emulator_client(session, "s3", moto.endpoint).create_bucket(Bucket="still-here")

    def broken(*_: Any, **__: Any) -> Any:
        # In-process: stands for a bug in the sharing reader.
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(collector, "collect_sharing", broken)
    snapshot, = collect_aws(provider(moto), session=session)
    resources, coverage = analyse_snapshot(snapshot)
    assert [r.name for r in resources if r.type == "aws.s3.bucket"] == ["still-here"]
    assert coverage.status is CoverageStatus.PARTIAL
    assert coverage.errors == ("snapshot and image sharing: reading snapshot and image sharing failed: "
                               "RuntimeError: unforeseen",)


def test_the_emulator_answers_an_unimplemented_action_like_aws(moto: MotoServer) -> None:
    ec2 = emulator_client(account_core(moto.endpoint), "ec2", moto.endpoint)
    with pytest.raises(Exception) as info:
        ec2.get_image_block_public_access_state()
    response = info.value.response  # type: ignore[attr-defined]
    assert response["Error"]["Code"] == "InvalidAction"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "moto emulator" in response["Error"]["Message"]


def test_normalized_grantees_match_what_moto_stored(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    ids = seed(session, moto.endpoint, "us-east-1", "east")
    snapshot, = collect_aws(provider(moto, regions=["us-east-1"]), session=session)
    by_id = {r.id: r for r in normalize_sharing(snapshot).resources}
    assert by_id[ids["public"]].grantees == (Grantee("group", "all"),)
    assert by_id[ids["partner"]].grantees == (Grantee("account", PARTNER),)
    assert by_id[ids["image"]].grantees == (Grantee("account", PARTNER),)
    assert by_id["east-db-final"].grantees == (Grantee("group", "all"),)
    assert not any(isinstance(r.grantees, ReadError) for r in by_id.values())
