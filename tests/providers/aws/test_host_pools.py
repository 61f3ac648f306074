"""S3 clients keep one connection per bucket (providers/aws/host_pools.py): with virtual-hosted addresses every
bucket is a host of its own, and urllib3's 10 pools per client would be let go between a bucket's requests.

Against ``emulators/keepalive.py``'s stand-in in its own process (an in-process fake of S3's answers: moto's server
closes every connection, so it cannot show reuse). Bucket host names (``<bucket>.s3.localhost``) are resolved to
127.0.0.1 by patching ``socket.getaddrinfo`` for names under ``.localhost`` only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from cloudwatchdog.emulators.keepalive import KeepAliveServer
from cloudwatchdog.providers.aws.host_pools import size_host_pools
from cloudwatchdog.providers.aws.session import make_client
from cloudwatchdog.providers.aws.settings import AwsProvider

BUCKETS, REQUESTS, WORKERS = 200, 3, 16


@pytest.fixture(scope="module")
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


@pytest.fixture
def loopback_names(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if str(host).endswith(".localhost") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _client(port: int) -> Any:
    # Virtual-hosted, as botocore addresses AWS itself (with an endpoint URL it would go path-style by default).
    return botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=f"http://s3.localhost:{port}", aws_access_key_id="k",
        aws_secret_access_key="s", config=Config(max_pool_connections=2 * WORKERS, retries={"max_attempts": 0},
                      s3={"addressing_style": "virtual"}))


def _load(client: Any) -> None:
    def bucket(i: int) -> None:
        for _ in range(REQUESTS):
            client.get_bucket_acl(Bucket=f"bucket-{i:04d}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(bucket, range(BUCKETS)))


@pytest.mark.usefixtures("loopback_names")
def test_one_connection_per_bucket_with_pools_for_the_workers(server: KeepAliveServer) -> None:
    server.stats()
    plain = _client(server.port)
    _load(plain)
    before = server.stats()
    sized = _client(server.port)
    assert size_host_pools(sized, 2 * WORKERS) is True
    _load(sized)
    after = server.stats()
    assert before["requests"] == after["requests"] == BUCKETS * REQUESTS
    assert before["hosts"] == after["hosts"] == BUCKETS  # virtual-hosted: one host per bucket
    # urllib3's 10 pools for 16 buckets at once: a bucket's pool is often let go between its own requests.
    assert before["connections"] > 1.3 * BUCKETS
    assert after["connections"] <= BUCKETS + WORKERS


@pytest.mark.usefixtures("loopback_names")
def test_pools_are_sized_once_only_before_the_first_request(server: KeepAliveServer) -> None:
    client = _client(server.port)
    client.get_bucket_acl(Bucket="bucket")
    assert size_host_pools(client, 64) is False  # pools in use are kept as they are


def test_the_scanners_s3_clients_have_pools_for_twice_the_workers() -> None:
    cfg = AwsProvider(max_workers=20)
    session = botocore.session.get_session()
    session.set_credentials("k", "s")
    client = make_client(session, "s3", cfg, region="eu-west-1")
    assert client._endpoint.http_session._manager.pools._maxsize == 40
    assert make_client(session, "sts", cfg)._endpoint.http_session._manager.pools._maxsize == 10


@pytest.mark.parametrize(("style", "url"), [("auto", "https://bucket-1.s3.eu-west-1.amazonaws.com"),
                                            ("path", "https://s3.eu-west-1.amazonaws.com/bucket-1")])
def test_s3_addressing_style_names_the_bucket_in_the_host_or_the_path(style: str, url: str) -> None:
    session = botocore.session.get_session()
    session.set_credentials("k", "s")
    client = make_client(session, "s3", AwsProvider(s3_addressing_style=style), region="eu-west-1")
    model = client.meta.service_model.operation_model("GetBucketAcl")
    assert client._ruleset_resolver.construct_endpoint(model, {"Bucket": "bucket-1"}, {}).url == url
