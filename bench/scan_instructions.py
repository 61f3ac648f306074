"""Benchmark: the scanner's CPU cost per bucket as instructions executed, a figure a busy machine does not stretch.

    .venv/bin/python bench/scan_instructions.py                    # 100 and 400 buckets, default settings
    .venv/bin/python bench/scan_instructions.py --sizes 100,1000

CPU time on a shared virtual machine varies by half between sittings (bench/scan_buckets.py prints a reference loop
to show it), more than most changes worth measuring. This runs the same scan as bench/scan_buckets.py (a fresh
process, ``run_scan`` with default settings, against moto on 127.0.0.1) under valgrind's cachegrind, which counts
the instructions the scanning process executes (its user space: system calls and moto are not counted), at two
estate sizes. Printed: instructions per bucket (the difference between the two, over the difference in buckets:
what one more bucket costs) and the fixed part (interpreter, imports, SDK clients, account-level calls). Needs
``valgrind`` (Debian: ``apt-get install valgrind``); each run takes about a minute per 100 buckets.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scan_buckets import _CHILD, _env, _seed_one

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(endpoint: str, buckets: int, enforced: bool) -> tuple[int, int]:
    """Seed ``buckets`` into a fresh moto account, then count the instructions of one scan of it (and its requests)."""
    s3 = emulator_client(account_session(endpoint, DEFAULT_ACCOUNT), "s3", endpoint)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _seed_one(s3, i, enforced), range(buckets)))
    settings = {"credential": "emulator", "accounts": [{"id": DEFAULT_ACCOUNT, "name": "bench"}],
                "endpoint_url": endpoint}
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-c", _CHILD, json.dumps(settings)],
                          env=_env(), capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the scan under valgrind failed: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), sum(json.loads(done.stdout.strip().splitlines()[-1])["ops"].values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,400", help="two estate sizes, in buckets (default: 100,400)")
    ap.add_argument("--ownership-enforced", action="store_true",
                    help="create the buckets as AWS does today (Object Ownership BucketOwnerEnforced)")
    args = ap.parse_args()
    small, large = (int(n) for n in args.sizes.split(","))
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    os.environ.update(_env())
    counts = {}
    for size in (small, large):
        with MotoServer() as server:  # a fresh estate each time
            counts[size] = instructions(server.endpoint, size, args.ownership_enforced)
        print(f"{size} buckets: {counts[size][0]:,} instructions, {counts[size][1]} requests", flush=True)
    per_bucket = (counts[large][0] - counts[small][0]) / (large - small)
    per_request = (counts[large][0] - counts[small][0]) / max(counts[large][1] - counts[small][1], 1)
    print(f"per bucket: {per_bucket / 1e6:.2f} M instructions ({per_request / 1e6:.2f} M per request); "
          f"fixed: {(counts[small][0] - small * per_bucket) / 1e9:.2f} G")


if __name__ == "__main__":
    main()
