"""The AWS collector against a real moto server subprocess, over HTTP with real boto3 clients.

moto does not enforce IAM by default, so AccessDenied (and a refused AssumeRole) are injected in-process with
a botocore ``before-call`` handler on the session whose clients the collector uses: the request never leaves
the process and botocore raises the ClientError it would raise for a real 403. Everything else is moto's
own answer.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from cloudwatchdog.demo.seed_aws import seed_demo_estate
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core, emulator_client
from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.collect import collect_aws, scan_account
from cloudwatchdog.providers.aws.model import (
    ALL_USERS_URI,
    LOG_DELIVERY_URI,
    Acl,
    Grant,
    GranteeType,
    NotRead,
    PublicAccessBlock,
    S3Bucket,
)
from cloudwatchdog.providers.aws.moot import ACLS_DISABLED, NOTHING_TO_BLOCK
from cloudwatchdog.providers.aws.normalize import AwsAccountInventory, normalize_account
from cloudwatchdog.providers.aws.policy.document import PolicyDocument
from cloudwatchdog.providers.aws.session import strip_account_host_prefix
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsOrganization, AwsProvider
from tests.conftest import OTHER_ACCOUNT

PUBLIC_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::PLACEHOLDER/*",
            }
        ],
    }
)
PAB_ACLS_ONLY = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}
PAB_ALL = dict.fromkeys(PAB_ACLS_ONLY, True)


def seed_account(session: Any, endpoint: str, account: str, prefix: str) -> None:
    """Three buckets covering every setting, and two access points."""
    s3 = emulator_client(session, "s3", endpoint, region="eu-west-1")
    control = emulator_client(session, "s3control", endpoint, region="eu-west-1")

    public = f"{prefix}-public"
    s3.create_bucket(Bucket=public, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    owner = s3.get_bucket_acl(Bucket=public)["Owner"]["ID"]
    s3.put_bucket_acl(
        Bucket=public,
        AccessControlPolicy={
            "Owner": {"ID": owner},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group", "URI": ALL_USERS_URI}, "Permission": "READ"},
                {"Grantee": {"Type": "Group", "URI": ALL_USERS_URI}, "Permission": "WRITE"},
                {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY_URI}, "Permission": "READ_ACP"},
            ],
        },
    )
    s3.put_bucket_policy(Bucket=public, Policy=PUBLIC_POLICY.replace("PLACEHOLDER", public))
    s3.put_bucket_tagging(
        Bucket=public, Tagging={"TagSet": [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "prod"}]}
    )
    for key in ("a.csv", "b.csv", "c.csv"):
        s3.put_object(Bucket=public, Key=key, Body=b"x", ACL="public-read" if key == "a.csv" else "private")
    s3.put_bucket_ownership_controls(
        Bucket=public, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_public_access_block(Bucket=public, PublicAccessBlockConfiguration=PAB_ACLS_ONLY)

    enforced = f"{prefix}-enforced"
    s3.create_bucket(Bucket=enforced, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=enforced, Key="k", Body=b"x")
    s3.put_bucket_ownership_controls(
        Bucket=enforced, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )

    plain = f"{prefix}-plain"
    emulator_client(session, "s3", endpoint).create_bucket(Bucket=plain)  # us-east-1

    control.create_access_point(
        AccountId=account,
        Name=f"{prefix}-internet-ap",
        Bucket=public,
        PublicAccessBlockConfiguration=dict.fromkeys(PAB_ALL, False),
    )
    control.put_access_point_policy(
        AccountId=account,
        Name=f"{prefix}-internet-ap",
        Policy=PUBLIC_POLICY.replace(
            "arn:aws:s3:::PLACEHOLDER",
            f"arn:aws:s3:eu-west-1:{account}:accesspoint/{prefix}-internet-ap/object",
        ),
    )
    control.create_access_point(
        AccountId=account, Name=f"{prefix}-vpc-ap", Bucket=public, VpcConfiguration={"VpcId": "vpc-0123"}
    )
    control.put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )


def provider(moto: MotoServer, **kwargs: Any) -> AwsProvider:
    return AwsProvider(endpoint_url=moto.endpoint, regions=["us-east-1"], max_attempts=2, **kwargs)


def by_name(inventory: AwsAccountInventory) -> dict[str, S3Bucket]:
    return {b.name: b for b in inventory.buckets}


def assert_seeded_account(inv: AwsAccountInventory, account: str, prefix: str) -> None:
    assert inv.status == "ok", inv.error
    assert inv.errors == ()
    assert inv.account == account
    assert inv.account_pab == PublicAccessBlock(block_public_acls=True)
    buckets = by_name(inv)
    assert sorted(buckets) == [f"{prefix}-enforced", f"{prefix}-plain", f"{prefix}-public"]

    public = buckets[f"{prefix}-public"]
    assert public.account == account and public.region == "eu-west-1"
    assert isinstance(public.acl, Acl)
    grants = set(public.acl.grants)
    assert Grant(GranteeType.GROUP, ALL_USERS_URI, "READ") in grants
    assert Grant(GranteeType.GROUP, ALL_USERS_URI, "WRITE") in grants
    assert Grant(GranteeType.GROUP, LOG_DELIVERY_URI, "READ_ACP") in grants
    assert Grant(GranteeType.CANONICAL_USER, public.acl.owner_id, "FULL_CONTROL") in grants
    assert isinstance(public.policy, PolicyDocument) and public.policy.statements[0].principals[0].anyone
    assert public.policy_status_public is None  # not asked: our analysis finds the policy public (moot)
    assert public.bucket_pab == PublicAccessBlock(block_public_acls=True, ignore_public_acls=True)
    assert public.account_pab == inv.account_pab
    assert public.object_ownership == "BucketOwnerPreferred"
    assert public.tags == {"team": "web", "env": "prod"}
    samples = {o.key: o.acl for o in public.object_acls}
    assert sorted(samples) == ["a.csv", "b.csv", "c.csv"]
    a_acl = samples["a.csv"]
    assert isinstance(a_acl, Acl)
    assert Grant(GranteeType.GROUP, ALL_USERS_URI, "READ") in a_acl.grants
    b_acl = samples["b.csv"]
    assert isinstance(b_acl, Acl)
    assert all(g.grantee_type is GranteeType.CANONICAL_USER for g in b_acl.grants)
    assert public.other_errors == ()

    enforced = buckets[f"{prefix}-enforced"]
    assert enforced.object_ownership == "BucketOwnerEnforced"
    assert enforced.object_acls == ()  # ACLs are disabled: not sampled
    assert enforced.acl == NotRead(ACLS_DISABLED)  # nor the bucket ACL read: AWS answers it with owner full control

    plain = buckets[f"{prefix}-plain"]
    assert plain.region == "us-east-1"
    assert plain.policy is None and plain.policy_status_public is None
    assert plain.bucket_pab == NotRead(NOTHING_TO_BLOCK) and plain.object_ownership is None
    assert plain.tags == {}

    points = {p.name: p for p in inv.access_points}
    assert sorted(points) == [f"{prefix}-internet-ap", f"{prefix}-vpc-ap"]
    internet = points[f"{prefix}-internet-ap"]
    assert internet.network_origin == "Internet" and internet.vpc_id is None
    assert internet.bucket == f"{prefix}-public" and internet.region == "eu-west-1"
    assert isinstance(internet.policy, PolicyDocument)
    assert "accesspoint" in internet.policy.statements[0].resource_patterns[0]
    assert internet.pab == PublicAccessBlock()
    assert internet.account_pab == inv.account_pab
    assert internet.bucket_pab == public.bucket_pab
    vpc = points[f"{prefix}-vpc-ap"]
    assert vpc.network_origin == "VPC" and vpc.vpc_id == "vpc-0123"
    assert vpc.policy is None
    assert vpc.pab == PublicAccessBlock(True, True, True, True)


def test_reads_every_setting_in_two_explicit_accounts(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    seed_account(aws_sessions[DEFAULT_ACCOUNT], moto.endpoint, DEFAULT_ACCOUNT, "prod")
    seed_account(aws_sessions[OTHER_ACCOUNT], moto.endpoint, OTHER_ACCOUNT, "ana")
    cfg = provider(
        moto,
        accounts=[
            AwsAccount(id=DEFAULT_ACCOUNT, name="prod"),
            AwsAccount(
                id=OTHER_ACCOUNT,
                name="analytics",
                role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit",
                external_id="wd-123",
            ),
        ],
    )
    events: list[tuple[str, int]] = []
    snapshots = collect_aws(
        cfg, session=account_core(moto.endpoint), progress=lambda label, n: events.append((label, n))
    )

    assert [s["account"] for s in snapshots] == [DEFAULT_ACCOUNT, OTHER_ACCOUNT]
    assert [s["via"] for s in snapshots] == ["default", f"role:arn:aws:iam::{OTHER_ACCOUNT}:role/Audit"]
    prod, analytics = (normalize_account(s) for s in snapshots)
    assert prod.name == "prod" and analytics.name == "analytics"
    assert_seeded_account(prod, DEFAULT_ACCOUNT, "prod")
    assert_seeded_account(analytics, OTHER_ACCOUNT, "ana")

    # Every HTTP request is counted: entering (1: GetCallerIdentity or AssumeRole), account PAB, ListBuckets,
    # ListBuckets of the configured region (us-east-1: names "plain"), the tagging API in us-east-1 (moto answers with
    # every region's tagged buckets: names "public"); per bucket: "public" 5 (location, ACL, policy, PAB, ownership: its
    # tags came from the tagging API, and AWS's policy status is not asked of a policy our analysis finds public),
    # "enforced" 4 (location, policy, ownership, tagging: ACLs disabled and no policy, so no ACL, no policy status and
    # no PAB, nothing to block; eu-west-1 was not tag-listed), "plain" 3 (ACL, policy, ownership: its region and tags
    # came from the listings, and it has nothing to block either); the object sample (ListObjectsV2 + 3 GetObjectAcl on
    # "public", ListObjectsV2 on "plain"), ListAccessPoints in us-east-1 and eu-west-1, 2 per access point; then
    # snapshot and image sharing in the one configured region (us-east-1): DescribeSnapshots, DescribeImages,
    # DescribeDBSnapshots, DescribeDBClusterSnapshots and the two Block Public Access states (nothing to read per
    # resource: the seeded accounts have no snapshots or images).
    assert prod.api_calls == analytics.api_calls == 1 + 1 + 1 + 1 + 1 + (5 + 4 + 3) + (1 + 3) + 1 + 2 + 2 * 2 + 6
    assert (DEFAULT_ACCOUNT, 0) in events
    assert (f"{DEFAULT_ACCOUNT}/prod-public", 1) in events
    assert (f"{OTHER_ACCOUNT}/accesspoint/ana-vpc-ap", 1) in events


def test_snapshot_is_json_and_replays_offline(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    seed_account(aws_sessions[DEFAULT_ACCOUNT], moto.endpoint, DEFAULT_ACCOUNT, "prod")
    (snapshot,) = collect_aws(provider(moto), session=account_core(moto.endpoint))
    assert (
        snapshot["account"] == DEFAULT_ACCOUNT and snapshot["via"] == "default"
    )  # no accounts: default chain
    replayed = json.loads(json.dumps(snapshot))
    assert normalize_account(replayed) == normalize_account(snapshot)
    calls = snapshot["buckets"][0]["calls"]
    assert set(calls) >= {"GetBucketLocation", "GetBucketAcl", "GetBucketPolicy", "GetBucketPolicyStatus"}
    assert all("ResponseMetadata" not in r.get("ok", {}) for r in calls.values())


def test_organization_discovery(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    manager = aws_sessions[DEFAULT_ACCOUNT]
    org = emulator_client(manager, "organizations", moto.endpoint)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="analytics", Email="analytics@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    excluded = org.create_account(AccountName="sandbox", Email="sandbox@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    seed_account(manager, moto.endpoint, DEFAULT_ACCOUNT, "mgmt")
    seed_account(account_core(moto.endpoint, member), moto.endpoint, member, "member")

    cfg = provider(moto, organization=AwsOrganization(role_name="WatchdogAudit", exclude=[excluded]))
    snapshots = {s["account"]: s for s in collect_aws(cfg, session=account_core(moto.endpoint))}

    assert sorted(snapshots) == sorted([DEFAULT_ACCOUNT, member])
    assert snapshots[member]["via"] == f"organization-role:arn:aws:iam::{member}:role/WatchdogAudit"
    assert snapshots[member]["name"] == "analytics"
    assert snapshots[DEFAULT_ACCOUNT]["via"] == "organization-management"
    assert "ok" in snapshots[DEFAULT_ACCOUNT]["calls"]["ListAccounts"]
    assert_seeded_account(normalize_account(snapshots[member]), member, "member")
    assert_seeded_account(normalize_account(snapshots[DEFAULT_ACCOUNT]), DEFAULT_ACCOUNT, "mgmt")


def test_explicit_accounts_win_over_discovered_ones(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    org = emulator_client(aws_sessions[DEFAULT_ACCOUNT], "organizations", moto.endpoint)
    org.create_organization(FeatureSet="ALL")
    cfg = provider(
        moto, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")], organization=AwsOrganization()
    )
    snapshots = collect_aws(cfg, session=account_core(moto.endpoint))
    assert [(s["account"], s["name"], s["via"]) for s in snapshots] == [(DEFAULT_ACCOUNT, "prod", "default")]


def api_params(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The caller's parameters inside a botocore ``before-call`` handler (S3 keeps them in the context, query
    protocols such as STS in the serialized body)."""
    params = kwargs["context"].get("input_params")
    if params is None:
        body = kwargs["params"].get("body")
        params = body if isinstance(body, dict) else {}
    return dict(params)


