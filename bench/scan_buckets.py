"""Benchmark: seed N buckets into a local moto server, scan them with default settings, print what a scan costs.

    .venv/bin/python bench/scan_buckets.py --buckets 1000                  # requests, CPU, wall, RSS, start-up
    .venv/bin/python bench/scan_buckets.py --buckets 1000 --latency-ms 50  # also: wall with 50 ms per request

Figures, not assertions: run by hand, compare between changes. Printed:
- requests per bucket (every HTTP request the scan sent, account-level ones and the access-logging check of the
  exposed buckets included, over the buckets; with the requests per operation), client CPU per bucket (the
  scanning process's user+system time), wall time and peak RSS of the scan, run in a fresh process (``run_scan``,
  as ``cloudwatchdog scan`` does, without the outputs), and the CPU time moto (and the proxy) spent meanwhile;
  times are the medians of ``--repeat`` scans of the same estate (default 3), with their range; the garbage
  collector is settled as the command settles it (``cli.settle_collector``);
- start-up: ``cloudwatchdog scan`` on an empty account (moto before seeding), wall time of the whole command with a
  new SQLite store, the median of 5 after a warm-up run, the package's modules compiled as an installed wheel's are;
- with ``--latency-ms N``: the same scan through bench/latency_proxy.py, a delay line adding N ms to every request.
- with ``--custodian PATH`` (a ``custodian`` executable, Cloud Custodian installed apart, e.g. in its own venv):
  Cloud Custodian's run of three S3 exposure policies (global grants, a public policy statement, Block Public Access;
  ``CUSTODIAN_POLICY`` below) on the same estate, in the same sitting, through the delay line at 0 ms to count its
  requests: its CPU per bucket (the command's, less its run on the empty account) beside ours, and the ratio.

moto (a Python server sharing the same cores) answers in about 3 ms of its own CPU per request, so without latency
wall time is moto's; with latency it shows how well the scan overlaps waiting (the floor is requests x latency /
concurrency). The estate: every 10th bucket has a public bucket policy, every 7th a tag, every 20th Block Public
Access, every 5th an object; ACLs are enabled on every bucket (moto creates buckets without Object Ownership
controls, like AWS before April 2023). ``--ownership-enforced`` creates them as AWS does today (BucketOwnerEnforced:
ACLs disabled, so no object-ACL sample is needed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session, emulator_client

HERE = Path(__file__).resolve().parent

CUSTODIAN_POLICY = """policies:
  - {name: s3-global-grants, resource: aws.s3, filters: [{type: global-grants}]}
  - name: s3-public-policy
    resource: aws.s3
    filters: [{type: has-statement, statements: [{Effect: Allow, Principal: "*"}]}]
  - {name: s3-public-access-block, resource: aws.s3, filters: [{type: check-public-block, BlockPublicAcls: false}]}
"""

# The scan, in a fresh process: argv[1] is the settings as JSON; prints one JSON line of figures.
_CHILD = r"""
import collections, json, resource, sys, time
from cloudwatchdog.providers.aws import session as aws_session
ops = collections.Counter()
hook = aws_session.CallCounter.hook
def counting(self, **kw):
    ops[kw.get("event_name", "?").split(".", 2)[-1]] += 1
    hook(self, **kw)
aws_session.CallCounter.hook = counting
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.cli import settle_collector
cfg = Config(providers=Providers(aws=AwsProvider(**json.loads(sys.argv[1]))))
rules = load_rules()
settle_collector()  # as `cloudwatchdog scan` does once started: ~0.2 s less of garbage collection in 1,000 buckets
cpu0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
result = run_scan(cfg, rules)
wall, cpu1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "wall": wall, "cpu": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
    "sys": cpu1.ru_stime - cpu0.ru_stime,
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would report the forking parent's size
    "rss_mib": next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024,
    "calls": sum(c.api_calls for c in result.coverage),
    "buckets": sum(1 for r in result.resources if r.type == "aws.s3.bucket"), "findings": len(result.findings),
    "coverage": [c.status.value for c in result.coverage], "ops": dict(ops)}))
