"""Bucket verdicts that hang on what the policy says: policies the parser cannot take (duplicate keys, numbers past
Python's limit) are unknown with the reason as evidence."""

from __future__ import annotations

import json

from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.aws.exposure import bucket_exposure, bucket_grants_public
from tests.providers.aws.test_exposure import BUCKET, Expect, _bucket, _check, _read

OBJECTS = BUCKET + "/*"


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
