"""Benchmark: `cloudwatchdog incident` over a year of S3 server access logs. Prints the parse + aggregate
throughput (MiB/s of log text, one core) and the peak memory of that path.

    .venv/bin/python bench/access_logs.py [--size-mib 1024] [--days 400] [--dir /tmp/cwd-access-logs]

It writes a realistic log set once (reused when the directory already holds one of that size): hourly log objects
named as S3 delivers them (SimplePrefix ``logs/YYYY-mm-DD-HH-MM-SS-<unique>``), lines in the documented format
with every field (the newer trailing ones too), mostly the owner's own requests (role ARNs, GET/PUT/HEAD/LIST,
errors), 0.1% anonymous reads from a pool of IPs, some other-account reads, a few malformed lines. Then, in a fresh
process, it runs the AWS reader (`providers/aws/access.py`, the code `incident` runs) over the whole window with
an S3 client that serves that directory, and reports MiB/s and peak RSS (ru_maxrss). Goals: >= 50 MiB/s on one
core, < 200 MiB peak whatever the volume.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
ACCOUNT = "123456789012"
BUCKET = "bench-bucket"
END = datetime(2026, 6, 1, tzinfo=UTC)


def _line(rng: random.Random, when: datetime, keys: list[str], anon_ips: list[str]) -> str:
    r = rng.random()
    key = rng.choice(keys)
    if r < 0.001:  # anonymous read
        requester, ip, op, status = "-", rng.choice(anon_ips), "REST.GET.OBJECT", 200
    elif r < 0.0015:  # another account
        requester, ip, op, status = "arn:aws:iam::999988887777:user/partner", "192.0.2.77", "REST.GET.OBJECT", 200
    else:
        requester = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-{rng.randrange(8)}/i-0{rng.randrange(16**8):08x}"
        ip = f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"
        op = rng.choice(("REST.GET.OBJECT", "REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.HEAD.OBJECT",
                         "REST.GET.BUCKET"))
        status = 200 if rng.random() > 0.02 else 404
    if op == "REST.GET.BUCKET":
        key, uri = "-", f"GET /{BUCKET}?list-type=2&prefix=data%2F HTTP/1.1"
    else:
        uri = f"{op.split('.')[1]} /{BUCKET}/{key} HTTP/1.1"
    size = rng.randrange(200, 5_000_000)
    sent = size if op == "REST.GET.OBJECT" and status == 200 else 0
    return (f"{OWNER_ID} {BUCKET} {when:[%d/%b/%Y:%H:%M:%S +0000]} {ip} {requester} "
            f"{rng.randrange(16**16):016X} {op} {key} \"{uri}\" {status} {'-' if status == 200 else 'NoSuchKey'} "
            f"{sent or '-'} {size} {rng.randrange(1, 900)} {rng.randrange(1, 90)} \"-\" \"aws-sdk-java/2.20.1 "
            f"Linux/5.10 OpenJDK_64-Bit_Server_VM/17\" - {rng.randrange(16**30):030x}= SigV4 "
            f"ECDHE-RSA-AES128-GCM-SHA256 AuthHeader {BUCKET}.s3.us-east-1.amazonaws.com TLSv1.2 - -\n")


def generate(directory: Path, size: int, days: int) -> None:
    marker = directory / "SIZE"
    if marker.exists() and marker.read_text() == f"{size} {days}":
        return
    rng = random.Random(7)
    keys = [f"data/{rng.choice(('exports', 'raw', 'reports'))}/{i:06d}-{rng.randrange(16**6):06x}.json"
            for i in range(20_000)]
    anon_ips = [f"203.0.113.{i}" for i in range(1, 200)] + [f"198.51.100.{i}" for i in range(1, 60)]
    logs = directory / BUCKET
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.iterdir():
        old.unlink()
    hours = days * 24
    per_object = size // hours
    start = END - timedelta(days=days)
    for h in range(hours):
        when = start + timedelta(hours=h)
        lines, written = [], 0
        while written < per_object:
            line = _line(rng, when + timedelta(seconds=rng.randrange(3600)), keys, anon_ips)
            if rng.random() < 0.00001:
                line = "truncated line\n"
            lines.append(line)
            written += len(line)
        name = f"logs/{when + timedelta(hours=1, minutes=3):%Y-%m-%d-%H-%M-%S}-{rng.randrange(16**16):016X}"
        (logs / name.replace("/", "%2F")).write_text("".join(lines))
    marker.write_text(f"{size} {days}")


class DirectoryS3:
    """The few S3 calls the reader makes, served from the generated directory (one file per log object)."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self.bytes = 0

    def list_buckets(self) -> dict[str, Any]:
        return {"Buckets": []}

    def get_bucket_logging(self, Bucket: str) -> dict[str, Any]:
        return {"LoggingEnabled": {"TargetBucket": BUCKET, "TargetPrefix": "logs/"}}

    def list_objects_v2(self, Bucket: str, Prefix: str, StartAfter: str = "", **_: Any) -> dict[str, Any]:
        names = sorted(p.name.replace("%2F", "/") for p in (self._dir / Bucket).iterdir())
        return {"Contents": [{"Key": n} for n in names if n.startswith(Prefix) and n > StartAfter],
                "IsTruncated": False}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        path = self._dir / Bucket / Key.replace("/", "%2F")
        self.bytes += path.stat().st_size
        return {"Body": path.open("rb")}


def measure(directory: Path, days: int) -> dict[str, Any]:
    from cloudwatchdog.forensics.model import AccessTarget, TimeSpan
    from cloudwatchdog.providers.aws.access import aws_access_evidence
    from cloudwatchdog.providers.aws.settings import AwsProvider

    client = DirectoryS3(directory)
    window = TimeSpan(END - timedelta(days=days), END)
    target = AccessTarget(uid=f"arn:aws:s3:::{BUCKET}", provider="aws", account=ACCOUNT, region="us-east-1",
                          type="aws.s3.bucket", name=BUCKET, first_seen=window.start)
    cpu, wall = time.process_time(), time.perf_counter()
    evidence = aws_access_evidence(AwsProvider(), target, [window], client=client)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    c = evidence.counts
    return {"mib": client.bytes / 2**20, "cpu_s": cpu, "wall_s": wall, "lines": c.lines, "skipped": c.skipped_lines,
            "external": c.external_requests, "anonymous": c.anonymous_requests, "owner": c.owner_requests,
            "distinct_ips": c.distinct_ips, "status": evidence.status.value,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--dir", default="/tmp/cloudwatchdog-bench-access-logs")
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    directory = Path(args.dir)
    if args.measure_only:
        print(json.dumps(measure(directory, args.days)))
        return
    started = time.perf_counter()
    generate(directory, args.size_mib * 2**20, args.days)
    print(f"log set: {args.size_mib} MiB over {args.days} days in {directory} "
          f"(ready in {time.perf_counter() - started:.0f} s)")
    out = subprocess.run([sys.executable, __file__, "--measure-only", "--dir", str(directory),
                          "--days", str(args.days)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    print(f"parsed {r['mib']:.0f} MiB, {r['lines']:,} lines ({r['skipped']} malformed) in {r['cpu_s']:.1f} s CPU "
          f"({r['wall_s']:.1f} s wall): {r['mib'] / r['cpu_s']:.0f} MiB/s on one core; peak RSS "
          f"{r['peak_rss_mib']:.0f} MiB")
    print(f"found: {r['external']:,} external requests ({r['anonymous']:,} anonymous) from {r['distinct_ips']} IPs, "
          f"{r['owner']:,} owner reads/lists; status {r['status']}")


if __name__ == "__main__":
    main()