"""


def _seed_one(s3: Any, i: int, enforced: bool) -> None:
    name = f"bench-{i:05d}"
    s3.create_bucket(Bucket=name)
    if enforced:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
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


def _env() -> dict[str, str]:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(proxy, None)
    return env


def startup(endpoint: str, runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU time of ``cloudwatchdog scan`` on an empty account, each with a new SQLite store (CPU
    time is the steadier figure on a busy machine), after one run that warms moto up."""
    times, cpus = [], []
    # As installed (pip compiles a wheel's modules): the package's bytecode is there, whatever
    # PYTHONDONTWRITEBYTECODE says (set on the bench machine, it would make every run compile ~100 modules).
    import cloudwatchdog
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(cloudwatchdog.__file__).parent)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs + 1):
            config = Path(tmp) / f"config-{i}.yaml"
            config.write_text(f"state:\n  url: sqlite:///{tmp}/state-{i}.db\nproviders:\n  aws:\n"
                              f"    endpoint_url: {endpoint}\n    credential: emulator\n  gcp:\n    enabled: false\n"
                              f"  azure:\n    enabled: false\nreports:\n  output_dir: {tmp}/out\n")
            t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([sys.executable, "-m", "cloudwatchdog", "scan", "-c", str(config), "--no-progress"],
                                  capture_output=True, text=True, env=_env())
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i > 0:  # the first run is moto's warm-up
                times.append(time.perf_counter() - t0)
                cpus.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            if done.returncode not in (0, 1):
                raise SystemExit(f"cloudwatchdog scan failed ({done.returncode}): {done.stderr[-2000:]}")
    return statistics.median(times), statistics.median(cpus)


