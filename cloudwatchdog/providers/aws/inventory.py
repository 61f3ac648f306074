"""Pure: a normalized AWS account inventory -> Resources (with exposure verdicts) and its coverage entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cloudwatchdog.model import Coverage, CoverageStatus, Evidence, Exposure, Level, ReadError, Resource
from cloudwatchdog.providers.aws.exposure import access_point_exposure, bucket_exposure, bucket_grants_public
from cloudwatchdog.providers.aws.inventory_sharing import sharing_resources, sharing_scope
from cloudwatchdog.providers.aws.model import (
    ACCESS_POINT_TYPE,
    ACCOUNT_TYPE,
    BUCKET_TYPE,
    NotRead,
    PublicAccessBlock,
    S3AccessPoint,
    S3Bucket,
)
from cloudwatchdog.providers.aws.normalize import AwsAccountInventory, normalize_account
from cloudwatchdog.providers.aws.normalize_sharing import normalize_sharing
from cloudwatchdog.providers.aws.policy.document import MALFORMED_POLICY, PolicyDocument

PROVIDER = "aws"


def account_uid(account: str) -> str:
    return f"aws:account:{account}"


def _pab_dict(value: PublicAccessBlock | ReadError | NotRead | None) -> dict[str, Any] | None:
    if isinstance(value, PublicAccessBlock):
        return value.to_dict()
    if isinstance(value, NotRead):
        return {"not_read": value.reason}
    return None


def _effective_pab(*levels: PublicAccessBlock | ReadError | NotRead | None) -> dict[str, bool] | None:
    """The combined setting, or None when a level could not be read, or was not read and the others leave a flag
    off (then nothing is known for sure)."""
    combined = PublicAccessBlock()
    for level in levels:
        if isinstance(level, ReadError):
            return None
        if isinstance(level, PublicAccessBlock):
            combined = combined | level
    if any(isinstance(level, NotRead) for level in levels) and not combined.fully_on:
        return None
    return combined.to_dict()


def _has_policy(policy: PolicyDocument | ReadError | None) -> bool:
    """A policy is there when it was read, parsable or not."""
    return isinstance(policy, PolicyDocument) or (isinstance(policy, ReadError) and policy.code == MALFORMED_POLICY)


def _errors(*values: object) -> list[str]:
    return [v.describe() for v in values if isinstance(v, ReadError)]


def bucket_resource(bucket: S3Bucket) -> Resource:
    tags = bucket.tags if not isinstance(bucket.tags, ReadError) else {}
    read_errors = _errors(
        bucket.acl, bucket.policy, bucket.policy_status_public, bucket.bucket_pab, bucket.account_pab,
        bucket.object_ownership, bucket.tags, *bucket.other_errors,
        *(o.acl for o in bucket.object_acls),
    )
    properties: dict[str, Any] = {
        "public_access_block": {
            "account": _pab_dict(bucket.account_pab),
            "bucket": _pab_dict(bucket.bucket_pab),
            "effective": _effective_pab(bucket.account_pab, bucket.bucket_pab),
        },
        "object_ownership": bucket.object_ownership if isinstance(bucket.object_ownership, str) else None,
        "policy_status_public": (
            bucket.policy_status_public if isinstance(bucket.policy_status_public, bool) else None
        ),
        "has_policy": _has_policy(bucket.policy),
        "public_settings": bucket_grants_public(bucket),
        "object_acls_sampled": len(bucket.object_acls),
        "read_errors": read_errors,
    }
    return Resource(
        uid=bucket.arn,
        provider=PROVIDER,
        account=bucket.account,
        region=bucket.region,
        type=BUCKET_TYPE,
        name=bucket.name,
        exposure=bucket_exposure(bucket),
        tags=dict(tags),
        properties=properties,
    )


def access_point_resource(ap: S3AccessPoint) -> Resource:
    properties: dict[str, Any] = {
        "bucket": ap.bucket,
        "network_origin": ap.network_origin if isinstance(ap.network_origin, str) else None,
        "vpc_id": ap.vpc_id,
        "public_access_block": {
            "account": _pab_dict(ap.account_pab),
            "access_point": _pab_dict(ap.pab),
            "effective": _effective_pab(ap.account_pab, ap.pab, ap.bucket_pab),
        },
        "has_policy": _has_policy(ap.policy),
        "read_errors": _errors(ap.network_origin, ap.policy, ap.pab, ap.account_pab, ap.bucket_pab),
    }
    return Resource(
        uid=ap.arn,
        provider=PROVIDER,
        account=ap.account,
        region=ap.region,
        type=ACCESS_POINT_TYPE,
        name=ap.name,
        exposure=access_point_exposure(ap),
        properties=properties,
    )


def account_resource(inv: AwsAccountInventory) -> Resource:
    """The account itself, carrying the account-level S3 Block Public Access setting for rules to judge."""
    pab = inv.account_pab
    if isinstance(pab, ReadError):
        exposure = Exposure(level=Level.UNKNOWN, evidence=(Evidence("read-error", pab.describe()),))
    else:
        detail = (
            "no account-level S3 Block Public Access configuration"
            if pab is None
            else "account-level S3 Block Public Access: "
            + ", ".join(f"{k}={'on' if v else 'off'}" for k, v in pab.to_dict().items())
        )
        exposure = Exposure(level=Level.PRIVATE, evidence=(Evidence("block-public-access", detail),))
    properties: dict[str, Any] = {
        "s3_public_access_block": _pab_dict(pab),
        "s3_public_access_block_error": pab.describe() if isinstance(pab, ReadError) else None,
    }
    return Resource(
        uid=account_uid(inv.account),
        provider=PROVIDER,
        account=inv.account,
        region="global",
        type=ACCOUNT_TYPE,
        aggregate=True,
        name=inv.name or inv.account,
        exposure=exposure,
        properties=properties,
    )


def account_resources(inv: AwsAccountInventory) -> list[Resource]:
    if inv.status == "error":
        return []
    out = [account_resource(inv)]
    out.extend(bucket_resource(b) for b in inv.buckets)
    out.extend(access_point_resource(a) for a in inv.access_points)
    return out


def account_coverage(
    inv: AwsAccountInventory, resources: list[Resource], extra_errors: Sequence[str] = (),
    extra_scope: Sequence[str] = (),
) -> Coverage:
    """``extra_errors``: failures of the account's other readers (snapshot and image sharing), listed once."""
    if inv.status == "error":
        failed = (inv.error or "account could not be scanned", *extra_errors)
        return Coverage(PROVIDER, inv.account, CoverageStatus.ERROR, len(resources), failed, inv.api_calls,
                        name=inv.name)
    errors = list(dict.fromkeys([*inv.errors, *extra_errors]))
    already = "\n".join(errors)  # the normalizers list each failed call once; don't repeat those
    for r in resources:
        read_errors = r.properties.get("read_errors", [])
        errors.extend(f"{r.type} {r.name}: {e}" for e in read_errors if e not in already)
        if (
            r.exposure.level is Level.UNKNOWN
            and not read_errors
            and not r.properties.get("s3_public_access_block_error")
        ):
            # Every call answered, but not in a way the verdict could use (e.g. an unparsable policy from the
            # cloud): the resource is not judged, so the scan is not complete.
            why = "; ".join(e.detail for e in r.exposure.evidence if "could not" in e.detail)
            errors.append(f"{r.type} {r.name}: exposure could not be determined" + (f": {why}" if why else ""))
    status = CoverageStatus.PARTIAL if errors else CoverageStatus.OK
    scope = (ACCOUNT_TYPE, BUCKET_TYPE, ACCESS_POINT_TYPE, *extra_scope)
    return Coverage(PROVIDER, inv.account, status, len(resources), tuple(errors), inv.api_calls, scope, name=inv.name)


def analyse_snapshot(snapshot: Mapping[str, Any]) -> tuple[list[Resource], Coverage]:
    """Pure: one account's raw snapshot -> its resources with verdicts, and its coverage entry. Snapshots and
    images read from an account whose buckets could not be listed are still reported (coverage stays error)."""
    inventory = normalize_account(snapshot)
    sharing = normalize_sharing(snapshot)
    found = account_resources(inventory) + sharing_resources(sharing)
    return found, account_coverage(inventory, found, sharing.errors, sharing_scope(sharing))
