"""Benchmark: the alert outbox. Record one scan with N new public buckets into a fresh store with a webhook target
(the hook queues N alerts in the recording transaction), then deliver them to a local HTTP receiver with one and
with two concurrent workers. Prints the seconds for recording with and without the hook, and deliveries per second.

    .venv/bin/python bench/alert_outbox.py [--alerts 1000] [--state-url URL]

Figures, not assertions: run by hand, compare between changes. Default store: an SQLite file in a temp dir.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from state.helpers import at, bucket, scan  # noqa: E402
from support.receivers import HttpReceiver  # noqa: E402

from cloudwatchdog.alerts.outbox.deliver import deliver_due  # noqa: E402
from cloudwatchdog.alerts.outbox.enqueue import outbox_hook  # noqa: E402
from cloudwatchdog.config import Config  # noqa: E402
from cloudwatchdog.state.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=1000)
    ap.add_argument("--state-url", help="an empty store (default: a temporary SQLite file)")
    args = ap.parse_args()
    n = args.alerts
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as receiver:
        cfg = Config.model_validate({"notifications": [{"type": "webhook", "name": "w", "url": receiver.url()}]})
        resources = [bucket(f"bench-{i:05d}") for i in range(n)]
        for label, hooked in (("without the hook", False), ("with the hook", True)):
            url = args.state_url if args.state_url and hooked else f"sqlite:///{tmp}/{label.replace(' ', '-')}.db"
            with Store.open(url, hooks=[outbox_hook(cfg)] if hooked else []) as store:
                t0 = time.perf_counter()
                store.record_scan(scan(resources, when=at(0)))
                print(f"record a scan of {n} new findings {label}: {time.perf_counter() - t0:.2f}s")
                if not hooked:
                    continue
                deliver_bench(store, cfg, n, receiver)


def deliver_bench(store: Store, cfg: Config, n: int, receiver: HttpReceiver) -> None:
    half = n // 2
    t0 = time.perf_counter()
    one = deliver_due(store, cfg, limit=half)
    dt = time.perf_counter() - t0
    print(f"deliver {one.sent} alerts, one worker: {dt:.2f}s ({one.sent / dt:.0f}/s)")
    sent: list[int] = []

    def work() -> None:
        sent.append(deliver_due(store, cfg, limit=n).sent)

    threads = [threading.Thread(target=work) for _ in range(2)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    dt = time.perf_counter() - t0
    print(f"deliver {sum(sent)} alerts, two workers {sent}: {dt:.2f}s ({sum(sent) / dt:.0f}/s)")
    ids = [r.headers["x-cloudwatchdog-delivery"] for r in receiver.requests]
    print(f"received {len(ids)} requests, {len(set(ids))} distinct delivery ids")

if __name__ == "__main__":
    main()
