"""`cloudwatchdog demo`: start an embedded moto server, seed a realistic estate, scan it, show the result.

No cloud account is touched: the process uses fixed emulator credentials and the local endpoint only.
"""

from __future__ import annotations

import argparse
import os

from rich.console import Console

from cloudwatchdog.commands.scan import execute_scan
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo_estate import seed_demo_estate
from cloudwatchdog.emulators.moto import MotoServer
from cloudwatchdog.rules.loader import load_rules


def _isolate_from_real_credentials() -> None:
    # The demo must never reach a real account, whatever the user's environment holds.
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def cmd_demo(args: argparse.Namespace) -> int:
    console = Console()
    _isolate_from_real_credentials()
    with console.status("starting the embedded AWS emulator (moto server) on 127.0.0.1 ..."):
        server = MotoServer().start()
    try:
        with console.status("seeding the demo estate ..."):
            estate = seed_demo_estate(server.endpoint)
        console.print(
            f"Demo estate: {len(estate.accounts)} AWS accounts, {len(estate.buckets)} buckets, "
            f"{len(estate.access_points)} access points, emulated at {server.endpoint}"
        )
        cfg = Config(providers=Providers(aws=estate.aws_provider()))
        _, result, written = execute_scan(cfg, load_rules(), ["json"], args.output, None, show_progress=True)
    finally:
        server.stop()
    mistakes = [b for b in estate.buckets if b.issue] + [a for a in estate.access_points if a.issue]
    console.print(f"\nThe estate was seeded with {len(mistakes)} deliberate mistakes; "
                  f"the scan raised {len(result.findings)} findings.")
    if written:
        console.print(f"JSON: {written[0]}", soft_wrap=True, highlight=False)
    return 0
