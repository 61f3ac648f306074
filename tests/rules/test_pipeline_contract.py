"""The built-in rules against resources built by the real inventory and exposure code: the property names and
shapes the rules match on must be the ones the pipeline produces."""

from __future__ import annotations

import json

import cloudwatchdog.providers.aws.inventory as inventory
import cloudwatchdog.providers.aws.normalize as normalize
from cloudwatchdog.model import Finding, ReadError, Severity
from cloudwatchdog.providers.aws.model import ALL_USERS_URI, Acl, Grant, GranteeType, PublicAccessBlock, S3Bucket
from cloudwatchdog.rules import evaluate, load_rules

ACCOUNT = "123456789012"
OWNER = Acl("owner-canonical-id", ())
ALL_ON = PublicAccessBlock(True, True, True, True)
DENIED = ReadError("GetPublicAccessBlock", "AccessDenied", "Access Denied")
PUBLIC_READ_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::{name}/*"}],
})


def bucket(name: str, **changes: object) -> S3Bucket:
    fields: dict[str, object] = {
        "account": ACCOUNT, "name": name, "region": "us-east-1", "acl": OWNER, "policy": None,
        "policy_status_public": False, "bucket_pab": None, "account_pab": None,
        "object_ownership": "BucketOwnerEnforced",
    }
    fields.update(changes)
    return S3Bucket(**fields)  # type: ignore[arg-type]


def findings_for(account_pab: PublicAccessBlock | ReadError | None, *buckets: S3Bucket) -> list[Finding]:
    inv = normalize.AwsAccountInventory(
        account=ACCOUNT, name="prod", status="ok", error=None, api_calls=0, account_pab=account_pab,
        buckets=buckets, access_points=(), errors=(),
    )
    return evaluate(load_rules(), inventory.account_resources(inv))


def ids(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule_id, f.resource_name) for f in findings}


def test_account_without_block_public_access() -> None:
    assert ids(findings_for(None)) == {("aws-s3-account-block-public-access-off", "prod")}


def test_account_with_block_public_access_on() -> None:
    assert ids(findings_for(ALL_ON)) == set()


def test_account_block_public_access_unreadable() -> None:
    [finding] = findings_for(DENIED)
    assert finding.rule_id == "aws-resource-unreadable"
    assert "AccessDenied" in finding.message


def test_public_bucket_policy() -> None:
    policy = PUBLIC_READ_POLICY.replace("{name}", "assets")
    public = bucket("assets", policy=policy, policy_status_public=True)
    findings = [f for f in findings_for(None, public) if f.resource_name == "assets"]
    assert [(f.rule_id, f.severity) for f in findings] == [("aws-s3-bucket-public", Severity.CRITICAL)]


def test_public_acl_neutralised_by_account_setting_is_latent() -> None:
    acl = Acl("owner-canonical-id", (Grant(GranteeType.GROUP, ALL_USERS_URI, "READ"),))
    latent = bucket("old-site", acl=acl, object_ownership="ObjectWriter", account_pab=ALL_ON)
    assert ids(findings_for(ALL_ON, latent)) == {("aws-s3-bucket-latent-public", "old-site")}


def test_unreadable_bucket_policy() -> None:
    unknown = bucket("locked", policy=ReadError("GetBucketPolicy", "AccessDenied", "Access Denied"))
    found = ids(findings_for(None, unknown))
    assert ("aws-resource-unreadable", "locked") in found
    assert not any(name == "locked" and rule != "aws-resource-unreadable" for rule, name in found)


def test_private_bucket() -> None:
    assert ids(findings_for(ALL_ON, bucket("private", account_pab=ALL_ON))) == set()
