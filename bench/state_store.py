"""Benchmark: record scans of N resources (default 10,000; every 5th public with a finding) in the state store, then
build the report and list the findings; print the seconds each step takes.

    .venv/bin/python bench/state_store.py [--resources 10000] [--scans 3] [--url URL]

Without --url an SQLite file in a temp dir is used; give a postgresql+psycopg:// URL to measure PostgreSQL.
Figures, not assertions. The scan results are built in memory (tests/state/helpers.py): no cloud, no emulator.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from state.helpers import bucket, public_finding, scan  # noqa: E402

from cloudwatchdog.model import Level  # noqa: E402
from cloudwatchdog.state.store import Store  # noqa: E402
from cloudwatchdog.state.timefmt import now_utc  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=3)
    parser.add_argument("--url")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='cwd-bench-state-')}/state.db"
    start = now_utc() - timedelta(days=args.scans)
    with Store.open(url) as store:
        print(f"store: {store.display_url}; {args.resources} resources, {args.resources // 5} public, "
              f"{args.scans} scans")
        for n in range(args.scans):
            # Each scan a few public buckets get fixed and others exposed, so every step has real transitions.
            resources = [bucket(f"b{i:06d}", Level.PUBLIC if (i + n) % 5 == 0 else Level.PRIVATE)
                         for i in range(args.resources)]
            result = scan(resources, [public_finding(r) for r in resources if r.exposure.level is Level.PUBLIC],
                          when=start + timedelta(days=n))
            t = time.perf_counter()
            recorded = store.record_scan(result)
            print(f"record_scan #{n + 1}: {time.perf_counter() - t:6.2f}s  "
                  f"({len(recorded.findings)} findings, {len(recorded.resolved)} resolved)")
        t = time.perf_counter()
        data = store.report_data()
        print(f"report_data:    {time.perf_counter() - t:6.2f}s  ({len(data.all_findings())} findings in the report)")
        t = time.perf_counter()
        listed = store.list_findings()
        print(f"list_findings:  {time.perf_counter() - t:6.2f}s  ({len(listed)} findings)")


if __name__ == "__main__":
    main()
