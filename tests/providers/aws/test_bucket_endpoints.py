"""S3 endpoints resolved once per kind of bucket name (providers/aws/bucket_endpoints.py) are the endpoints botocore
resolves per bucket: compared over names of every kind, regions, partitions and addressing settings. No request
is sent: botocore's own endpoint resolution is what is compared."""

from __future__ import annotations

import itertools
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from cloudwatchdog.providers.aws.bucket_endpoints import STAND_IN, plain_name, share_bucket_endpoints

PLAIN = ["abc", "bench-00001", "a" * 63, "0-0", "123", "my-bucket-1", "x-" + STAND_IN, STAND_IN + "x", "name-s3alias"]
OTHER = [
    "my.bucket", "UPPER", "Mixed-case", "ab", "a" * 64, "mybucket--x-s3", "mybucket--use1-az4--x-s3",
    "my-ap--xa-s3", "myalias--op-s3", "b--ol-s3", "xn--abc", "a--b", "-leading", "trailing-",
    "192.168.1.1", "arn:aws:s3:us-west-2:123456789012:accesspoint/ap", "under_score", STAND_IN, "",
]
SETTINGS: list[dict[str, Any]] = [
    {"region": "us-east-1"},
    {"region": "eu-west-1"},
    {"region": "cn-north-1"},
    {"region": "us-gov-west-1"},
    {"region": "eu-west-1", "s3": {"addressing_style": "path"}},
    {"region": "eu-west-1", "s3": {"addressing_style": "virtual"}},
    {"region": "us-east-1", "use_fips_endpoint": True},
    {"region": "eu-west-1", "use_dualstack_endpoint": True},
    {"region": "us-west-2", "s3": {"use_accelerate_endpoint": True}},
    {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:5000", "s3": {"addressing_style": "path"}},
    {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:5000"},
    {"region": "us-east-1", "endpoint_url": "https://s3.example.test"},
]
OPERATIONS = [("GetBucketAcl", {}), ("ListObjectsV2", {"MaxKeys": 5}), ("GetObjectAcl", {"Key": "a/b c.csv"}),
              ("GetBucketPolicy", {}), ("GetPublicAccessBlock", {})]


def _client(setting: dict[str, Any]) -> Any:
    setting = dict(setting)
    region, endpoint = setting.pop("region"), setting.pop("endpoint_url", None)
    return botocore.session.get_session().create_client(
        "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(**setting))


def _resolved(client: Any, operation: str, params: dict[str, Any]) -> Any:
    model = client.meta.service_model.operation_model(operation)
    try:
        result = client._ruleset_resolver.construct_endpoint(model, params, {})
    except Exception as exc:  # an invalid name or setting: the same error both ways
        return ("error", type(exc).__name__, str(exc))
    return (result.url, result.properties, result.headers)


def test_names_of_the_plain_kind() -> None:
    assert all(plain_name(name) for name in PLAIN)
    assert not any(plain_name(name) for name in OTHER)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_the_same_endpoints_as_botocore_per_bucket(setting: dict[str, Any]) -> None:
    shared, own = _client(setting), _client(setting)
    original = shared._ruleset_resolver._provider.resolve_endpoint
    asked: list[Any] = []

    def spy(**params: Any) -> Any:
        asked.append(params.get("Bucket"))
        return original(**params)

    shared._ruleset_resolver._provider.resolve_endpoint = spy
    assert share_bucket_endpoints(shared) is True
    compared = 0
    for name, (operation, extra) in itertools.product(PLAIN + OTHER, OPERATIONS):
        params = {"Bucket": name, **extra}
        assert _resolved(shared, operation, params) == _resolved(own, operation, params), (name, operation)
        compared += 1
    assert compared == len(PLAIN + OTHER) * len(OPERATIONS)
    # Plain names were resolved through the stand-in (not one of them reached botocore), the others as they are.
    assert not set(PLAIN) & set(asked)
    assert STAND_IN in asked
    assert set(OTHER) <= set(asked)


def test_a_client_without_an_endpoint_provider_is_left_as_it_is() -> None:
    class Bare:
        pass

    assert share_bucket_endpoints(Bare()) is False