def _error_response(code: str, message: str, status: int = 403) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse("https://injected.invalid/", status, {}, None)  # type: ignore[arg-type]
    return http, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def test_accounts_that_cannot_be_entered_are_errors_not_exceptions(moto: MotoServer) -> None:
    base = account_core(moto.endpoint)

    def deny_assume(**kwargs: Any) -> Any:  # in-process: moto grants every AssumeRole
        if "Denied" in api_params(kwargs).get("RoleArn", ""):
            return _error_response("AccessDenied", "not authorized to perform sts:AssumeRole")
        return None

    base.register("before-call.sts.AssumeRole", deny_assume)
    cfg = provider(
        moto,
        accounts=[
            AwsAccount(id="111111111111", profile="no-such-profile"),
            AwsAccount(id="222222222222", role_arn="arn:aws:iam::222222222222:role/Denied"),
            AwsAccount(id="333333333333", role_arn="arn:aws:iam::444444444444:role/Audit"),  # wrong account
            AwsAccount(id="555555555555"),  # default chain acts as 123456789012
            AwsAccount(id=OTHER_ACCOUNT, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit"),
        ],
    )
    snapshots = collect_aws(cfg, session=base)
    status = {s["account"]: (s["status"], s["error"]) for s in snapshots}
    assert status["111111111111"][0] == "error" and "no-such-profile" in status["111111111111"][1]
    assert status["222222222222"][0] == "error" and "AccessDenied" in status["222222222222"][1]
    assert status["333333333333"][0] == "error" and "444444444444" in status["333333333333"][1]
    assert status["555555555555"][0] == "error" and DEFAULT_ACCOUNT in status["555555555555"][1]
    assert status[OTHER_ACCOUNT] == ("ok", None)  # the others do not stop the good one
    inv = normalize_account(snapshots[1])
    assert (
        inv.status == "error" and inv.buckets == () and inv.errors and isinstance(inv.account_pab, ReadError)
    )


def test_unreachable_endpoint_is_an_account_error() -> None:
    cfg = AwsProvider(endpoint_url="http://127.0.0.1:9", max_attempts=1)  # discard port: refused at once
    session = botocore.session.get_session()  # the default chain, as boto3.Session(region_name=...) makes it
    session.set_config_variable("region", "us-east-1")
    (snapshot,) = collect_aws(cfg, session=session)
    assert snapshot["status"] == "error"
    assert "EndpointConnectionError" in snapshot["error"]


def test_bucket_deleted_mid_scan_is_recorded(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("stays-here", "vanishes-mid-scan"):
        s3.create_bucket(Bucket=name)

    def delete_first(**kwargs: Any) -> None:
        if api_params(kwargs).get("Bucket") == "vanishes-mid-scan":
            s3.delete_bucket(Bucket="vanishes-mid-scan")  # after the listings, before the settings are read

    session.register("before-call.s3.GetBucketAcl", delete_first)
    snapshot = scan_account(session, provider(moto), account_id=DEFAULT_ACCOUNT)
    inv = normalize_account(snapshot)
    assert inv.status == "ok"
    buckets = by_name(inv)
    gone = buckets["vanishes-mid-scan"]
    assert [e.code for e in gone.other_errors].count("NoSuchBucket") == 1
    assert isinstance(gone.acl, ReadError) and gone.acl.code == "NoSuchBucket"
    assert any("vanishes-mid-scan" in e and "NoSuchBucket" in e for e in inv.errors)
    assert isinstance(buckets["stays-here"].acl, Acl) and buckets["stays-here"].other_errors == ()


def test_access_denied_on_one_setting_is_a_read_error(
    moto: MotoServer, caplog: pytest.LogCaptureFixture
) -> None:
    session = account_core(moto.endpoint)
    s3 = emulator_client(session, "s3", moto.endpoint)
    for name in ("locked-policy", "readable"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=PUBLIC_POLICY.replace("PLACEHOLDER", name))

    def deny(**kwargs: Any) -> Any:  # in-process: moto does not enforce IAM by default
        if api_params(kwargs).get("Bucket") == "locked-policy":
            return _error_response("AccessDenied", "Access Denied")
        return None

    session.register("before-call.s3.GetBucketPolicy", deny)
    with caplog.at_level("WARNING", logger="cloudwatchdog.providers.aws.collect"):
        inv = normalize_account(
            scan_account(session, provider(moto), account_id=DEFAULT_ACCOUNT, name="prod")
        )
    buckets = by_name(inv)
    assert buckets["locked-policy"].policy == ReadError("GetBucketPolicy", "AccessDenied", "Access Denied")
    assert isinstance(buckets["locked-policy"].acl, Acl)  # the other settings were still read
    assert isinstance(buckets["readable"].policy, PolicyDocument)
    assert inv.errors == ("bucket locked-policy: GetBucketPolicy failed: AccessDenied: Access Denied",)
    assert any("locked-policy" in r.getMessage() and "AccessDenied" in r.getMessage() for r in caplog.records)
    assert not any("testing" in r.getMessage() for r in caplog.records)  # no credentials in logs


def test_object_acl_sample_can_be_turned_off(moto: MotoServer, aws_sessions: dict[str, Any]) -> None:
    seed_account(aws_sessions[DEFAULT_ACCOUNT], moto.endpoint, DEFAULT_ACCOUNT, "prod")
    (snapshot,) = collect_aws(provider(moto, object_acl_sample=0), session=account_core(moto.endpoint))
    assert all("ListObjectsV2" not in b["calls"] and b["object_acls"] == [] for b in snapshot["buckets"])


def test_strip_account_host_prefix_keeps_the_account_header() -> None:
    class Request:
        url = "http://123456789012.127.0.0.1:5000/v20180820/configuration/publicAccessBlock"
        headers = {"x-amz-account-id": b"123456789012"}

    request = Request()
    strip_account_host_prefix(request)
    assert request.url == "http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock"
    assert request.headers["x-amz-account-id"] == b"123456789012"


def test_demo_estate_seeds_and_collects_without_errors(moto: MotoServer) -> None:
    estate = seed_demo_estate(moto.endpoint)
    assert len(estate.buckets) >= 28 and len(estate.access_points) == 4
    assert {b.account for b in estate.buckets} == {DEFAULT_ACCOUNT, OTHER_ACCOUNT}
    snapshots = collect_aws(estate.aws_provider(), session=estate.session())
    inventories = {i.account: i for i in map(normalize_account, snapshots)}
    assert {a: (i.status, i.errors) for a, i in inventories.items()} == {
        DEFAULT_ACCOUNT: ("ok", ()),
        OTHER_ACCOUNT: ("ok", ()),
    }
    collected = {(b.account, b.name, b.region) for i in inventories.values() for b in i.buckets}
    assert collected == {(b.account, b.name, b.region) for b in estate.buckets}
    points = {(p.account, p.name, p.region) for i in inventories.values() for p in i.access_points}
    assert points == {(p.account, p.name, p.region) for p in estate.access_points}
    assert inventories[OTHER_ACCOUNT].account_pab is None
    prod_pab = inventories[DEFAULT_ACCOUNT].account_pab
    assert isinstance(prod_pab, PublicAccessBlock) and not prod_pab.fully_on
    export = by_name(inventories[DEFAULT_ACCOUNT])["velora-telematics-export-2015"]
    assert (
        isinstance(export.acl, Acl) and Grant(GranteeType.GROUP, ALL_USERS_URI, "READ") in export.acl.grants
    )
    assert export.object_acls and all(isinstance(o.acl, Acl) for o in export.object_acls)
    assert not isinstance(export.tags, ReadError) and export.tags["data-classification"] == "confidential"
    assert estate.bucket("velora-telematics-export-2015").issue


def test_demo_estate_is_deterministic(moto: MotoServer) -> None:
    first = seed_demo_estate(moto.endpoint)
    first_snapshots = collect_aws(first.aws_provider(), session=first.session())
    moto.reset()
    second = seed_demo_estate(moto.endpoint)
    second_snapshots = collect_aws(second.aws_provider(), session=second.session())
    assert first == second

    def content(snapshots: list[dict[str, Any]]) -> list[Any]:
        # Everything but timestamps and generated ids.
        return [
            [(b["name"], b["calls"]["GetBucketPolicy"]) for b in s["buckets"]]
            + [(b.name, b.tags) for b in normalize_account(s).buckets]
            for s in snapshots
        ]

    assert content(first_snapshots) == content(second_snapshots)


# --- Review: discovery and listing failures must never make an estate look smaller than it is -----------------


def test_org_listing_failure_is_reported_when_the_manager_is_listed_explicitly(moto: MotoServer) -> None:
    base = account_core(moto.endpoint)
    org = emulator_client(base, "organizations", moto.endpoint)
    org.create_organization(FeatureSet="ALL")
    org.create_account(AccountName="analytics", Email="analytics@example.com")

    def deny(**_: Any) -> Any:
        return _error_response("AccessDenied", "not authorized to perform organizations:ListAccounts")

    base.register("before-call.organizations.ListAccounts", deny)
    cfg = provider(moto, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="mgmt")], organization=AwsOrganization())
    snapshots = collect_aws(cfg, session=base)
    # The member accounts could not be discovered: that must show as an error, not as a complete, smaller scan.
    errors = [s for s in snapshots if s["status"] == "error"]
    assert errors and any("ListAccounts" in s["error"] and "AccessDenied" in s["error"] for s in errors)


