"""`cloudwatchdog alerts test|list|deliver|retry`: check a target, look into the outbox, deliver now, retry."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from cloudwatchdog.commands.terminal import plural
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.store import Store

LIST_STATUSES = ("pending", "sending", "sent", "dead", "digested")


def cmd_alerts(args: argparse.Namespace) -> int:
    action = args.alerts_command
    if action == "test":
        return cmd_test(args)
    if action == "list":
        return cmd_list(args)
    if action == "deliver":
        return cmd_deliver(args)
    if action == "retry":
        return cmd_retry(args)
    raise AssertionError(f"unhandled alerts action {action}")


def cmd_test(args: argparse.Namespace) -> int:
    """Exit 0: delivered; 1: the delivery failed; 2: config error or unknown target."""
    from cloudwatchdog.alerts.checks import check_notifications
    from cloudwatchdog.alerts.targets import UnknownTarget
    from cloudwatchdog.alerts.test_alert import send_test_alert

    cfg = _config(args)
    errors = check_notifications(cfg)
    if errors:
        for err in errors:
            print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = send_test_alert(cfg, args.target)
    except UnknownTarget as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.target}: {result.describe()}")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _config(args: argparse.Namespace) -> Config:
    from cloudwatchdog.config import load_config

    return load_config(args.config)


def _store(cfg: Config, args: argparse.Namespace) -> Store:
    """The store, which must exist already (a scan creates it)."""
    from cloudwatchdog.services.store import open_store

    return open_store(cfg, args.state_url, create=False)


def parse_statuses(value: str | None) -> list[str] | None:
    if value is None or value == "all":
        return None
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in LIST_STATUSES]
    if unknown or not names:
        raise UsageError(f"--status: unknown status {', '.join(unknown) or '(none)'}; use "
                         f"{', '.join(LIST_STATUSES)} or all")
    return names


def _when(value: datetime | None) -> str:
    from cloudwatchdog.state.timefmt import iso

    return iso(value) if value is not None else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console

    from cloudwatchdog.alerts.outbox.admin import list_outbox
    from cloudwatchdog.commands.terminal import safe

    statuses = parse_statuses(args.status)
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    cfg = _config(args)
    with _store(cfg, args) as store:
        entries = list_outbox(store, statuses=statuses, limit=args.limit)
    if args.json:
        json.dump({"schema_version": 1, "alerts": [e.to_dict() for e in entries]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    console = Console()
    if not entries:
        console.print("No alerts in the outbox" + (f" with status {', '.join(statuses)}" if statuses else "") + ".")
        return EXIT_OK
    # One block per alert, readable at any terminal width. Names come from a cloud: escaped, never markup.
    for e in entries:
        what = f"digest of {e.digest_of}" if e.kind == "digest" else e.kind
        when = f"sent {_when(e.sent_at)}" if e.status == "sent" else \
            f"next {_when(e.next_attempt_at)}" if e.next_attempt_at and e.status == "pending" else ""
        held = "held for the digest" if e.status == "pending" and e.next_attempt_at is None else ""
        parts = [e.status, safe(e.target), what, e.severity, safe(e.resource_name or ""),
                 f"{e.attempts} attempt(s)", f"created {_when(e.created_at)}", when, held]
        console.print("  ".join(p for p in parts if p), highlight=False, soft_wrap=True)
        console.print(f"    id: {safe(e.delivery_id)}", highlight=False, soft_wrap=True)
        if e.last_error:
            console.print(f"    last error: {safe(e.last_error)}", highlight=False, soft_wrap=True)
    return EXIT_OK


def cmd_deliver(args: argparse.Namespace) -> int:
    """Exit 0 when every alert tried was delivered; 1 when some failed (retried later or dead)."""
    from cloudwatchdog.alerts.outbox.deliver import deliver_due
    from cloudwatchdog.alerts.outbox.digests import send_digests
    from cloudwatchdog.alerts.targets import configured_targets

    cfg = _config(args)
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    failed = 0
    with _store(cfg, args) as store:
        if args.digests:
            for target in configured_targets(cfg):
                if target.mode == "digest":
                    d = send_digests(store, cfg, target.label)
                    failed += d.failed
                    if d.sent:
                        print(f"{target.label}: digest delivered")
        stats = deliver_due(store, cfg, limit=args.limit, include_waiting=args.all)
    failed += stats.failed
    print(f"Alerts: {stats.sent} delivered, {stats.retried} to retry, {stats.dead} failed for good, "
          f"{stats.pending} waiting")
    return EXIT_FINDINGS if failed else EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from cloudwatchdog.alerts.outbox.admin import retry_dead

    if bool(args.delivery_id) == bool(args.all_dead):
        raise UsageError("give one DELIVERY_ID (as `alerts list` shows) or --all-dead")
    cfg = _config(args)
    with _store(cfg, args) as store:
        try:
            count = retry_dead(store, args.delivery_id)
        except LookupError as exc:
            raise UsageError(str(exc.args[0])) from None
    print(f"{plural(count, 'alert')} queued again; `cloudwatchdog alerts deliver` (or the daemon) sends them")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `alerts` command group (called by cli._parser)."""
    alerts = sub.add_parser("alerts", help="test a notification target; list, deliver or retry queued alerts")
    asub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    at = asub.add_parser("test", help="send a sample alert through one target, to check its settings "
                                      "(exit 0 delivered, 1 failed, 2 config error)")
    at.add_argument("target", help="the target's name (`name:`, or the default <type>-<n>: slack-1, webhook-1 ...)")
    al = asub.add_parser("list", help="the alerts in the outbox, newest first")
    al.add_argument("--status", metavar="STATUS[,STATUS]",
                    help=f"{', '.join(LIST_STATUSES)} or all (default all)")
    al.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    al.add_argument("--json", action="store_true", help="print JSON: {schema_version, alerts: [...]}")
    ad = asub.add_parser("deliver", help="deliver the alerts that are due now (exit 1 when some failed)")
    ad.add_argument("--all", action="store_true",
                    help="also the alerts waiting for their next retry (e.g. the receiver is back)")
    ad.add_argument("--digests", action="store_true",
                    help="also send every digest target's pile now (for cron; the daemon keeps the schedules)")
    ad.add_argument("--limit", type=int, default=1000, help="deliver at most this many (default 1000)")
    ar = asub.add_parser("retry", help="queue dead alerts again (after fixing the target or the receiver)")
    ar.add_argument("delivery_id", nargs="?", help="the delivery id, as `alerts list --status dead` shows it")
    ar.add_argument("--all-dead", action="store_true", help="every dead alert")
    for action in (at, al, ad, ar):
        action.add_argument("-c", "--config", help="config file (notifications, state.url)")
    for action in (al, ad, ar):
        action.add_argument("--state-url", metavar="URL", help="state store URL, overriding state.url")
