"""The CloudTrail-via-EventBridge envelope parser, pure: every event name of the contract names the right target;
the account comes from detail.recipientAccountId; failed calls and other events are ignored; hostile input is a
HintError, never a crash."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudwatchdog.emulators.aws_events import cloudtrail_detail
from cloudwatchdog.events.model import HintError
from cloudwatchdog.providers.aws.events_parse import EVENT_NAMES, parse_envelope

ACCOUNT = "123456789012"


def _body(name: str, params: dict[str, Any], *, source: str = "aws.s3", **kw: Any) -> str:
    detail = cloudtrail_detail(name, params, service=source.split(".")[1], account=ACCOUNT, region="eu-west-1", **kw)
    # As EventBridge delivers to SQS through a rule: no "account" field in the envelope.
    return json.dumps({"id": "e1", "time": "2026-12-07T10:02:00Z", "version": "0", "source": source,
                       "detail-type": "AWS API Call via CloudTrail", "region": "eu-west-1", "resources": [],
                       "detail": detail})


CASES = [
    *[(n, {"bucketName": "my-bucket"}, "aws.s3", ("aws.s3.bucket", "my-bucket")) for n in (
        "CreateBucket", "DeleteBucket", "PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy",
        "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls")],
    ("PutObjectAcl", {"bucketName": "my-bucket", "key": "a/b.txt"}, "aws.s3", ("aws.s3.bucket", "my-bucket")),
    *[(n, {"name": "my-ap", "accountId": ACCOUNT}, "aws.s3", ("aws.s3.access_point", "my-ap")) for n in (
        "CreateAccessPoint", "PutAccessPointPolicy", "DeleteAccessPoint")],
    ("ModifySnapshotAttribute", {"snapshotId": "snap-0123456789abcdef0"}, "aws.ec2",
     ("aws.ec2.snapshot", "snap-0123456789abcdef0")),
    ("ModifyImageAttribute", {"imageId": "ami-0123456789abcdef0"}, "aws.ec2",
     ("aws.ec2.image", "ami-0123456789abcdef0")),
    ("ModifyDBSnapshotAttribute", {"dBSnapshotIdentifier": "nightly"}, "aws.rds", ("aws.rds.snapshot", "nightly")),
    ("ModifyDBClusterSnapshotAttribute",
     {"dBClusterSnapshotIdentifier": f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster-snapshot:weekly"}, "aws.rds",
     ("aws.rds.snapshot", "weekly")),
    *[(n, {"accountId": ACCOUNT}, "aws.s3", None) for n in ("PutAccountPublicAccessBlock", "DeletePublicAccessBlock")],
    *[(n, {}, "aws.ec2", None) for n in ("EnableSnapshotBlockPublicAccess", "DisableSnapshotBlockPublicAccess",
                                         "EnableImageBlockPublicAccess", "DisableImageBlockPublicAccess")],
]


@pytest.mark.parametrize(("name", "params", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_contract_event(name: str, params: dict[str, Any], source: str,
                              expected: tuple[str, str] | None) -> None:
    assert name in EVENT_NAMES
    (target,) = parse_envelope(_body(name, params, source=source)).targets
    assert (target.provider, target.account, target.region, target.event) == ("aws", ACCOUNT, "eu-west-1", name)
    got = None if target.account_wide else (target.resource_type, target.name)
    assert got == expected


def test_failed_calls_and_other_events_are_ignored() -> None:
    assert parse_envelope(_body("PutBucketPolicy", {"bucketName": "b-b-b"}, error_code="AccessDenied")).ignored
    assert parse_envelope(_body("GetBucketPolicy", {"bucketName": "b-b-b"})).ignored
    assert parse_envelope(json.dumps({"detail-type": "Object Created", "source": "aws.s3"})).ignored


@pytest.mark.parametrize("body", [
    "not json", "[]", json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}),
    _body("PutBucketPolicy", {"bucketName": "../../etc/passwd"}),
    _body("PutBucketPolicy", {}),
    _body("ModifySnapshotAttribute", {"snapshotId": "vol-1234"}, source="aws.ec2"),
    json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
                "detail": {"eventName": "PutBucketPolicy", "recipientAccountId": "12; DROP",
                           "requestParameters": {"bucketName": "my-bucket"}}}),
])
def test_unreadable_messages_are_hint_errors(body: str) -> None:
    with pytest.raises(HintError):
        parse_envelope(body)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                    max_leaves=12))
def test_hostile_json_never_crashes(doc: Any) -> None:
    with contextlib.suppress(HintError):  # a HintError is the documented outcome; anything else fails
        parse_envelope(json.dumps({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
                                   "detail": doc}))