def cpu_of(pid: int) -> float:
    """User+system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(endpoint: str, settings: dict[str, Any], moto_pid: int) -> dict[str, Any]:
    before = cpu_of(moto_pid)
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps({"endpoint_url": endpoint, **settings})],
                          capture_output=True, text=True, env=_env())
    if done.returncode != 0:
        raise SystemExit(f"the scan failed: {done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["moto_cpu"] = cpu_of(moto_pid) - before
    return figures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_latency(endpoint: str, latency_ms: float, settings: dict[str, Any], moto_pid: int) -> dict[str, Any]:
    port = _free_port()
    proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--upstream", endpoint,
                              "--latency-ms", str(latency_ms), "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        _wait_port(port)
        figures = scan(f"http://127.0.0.1:{port}", settings, moto_pid)
        figures["proxy_cpu"] = cpu_of(proxy.pid)
    finally:
        proxy.terminate()
        out, _ = proxy.communicate(timeout=10)
    # moto's server (werkzeug, HTTP/1.0) closes every connection after one answer: one connection per request.
    figures["proxy"] = out.strip().splitlines()[-1] if out.strip() else "?"
    return figures


def custodian(executable: str, endpoint: str, latency_ms: float | None = None) -> dict[str, Any]:
    """CPU and wall time of one ``custodian run`` of ``CUSTODIAN_POLICY`` against ``endpoint`` (a fresh home, so no
    cache from an earlier run); with ``latency_ms``, through the delay line, whose request count is returned."""
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "policy.yml").write_text(CUSTODIAN_POLICY)
        proxy = None
        if latency_ms is not None:
            port = _free_port()
            proxy = subprocess.Popen([sys.executable, str(HERE / "latency_proxy.py"), "--upstream", endpoint,
                                      "--latency-ms", str(latency_ms), "--port", str(port)],
                                     stdout=subprocess.PIPE, text=True)
            _wait_port(port)
            endpoint = f"http://127.0.0.1:{port}"
        try:
            env = dict(_env(), AWS_ENDPOINT_URL=endpoint, HOME=home)
            t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([executable, "run", "-s", f"{home}/out", "--region", "us-east-1",
                                   f"{home}/policy.yml"], capture_output=True, text=True, env=env)
            c1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - t0
        finally:
            out = ""
            if proxy is not None:
                proxy.terminate()
                out, _ = proxy.communicate(timeout=10)
        if done.returncode != 0:
            raise SystemExit(f"custodian failed ({done.returncode}): {done.stderr[-2000:]}")
        figures: dict[str, Any] = {"wall": wall, "cpu": c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime}
        if out.strip():
            figures["requests"] = int(out.strip().splitlines()[-1].split()[0])
        return figures


def _wait_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)


def reference_loop() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast the machine runs Python at the moment (a VM's CPU time
    stretches when its host is busy), to compare figures between sittings."""
    t0 = time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return time.process_time() - t0


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several scans of one estate: times are medians (``spread``: their ranges); on a shared
    machine one scan's CPU time can be half again another's."""
    out = dict(runs[len(runs) // 2])
    spread = {}
    for key in ("cpu", "sys", "wall", "moto_cpu", "proxy_cpu"):
        if key in out:
            values = sorted(r[key] for r in runs)
            out[key] = statistics.median(values)
            spread[key] = (values[0], values[-1])
    out["spread"], out["runs"] = spread, len(runs)
    return out


def _report(label: str, f: dict[str, Any]) -> None:
    n = max(f["buckets"], 1)
    print(f"{label}: {f['buckets']} buckets, {f['findings']} findings, coverage {f['coverage']}")
    sent = sum(f["ops"].values())  # every request of the scan, the exposed buckets' access-logging check included
    print(f"  requests per bucket   {sent / n:.2f} ({sent} requests; {f['calls']} collecting, "
          f"{sent - f['calls']} checking the exposed buckets' access logging)")
    per_op = sorted(f["ops"].items(), key=lambda kv: -kv[1])
    print("    " + ", ".join(f"{op} {count / n:.2f}" for op, count in per_op if count / n >= 0.005))
    low, high = f["spread"]["cpu"]
    print(f"  client CPU per bucket {1000 * f['cpu'] / n:.2f} ms ({f['cpu']:.2f} s, of which system {f['sys']:.2f} s; "
          f"median of {f['runs']}, {1000 * low / n:.2f}-{1000 * high / n:.2f} ms)")
    low, high = f["spread"]["wall"]
    print(f"  wall                  {f['wall']:.2f} s ({n / f['wall']:.0f} buckets/s; {low:.2f}-{high:.2f} s)")
    print(f"  peak RSS              {f['rss_mib']:.0f} MiB")
    print(f"  moto's CPU            {f['moto_cpu']:.2f} s ({1000 * f['moto_cpu'] / max(sent, 1):.2f} ms per request)")
    if "proxy" in f:
        print(f"  through the proxy     {f['proxy']}, {f['proxy_cpu']:.2f} s of the proxy's CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=None, help="max_workers (default: the setting's default)")
    ap.add_argument("--object-acl-sample", type=int, default=None, help="(default: the setting's default)")
    ap.add_argument("--latency-ms", type=float, default=0, help="also scan through a delay line of N ms per request")
    ap.add_argument("--ownership-enforced", action="store_true",
                    help="create the buckets as AWS does today (Object Ownership BucketOwnerEnforced)")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    ap.add_argument("--custodian", metavar="PATH", help="also run Cloud Custodian's S3 exposure policies (see above)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="scans of the same estate; times are their medians, with the range (default: 3)")
    args = ap.parse_args()

    settings: dict[str, Any] = {"credential": "emulator", "accounts": [{"id": DEFAULT_ACCOUNT, "name": "bench"}]}
    if args.workers is not None:
        settings["max_workers"] = args.workers
    if args.object_acl_sample is not None:
        settings["object_acl_sample"] = args.object_acl_sample
    os.environ.update(_env())
    print(f"reference loop: {reference_loop():.3f} s CPU (compare between sittings; lower is a faster machine)")
    with MotoServer() as server:
        custodian_empty = 0.0
        if args.custodian:
            empty = [custodian(args.custodian, server.endpoint) for _ in range(3)]
            custodian_empty = statistics.median(f["cpu"] for f in empty)
            print(f"Cloud Custodian on the empty account: {statistics.median(f['wall'] for f in empty):.2f} s wall, "
                  f"{custodian_empty:.2f} s CPU (medians of 3)")
        if not args.no_startup:
            wall, cpu = startup(server.endpoint)
            print(f"start-up (scan, empty account, new store): {wall:.2f} s wall, {cpu:.2f} s CPU (medians of 5)")
        s3 = emulator_client(account_session(server.endpoint, DEFAULT_ACCOUNT), "s3", server.endpoint)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _seed_one(s3, i, args.ownership_enforced), range(args.buckets)))
        print(f"seeded {args.buckets} buckets in {time.perf_counter() - t0:.1f} s")
        ours = _median([scan(server.endpoint, settings, server.pid) for _ in range(args.repeat)])
        _report("scan", ours)
        if args.custodian:
            runs = sorted((custodian(args.custodian, server.endpoint, 0) for _ in range(args.repeat)),
                          key=lambda f: f["cpu"])
            theirs = runs[len(runs) // 2]
            n = max(ours["buckets"], 1)
            per_bucket = (theirs["cpu"] - custodian_empty) / n
            print(f"Cloud Custodian, S3 exposure policies (median of {len(runs)}, through the delay line at 0 ms):")
            print(f"  requests per bucket   {theirs['requests'] / n:.2f}")
            whole = f"{1000 * runs[0]['cpu'] / n:.2f}-{1000 * runs[-1]['cpu'] / n:.2f} ms whole"
            print(f"  CPU per bucket        {1000 * per_bucket:.2f} ms ({theirs['cpu']:.2f} s, less "
                  f"{custodian_empty:.2f} s on the empty account; {whole})")
            print(f"  wall                  {theirs['wall']:.2f} s")
            print(f"  ours / Custodian's    {ours['cpu'] / n / per_bucket:.2f} (client CPU per bucket)")
        if args.latency_ms:
            _report(f"scan, {args.latency_ms:g} ms per request", _median(
                [with_latency(server.endpoint, args.latency_ms, settings, server.pid) for _ in range(args.repeat)]))


if __name__ == "__main__":
    main()
