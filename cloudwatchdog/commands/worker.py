"""`cloudwatchdog worker`: run units of distributed scans (services.fleet) until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse

from cloudwatchdog.config import load_config
from cloudwatchdog.logs import setup_cli_logging
from cloudwatchdog.services.store import open_store


def cmd_worker(args: argparse.Namespace) -> int:
    from cloudwatchdog.services.fleet import run_worker

    cfg = load_config(args.config)
    setup_cli_logging(max(args.verbose, 1))  # a worker says which unit it runs
    store = open_store(cfg, args.state_url)
    try:
        run_worker(cfg, store)
    finally:
        store.close()
    return 0
