"""Benchmark: seed N buckets into a local gcp-storage-emulator, scan them with the GCP collector, print throughput,
API calls and the analysis time.

    .venv/bin/python bench/scan_gcs_buckets.py --buckets 500 --workers 8 [--acl-share 0.3]

Figures, not assertions: run by hand, compare between changes. The emulator (a single-threaded Python HTTP server
on the same cores) is the bottleneck, so buckets per second is a lower bound. ``--acl-share`` is the share of
buckets with uniform bucket-level access off (those cost three more requests: both ACLs and an object sample).
"""

from __future__ import annotations

import argparse
import importlib
import time
from typing import Any

from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.providers.gcp.collect import collect_gcp
from cloudwatchdog.providers.gcp.inventory import analyse_snapshot
from cloudwatchdog.providers.gcp.settings import GcpProject, GcpProvider

PROJECT = "velora-bench-0001"


def seed(endpoint: str, buckets: int, acl_share: float) -> None:
    from google.auth.credentials import AnonymousCredentials

    storage: Any = importlib.import_module("google.cloud.storage")
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                            client_options={"api_endpoint": endpoint})
    acl_every = round(1 / acl_share) if acl_share > 0 else 0
    for i in range(buckets):
        bucket = client.create_bucket(f"velora-bench-{i:05d}")
        bucket.labels = {"team": f"team-{i % 17}"}
        bucket.iam_configuration.uniform_bucket_level_access_enabled = not (acl_every and i % acl_every == 0)
        bucket.patch()
        if i % 10 == 0:
            policy = bucket.get_iam_policy(requested_policy_version=3)
            policy.bindings.append({"role": "roles/storage.objectViewer", "members": {"allUsers"}})
            bucket.set_iam_policy(policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buckets", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--acl-share", type=float, default=0.3)
    args = parser.parse_args()
    with GcsEmulator() as emulator:
        started = time.perf_counter()
        seed(emulator.endpoint, args.buckets, args.acl_share)
        print(f"seeded {args.buckets} buckets in {time.perf_counter() - started:.1f}s")
        cfg = GcpProvider(credential="anonymous", endpoint_url=emulator.endpoint, projects=[GcpProject(id=PROJECT)],
                          project_iam=False, max_workers=args.workers)
        started = time.perf_counter()
        cpu = time.process_time()
        (snapshot,) = collect_gcp(cfg)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        resources, coverage = analyse_snapshot(snapshot)
        analysis = time.perf_counter() - started
    public = sum(1 for r in resources if r.exposure.level.value == "public")
    print(f"collected {len(resources)} buckets in {elapsed:.2f}s ({len(resources) / elapsed:.0f} buckets/s, "
          f"{args.workers} workers), scanner CPU {cpu:.2f}s, {coverage.api_calls} API calls "
          f"({coverage.api_calls / max(1, len(resources)):.2f} per bucket), coverage {coverage.status.value}")
    print(f"analysed in {analysis * 1000:.0f} ms ({analysis / max(1, len(resources)) * 1e6:.0f} us per bucket); "
          f"{public} public")


if __name__ == "__main__":
    main()
