"""Benchmark: seed N buckets into a local moto server, scan them, print throughput, API calls and memory.

    .venv/bin/python bench/scan_buckets.py --buckets 1000 --workers 8

Figures, not assertions: run by hand, compare between changes. moto (a Python server sharing the same cores) is
the bottleneck here, so buckets per second is a lower bound; "scanner CPU time" is the scanner's own cost
(without --trace-memory, which slows Python down).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.scan import run_scan


def _seed_one(s3: Any, i: int) -> None:
    name = f"bench-{i:05d}"
    s3.create_bucket(Bucket=name)
    if i % 10 == 0:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{name}/*"}],
        }))
    if i % 7 == 0:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    if i % 20 == 0:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
    if i % 5 == 0:
        s3.put_object(Bucket=name, Key="data.csv", Body=b"id,name\n1,x\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--object-acl-sample", type=int, default=10)
    ap.add_argument("--trace-memory", action="store_true",
                    help="also report the peak Python heap (tracemalloc slows the scan and inflates CPU time)")
    args = ap.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with MotoServer() as server:
        session = account_session(server.endpoint, DEFAULT_ACCOUNT)
        s3 = emulator_client(session, "s3", server.endpoint)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _seed_one(s3, i), range(args.buckets)))
        seeded = time.perf_counter() - t0

        cfg = Config(providers=Providers(aws=AwsProvider(
            endpoint_url=server.endpoint, accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="bench")],
            max_workers=args.workers, object_acl_sample=args.object_acl_sample)))
        rules = load_rules()
        if args.trace_memory:
            tracemalloc.start()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        result = run_scan(cfg, rules)
        elapsed = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else None
        tracemalloc.stop()

    buckets = sum(1 for r in result.resources if r.type == "aws.s3.bucket")
    calls = sum(c.api_calls for c in result.coverage)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"buckets seeded          {args.buckets} in {seeded:.1f}s")
    print(f"buckets scanned         {buckets}")
    print(f"scan wall time          {elapsed:.2f}s with {args.workers} workers")
    print(f"buckets per second      {buckets / elapsed:.1f}")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    print(f"scanner CPU time        {cpu:.2f}s ({1000 * cpu / max(buckets, 1):.1f} ms per bucket; the rest is moto)")
    print(f"API calls               {calls} ({calls / max(buckets, 1):.2f} per bucket)")
    print(f"findings                {len(result.findings)}")
    if peak is not None:
        print(f"peak Python heap (scan) {peak / 2**20:.1f} MiB")
    print(f"max RSS (process)       {rss_mb:.1f} MiB")
    print(f"coverage                {[c.status.value for c in result.coverage]}")


if __name__ == "__main__":
    main()
