"""Benchmark: peak memory of a live scan as the estate grows (accounts in moto, entered by assume-role), with the
raw answers let go account by account (as `cloudwatchdog scan`, with or without `--save-raw`, and the daemon run) and
kept whole (``keep_raw=True``, what `--save-raw` did before it streamed).

    .venv/bin/python bench/live_memory.py --accounts 25,100 --buckets 40

Figures, not assertions. Each scan runs in a fresh process (``run_scan``, default settings, sharing off); printed:
peak RSS (VmHWM), wall and CPU time, per estate size. The let-go figure grows only with what the scan returns
(resources and findings), not with the raw answers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client

_CHILD = r"""
import json, resource, sys, time
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.scan import run_scan
settings, keep = json.loads(sys.argv[1]), sys.argv[2] == "keep"
cfg = Config(providers=Providers(aws=AwsProvider(**settings)))
t0 = time.perf_counter()
result = run_scan(cfg, load_rules(), keep_raw=keep)
usage = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would report the forking parent's size
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"rss_mib": hwm / 1024, "wall": time.perf_counter() - t0,
                  "cpu": usage.ru_utime + usage.ru_stime, "buckets": sum(1 for r in result.resources
                                                                      if r.type == "aws.s3.bucket")}))
"""


def seed(endpoint: str, accounts: list[str], buckets: int) -> None:
    def one(account: str) -> None:
        s3 = emulator_client(account_session(endpoint, account), "s3", endpoint)
        for n in range(buckets):
            s3.create_bucket(Bucket=f"m{account}-{n:04d}")
            if n % 5 == 0:
                s3.put_object(Bucket=f"m{account}-{n:04d}", Key="a.csv", Body=b"x")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, accounts))


def scan(settings: dict[str, Any], keep: bool) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(settings), "keep" if keep else "let-go"],
                          capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", default="25,100", help="estate sizes, in accounts (comma-separated, ascending)")
    ap.add_argument("--buckets", type=int, default=40, help="buckets per account")
    args = ap.parse_args()
    sizes = [int(x) for x in args.accounts.split(",")]
    accounts = [f"{600000000000 + i}" for i in range(max(sizes))]
    with MotoServer() as moto:
        t0 = time.perf_counter()
        seed(moto.endpoint, accounts, args.buckets)
        print(f"seeded {len(accounts)} accounts x {args.buckets} buckets in {time.perf_counter() - t0:.1f} s")
        for size in sizes:
            settings = {"endpoint_url": moto.endpoint, "credential": "emulator", "sharing": False,
                        "regions": ["us-east-1"],
                        "accounts": [{"id": a, "role_arn": f"arn:aws:iam::{a}:role/Audit"} for a in accounts[:size]]}
            for keep in (False, True):
                f = scan(settings, keep)
                how = "kept whole (keep_raw)" if keep else "let go per account"
                print(f"{size:4d} accounts, {f['buckets']:6d} buckets, raw {how:24s}: "
                      f"peak RSS {f['rss_mib']:6.1f} MiB, wall {f['wall']:6.1f} s, CPU {f['cpu']:6.1f} s")


if __name__ == "__main__":
    main()
