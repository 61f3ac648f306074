"""Bucket and access-point verdicts: Block Public Access levels, ownership, ACLs, latent and unknown paths."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from cloudwatchdog.model import Exposure, Level, ReadError
from cloudwatchdog.providers.aws.exposure import access_point_exposure, bucket_exposure, bucket_grants_public
from cloudwatchdog.providers.aws.model import (
    ALL_USERS_URI,
    AUTHENTICATED_USERS_URI,
    LOG_DELIVERY_URI,
    Acl,
    Grant,
    GranteeType,
    ObjectAcl,
    PublicAccessBlock,
    S3AccessPoint,
    S3Bucket,
)
from cloudwatchdog.providers.aws.normalize import CallReader
from cloudwatchdog.providers.aws.parse import parse_policy
from cloudwatchdog.providers.aws.policy.document import PolicyDocument

OWNER = "111122223333"
OTHER = "444455556666"
OWNER_CANONICAL = "c0ffee" * 10
OTHER_CANONICAL = "beef" * 16
BUCKET = "arn:aws:s3:::examplebucket"


def _read(text: str) -> PolicyDocument | ReadError:
    """A policy as the normalizer hands it over: parsed once, or a MalformedPolicy ReadError."""
    policy = CallReader(OWNER).setting({"ok": {"Policy": text}}, "GetBucketPolicy", parse_policy, "bucket")
    assert policy is not None
    return policy


def _policy_text(
    principal: Any = "*", action: Any = "s3:GetObject", resource: Any = BUCKET + "/*", **extra: Any
) -> str:
    statement = {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [{**statement, **extra}]})


def _policy(*args: Any, **extra: Any) -> PolicyDocument | ReadError:
    return _read(_policy_text(*args, **extra))


PUBLIC_POLICY = _policy()
CROSS_POLICY = _policy({"AWS": OTHER}, "s3:PutObject")
PUBLIC_AND_CROSS_POLICY = _read(json.dumps(
    {
        "Statement": [
            json.loads(_policy_text())["Statement"][0] | {"Sid": "Pub"},
            json.loads(_policy_text({"AWS": OTHER}, "s3:PutObject"))["Statement"][0] | {"Sid": "Partner"},
        ]
    }
))


def _err(operation: str, code: str = "AccessDenied") -> ReadError:
    return ReadError(operation, code, "denied by test")


def _grant(grantee: str, permission: str, kind: GranteeType = GranteeType.GROUP) -> Grant:
    return Grant(kind, grantee, permission)


def _acl(*grants: Grant) -> Acl:
    owner = Grant(GranteeType.CANONICAL_USER, OWNER_CANONICAL, "FULL_CONTROL")
    return Acl(OWNER_CANONICAL, (owner, *grants))


def _pab(**flags: bool) -> PublicAccessBlock:
    return PublicAccessBlock(**flags)


ALL_ON = PublicAccessBlock(True, True, True, True)


def _bucket(**overrides: Any) -> S3Bucket:
    base = S3Bucket(
        account=OWNER,
        name="examplebucket",
        region="us-east-1",
        acl=_acl(),
        policy=None,
        policy_status_public=None,
        bucket_pab=None,
        account_pab=None,
        object_ownership="BucketOwnerPreferred",
    )
    return replace(base, **overrides)


@dataclass(frozen=True)
class Expect:
    level: Level
    latent: bool = False
    read: bool = False
    list: bool = False
    write: bool = False
    external: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # substrings that must appear in some evidence detail
    sources: tuple[str, ...] = field(default=())  # evidence sources that must appear


def _check(exposure: Exposure, expect: Expect) -> None:
    details = "\n".join(f"[{e.source}] {e.detail}" for e in exposure.evidence)
    got = (exposure.level, exposure.latent, exposure.read, exposure.list, exposure.write)
    want = (expect.level, expect.latent, expect.read, expect.list, expect.write)
    assert got == want, details
    assert exposure.external_principals == expect.external, details
    for text in expect.evidence:
        assert text in details, f"{text!r} not in\n{details}"
    for source in expect.sources:
        assert any(e.source == source for e in exposure.evidence), details


BUCKET_CASES = [
    # --- private baseline and the policy route under each Block Public Access level
    ("private-default", {}, Expect(Level.PRIVATE, evidence=("no bucket policy",))),
    (
        "public-policy-no-bpa",
        {"policy": PUBLIC_POLICY},
        Expect(Level.PUBLIC, read=True, evidence=('statement "S" allows s3:GetObject to Principal "*"',)),
    ),
    (
        "public-policy-restrict-account",
        {"policy": PUBLIC_POLICY, "account_pab": _pab(restrict_public_buckets=True)},
        Expect(
            Level.PRIVATE,
            latent=True,
            read=True,
            evidence=("RestrictPublicBuckets is on at the account level",),
        ),
    ),
    (
        "public-policy-restrict-bucket",
        {"policy": PUBLIC_POLICY, "bucket_pab": _pab(restrict_public_buckets=True)},
        Expect(
            Level.PRIVATE,
            latent=True,
            read=True,
            evidence=("RestrictPublicBuckets is on at the bucket level",),
        ),
    ),
    (
        "public-policy-restrict-both-levels",
        {"policy": PUBLIC_POLICY, "bucket_pab": ALL_ON, "account_pab": ALL_ON},
        Expect(Level.PRIVATE, latent=True, read=True, evidence=("on at the account and bucket level",)),
    ),
    (
        "public-policy-block-public-policy-only",
        {"policy": PUBLIC_POLICY, "account_pab": _pab(block_public_policy=True)},
        Expect(
            Level.PUBLIC, read=True, evidence=("BlockPublicPolicy is on at the account level", "existing")
        ),
    ),
    (
        "public-policy-ignore-public-acls-only",
        {"policy": PUBLIC_POLICY, "bucket_pab": _pab(ignore_public_acls=True, block_public_acls=True)},
        Expect(Level.PUBLIC, read=True),
    ),
    (
        "public-policy-restrict-cuts-cross-account",
        {"policy": PUBLIC_AND_CROSS_POLICY, "bucket_pab": _pab(restrict_public_buckets=True)},
        Expect(Level.PRIVATE, latent=True, read=True, evidence=("cuts the policy's cross-account access",)),
    ),
    (
        "public-policy-with-partner-in-force",
        {"policy": PUBLIC_AND_CROSS_POLICY},
        Expect(Level.PUBLIC, read=True, external=(OTHER,)),
    ),
    (
        "cross-account-policy",
        {"policy": CROSS_POLICY, "account_pab": ALL_ON},
        Expect(Level.CROSS_ACCOUNT, write=True, external=(OTHER,)),
    ),
    (
        "policy-canonical-owner-is-not-external",
        {"policy": _policy({"CanonicalUser": OWNER_CANONICAL})},
        Expect(Level.PRIVATE),
    ),
    # --- the ACL route
    (
        "acl-allusers-read",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ"))},
        Expect(Level.PUBLIC, list=True, evidence=("bucket ACL grants READ to AllUsers (anyone)",)),
    ),
    (
        "acl-authenticated-users-write",
        {"acl": _acl(_grant(AUTHENTICATED_USERS_URI, "WRITE"))},
        Expect(Level.PUBLIC, write=True, evidence=("AuthenticatedUsers (any AWS account)",)),
    ),
    (
        "acl-allusers-read-acp-is-public",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ_ACP"))},
        Expect(Level.PUBLIC, evidence=("grants READ_ACP to AllUsers",)),
    ),
    (
        "acl-allusers-write-acp",
        {"acl": _acl(_grant(ALL_USERS_URI, "WRITE_ACP"))},
        Expect(Level.PUBLIC, write=True),
    ),
    (
        "acl-allusers-full-control",
        {"acl": _acl(_grant(ALL_USERS_URI, "FULL_CONTROL"))},
        Expect(Level.PUBLIC, list=True, write=True),
    ),
    (
        "acl-public-ignored-account",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "account_pab": _pab(ignore_public_acls=True)},
        Expect(
            Level.PRIVATE, latent=True, list=True, evidence=("IgnorePublicAcls is on at the account level",)
        ),
    ),
    (
        "acl-public-ignored-bucket",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "bucket_pab": _pab(ignore_public_acls=True)},
        Expect(
            Level.PRIVATE, latent=True, list=True, evidence=("IgnorePublicAcls is on at the bucket level",)
        ),
    ),
    (
        "acl-public-block-public-acls-only",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "account_pab": _pab(block_public_acls=True)},
        Expect(Level.PUBLIC, list=True, evidence=("BlockPublicAcls is on at the account level",)),
    ),
    (
        "acl-public-restrict-does-not-apply",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "bucket_pab": _pab(restrict_public_buckets=True)},
        Expect(Level.PUBLIC, list=True),
    ),
    (
        "acl-public-owner-enforced",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "object_ownership": "BucketOwnerEnforced"},
        Expect(Level.PRIVATE, latent=True, list=True, sources=("object-ownership",)),
    ),
    (
        "acl-log-delivery-not-public",
        {"acl": _acl(_grant(LOG_DELIVERY_URI, "WRITE"), _grant(LOG_DELIVERY_URI, "READ_ACP"))},
        Expect(Level.PRIVATE, evidence=("LogDelivery", "not public")),
    ),
    (
        "object-acl-public-read",
        {"object_acls": (ObjectAcl("reports/q1.pdf", _acl(_grant(ALL_USERS_URI, "READ"))),)},
        Expect(Level.PUBLIC, read=True, evidence=('object ACL of "reports/q1.pdf" grants READ to AllUsers',)),
    ),
    (
        "object-acl-public-ignored",
        {
            "object_acls": (ObjectAcl("a.txt", _acl(_grant(AUTHENTICATED_USERS_URI, "FULL_CONTROL"))),),
            "bucket_pab": ALL_ON,
        },
        Expect(Level.PRIVATE, latent=True, read=True, write=True),
    ),
    (
        "acl-other-canonical-user",
        {"acl": _acl(_grant(OTHER_CANONICAL, "READ", GranteeType.CANONICAL_USER))},
        Expect(Level.CROSS_ACCOUNT, list=True, external=(f"canonical:{OTHER_CANONICAL}",)),
    ),
    (
        "acl-email-grantee",
        {"acl": _acl(_grant("partner@example.com", "WRITE", GranteeType.EMAIL))},
        Expect(Level.CROSS_ACCOUNT, write=True, external=("email:partner@example.com",)),
    ),
    (
        "acl-other-canonical-ignore-public-acls-keeps-it",
        {"acl": _acl(_grant(OTHER_CANONICAL, "READ", GranteeType.CANONICAL_USER)), "account_pab": ALL_ON},
        Expect(Level.CROSS_ACCOUNT, list=True, external=(f"canonical:{OTHER_CANONICAL}",)),
    ),
    (
        "acl-other-canonical-owner-enforced",
        {
            "acl": _acl(_grant(OTHER_CANONICAL, "READ", GranteeType.CANONICAL_USER)),
            "object_ownership": "BucketOwnerEnforced",
        },
        Expect(Level.PRIVATE),
    ),
    # --- both routes
    (
        "restricted-policy-and-cross-acl",
        {
            "policy": PUBLIC_POLICY,
            "account_pab": _pab(restrict_public_buckets=True),
            "acl": _acl(_grant(OTHER_CANONICAL, "FULL_CONTROL", GranteeType.CANONICAL_USER)),
        },
        Expect(Level.CROSS_ACCOUNT, latent=True, read=True, external=(f"canonical:{OTHER_CANONICAL}",)),
    ),
    (
        "public-policy-and-ignored-acl",
        {
            "policy": PUBLIC_POLICY,
            "acl": _acl(_grant(ALL_USERS_URI, "READ")),
            "bucket_pab": _pab(ignore_public_acls=True),
        },
        Expect(Level.PUBLIC, read=True),
    ),
    (
        "both-neutralised",
        {"policy": PUBLIC_POLICY, "acl": _acl(_grant(ALL_USERS_URI, "WRITE")), "account_pab": ALL_ON},
        Expect(Level.PRIVATE, latent=True, read=True, write=True),
    ),
    # --- unknown, and precisely when not
    (
        "acl-unreadable",
        {"acl": _err("GetBucketAcl")},
        Expect(
            Level.UNKNOWN,
            evidence=("GetBucketAcl failed: AccessDenied: denied by test",),
            sources=("read-error",),
        ),
    ),
    (
        "acl-unreadable-public-policy-in-force",
        {"acl": _err("GetBucketAcl"), "policy": PUBLIC_POLICY},
        Expect(Level.PUBLIC, read=True, sources=("read-error",)),
    ),
    (
        "acl-unreadable-acls-disabled",
        {"acl": _err("GetBucketAcl"), "object_ownership": "BucketOwnerEnforced"},
        Expect(Level.PRIVATE, sources=("read-error",)),
    ),
    (
        "acl-unreadable-ignore-public-acls",
        {"acl": _err("GetBucketAcl"), "account_pab": ALL_ON},
        Expect(Level.UNKNOWN),
    ),
    (
        "policy-unreadable",
        {"policy": _err("GetBucketPolicy")},
        Expect(Level.UNKNOWN, sources=("read-error",)),
    ),
    (
        "policy-unreadable-public-acl-in-force",
        {"policy": _err("GetBucketPolicy"), "acl": _acl(_grant(ALL_USERS_URI, "READ"))},
        Expect(Level.PUBLIC, list=True, sources=("read-error",)),
    ),
    (
        "policy-unparseable",
        {"policy": _read('{"Statement": [{"Sid": "Bad", "Effect": "Maybe"}]}')},
        Expect(Level.UNKNOWN, evidence=("bucket policy could not be parsed:", '"Bad"')),
    ),
    (
        "public-policy-account-pab-unreadable",
        {"policy": PUBLIC_POLICY, "account_pab": _err("GetPublicAccessBlock")},
        Expect(Level.UNKNOWN, sources=("read-error",)),
    ),
    (
        "public-policy-bucket-pab-unreadable-account-restricts",
        {"policy": PUBLIC_POLICY, "bucket_pab": _err("GetPublicAccessBlock"), "account_pab": ALL_ON},
        Expect(Level.PRIVATE, latent=True, read=True, sources=("read-error",)),
    ),
    (
        "private-pab-unreadable",
        {
            "account_pab": _err("GetPublicAccessBlock"),
            "bucket_pab": _err("GetPublicAccessBlock", "Throttling"),
        },
        Expect(Level.PRIVATE, evidence=("Throttling", "nothing here depends on them")),
    ),
    (
        "cross-account-pab-unreadable",
        {"policy": CROSS_POLICY, "bucket_pab": _err("GetPublicAccessBlock")},
        Expect(Level.CROSS_ACCOUNT, write=True, external=(OTHER,)),
    ),
    (
        "public-acl-pab-unreadable",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "bucket_pab": _err("GetPublicAccessBlock")},
        Expect(Level.UNKNOWN),
    ),
    (
        "public-acl-ownership-unreadable",
        {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "object_ownership": _err("GetBucketOwnershipControls")},
        Expect(Level.UNKNOWN, sources=("read-error",)),
    ),
    (
        "public-acl-ownership-unreadable-but-ignored",
        {
            "acl": _acl(_grant(ALL_USERS_URI, "READ")),
            "object_ownership": _err("GetBucketOwnershipControls"),
            "account_pab": ALL_ON,
        },
        Expect(Level.PRIVATE, latent=True, list=True),
    ),
    (
        "private-ownership-unreadable",
        {"object_ownership": _err("GetBucketOwnershipControls")},
        Expect(Level.PRIVATE, sources=("read-error",)),
    ),
    (
        "other-errors",
        {"other_errors": (_err("HeadBucket", "NoSuchBucket"),)},
        Expect(Level.UNKNOWN, evidence=("HeadBucket failed: NoSuchBucket",)),
    ),
    (
        "other-errors-even-when-public",
        {"policy": PUBLIC_POLICY, "other_errors": (_err("GetBucketTagging", "NoSuchBucket"),)},
        Expect(Level.UNKNOWN),
    ),
    (
        "object-acl-unreadable",
        {"object_acls": (ObjectAcl("secret.txt", _err("GetObjectAcl")),)},
        Expect(Level.UNKNOWN, evidence=("GetObjectAcl failed",)),
    ),
    (
        "object-acl-unreadable-acls-disabled",
        {"object_acls": (ObjectAcl("x", _err("GetObjectAcl")),), "object_ownership": "BucketOwnerEnforced"},
        Expect(Level.PRIVATE),
    ),
    ("tags-unreadable-do-not-matter", {"tags": _err("GetBucketTagging")}, Expect(Level.PRIVATE)),
    # --- AWS's own policy status: recorded when it disagrees, never deciding
    (
        "policy-status-says-public-we-do-not",
        {"policy": CROSS_POLICY, "policy_status_public": True},
        Expect(Level.CROSS_ACCOUNT, write=True, external=(OTHER,), evidence=("IsPublic=true",)),
    ),
    (
        "policy-status-says-private-we-say-public",
        {"policy": PUBLIC_POLICY, "policy_status_public": False},
        Expect(
            Level.PUBLIC,
            read=True,
            sources=("aws-policy-status",),
            evidence=("our analysis finds it public",),
        ),
    ),
    (
        "policy-status-unreadable",
        {"policy": PUBLIC_POLICY, "policy_status_public": _err("GetBucketPolicyStatus")},
        Expect(Level.PUBLIC, read=True, sources=("read-error",)),
    ),
]


@pytest.mark.parametrize(("overrides", "expect"), [pytest.param(o, e, id=n) for n, o, e in BUCKET_CASES])
def test_bucket_exposure(overrides: dict[str, Any], expect: Expect) -> None:
    _check(bucket_exposure(_bucket(**overrides)), expect)


def test_policy_status_agreement_adds_no_evidence() -> None:
    exposure = bucket_exposure(_bucket(policy=PUBLIC_POLICY, policy_status_public=True))
    assert not any(e.source == "aws-policy-status" for e in exposure.evidence)


def test_evidence_is_not_duplicated() -> None:
    exposure = bucket_exposure(_bucket(policy=PUBLIC_POLICY, acl=_acl(_grant(ALL_USERS_URI, "READ"))))
    assert len(exposure.evidence) == len(set(exposure.evidence))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, False, id="private"),
        pytest.param({"policy": PUBLIC_POLICY, "account_pab": ALL_ON}, True, id="policy-behind-bpa"),
        pytest.param(
            {"acl": _acl(_grant(ALL_USERS_URI, "READ")), "object_ownership": "BucketOwnerEnforced"},
            True,
            id="acl-behind-ownership",
        ),
        pytest.param(
            {"object_acls": (ObjectAcl("k", _acl(_grant(ALL_USERS_URI, "READ"))),)}, True, id="object"
        ),
        pytest.param({"policy": CROSS_POLICY}, False, id="cross-account"),
        pytest.param({"acl": _err("GetBucketAcl")}, None, id="acl-unreadable"),
        pytest.param({"policy": _err("GetBucketPolicy")}, None, id="policy-unreadable"),
        pytest.param({"policy": _read("not json")}, None, id="policy-unparseable"),
        pytest.param({"policy": PUBLIC_POLICY, "acl": _err("GetBucketAcl")}, True, id="public-despite-error"),
        pytest.param({"account_pab": _err("GetPublicAccessBlock")}, False, id="pab-unreadable-irrelevant"),
    ],
)
def test_bucket_grants_public(overrides: dict[str, Any], expected: bool | None) -> None:
    assert bucket_grants_public(_bucket(**overrides)) is expected


AP_ARN = f"arn:aws:s3:us-east-1:{OWNER}:accesspoint/my-ap"
AP_PUBLIC_POLICY = _policy(resource=AP_ARN + "/object/*")


def _access_point(**overrides: Any) -> S3AccessPoint:
    base = S3AccessPoint(
        account=OWNER,
        name="my-ap",
        region="us-east-1",
        bucket="examplebucket",
        network_origin="Internet",
        vpc_id=None,
        policy=None,
        pab=None,
        account_pab=None,
    )
    return replace(base, **overrides)


ACCESS_POINT_CASES = [
    ("no-policy", {}, Expect(Level.PRIVATE, evidence=("no access point policy",))),
    (
        "public-policy",
        {"policy": AP_PUBLIC_POLICY},
        Expect(Level.PUBLIC, read=True, sources=("access-point-policy",)),
    ),
    (
        "vpc-origin-never-public",
        {"policy": AP_PUBLIC_POLICY, "network_origin": "VPC", "vpc_id": "vpc-111bbb22"},
        Expect(Level.PRIVATE, evidence=("vpc-111bbb22",), sources=("access-point",)),
    ),
    (
        "origin-unreadable",
        {"network_origin": _err("GetAccessPoint")},
        Expect(Level.UNKNOWN, sources=("read-error",)),
    ),
    (
        "restrict-on-access-point",
        {"policy": AP_PUBLIC_POLICY, "pab": _pab(restrict_public_buckets=True)},
        Expect(Level.PRIVATE, latent=True, read=True, evidence=("on at the access point level",)),
    ),
    (
        "restrict-on-account",
        {"policy": AP_PUBLIC_POLICY, "account_pab": ALL_ON},
        Expect(Level.PRIVATE, latent=True, read=True, evidence=("on at the account level",)),
    ),
    (
        "restrict-on-bucket",
        {"policy": AP_PUBLIC_POLICY, "bucket_pab": _pab(restrict_public_buckets=True)},
        Expect(Level.PRIVATE, latent=True, read=True, evidence=("on at the bucket level",)),
    ),
    (
        "block-public-policy-only",
        {"policy": AP_PUBLIC_POLICY, "pab": _pab(block_public_policy=True, ignore_public_acls=True)},
        Expect(Level.PUBLIC, read=True),
    ),
    (
        "pab-unreadable-public-policy",
        {"policy": AP_PUBLIC_POLICY, "pab": _err("GetAccessPoint")},
        Expect(Level.UNKNOWN),
    ),
    ("pab-unreadable-no-policy", {"account_pab": _err("GetPublicAccessBlock")}, Expect(Level.PRIVATE)),
    (
        "policy-unreadable",
        {"policy": _err("GetAccessPointPolicy")},
        Expect(Level.UNKNOWN, sources=("read-error",)),
    ),
    (
        "policy-unparseable",
        {"policy": _read("{")},
        Expect(Level.UNKNOWN, evidence=("access point policy could not be parsed",)),
    ),
    (
        "cross-account-policy",
        {"policy": _policy({"AWS": OTHER}, resource=AP_ARN + "/object/*")},
        Expect(Level.CROSS_ACCOUNT, read=True, external=(OTHER,)),
    ),
    (
        "data-access-point-arn-does-not-restrict",
        {
            "policy": _policy(
                resource=AP_ARN + "/object/*", Condition={"StringEquals": {"s3:DataAccessPointArn": AP_ARN}}
            )
        },
        Expect(Level.PUBLIC, read=True),
    ),
    (
        "data-access-point-account-does-not-restrict",
        {
            "policy": _policy(
                resource=AP_ARN + "/object/*", Condition={"StringEquals": {"s3:DataAccessPointAccount": OWNER}}
            )
        },
        Expect(Level.PUBLIC, read=True, evidence=("always the access point's own account",)),
    ),
]


@pytest.mark.parametrize(
    ("overrides", "expect"), [pytest.param(o, e, id=n) for n, o, e in ACCESS_POINT_CASES]
)
def test_access_point_exposure(overrides: dict[str, Any], expect: Expect) -> None:
    _check(access_point_exposure(_access_point(**overrides)), expect)


# --- Trusted organizations and evidence order -----------------------------------------------------------------

ORG_POLICY_TEXT = _policy_text({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}})
ORG_POLICY = _read(ORG_POLICY_TEXT)


def test_org_restricted_policy_is_external_unless_the_org_is_trusted() -> None:
    unknown_org = bucket_exposure(_bucket(policy=ORG_POLICY))
    assert unknown_org.level is Level.CROSS_ACCOUNT
    assert unknown_org.external_principals == ("org:o-abcdef1234",)
    trusted = bucket_exposure(_bucket(policy=ORG_POLICY, trusted_orgs=frozenset({"o-abcdef1234"})))
    assert trusted.level is Level.PRIVATE and trusted.external_principals == ()


def test_trusted_org_applies_to_access_points() -> None:
    ap = S3AccessPoint(OWNER, "ap", "us-east-1", "examplebucket", "Internet", None,
                       _read(ORG_POLICY_TEXT.replace(BUCKET + "/*",
                                                     "arn:aws:s3:us-east-1:111122223333:accesspoint/ap/object/*")),
                       None, None)
    assert access_point_exposure(ap).level is Level.CROSS_ACCOUNT
    assert access_point_exposure(replace(ap, trusted_orgs=frozenset({"o-abcdef1234"}))).level is Level.PRIVATE


def test_decisive_evidence_comes_first() -> None:
    # A public ACL with no policy: the first evidence must be the grant, not "no bucket policy".
    acl_public = bucket_exposure(_bucket(acl=_acl(_grant(ALL_USERS_URI, "READ"))))
    assert acl_public.level is Level.PUBLIC
    assert acl_public.evidence[0].source == "bucket-acl" and "AllUsers" in acl_public.evidence[0].detail
    assert any(e.detail == "no bucket policy" for e in acl_public.evidence[1:])
    # A public policy: the first evidence names the statement.
    policy_public = bucket_exposure(_bucket(policy=PUBLIC_POLICY))
    assert policy_public.evidence[0].source == "bucket-policy" and '"S"' in policy_public.evidence[0].detail
