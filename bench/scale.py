"""Benchmark: memory and time against the size of the estate. A generated raw snapshot of N buckets (accounts of
10,000 buckets; one bucket in 20 public) is replayed with `scan --from-raw` through normalise, judge, match, record
(SQLite, and PostgreSQL with --postgres) and the JSON and HTML outputs; each run is its own process, whose peak RSS
(ru_maxrss), wall time and CPU time (user + system) are printed, with the times per 10,000 buckets.

    .venv/bin/python bench/scale.py --sizes 10000,50000,100000 --postgres

Figures, not assertions. Goal (issue 13): peak RSS <= 300 MiB at 100,000 buckets, time per 10,000 roughly constant.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PER_ACCOUNT = 10_000
OWNER = {"DisplayName": "owner", "ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _acl(public: bool) -> dict[str, Any]:
    grants = [{"Grantee": {**OWNER, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    if public:
        grants.append({"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"})
    return {"ok": {"Owner": OWNER, "Grants": grants}}


def _bucket(name: str, public: bool) -> dict[str, Any]:
    return {"name": name, "object_acls": [], "calls": {
        "GetBucketLocation": {"ok": {"LocationConstraint": None}},
        "GetBucketAcl": _acl(public),
        "GetBucketPolicy": {"absent": "NoSuchBucketPolicy"},
        "GetBucketPolicyStatus": {"absent": "NoSuchBucketPolicy"},
        "GetPublicAccessBlock": {"absent": "NoSuchPublicAccessBlockConfiguration"},
        "GetBucketOwnershipControls": {"ok": {"OwnershipControls": {"Rules": [
            {"ObjectOwnership": "BucketOwnerPreferred"}]}}},
        "GetBucketTagging": {"absent": "NoSuchTagSet"},
    }}


def write_raw(path: Path, buckets: int) -> None:
    """A --save-raw file, written account by account."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"format": "cloudwatchdog-raw-snapshots", "scan_id": "bench", "started_at": '
                  '"2026-12-01T00:00:00Z", "snapshots": [')
        for a, start in enumerate(range(0, buckets, PER_ACCOUNT)):
            account = f"{500000000000 + a}"
            names = [f"b{account}-{i:06d}" for i in range(start, min(buckets, start + PER_ACCOUNT))]
            snapshot = {
                "schema_version": 1, "provider": "aws", "account": account, "name": None, "via": "default",
                "status": "ok", "error": None, "api_calls": len(names) * 7, "started_at": "2026-12-01T00:00:00Z",
                "finished_at": "2026-12-01T00:00:00Z", "endpoint_url": None, "trusted_orgs": [],
                "calls": {"GetPublicAccessBlock": {"absent": "NoSuchPublicAccessBlockConfiguration"},
                          "ListBuckets": {"ok": {"Buckets": [{"Name": n, "CreationDate": "2026-01-01T00:00:00Z"}
                                                             for n in names], "Owner": OWNER}}},
                "buckets": [_bucket(n, i % 20 == 0) for i, n in enumerate(names)],
                "access_point_listings": {"us-east-1": {"ok": {"AccessPointList": []}}},
                "access_points": [],
            }
            out.write(("," if a else "") + json.dumps(snapshot))
        out.write("]}\n")


def run(raw: Path, state_url: str, out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `scan --from-raw` process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "cloudwatchdog", "scan", "--from-raw", str(raw), "--state-url", state_url,
           "--format", "json,html", "--output", str(out), "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 3):
        raise SystemExit(f"scan failed ({code}): {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,20000,50000,100000")
    ap.add_argument("--postgres", action="store_true", help="also record into a throwaway PostgreSQL cluster")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cloudwatchdog-scale-"))
    stores: list[tuple[str, Any]] = [("sqlite", lambda n: f"sqlite:///{tmp / f'state-{n}.db'}")]
    cluster = None
    if args.postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        import psycopg
        from support.postgres import PostgresCluster

        cluster = PostgresCluster().start()
        admin = cluster.admin_url

        def pg(n: int) -> str:
            with psycopg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False),
                                 autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE scale_{n}")
            return str(admin.set(database=f"scale_{n}").render_as_string(hide_password=False))

        stores.append(("postgresql", pg))
    try:
        print(f"{'buckets':>8} {'store':>10} {'wall s':>8} {'s per 10k':>9} {'CPU s':>8} {'CPU per 10k':>11} "
              f"{'peak RSS MiB':>12}")
        for n in (int(s) for s in args.sizes.split(",")):
            raw = tmp / f"raw-{n}.json"
            write_raw(raw, n)
            for name, url in stores:
                wall, cpu, rss = run(raw, url(n), tmp / f"out-{name}-{n}")
                per = n / 10_000
                print(f"{n:>8} {name:>10} {wall:>8.1f} {wall / per:>9.2f} {cpu:>8.1f} {cpu / per:>11.2f} "
                      f"{rss:>12.0f}", flush=True)
            raw.unlink()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
