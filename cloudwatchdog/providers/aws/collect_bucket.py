"""The reads of one bucket, back to back on one thread, in an order that lets earlier answers make later ones moot.

Asked, in order: GetBucketLocation (only when no listing named the region), GetBucketOwnershipControls,
GetBucketPolicy, GetBucketAcl (not under BucketOwnerEnforced, where AWS answers it with owner full control, unless
the policy names a CanonicalUser: ``moot``), GetBucketPolicyStatus (only where our analysis does not already find the
policy public, ``moot``), GetBucketTagging (only when the tag listings cannot tell, ``listings``), the object-ACL
sample (ListObjectsV2 then GetObjectAcl per key, where ACLs are in force), and last the bucket-level Block Public
Access: not asked when all four account-level flags are on, or when the answers before it leave nothing for it to
block (``moot``). What is not asked is recorded as ``{"skipped": why}`` (``{"absent": ...}`` for the policy status
of a bucket without a policy), so the normalizer can check it and never invents a value.
"""

from __future__ import annotations

from typing import Any, Protocol

from cloudwatchdog.providers.aws.listings import TagListings
from cloudwatchdog.providers.aws.model import ACCOUNT_DECIDES
from cloudwatchdog.providers.aws.moot import (
    ACLS_DISABLED,
    NOTHING_TO_BLOCK,
    POLICY_FOUND_PUBLIC,
    acl_moot,
    acls_disabled,
    nothing_to_block,
    policy_found_public,
)

CallResult = dict[str, Any]


class Caller(Protocol):
    """The account reader (``collect.AccountReader``): one recorded call at a time, never raising."""

    account: str

    @property
    def default_region(self) -> str: ...

    def call(self, service: str, operation: str, *, region: str | None = None, resource: str = "",
             **params: Any) -> CallResult: ...


def bucket_region(location: CallResult, default: str = "us-east-1") -> str | None:
    """The region from a GetBucketLocation result (None and "" mean us-east-1, "EU" means eu-west-1)."""
    payload = location.get("ok")
    if not isinstance(payload, dict):
        return None
    constraint = payload.get("LocationConstraint")
    if constraint in (None, ""):
        return default
    if constraint == "EU":
        return "eu-west-1"
    return constraint if isinstance(constraint, str) else None


def _sample_keys(listing: CallResult, limit: int) -> list[str]:
    payload = listing.get("ok")
    contents = payload.get("Contents") if isinstance(payload, dict) else None
    if not isinstance(contents, list):
        return []
    # (S3 keys are never empty; an empty one would address the bucket itself, and its ACL.)
    keys = [c["Key"] for c in contents if isinstance(c, dict) and isinstance(c.get("Key"), str) and c["Key"]]
    return keys[:limit]


def read_bucket(
    reader: Caller, name: str, *, object_acl_sample: int, region: str | None = None, tags: TagListings | None = None,
    account_decides: bool = False, trusted_orgs: frozenset[str] = frozenset(), keep_pab: bool = False,
) -> dict[str, Any]:
    """All calls for one bucket (see the module's text). ``keep_pab``: read the bucket-level Block Public Access
    even with nothing to block (an access point on the bucket combines it)."""
    resource = f"bucket {name}"
    calls: dict[str, CallResult] = {}
    if region is None:
        calls["GetBucketLocation"] = reader.call("s3", "GetBucketLocation", resource=resource, Bucket=name)
        region = bucket_region(calls["GetBucketLocation"])
    known_region = region
    # An unknown region falls back to the default client; botocore follows S3's region redirects.
    region = region or reader.default_region

    def call(operation: str, **params: Any) -> CallResult:
        return reader.call("s3", operation, region=region, resource=resource, Bucket=name, **params)

    for operation in ("GetBucketOwnershipControls", "GetBucketPolicy"):
        calls[operation] = call(operation)
    calls["GetBucketAcl"] = {"skipped": ACLS_DISABLED} if acl_moot(calls) else call("GetBucketAcl")
    if "absent" in calls["GetBucketPolicy"]:
        # No policy, no policy status: AWS would answer NoSuchBucketPolicy; save the call.
        calls["GetBucketPolicyStatus"] = {"absent": "NoSuchBucketPolicy"}
    elif policy_found_public(calls["GetBucketPolicy"], reader.account, trusted_orgs):
        calls["GetBucketPolicyStatus"] = {"skipped": POLICY_FOUND_PUBLIC}
    else:
        calls["GetBucketPolicyStatus"] = call("GetBucketPolicyStatus")
    if tags is None or not tags.answers(name, known_region):  # else the normalizer reads the tag listing
        calls["GetBucketTagging"] = call("GetBucketTagging")
    object_acls: list[dict[str, Any]] = []
    if object_acl_sample > 0 and acls_disabled(calls["GetBucketOwnershipControls"]) is not True:
        calls["ListObjectsV2"] = listing = call("ListObjectsV2", MaxKeys=object_acl_sample)
        for key in _sample_keys(listing, object_acl_sample):
            object_acls.append({"key": key, "GetObjectAcl": reader.call(
                "s3", "GetObjectAcl", region=region, resource=f"{resource} object {key}", Bucket=name, Key=key)})
    if account_decides:
        calls["GetPublicAccessBlock"] = {"skipped": ACCOUNT_DECIDES}
    elif not keep_pab and nothing_to_block(calls, object_acls):
        calls["GetPublicAccessBlock"] = {"skipped": NOTHING_TO_BLOCK}
    else:
        calls["GetPublicAccessBlock"] = call("GetPublicAccessBlock")
    return {"name": name, "calls": calls, "object_acls": object_acls}


def read_kept_pab(reader: Caller, result: dict[str, Any], region: str | None) -> None:
    """Read a bucket's Block Public Access after all (an access point on it turned up), in place of the skip."""
    calls = result.get("calls")
    if isinstance(calls, dict) and calls.get("GetPublicAccessBlock") == {"skipped": NOTHING_TO_BLOCK}:
        name = result.get("name")
        calls["GetPublicAccessBlock"] = reader.call(
            "s3", "GetPublicAccessBlock", region=region or reader.default_region, resource=f"bucket {name}",
            Bucket=name)


__all__ = ["bucket_region", "read_bucket", "read_kept_pab"]
