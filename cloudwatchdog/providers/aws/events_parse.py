"""Pure: an SQS message holding an EventBridge envelope of a CloudTrail management event -> what to rescan.

The envelope (as an EventBridge rule with an SQS target delivers it)::

    {"id", "time", "version", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3" | "aws.ec2" | "aws.rds",
     "region", "account"?, "resources", "detail": {"eventName", "eventSource", "awsRegion", "recipientAccountId",
     "requestParameters": {...}, "errorCode"?}}

The account is ``detail.recipientAccountId`` (the account whose resource changed; the envelope's ``account`` is
the one that delivered it, and some deliveries leave it out), the region ``detail.awsRegion``. A call that failed
(``errorCode``) changed nothing: ignored. Everything in the message is untrusted text: names are checked against
what AWS allows before they are used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cloudwatchdog.events.model import ChangeTarget, Hint, HintError
from cloudwatchdog.providers.aws.model import ACCESS_POINT_TYPE, BUCKET_TYPE

PROVIDER = "aws"
DETAIL_TYPE = "AWS API Call via CloudTrail"
SOURCES = ("aws.s3", "aws.ec2", "aws.rds")
SNAPSHOT_TYPE = "aws.ec2.snapshot"
IMAGE_TYPE = "aws.ec2.image"
RDS_SNAPSHOT_TYPE = "aws.rds.snapshot"

# Event name -> (resource type, the requestParameters key naming it). Bucket events name the bucket (PutObjectAcl
# too: the bucket is rescanned, its object ACL sample with it).
BUCKET_EVENTS = frozenset({
    "CreateBucket", "DeleteBucket", "PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy",
    "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls", "PutObjectAcl",
})
ACCESS_POINT_EVENTS = frozenset({"CreateAccessPoint", "PutAccessPointPolicy", "DeleteAccessPointPolicy",
                                 "DeleteAccessPoint"})
RESOURCE_EVENTS: dict[str, tuple[str, str]] = {
    "ModifySnapshotAttribute": (SNAPSHOT_TYPE, "snapshotId"),
    "ResetSnapshotAttribute": (SNAPSHOT_TYPE, "snapshotId"),
    "ModifyImageAttribute": (IMAGE_TYPE, "imageId"),
    "ResetImageAttribute": (IMAGE_TYPE, "imageId"),
    "ModifyDBSnapshotAttribute": (RDS_SNAPSHOT_TYPE, "dBSnapshotIdentifier"),
    "ModifyDBClusterSnapshotAttribute": (RDS_SNAPSHOT_TYPE, "dBClusterSnapshotIdentifier"),
}
# Account-wide guardrails: the whole account is rescanned (for the EC2 ones, every configured region of it).
ACCOUNT_EVENTS = frozenset({
    "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock", "DeletePublicAccessBlock",
    "PutPublicAccessBlock", "EnableSnapshotBlockPublicAccess", "DisableSnapshotBlockPublicAccess",
    "EnableImageBlockPublicAccess", "DisableImageBlockPublicAccess",
})
EVENT_NAMES = tuple(sorted(BUCKET_EVENTS | ACCESS_POINT_EVENTS | RESOURCE_EVENTS.keys() | ACCOUNT_EVENTS))

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]$")
_ACCESS_POINT = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
_IDS = {SNAPSHOT_TYPE: re.compile(r"^snap-[0-9a-f]{8,32}$"), IMAGE_TYPE: re.compile(r"^ami-[0-9a-f]{8,32}$"),
        RDS_SNAPSHOT_TYPE: re.compile(r"^[A-Za-z][A-Za-z0-9:-]{0,254}$")}


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise HintError(f"{what} is not an object")
    return value


def _text(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        shown = value[:80] if isinstance(value, str) else type(value).__name__
        raise HintError(f"{what} is missing or not valid: {shown!r}")
    return value


def _rds_id(value: str) -> str:
    """An RDS snapshot given by ARN (arn:aws:rds:<region>:<account>:snapshot:<id>) -> its identifier."""
    if value.startswith("arn:"):
        return value.rsplit(":", 1)[-1]
    return value


def parse_envelope(body: str) -> Hint:
    """One message body -> the targets it names (raises HintError when it is not a change event we can read)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HintError(f"not JSON: {str(exc)[:120]}") from None
    envelope = _mapping(doc, "the message")
    if envelope.get("detail-type") != DETAIL_TYPE or envelope.get("source") not in SOURCES:
        return Hint(ignored=f"not a CloudTrail API call of {', '.join(SOURCES)} (detail-type "
                            f"{str(envelope.get('detail-type'))[:60]!r}, source {str(envelope.get('source'))[:30]!r})")
    detail = _mapping(envelope.get("detail"), "detail")
    event = detail.get("eventName")
    if not isinstance(event, str):
        raise HintError("detail.eventName is missing")
    if event not in EVENT_NAMES:
        return Hint(ignored=f"event {event[:60]!r} does not change sharing")
    if detail.get("errorCode"):
        return Hint(ignored=f"{event} failed ({str(detail.get('errorCode'))[:60]}): nothing changed")
    account = _text(detail.get("recipientAccountId") or envelope.get("account"), _ACCOUNT, "the account")
    region_raw = detail.get("awsRegion") or envelope.get("region")
    region = _text(region_raw, _REGION, "the region") if region_raw is not None else None
    params = detail.get("requestParameters")
    params = params if isinstance(params, Mapping) else {}

    def target(resource_type: str | None = None, name: str | None = None) -> Hint:
        return Hint(targets=(ChangeTarget(PROVIDER, account, resource_type, name, region, event),))

    if event in ACCOUNT_EVENTS and not params.get("bucketName"):
        return target()
    if event in BUCKET_EVENTS or event in ACCOUNT_EVENTS:
        return target(BUCKET_TYPE, _text(params.get("bucketName"), _BUCKET, "requestParameters.bucketName"))
    if event in ACCESS_POINT_EVENTS:
        if isinstance(params.get("accountId"), str) and _ACCOUNT.match(params["accountId"]):
            account = params["accountId"]
        return target(ACCESS_POINT_TYPE, _text(params.get("name"), _ACCESS_POINT, "requestParameters.name"))
    resource_type, key = RESOURCE_EVENTS[event]
    ident = params.get(key)
    if resource_type == RDS_SNAPSHOT_TYPE and isinstance(ident, str):
        ident = _rds_id(ident)
    return target(resource_type, _text(ident, _IDS[resource_type], f"requestParameters.{key}"))


__all__ = ["DETAIL_TYPE", "EVENT_NAMES", "SOURCES", "parse_envelope"]
