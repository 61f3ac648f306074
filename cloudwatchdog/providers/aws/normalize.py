"""Pure: one raw AWS account snapshot (``cloudwatchdog.providers.aws.collect``) -> typed S3 inventory.

Imports no SDK. Each setting becomes its typed value, ``None`` when the API said it is not configured, or a
``ReadError`` when the call failed or answered in a shape we do not understand (``NotRead``: see ``listings``). A
malformed answer is logged with the resource and becomes ``ReadError(code="InvalidResponse")``: never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.listings import BucketPab, TagListings, listed_regions, skipped_bucket_pab
from cloudwatchdog.providers.aws.model import Acl, NotRead, ObjectAcl, PublicAccessBlock, S3AccessPoint, S3Bucket
from cloudwatchdog.providers.aws.moot import (
    ACLS_DISABLED,
    POLICY_FOUND_PUBLIC,
    acl_moot,
    nothing_to_block,
    policy_found_public,
)
from cloudwatchdog.providers.aws.parse import (
    ShapeError,
    parse_access_point_listing,
    parse_acl,
    parse_bucket_listing,
    parse_location,
    parse_ownership,
    parse_pab,
    parse_pab_config,
    parse_policy,
    parse_policy_status,
    parse_tags,
)
from cloudwatchdog.providers.aws.policy.document import MALFORMED_POLICY, PolicyError
from cloudwatchdog.providers.shapes import as_mapping as _mapping
from cloudwatchdog.providers.shapes import as_str as _str

log = logging.getLogger("cloudwatchdog.providers.aws.normalize")

T = TypeVar("T")

INVALID = "InvalidResponse"
NOT_COLLECTED = "NotCollected"
UNKNOWN_REGION = "unknown"


@dataclass(frozen=True)
class AwsAccountInventory:
    """Everything read from one account. ``errors`` lists every failure, one readable line each."""

    account: str
    name: str | None
    status: str  # ok | error (the account could not be entered, or its buckets not listed)
    error: str | None
    api_calls: int
    account_pab: PublicAccessBlock | ReadError | None
    buckets: tuple[S3Bucket, ...]
    access_points: tuple[S3AccessPoint, ...]
    errors: tuple[str, ...]


# --- Call results -> settings -------------------------------------------------------------------------------


class CallReader:
    """Builds typed settings for one account, gathering every error line."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.errors: list[str] = []

    def note(self, resource: str, error: ReadError) -> None:
        line = f"{resource}: {error.describe()}" if resource else error.describe()
        if line not in self.errors:
            self.errors.append(line)

    def setting(
        self, result: Any, operation: str, parse: Callable[[Any], T], resource: str
    ) -> T | ReadError | None:
        """The typed value, ``None`` for a documented absence, or a ``ReadError``."""
        return self.value(result, operation, parse, resource, absent_ok=True)

    def value(
        self, result: Any, operation: str, parse: Callable[[Any], T], resource: str, *, absent_ok: bool
    ) -> T | ReadError | None:
        error: ReadError
        if result is None:
            error = ReadError(operation, NOT_COLLECTED, "the snapshot holds no answer for this call")
        elif not isinstance(result, Mapping):
            error = ReadError(operation, INVALID, f"call result is not a mapping: {type(result).__name__}")
        elif "absent" in result and absent_ok:
            return None
        elif "error" in result:
            err = result["error"] if isinstance(result["error"], Mapping) else {}
            error = ReadError(
                str(err.get("operation") or operation),
                str(err.get("code") or "Unknown"),
                str(err.get("message") or ""),
            )
        elif "ok" in result:
            try:
                return parse(result["ok"])
            except ShapeError as exc:
                log.warning("aws account %s %s: unexpected %s response: %s", self.account, resource, operation, exc)
                error = ReadError(operation, INVALID, str(exc))
            except PolicyError as exc:  # the call answered, with a policy the parser cannot take
                error = ReadError(operation, MALFORMED_POLICY, str(exc))
        else:
            error = ReadError(operation, INVALID, f"call result has none of ok/absent/error: {sorted(result)}")
        self.note(resource, error)
        return error

    def required(
        self, result: Any, operation: str, parse: Callable[[Any], T], resource: str
    ) -> T | ReadError:
        """A setting that cannot be absent (an ACL, a location): an absence is an invalid answer."""
        value = self.value(result, operation, parse, resource, absent_ok=False)
        if value is None:  # only reachable if parse returned None, which parsers never do
            error = ReadError(operation, INVALID, "no value")
            self.note(resource, error)
            return error
        return value


