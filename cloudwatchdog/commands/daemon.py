"""`cloudwatchdog daemon`: run the configured schedules until SIGTERM/SIGINT (or, with --once, every scan job once)."""

from __future__ import annotations

import argparse

from cloudwatchdog.config import load_config


def cmd_daemon(args: argparse.Namespace) -> int:
    from cloudwatchdog.daemon.run import run_daemon

    cfg = load_config(args.config)
    return run_daemon(cfg, verbosity=args.verbose, once=args.once)
