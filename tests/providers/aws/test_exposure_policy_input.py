"""Bucket verdicts that hang on what the policy says: unreadable object ACLs behind a closing Deny, and policies the
parser cannot take (duplicate keys, numbers past Python's limit), which are unknown with the reason as evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.aws.exposure import bucket_exposure, bucket_grants_public
from cloudwatchdog.providers.aws.model import ObjectAcl
from tests.providers.aws.test_exposure import ALL_ON, BUCKET, Expect, _bucket, _check, _err, _pab, _read

OBJECTS = BUCKET + "/*"


def _deny(condition: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                 "Resource": [BUCKET, OBJECTS]}
    if condition is not None:
        statement["Condition"] = condition
    return {**statement, **fields}


OUTSIDE_VPCE = {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}


def _policy(*statements: dict[str, Any]) -> Any:
    return _read(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


UNREAD = (ObjectAcl("secret.txt", _err("GetObjectAcl")),)

OBJECT_ACL_CASES = [
    (
        "deny-outside-vpce-closes-the-objects",
        {"object_acls": UNREAD, "policy": _policy(_deny(OUTSIDE_VPCE))},
        Expect(Level.PRIVATE, evidence=("no object ACL can take effect: a Deny in the bucket policy removes every "
                                        "untrusted path to the objects", "GetObjectAcl failed")),
    ),
    (
        "deny-of-objects-only-closes-them-too",
        {"object_acls": UNREAD, "policy": _policy(_deny(OUTSIDE_VPCE, Resource=OBJECTS))},
        Expect(Level.PRIVATE),
    ),
    (
        "deny-unless-own-account-closes",
        {"object_acls": UNREAD,
         "policy": _policy(_deny({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}))},
        Expect(Level.PRIVATE),
    ),
    (
        "ignore-public-acls-in-force",
        {"object_acls": UNREAD, "account_pab": _pab(ignore_public_acls=True)},
        Expect(Level.PRIVATE, evidence=("IgnorePublicAcls is on at the account level",)),
    ),
    (
        "ignore-public-acls-unreadable-stays-unknown",
        {"object_acls": UNREAD, "account_pab": _err("GetPublicAccessBlock")},
        Expect(Level.UNKNOWN),
    ),
    (
        "deny-of-getobject-only-leaves-the-acl-actions",
        {"object_acls": UNREAD, "policy": _policy(_deny(OUTSIDE_VPCE, Action="s3:GetObject"))},
        Expect(Level.UNKNOWN),
    ),
    (
        "deny-that-restricts-nobody-leaves-them-open",
        {"object_acls": UNREAD, "policy": _policy(_deny({"Bool": {"aws:SecureTransport": "false"}}))},
        Expect(Level.UNKNOWN),
    ),
    (
        "deny-except-another-account-leaves-that-account",
        {"object_acls": UNREAD, "policy": _policy({k: v for k, v in _deny().items() if k != "Principal"}
                                                  | {"NotPrincipal": {"AWS": "444455556666"}})},
        Expect(Level.UNKNOWN),
    ),
    (
        "deny-on-another-prefix-leaves-the-rest",
        {"object_acls": UNREAD, "policy": _policy(_deny(OUTSIDE_VPCE, Resource=BUCKET + "/private/*"))},
        Expect(Level.UNKNOWN),
    ),
    (
        "the-bucket-acl-itself-unreadable-stays-unknown",
        {"acl": _err("GetBucketAcl"), "policy": _policy(_deny(OUTSIDE_VPCE)), "account_pab": ALL_ON},
        Expect(Level.UNKNOWN),
    ),
]


def _parsed(overrides: dict[str, Any]) -> dict[str, Any]:
    policy = overrides.get("policy")
    if isinstance(policy, ReadError):
        raise AssertionError(f"test policy does not parse: {policy.message}")
    return overrides


@pytest.mark.parametrize(("overrides", "expect"), [pytest.param(o, e, id=n) for n, o, e in OBJECT_ACL_CASES])
def test_unreadable_object_acls_matter_only_where_one_could_take_effect(
    overrides: dict[str, Any], expect: Expect
) -> None:
    _check(bucket_exposure(_bucket(**_parsed(overrides))), expect)


def test_closing_deny_keeps_the_hypothetical_answer_known() -> None:
    assert bucket_grants_public(_bucket(object_acls=UNREAD, policy=_policy(_deny(OUTSIDE_VPCE)))) is False
    assert bucket_grants_public(_bucket(object_acls=UNREAD)) is None


DUPLICATE_STATEMENT = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
    f'"Resource":"{OBJECTS}"}}],"Statement":[{{"Sid":"Nothing","Effect":"Deny","Principal":"*","Action":"s3:*",'
    f'"Resource":"{OBJECTS}"}}]}}'
)


def test_duplicate_statement_key_is_unknown_and_says_why() -> None:
    # Read once, the second "Statement" wins and the bucket looks private; AWS itself says public.
    policy = _read(DUPLICATE_STATEMENT)
    assert isinstance(policy, ReadError) and policy.code == "MalformedPolicy"
    exposure = bucket_exposure(_bucket(policy=policy, policy_status_public=True))
    _check(exposure, Expect(Level.UNKNOWN, evidence=(
        "bucket policy could not be parsed: policy has the key 'Statement' twice",
        "not judged on one reading",
        "GetBucketPolicyStatus says the policy is public (IsPublic=true); our analysis could not judge the policy",
    )))
    assert bucket_grants_public(_bucket(policy=policy)) is None


def test_number_past_pythons_limit_is_unknown_not_a_crash() -> None:
    text = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                                     "Resource": BUCKET, "Condition": {"NumericLessThan": {"s3:max-keys": 1}}}})
    policy = _read(text.replace(": 1}", ": " + "1" * 10_000 + "}"))
    assert isinstance(policy, ReadError)
    _check(bucket_exposure(_bucket(policy=policy)),
           Expect(Level.UNKNOWN, evidence=("could not be parsed: policy has a number 10000 characters long",)))
