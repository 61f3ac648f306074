"""Benchmark: change events, end to end. `cloudwatchdog daemon` runs as a subprocess with the default event
settings (debounce 2 s, long poll 5 s) and its scans a day apart, reading the SQS queue an EventBridge rule fills
in the moto server; alerts go to a local webhook receiver.

1. Single changes: one bucket at a time is made public and its PutBucketPolicy event put on the bus; the latency
   is from just before the event is put (it lands in the queue within milliseconds) to the webhook receiving
   finding.new. Prints p50, p95 and max (goal: p95 under 5 s).
2. A burst: 1,000 change events over 300 buckets (made public first), put as fast as PutEvents takes them. Prints
   the rescans the daemon performed, the API calls they made, the time until every bucket's alert was delivered,
   and duplicate alerts (goal 0).

    .venv/bin/python bench/events.py [--singles 20] [--buckets 300] [--events 1000]

Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from daemon.harness import DaemonProcess, http_get, wait_for  # noqa: E402
from support.receivers import HttpReceiver, free_port  # noqa: E402

from cloudwatchdog.emulators.aws_events import EventPipe  # noqa: E402
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client  # noqa: E402


def _policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def _new_alerts(receiver: HttpReceiver) -> Counter[str]:
    return Counter(r.json()["finding"]["resource_name"] for r in list(receiver.requests)
                   if r.headers.get("x-cloudwatchdog-event") == "finding.new"
                   and r.json()["finding"]["rule_id"] == "aws-s3-bucket-public")


def _metric(daemon: DaemonProcess, name: str) -> float:
    _, body = http_get(daemon.url + "/metrics")
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", body.decode(), re.M))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--singles", type=int, default=20)
    ap.add_argument("--buckets", type=int, default=300)
    ap.add_argument("--events", type=int, default=1000)
    args = ap.parse_args()
    with MotoServer() as moto, HttpReceiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        s3: Any = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
        singles = [f"single-{i:03d}" for i in range(args.singles)]
        burst = [f"burst-{i:04d}" for i in range(args.buckets)]
        for name in singles + burst:
            s3.create_bucket(Bucket=name)
        pipe = EventPipe(moto.endpoint).create()
        port = free_port()
        config = Path(tmp) / "config.yaml"
        config.write_text(f"""state: {{url: "sqlite:///state.db"}}
reports: {{output_dir: out}}
providers:
  aws:
    endpoint_url: {moto.endpoint}
    credential: emulator
    accounts: [{{id: "123456789012", name: prod}}]
    object_acl_sample: 0
    sharing: false
    events: {{queue_url: "{pipe.queue_url}"}}
notifications:
  - {{type: webhook, name: siem, url: "{receiver.url()}", timeout: 5}}
schedules: {{scan: every 24h, report: null}}
daemon: {{listen: "127.0.0.1:{port}", shutdown_grace: 10}}
""")
        daemon = DaemonProcess(config, port=port)
        try:
            daemon.start()
            daemon.wait_healthy()
            wait_for(lambda: bool(daemon.events("scan_recorded")), 120, "the start-up scan", on_timeout=daemon.output)
            full_calls = _metric(daemon, "cloudwatchdog_api_calls_total")

            latencies = []
            for name in singles:
                s3.put_bucket_policy(Bucket=name, Policy=_policy(name))
                t0 = time.monotonic()
                pipe.emit("PutBucketPolicy", {"bucketName": name})
                wait_for(lambda n=name: _new_alerts(receiver)[n] > 0, 30, f"finding.new for {name}", interval=0.01,
                         on_timeout=daemon.output)
                latencies.append(time.monotonic() - t0)
            print(f"single changes ({len(latencies)}): event-to-alert p50 {_pct(latencies, 50):.2f}s, "
                  f"p95 {_pct(latencies, 95):.2f}s, max {max(latencies):.2f}s")

            rescans0 = _metric(daemon, "cloudwatchdog_rescans_total")
            calls0 = _metric(daemon, "cloudwatchdog_api_calls_total")
            for name in burst:
                s3.put_bucket_policy(Bucket=name, Policy=_policy(name))
            rng = random.Random(10)
            names = burst + [rng.choice(burst) for _ in range(args.events - len(burst))]
            rng.shuffle(names)
            ops = ("PutBucketPolicy", "PutBucketAcl", "PutBucketPublicAccessBlock", "CreateBucket")
            events = [(rng.choice(ops), {"bucketName": n}, "s3", "123456789012", None, None) for n in names]
            t0 = time.monotonic()
            pipe.emit_many(events)
            put = time.monotonic() - t0
            wait_for(lambda: all(_new_alerts(receiver)[n] > 0 for n in burst), 300, "every burst alert", interval=0.05,
                     on_timeout=daemon.output)
            delivered = time.monotonic() - t0
            wait_for(lambda: pipe.counts() == (0, 0), 60, "the queue to drain", on_timeout=daemon.output)
            time.sleep(3)  # room for a (wrong) second alert
            counts = _new_alerts(receiver)
            duplicates = sum(c - 1 for c in counts.values() if c > 1)
            print(f"burst: {len(events)} events over {len(burst)} buckets put in {put:.1f}s; "
                  f"{_metric(daemon, 'cloudwatchdog_rescans_total') - rescans0:.0f} rescans, "
                  f"{_metric(daemon, 'cloudwatchdog_api_calls_total') - calls0:.0f} API calls "
                  f"(the start-up full scan of {len(singles) + len(burst)} buckets: {full_calls:.0f}); "
                  f"every alert delivered {delivered:.1f}s after the first event; {duplicates} duplicate alerts")
        finally:
            daemon.close()


if __name__ == "__main__":
    main()