def _calls(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _mapping_payload(payload: Any) -> Mapping[str, Any]:
    return _mapping(payload, "response")


@dataclass(frozen=True)
class _Listings:
    """What the account's listings and settings tell every bucket."""

    regions: Mapping[str, str]
    tags: TagListings
    trusted_orgs: frozenset[str]


def _bucket_acl(calls: Mapping[str, Any], c: CallReader, resource: str) -> Acl | ReadError | NotRead:
    """The bucket ACL; NotRead when the collector did not ask because ACLs are disabled (trusted only when the
    snapshot's own answers make it moot the same way)."""
    result = calls.get("GetBucketAcl")
    if not isinstance(result, Mapping) or "skipped" not in result:
        return c.required(result, "GetBucketAcl", parse_acl, resource)
    if result.get("skipped") == ACLS_DISABLED and acl_moot(calls):
        return NotRead(ACLS_DISABLED)
    error = ReadError("GetBucketAcl", NOT_COLLECTED, "not read, yet ACLs are not known to be disabled")
    c.note(resource, error)
    return error


def _policy_status(calls: Mapping[str, Any], account: str, trusted: frozenset[str], c: CallReader,
                   resource: str) -> bool | ReadError | None:
    """AWS's IsPublic answer; None when there is no policy, or when the collector did not ask because our analysis
    finds the policy public (trusted only when the snapshot's policy is public by the same analysis)."""
    result = calls.get("GetBucketPolicyStatus")
    if not isinstance(result, Mapping) or "skipped" not in result:
        return c.setting(result, "GetBucketPolicyStatus", parse_policy_status, resource)
    if result.get("skipped") == POLICY_FOUND_PUBLIC and policy_found_public(calls.get("GetBucketPolicy"), account,
                                                                            trusted):
        return None
    error = ReadError("GetBucketPolicyStatus", NOT_COLLECTED, "not asked, yet the policy is not found public")
    c.note(resource, error)
    return error


def _bucket(
    raw: Mapping[str, Any], account: str, account_pab: PublicAccessBlock | ReadError | None, c: CallReader,
    lists: _Listings,
) -> S3Bucket | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        log.warning("aws account %s: bucket entry without a name: %r", account, dict(raw))
        c.note("", ReadError("ListBuckets", INVALID, f"bucket entry without a name: {dict(raw)!r}"))
        return None
    resource = f"bucket {name}"
    calls = _calls(raw.get("calls"))
    other: list[ReadError] = []

    listed, tag_listings = lists.regions, lists.tags
    location = (listed[name] if "GetBucketLocation" not in calls and name in listed  # a listing told (``listings``)
                else c.required(calls.get("GetBucketLocation"), "GetBucketLocation", parse_location, resource))
    region = UNKNOWN_REGION if isinstance(location, ReadError) else location
    if isinstance(location, ReadError):
        other.append(location)

    acl = _bucket_acl(calls, c, resource)
    policy = c.setting(calls.get("GetBucketPolicy"), "GetBucketPolicy", parse_policy, resource)
    status = _policy_status(calls, account, lists.trusted_orgs, c, resource)
    pab = calls.get("GetPublicAccessBlock")  # not asked when it cannot matter (``listings``, ``moot``)
    samples = raw.get("object_acls", [])
    bucket_pab: BucketPab = skipped_bucket_pab(
        pab, account_pab, lambda e: c.note(resource, e),
        nothing_to_block=lambda: nothing_to_block(calls, samples if isinstance(samples, list) else [None]),
    ) or c.setting(pab, "GetPublicAccessBlock", parse_pab, resource)
    ownership = c.setting(calls.get("GetBucketOwnershipControls"), "GetBucketOwnershipControls", parse_ownership,
                          resource)
    in_bulk = "GetBucketTagging" not in calls and tag_listings.answers(name, region)  # the tagging API told
    tags_value = (c.setting(tag_listings.tagging_result(name), "GetResources", parse_tags, resource) if in_bulk
                  else c.setting(calls.get("GetBucketTagging"), "GetBucketTagging", parse_tags, resource))
    tags: Mapping[str, str] | ReadError = {} if tags_value is None else tags_value

    object_acls: list[ObjectAcl] = []
    if "ListObjectsV2" in calls:
        listing = c.required(calls.get("ListObjectsV2"), "ListObjectsV2", _mapping_payload, resource)
        if isinstance(listing, ReadError):
            other.append(listing)
    if not isinstance(samples, list):
        samples = []
        other.append(ReadError("GetObjectAcl", INVALID, "object_acls is not a list"))
        c.note(resource, other[-1])
    for sample in samples:
        key = sample.get("key") if isinstance(sample, Mapping) else None
        if not isinstance(key, str):
            other.append(ReadError("GetObjectAcl", INVALID, f"object ACL sample without a key: {sample!r}"))
            c.note(resource, other[-1])
            continue
        result = sample.get("GetObjectAcl") if isinstance(sample, Mapping) else None
        object_acls.append(ObjectAcl(key, c.required(result, "GetObjectAcl", parse_acl, f"{resource} object {key}")))

    # The bucket vanished (deleted between listing and reading): say so once, whichever call saw it first.
    for result in [*calls.values(), *(s.get("GetObjectAcl") for s in samples if isinstance(s, Mapping))]:
        err = result.get("error") if isinstance(result, Mapping) else None
        if isinstance(err, Mapping) and err.get("code") == "NoSuchBucket":
            operation = str(err.get("operation") or "?")
            other.append(ReadError(operation, "NoSuchBucket", str(err.get("message") or "")))
            break
    vanished = [e for e in other if e.code == "NoSuchBucket"]
    other = [e for e in other if e.code != "NoSuchBucket"] + vanished[:1]

    return S3Bucket(
        account=account,
        name=name,
        region=region,
        acl=acl,
        policy=policy,
        policy_status_public=status,
        bucket_pab=bucket_pab,
        account_pab=account_pab,
        object_ownership=ownership,
        tags=tags,
        object_acls=tuple(object_acls),
        other_errors=tuple(other),
    )


@dataclass(frozen=True)
class _AccessPointDetails:
    network_origin: str
    vpc_id: str | None
    pab: PublicAccessBlock | None
    bucket: str | None
    bucket_account: str | None
    arn: str | None


def parse_access_point(payload: Any) -> _AccessPointDetails:
    body = _mapping(payload, "access point response")
    vpc = body.get("VpcConfiguration")
    vpc_id = _str(_mapping(vpc, "VpcConfiguration").get("VpcId"), "VpcId") if vpc is not None else None
    pab_raw = body.get("PublicAccessBlockConfiguration")
    return _AccessPointDetails(
        network_origin=_str(body.get("NetworkOrigin"), "NetworkOrigin"),
        vpc_id=vpc_id,
        pab=parse_pab_config(pab_raw) if pab_raw is not None else None,
        bucket=_str(body["Bucket"], "Bucket") if "Bucket" in body else None,
        bucket_account=_str(body["BucketAccountId"], "BucketAccountId") if "BucketAccountId" in body else None,
        arn=_str(body["AccessPointArn"], "AccessPointArn") if "AccessPointArn" in body else None,
    )


def arn_region(arn: Any) -> str | None:
    if isinstance(arn, str) and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


def _access_point(
    raw: Mapping[str, Any],
    account: str,
    account_pab: PublicAccessBlock | ReadError | None,
    buckets: Mapping[str, S3Bucket],
    c: CallReader,
) -> S3AccessPoint | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        c.note("", ReadError("ListAccessPoints", INVALID, f"access point entry without a name: {dict(raw)!r}"))
        return None
    resource = f"access point {name}"
    raw_listing = raw.get("listing")
    listing: Mapping[str, Any] = raw_listing if isinstance(raw_listing, Mapping) else {}
    calls = _calls(raw.get("calls"))
    details = c.required(calls.get("GetAccessPoint"), "GetAccessPoint", parse_access_point, resource)
    policy = c.setting(calls.get("GetAccessPointPolicy"), "GetAccessPointPolicy", parse_policy, resource)

    if isinstance(details, ReadError):
        # The listing carries the origin too (same service, same answer); the PAB is only in GetAccessPoint.
        origin = listing.get("NetworkOrigin")
        network_origin: str | ReadError = origin if isinstance(origin, str) else details
        vpc = listing.get("VpcConfiguration")
        vpc_id = vpc.get("VpcId") if isinstance(vpc, Mapping) and isinstance(vpc.get("VpcId"), str) else None
        pab: PublicAccessBlock | ReadError | None = details
        bucket, bucket_account, arn = listing.get("Bucket"), listing.get("BucketAccountId"), None
    else:
        network_origin, vpc_id, pab = details.network_origin, details.vpc_id, details.pab
        bucket, bucket_account, arn = details.bucket, details.bucket_account, details.arn
        bucket = bucket or listing.get("Bucket")
    arn = arn or listing.get("AccessPointArn")
    listed_in = raw.get("listed_in")
    bucket_name = bucket if isinstance(bucket, str) else ""
    own_bucket = buckets.get(bucket_name) if bucket_account in (None, account) else None
    bucket_pab = own_bucket.bucket_pab if own_bucket is not None else None
    if isinstance(bucket_pab, NotRead) and not (isinstance(account_pab, PublicAccessBlock) and account_pab.fully_on):
        # Left out for the bucket alone (nothing to block there), yet this access point's verdict combines it.
        bucket_pab = ReadError("GetPublicAccessBlock", NOT_COLLECTED, f"bucket {bucket_name}: {bucket_pab.reason}")
        c.note(resource, bucket_pab)
    # An access point lives in its bucket's region; prefer that when known (moto puts the client's default
    # region in every access point ARN), then the ARN, then where it was listed.
    region = (
        (own_bucket.region if own_bucket is not None and own_bucket.region != UNKNOWN_REGION else None)
        or arn_region(arn)
        or (listed_in if isinstance(listed_in, str) else UNKNOWN_REGION)
    )
    return S3AccessPoint(
        account=account,
        name=name,
        region=region,
        bucket=bucket_name,
        network_origin=network_origin,
        vpc_id=vpc_id,
        policy=policy,
        pab=pab,
        account_pab=account_pab,
        bucket_pab=bucket_pab,
    )


def _entries(value: Any, what: str, account: str, c: CallReader) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        log.warning("aws account %s: snapshot %s is not a list", account, what)
        c.note("", ReadError(what, INVALID, f"snapshot {what} is not a list"))
        return []
    good = [e for e in value if isinstance(e, Mapping)]
    if len(good) != len(value):
        c.note("", ReadError(what, INVALID, f"snapshot {what} holds entries that are not mappings"))
    return good


def normalize_account(snapshot: Mapping[str, Any]) -> AwsAccountInventory:
    """Typed inventory of one raw account snapshot."""
    account = str(snapshot.get("account") or "unknown")
    c = CallReader(account)
    status = snapshot.get("status")
    error = snapshot.get("error")
    if status not in ("ok", "error"):
        status, error = "error", error or f"snapshot has an invalid status {status!r}"
    if error:
        c.errors.append(str(error))
    api_calls = snapshot.get("api_calls")
    calls = _calls(snapshot.get("calls"))

    account_pab: PublicAccessBlock | ReadError | None
    if "GetPublicAccessBlock" in calls or status == "ok":
        account_pab = c.setting(
            calls.get("GetPublicAccessBlock"), "GetPublicAccessBlock", parse_pab, "account"
        )
    else:
        account_pab = ReadError("GetPublicAccessBlock", NOT_COLLECTED, str(error or "account not read"))
    if "ListAccounts" in calls:
        c.value(calls["ListAccounts"], "ListAccounts", _mapping_payload, "organization", absent_ok=False)
    listed_buckets = frozenset[str]()
    if "ListBuckets" in calls or status == "ok":
        names = c.value(calls.get("ListBuckets"), "ListBuckets", parse_bucket_listing, "buckets", absent_ok=False)
        listed_buckets = names if isinstance(names, frozenset) else frozenset()
    listed_points: dict[str, str] = {}
    listings = snapshot.get("access_point_listings")
    if isinstance(listings, Mapping):
        for region, result in sorted(listings.items()):
            names = c.value(
                result, "ListAccessPoints", parse_access_point_listing, f"access points in {region}",
                absent_ok=False,
            )
            for point_name in sorted(names) if isinstance(names, frozenset) else ():
                listed_points.setdefault(point_name, str(region))

    trusted = _trusted_orgs(snapshot.get("trusted_orgs"), c)
    buckets: list[S3Bucket] = []
    listed, tag_listings = listed_regions(snapshot), TagListings(snapshot)
    for raw in _entries(snapshot.get("buckets"), "buckets", account, c):
        bucket = _bucket(raw, account, account_pab, c, _Listings(listed, tag_listings, trusted))
        if bucket is not None:
            buckets.append(bucket)
    by_name = {b.name: b for b in buckets}
    points: list[S3AccessPoint] = []
    for raw in _entries(snapshot.get("access_points"), "access_points", account, c):
        point = _access_point(raw, account, account_pab, by_name, c)
        if point is not None:
            points.append(point)

    # Whatever was listed but has no entry in the snapshot was never read: say so, never drop it quietly.
    for missing in sorted(listed_buckets - {b.name for b in buckets}):
        c.note(f"bucket {missing}", ReadError("ListBuckets", NOT_COLLECTED, "listed, but its settings were not read"))
    read_points = {p.name for p in points}
    for missing, region in sorted(listed_points.items()):
        if missing not in read_points:
            c.note(
                f"access point {missing}",
                ReadError("ListAccessPoints", NOT_COLLECTED, f"listed in {region}, but its settings were not read"),
            )

    if trusted:
        buckets = [replace(b, trusted_orgs=trusted) for b in buckets]
        points = [replace(p, trusted_orgs=trusted) for p in points]

    name = snapshot.get("name")
    return AwsAccountInventory(
        account=account,
        name=name if isinstance(name, str) else None,
        status=str(status),
        error=str(error) if error else None,
        api_calls=api_calls if isinstance(api_calls, int) else 0,
        account_pab=account_pab,
        buckets=tuple(buckets),
        access_points=tuple(points),
        errors=tuple(c.errors),
    )


def _trusted_orgs(value: Any, c: CallReader) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        # Ignoring a bad list only makes org-restricted policies look external, never private.
        c.errors.append(f"snapshot has an invalid trusted_orgs value {value!r}; no organization is trusted")
        return frozenset()
    return frozenset(value)


__all__ = ["AwsAccountInventory", "ShapeError", "normalize_account"]
