"""`cloudwatchdog events check`: is each configured change-event source reachable and readable, how many messages
wait, and how old is the oldest one seen. Exit 0: every source readable; 3: some source could not be read; 2: config
error, or no event source is configured."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cloudwatchdog.commands.terminal import plain, plural
from cloudwatchdog.exitcodes import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE


def add_parser(sub: Any) -> None:
    events = sub.add_parser("events", help="check the change-event queues the daemon reads")
    esub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    check = esub.add_parser("check", help="is each event source reachable and readable; its oldest message's age")
    check.add_argument("-c", "--config", help="config file (providers.<name>.events)")
    check.add_argument("--json", action="store_true", help="print JSON: {sources: [{source, reachable, error, "
                       "messages, oldest_age_seconds, detail}]}")


def cmd_events(args: argparse.Namespace) -> int:
    if args.events_command != "check":
        raise AssertionError(f"unhandled events action {args.events_command}")
    from cloudwatchdog.config import load_config
    from cloudwatchdog.daemon.events import event_sources

    cfg = load_config(args.config)
    sources = event_sources(cfg)
    if not sources:
        print("error: no change-event source is configured (providers.<name>.events; see the README, "
              "\"Change events\")", file=sys.stderr)
        return EXIT_USAGE
    checks = [s.check() for s in sources]
    if args.json:
        print(json.dumps({"sources": [c.to_dict() for c in checks]}, indent=2))
    else:
        for c in checks:
            if not c.reachable:
                print(f"{plain(c.source)}: cannot be read: {plain(c.error)}")
                continue
            count = "unknown number of" if c.messages is None else plural(c.messages, "message")
            age = ("no message waiting" if c.oldest_age_seconds is None
                   else f"oldest seen {c.oldest_age_seconds:.0f}s old")
            detail = f" ({plain(c.detail)})" if c.detail else ""
            print(f"{plain(c.source)}: readable, {count} waiting, {age}{detail}")
    return EXIT_OK if all(c.reachable for c in checks) else EXIT_INCOMPLETE


__all__ = ["add_parser", "cmd_events"]
