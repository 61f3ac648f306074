"""Benchmark: distributed scans (procrastinate) of A accounts x B buckets in moto, the accounts entered by
assume-role, through 1, 2 and 4 `cloudwatchdog worker` processes on this machine: wall time, speed-up per worker,
and the engine's overhead per unit (empty accounts, distributed with one worker vs. in one process).

    .venv/bin/python bench/fleet.py --accounts 200 --buckets 50
    .venv/bin/python bench/fleet.py --accounts 40 --buckets 25 --latency-ms 50 --max-accounts 1 --max-workers 8

Figures, not assertions. On one 2-core machine moto (one Python process) and PostgreSQL share the cores with the
workers, so without latency the speed-up is a lower bound of what separate machines against a real cloud give: moto
is the limit. ``--latency-ms N`` puts bench/latency_proxy.py (a subprocess) between the scans and moto, so that every
request waits N ms as against a real cloud; with each process's concurrency capped (``--max-accounts``,
``--max-workers``, the same for the single process and every worker) a unit waits on the network, as it does for real,
and each worker adds throughput until this machine's two cores are busy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import PostgresCluster  # noqa: E402

from cloudwatchdog.cli import main  # noqa: E402
from cloudwatchdog.emulators.moto import MotoServer, account_session  # noqa: E402


def seed(moto: MotoServer, accounts: list[str], buckets: int) -> None:
    def one(account: str) -> None:
        s3 = account_session(moto.endpoint, account).client("s3", endpoint_url=moto.endpoint)
        for n in range(buckets):
            s3.create_bucket(Bucket=f"b{account}-{n:04d}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, accounts))


def write_config(path: Path, endpoint: str, url: str, accounts: list[str], concurrency: dict[str, int]) -> Path:
    cfg = {
        "state": {"url": url},
        "providers": {"aws": {
            "endpoint_url": endpoint, "credential": "emulator", "regions": ["us-east-1"], "sharing": False,
            "accounts": [{"id": a, "role_arn": f"arn:aws:iam::{a}:role/Audit"} for a in accounts], **concurrency,
        }},
        "fleet": {"heartbeat": 2, "stalled_after": 10, "poll_interval": 0.2},
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


@contextlib.contextmanager
def delay_line(upstream: str, latency_ms: float) -> Iterator[str]:
    """bench/latency_proxy.py in its own process (its CPU stays out of the scanning processes); yields its URL."""
    if not latency_ms:
        yield upstream
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = subprocess.Popen([sys.executable, str(ROOT / "bench" / "latency_proxy.py"), "--upstream", upstream,
                              "--latency-ms", str(latency_ms), "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def create_db(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def timed_scan(config: Path, out: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the scan's summary
        code = main(["scan", "-c", str(config), "--output", str(out), "--no-progress", "--format", "json", *extra])
    if code not in (0, 1, 3):
        raise SystemExit(f"the scan failed or was interrupted (exit {code})")
    return time.perf_counter() - t0


def with_workers(n: int, config: Path, conninfo: str, logs: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "cloudwatchdog", "worker", "-c", str(config)],
                              stdout=subprocess.DEVNULL, stderr=(logs / f"w{n}-{i}.log").open("w"), env=env)
             for i in range(n)]
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(conninfo) as conn:  # every worker registered (heartbeat row): ready
            while time.monotonic() < deadline:
                exists = conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
                if exists and exists[0] and conn.execute(
                        "SELECT count(*) FROM procrastinate_workers").fetchone() == (n,):
                    break
                conn.commit()
                time.sleep(0.2)
        return timed_scan(config, out, "--distributed")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


def main_bench() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--buckets", type=int, default=50)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--empty", type=int, default=100, help="empty accounts for the overhead per unit")
    ap.add_argument("--latency-ms", type=float, default=0, help="every request waits N ms (bench/latency_proxy.py)")
    ap.add_argument("--max-accounts", type=int, default=None, help="providers.aws.max_accounts (default: its default)")
    ap.add_argument("--max-workers", type=int, default=None, help="providers.aws.max_workers (default: its default)")
    args = ap.parse_args()
    concurrency = {k: v for k, v in (("max_accounts", args.max_accounts), ("max_workers", args.max_workers)) if v}
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ.pop(name, None)
    tmp = Path(tempfile.mkdtemp(prefix="cloudwatchdog-fleet-bench-"))
    cluster = PostgresCluster().start()
    admin = cluster.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with MotoServer() as moto, delay_line(moto.endpoint, args.latency_ms) as endpoint:
            if args.latency_ms:
                print(f"every request waits {args.latency_ms:g} ms; per process: {concurrency or 'the defaults'}")
            accounts = [f"{300000000000 + i}" for i in range(args.accounts)]
            t0 = time.perf_counter()
            seed(moto, accounts, args.buckets)
            print(f"seeded {args.accounts} accounts x {args.buckets} buckets in {time.perf_counter() - t0:.1f} s")

            def config_for(db: str, accts: list[str]) -> tuple[Path, str]:
                url = cluster.admin_url.set(database=create_db(admin, db))
                sa = url.render_as_string(hide_password=False)
                return write_config(tmp / f"{db}.yaml", endpoint, sa, accts, concurrency), \
                    url.set(drivername="postgresql").render_as_string(hide_password=False)

            config, _ = config_for("single", accounts)
            single = timed_scan(config, tmp / "single")
            total = args.accounts * args.buckets
            print(f"single process: {single:.1f} s ({total / single:.0f} buckets/s)")
            first: float | None = None
            for n in (int(x) for x in args.workers.split(",")):
                config, conninfo = config_for(f"fleet{n}", accounts)
                wall = with_workers(n, config, conninfo, tmp, tmp / f"fleet{n}")
                first = first or wall
                print(f"{n} worker(s): {wall:.1f} s ({total / wall:.0f} buckets/s), speed-up vs single process "
                      f"{single / wall:.2f}x, vs the first worker count {first / wall:.2f}x")

            empty = [f"{400000000000 + i}" for i in range(args.empty)]
            config, _ = config_for("empty_single", empty)
            one = timed_scan(config, tmp / "empty-single")
            config, conninfo = config_for("empty_fleet", empty)
            dist = with_workers(1, config, conninfo, tmp, tmp / "empty-fleet")
            print(f"{args.empty} empty accounts: {one:.1f} s in one process, {dist:.1f} s through one worker: "
                  f"engine overhead {1000 * (dist - one) / args.empty:.0f} ms per unit")
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main_bench()