def test_org_member_with_state_but_no_status_is_scanned(moto: MotoServer) -> None:
    base = account_core(moto.endpoint)
    org = emulator_client(base, "organizations", moto.endpoint)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="analytics", Email="analytics@example.com")["CreateAccountStatus"][
        "AccountId"
    ]

    def state_only(parsed: dict[str, Any], **_: Any) -> None:
        # AWS replaces the deprecated Account.Status with Account.State; a reply without Status is legitimate.
        for account in parsed.get("Accounts", []):
            account["State"] = account.pop("Status", "ACTIVE")

    base.register("after-call.organizations.ListAccounts", state_only)
    cfg = provider(moto, organization=AwsOrganization(role_name="WatchdogAudit"))
    snapshots = {s["account"]: s for s in collect_aws(cfg, session=base)}
    assert sorted(snapshots) == sorted([DEFAULT_ACCOUNT, member])
    assert snapshots[member]["status"] == "ok"


def test_access_point_listing_that_repeats_its_token_is_an_error_not_a_hang(moto: MotoServer) -> None:
    session = account_core(moto.endpoint)
    calls = {"n": 0}

    def same_token(**_: Any) -> Any:
        calls["n"] += 1
        page: dict[str, Any] = {"AccessPointList": [], "ResponseMetadata": {"HTTPStatusCode": 200}}
        if calls["n"] < 50:  # a broken service would go on for ever; stop so that the old code fails, not hangs
            page["NextToken"] = "again"
        return AWSResponse("https://injected.invalid/", 200, {}, None), page  # type: ignore[arg-type]

    session.register("before-call.s3-control.ListAccessPoints", same_token)
    snapshot = scan_account(session, provider(moto), account_id=DEFAULT_ACCOUNT)
    listing = snapshot["access_point_listings"]["us-east-1"]
    assert "error" in listing and calls["n"] < 50
    assert any("ListAccessPoints" in e for e in normalize_account(snapshot).errors)
