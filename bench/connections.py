"""Benchmark: connections and client CPU of S3 requests over TLS with one host per bucket, as against AWS.

    .venv/bin/python bench/connections.py --buckets 1000

moto's server closes every connection after one answer, so scans against it open one per request whatever the
client does; AWS keeps connections open, and each new one costs a TCP and a TLS handshake (round trips to AWS,
and CPU). This bench sends what a scan sends to each bucket (``--requests`` GetBucketAcl, one after another, with
``--workers`` buckets at once) over HTTPS to ``cloudwatchdog.emulators.keepalive`` (a keep-alive stand-in in its
own process, with a certificate for ``s3.localhost`` and ``*.s3.localhost``), through clients configured as the
scanner's (``providers/aws/session.py``), virtual-hosted as botocore addresses AWS:
- botocore's pools: urllib3's 10 host pools per client (what the scanner had before ``host_pools``);
- the scanner's: pools for twice the workers (``size_host_pools``);
- path style, for comparison: every bucket on one host.

Printed per variant: connections per bucket (each a TLS handshake), client CPU per request, wall time. Bucket host
names are resolved to 127.0.0.1 by patching ``socket.getaddrinfo`` in this process for names under
``.localhost`` only. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import socket
import ssl
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.config import Config

from cloudwatchdog.emulators.keepalive import KeepAliveServer
from cloudwatchdog.emulators.tls import make_tls_files
from cloudwatchdog.providers.aws.bucket_endpoints import share_bucket_endpoints
from cloudwatchdog.providers.aws.credentials import isolated_session
from cloudwatchdog.providers.aws.host_pools import size_host_pools
from cloudwatchdog.providers.aws.session import botocore_config
from cloudwatchdog.providers.aws.settings import AwsProvider


def _loopback_names() -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if str(host).endswith(".localhost") else host, *args, **kwargs)

    socket.getaddrinfo = resolve  # type: ignore[assignment]


def _client(port: int, ca_file: Path, workers: int, style: str, sized: bool) -> Any:
    cfg = AwsProvider(max_workers=workers)
    # No proxy from the environment between the bench and 127.0.0.1.
    config = botocore_config(cfg).merge(Config(s3={"addressing_style": style}, proxies={}))
    client = isolated_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=f"https://s3.localhost:{port}", verify=str(ca_file),
        config=config)
    share_bucket_endpoints(client)
    if sized:
        size_host_pools(client, 2 * workers)
    return client


def run(client: Any, buckets: int, requests: int, workers: int) -> tuple[float, float]:
    def bucket(i: int) -> None:
        for _ in range(requests):
            client.get_bucket_acl(Bucket=f"bench-{i:05d}")

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(bucket, range(buckets)))
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=4, help="requests per bucket (default 4, as a scan's)")
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    _loopback_names()
    variants = {"botocore's 10 pools": ("virtual", False), "pools for the workers": ("virtual", True),
                "path style": ("path", True)}
    with tempfile.TemporaryDirectory() as tmp:
        tls = make_tls_files(Path(tmp), names=("s3.localhost", "*.s3.localhost"))
        context = ssl.create_default_context(cafile=str(tls.ca_file))
        with KeepAliveServer(str(tls.cert_file), str(tls.key_file)) as server:
            n = args.buckets * args.requests
            print(f"{args.buckets} buckets x {args.requests} requests, {args.workers} workers, HTTPS "
                  f"(medians of {args.repeat})")
            for label, (style, sized) in variants.items():
                figures = []
                for _ in range(args.repeat):
                    server.stats(context)
                    cpu, wall = run(_client(server.port, tls.ca_file, args.workers, style, sized),
                                    args.buckets, args.requests, args.workers)
                    figures.append((cpu, wall, server.stats(context)))
                cpu = statistics.median(f[0] for f in figures)
                wall = statistics.median(f[1] for f in figures)
                conns = statistics.median(f[2]["connections"] for f in figures)
                print(f"  {label:22s} {conns / args.buckets:5.2f} connections per bucket, "
                      f"client CPU {1000 * cpu / n:.2f} ms per request, wall {wall:.2f} s")


if __name__ == "__main__":
    main()
