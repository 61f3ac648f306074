"""The AWS normalizer, pure: hand-written raw snapshots in, typed inventory out. No server, no SDK."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.model import ALL_USERS_URI, Acl, Grant, GranteeType, PublicAccessBlock
from cloudwatchdog.providers.aws.normalize import normalize_account
from cloudwatchdog.providers.aws.policy.document import parse_policy

OWNER = "a" * 64
POLICY = '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}}'
PAB_OK = {
    "ok": {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        }
    }
}


def acl(*grants: dict[str, Any]) -> dict[str, Any]:
    return {"ok": {"Owner": {"ID": OWNER}, "Grants": list(grants)}}


def bucket(name: str = "b", **calls: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "GetBucketLocation": {"ok": {"LocationConstraint": "eu-west-1"}},
        "GetBucketAcl": acl(
            {"Grantee": {"Type": "CanonicalUser", "ID": OWNER}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS_URI}, "Permission": "READ"},
            {
                "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "x@example.com"},
                "Permission": "READ",
            },
        ),
        "GetBucketPolicy": {"ok": {"Policy": POLICY}},
        "GetBucketPolicyStatus": {"ok": {"PolicyStatus": {"IsPublic": False}}},
        "GetPublicAccessBlock": {"absent": "NoSuchPublicAccessBlockConfiguration"},
        "GetBucketOwnershipControls": {
            "ok": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}
        },
        "GetBucketTagging": {"ok": {"TagSet": [{"Key": "team", "Value": "web"}]}},
        "ListObjectsV2": {"ok": {"Contents": [{"Key": "k1"}]}},
    }
    base.update(calls)
    return {"name": name, "calls": base, "object_acls": [{"key": "k1", "GetObjectAcl": acl()}]}


def snapshot(*buckets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "schema_version": 1,
        "provider": "aws",
        "account": "123456789012",
        "name": "prod",
        "status": "ok",
        "error": None,
        "api_calls": 42,
        "calls": {"GetPublicAccessBlock": PAB_OK, "ListBuckets": {"ok": {"Buckets": []}}},
        "buckets": list(buckets),
        "access_point_listings": {},
        "access_points": [],
    }
    snap.update(extra)
    return snap


def test_well_formed_bucket() -> None:
    inv = normalize_account(snapshot(bucket()))
    assert (inv.account, inv.name, inv.status, inv.api_calls, inv.errors) == (
        "123456789012",
        "prod",
        "ok",
        42,
        (),
    )
    assert inv.account_pab == PublicAccessBlock(block_public_acls=True, block_public_policy=True)
    (b,) = inv.buckets
    assert b.region == "eu-west-1"
    assert b.acl == Acl(
        OWNER,
        (
            Grant(GranteeType.CANONICAL_USER, OWNER, "FULL_CONTROL"),
            Grant(GranteeType.GROUP, ALL_USERS_URI, "READ"),
            Grant(GranteeType.EMAIL, "x@example.com", "READ"),
        ),
    )
    assert b.policy == parse_policy(POLICY) and b.policy_status_public is False
    assert b.bucket_pab is None and b.account_pab == inv.account_pab
    assert b.object_ownership == "ObjectWriter" and b.tags == {"team": "web"}
    assert [(o.key, o.acl) for o in b.object_acls] == [("k1", Acl(OWNER, ()))]


@pytest.mark.parametrize(
    ("constraint", "region"),
    [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("ap-south-1", "ap-south-1")],
)
def test_bucket_location(constraint: str | None, region: str) -> None:
    raw = bucket(GetBucketLocation={"ok": {"LocationConstraint": constraint}})
    assert normalize_account(snapshot(raw)).buckets[0].region == region


@pytest.mark.parametrize(
    ("operation", "bad_payload", "field"),
    [
        (
            "GetBucketAcl",
            {"Owner": {"ID": OWNER}, "Grants": [{"Grantee": {"Type": "Group", "URI": "u"}}]},
            "acl",
        ),
        (
            "GetBucketAcl",
            {"Owner": {"ID": OWNER}, "Grants": [{"Grantee": {"Type": "Alien"}, "Permission": "READ"}]},
            "acl",
        ),
        ("GetBucketAcl", {"Owner": {"ID": OWNER}, "Grants": "everyone"}, "acl"),
        ("GetBucketTagging", {"TagSet": {"team": "web"}}, "tags"),
        ("GetBucketTagging", {"TagSet": [{"Key": "team"}]}, "tags"),
        ("GetBucketPolicy", {"Policy": {"Statement": []}}, "policy"),
        ("GetBucketPolicyStatus", {"PolicyStatus": {"IsPublic": "false"}}, "policy_status_public"),
        (
            "GetPublicAccessBlock",
            {"PublicAccessBlockConfiguration": {"BlockPublicAcls": "yes"}},
            "bucket_pab",
        ),
        ("GetBucketOwnershipControls", {"OwnershipControls": {"Rules": []}}, "object_ownership"),
        ("GetBucketOwnershipControls", ["BucketOwnerEnforced"], "object_ownership"),
    ],
)
def test_unexpected_shape_is_an_invalid_response_read_error(
    operation: str, bad_payload: Any, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="cloudwatchdog.providers.aws.normalize"):
        inv = normalize_account(snapshot(bucket("odd-bucket", **{operation: {"ok": bad_payload}})))
    value = getattr(inv.buckets[0], field)
    assert isinstance(value, ReadError)
    assert (value.operation, value.code) == (operation, "InvalidResponse")
    assert any("odd-bucket" in e and "InvalidResponse" in e for e in inv.errors)
    assert any("odd-bucket" in r.getMessage() and operation in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("text", ["{not json", '{"Statement": []}', '{"Statement": [{"Sid": "B", "Effect": "Maybe"}]}'])
def test_policy_the_parser_cannot_take_is_a_malformed_policy_read_error(text: str) -> None:
    inv = normalize_account(snapshot(bucket("odd-bucket", GetBucketPolicy={"ok": {"Policy": text}})))
    policy = inv.buckets[0].policy
    assert isinstance(policy, ReadError)
    assert (policy.operation, policy.code) == ("GetBucketPolicy", "MalformedPolicy")
    assert policy.message and inv.errors == (f"bucket odd-bucket: {policy.describe()}",)


def test_access_point_policy_is_parsed_once_too() -> None:
    point = {"name": "ap", "calls": {
        "GetAccessPoint": {"ok": {"NetworkOrigin": "Internet", "Bucket": "b"}},
        "GetAccessPointPolicy": {"ok": {"Policy": "[]"}},
    }}
    ap = normalize_account(snapshot(access_points=[point])).access_points[0]
    assert isinstance(ap.policy, ReadError)
    assert (ap.policy.operation, ap.policy.code) == ("GetAccessPointPolicy", "MalformedPolicy")


def test_object_acl_of_unexpected_shape() -> None:
    raw = bucket()
    raw["object_acls"] = [{"key": "k1", "GetObjectAcl": {"ok": {"Owner": {}, "Grants": []}}}, {"nokey": 1}]
    b = normalize_account(snapshot(raw)).buckets[0]
    assert isinstance(b.object_acls[0].acl, ReadError) and b.object_acls[0].acl.code == "InvalidResponse"
    assert [e.code for e in b.other_errors] == ["InvalidResponse"]


def test_errors_and_absences() -> None:
    raw = bucket(
        GetBucketPolicy={"absent": "NoSuchBucketPolicy"},
        GetBucketPolicyStatus={"absent": "NoSuchBucketPolicy"},
        GetBucketOwnershipControls={"absent": "OwnershipControlsNotFoundError"},
        GetBucketTagging={"absent": "NoSuchTagSet"},
        GetBucketAcl={
            "error": {"operation": "GetBucketAcl", "code": "AccessDenied", "message": "Access Denied"}
        },
    )
    inv = normalize_account(snapshot(raw))
    b = inv.buckets[0]
    assert b.policy is None and b.policy_status_public is None and b.object_ownership is None
    assert b.tags == {}
    assert b.acl == ReadError("GetBucketAcl", "AccessDenied", "Access Denied")
    assert inv.errors == ("bucket b: GetBucketAcl failed: AccessDenied: Access Denied",)


def test_an_absent_acl_is_not_silently_empty() -> None:
    inv = normalize_account(snapshot(bucket(GetBucketAcl={"absent": "Whatever"})))
    assert isinstance(inv.buckets[0].acl, ReadError)


def test_missing_call_is_not_collected() -> None:
    raw = bucket()
    del raw["calls"]["GetBucketPolicy"]
    policy = normalize_account(snapshot(raw)).buckets[0].policy
    assert isinstance(policy, ReadError) and policy.code == "NotCollected"


def test_vanished_bucket_is_reported_once() -> None:
    gone = {"error": {"operation": "GetBucketAcl", "code": "NoSuchBucket", "message": "gone"}}
    raw = bucket(
        GetBucketLocation={
            "error": {"operation": "GetBucketLocation", "code": "NoSuchBucket", "message": "gone"}
        },
        GetBucketAcl=gone,
        GetBucketTagging=gone,
    )
    b = normalize_account(snapshot(raw)).buckets[0]
    assert b.region == "unknown"
    assert [e.code for e in b.other_errors] == ["NoSuchBucket"]


def test_account_error_snapshot() -> None:
    inv = normalize_account(
        snapshot(status="error", error="cannot enter account (profile:x): ProfileNotFound: ...", calls={})
    )
    assert inv.status == "error" and inv.buckets == ()
    assert inv.errors == ("cannot enter account (profile:x): ProfileNotFound: ...",)
    assert isinstance(inv.account_pab, ReadError)


def test_malformed_snapshot_does_not_crash() -> None:
    inv = normalize_account({"account": "123456789012", "status": "weird", "buckets": "nope", "calls": []})
    assert inv.status == "error" and inv.buckets == ()
    assert any("buckets" in e for e in inv.errors)


def test_list_failures_are_errors() -> None:
    snap = snapshot(
        access_point_listings={
            "eu-west-1": {
                "error": {"operation": "ListAccessPoints", "code": "Throttling", "message": "Rate exceeded"}
            }
        },
    )
    snap["calls"]["ListAccounts"] = {
        "error": {"operation": "ListAccounts", "code": "AccessDenied", "message": "no"}
    }
    inv = normalize_account(snap)
    assert "access points in eu-west-1: ListAccessPoints failed: Throttling: Rate exceeded" in inv.errors
    assert "organization: ListAccounts failed: AccessDenied: no" in inv.errors


def access_point(**calls: Any) -> dict[str, Any]:
    base = {
        "GetAccessPoint": {
            "ok": {
                "Name": "ap",
                "Bucket": "b",
                "NetworkOrigin": "VPC",
                "VpcConfiguration": {"VpcId": "vpc-1"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
                "AccessPointArn": "arn:aws:s3:us-east-1:123456789012:accesspoint/ap",
            }
        },
        "GetAccessPointPolicy": {"absent": "NoSuchAccessPointPolicy"},
    }
    base.update(calls)
    return {
        "name": "ap",
        "listed_in": "us-east-1",
        "listing": {
            "Name": "ap",
            "Bucket": "b",
            "NetworkOrigin": "VPC",
            "VpcConfiguration": {"VpcId": "vpc-1"},
        },
        "calls": base,
    }


def test_access_point() -> None:
    pab_bucket = bucket(GetPublicAccessBlock=PAB_OK)
    inv = normalize_account(snapshot(pab_bucket, access_points=[access_point()]))
    (ap,) = inv.access_points
    assert (ap.name, ap.bucket, ap.network_origin, ap.vpc_id, ap.policy) == ("ap", "b", "VPC", "vpc-1", None)
    assert ap.region == "eu-west-1"  # the bucket's region wins over the ARN's
    assert ap.pab == PublicAccessBlock(True, True, True, True)
    assert ap.account_pab == inv.account_pab and ap.bucket_pab == inv.buckets[0].bucket_pab


def test_access_point_details_unreadable_falls_back_to_the_listing() -> None:
    denied = {"error": {"operation": "GetAccessPoint", "code": "AccessDenied", "message": "no"}}
    inv = normalize_account(snapshot(access_points=[access_point(GetAccessPoint=denied)]))
    (ap,) = inv.access_points
    assert (
        ap.network_origin == "VPC" and ap.vpc_id == "vpc-1" and ap.bucket == "b" and ap.region == "us-east-1"
    )
    assert isinstance(ap.pab, ReadError) and ap.pab.code == "AccessDenied"


def test_access_point_with_bad_origin_shape() -> None:
    raw = access_point()
    bad = copy.deepcopy(raw["calls"]["GetAccessPoint"])
    bad["ok"]["NetworkOrigin"] = 7
    raw["calls"]["GetAccessPoint"] = bad
    raw["listing"] = {}
    (ap,) = normalize_account(snapshot(access_points=[raw])).access_points
    assert isinstance(ap.network_origin, ReadError) and ap.network_origin.code == "InvalidResponse"


# --- Review: an odd listing must never shrink the inventory silently ------------------------------------------


def test_listed_bucket_without_a_name_is_an_error() -> None:
    snap = snapshot(bucket())
    snap["calls"]["ListBuckets"] = {"ok": {"Buckets": [{"Name": "b"}, {"CreationDate": "2024-01-01"}]}}
    inv = normalize_account(snap)
    assert any("ListBuckets" in e and "InvalidResponse" in e for e in inv.errors)


def test_bucket_listing_of_an_unexpected_shape_is_an_error() -> None:
    snap = snapshot()
    snap["calls"]["ListBuckets"] = {"ok": {"Buckets": {"Name": "b"}}}
    inv = normalize_account(snap)
    assert any("ListBuckets" in e and "InvalidResponse" in e for e in inv.errors)


def test_listed_bucket_missing_from_the_snapshot_is_an_error() -> None:
    snap = snapshot(bucket("b"))
    snap["calls"]["ListBuckets"] = {"ok": {"Buckets": [{"Name": "b"}, {"Name": "lost"}]}}
    inv = normalize_account(snap)
    assert [b.name for b in inv.buckets] == ["b"]
    assert any("lost" in e and "NotCollected" in e for e in inv.errors)


def test_account_snapshot_without_a_bucket_listing_is_an_error() -> None:
    snap = snapshot()
    del snap["calls"]["ListBuckets"]
    inv = normalize_account(snap)
    assert any("ListBuckets" in e and "NotCollected" in e for e in inv.errors)


def test_listed_access_point_without_a_name_or_not_read_is_an_error() -> None:
    nameless = {"ok": {"AccessPointList": [{"Name": "ap"}, {"Bucket": "b"}]}}
    inv = normalize_account(snapshot(access_points=[access_point()], access_point_listings={"us-east-1": nameless}))
    assert [a.name for a in inv.access_points] == ["ap"]
    assert any("ListAccessPoints" in e and "InvalidResponse" in e for e in inv.errors)

    lost = {"ok": {"AccessPointList": [{"Name": "ap"}, {"Name": "gone", "Bucket": "b"}]}}
    inv = normalize_account(snapshot(access_points=[access_point()], access_point_listings={"us-east-1": lost}))
    assert [a.name for a in inv.access_points] == ["ap"]
    assert any("gone" in e and "NotCollected" in e for e in inv.errors)
