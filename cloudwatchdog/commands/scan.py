"""`cloudwatchdog scan`: one scan of the configured accounts, written in the requested formats."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from cloudwatchdog.cli import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError, output_path
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.model import Severity
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.render.summary import print_summary
from cloudwatchdog.rules.loader import Rule, load_rules
from cloudwatchdog.scan import Progress, ScanResult, Snapshot, run_scan
from cloudwatchdog.yamlsource import SourceErrors

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.store import Store


def parse_formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--format: unknown format {', '.join(unknown) or '(none)'}; available: {', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


@contextmanager
def progress_display(enabled: bool, console: Console) -> Iterator[Progress | None]:
    """A live status line on a terminal; nothing when piped."""
    if not enabled:
        yield None
        return
    with console.status("scanning ...") as status:
        def update(message: str, done: int) -> None:
            status.update(f"scanning: {message} ({done})")

        yield update


def write_outputs(result: ScanResult, formats: Sequence[str], output: str) -> list[Path]:
    if output == "-":
        renderer, _ = FORMATS[formats[0]]
        sys.stdout.write(renderer(result))
        sys.stdout.flush()
        return []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    written = []
    for name in formats:
        renderer, ext = FORMATS[name]
        try:
            path = output_path(Path(output), f"cloudwatchdog-scan-{stamp}", ext)
            path.write_text(renderer(result), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        written.append(path)
    return written


def check_output_dir(output: str) -> None:
    """Fail before the scan, not after it, when the output directory cannot be made."""
    if output == "-":
        return
    try:
        Path(output).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot create the directory: {exc.strerror or exc}") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise UsageError(f"--output {output}: the directory is not writable")


def check_raw_target(path: str) -> None:
    """Fail before the scan, not after it, when --save-raw cannot be written."""
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir() or not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--save-raw {path}: cannot write a file there")


def configured_rules(cfg: Config) -> list[Rule]:
    """The built-in rules plus ``rules.paths``, less ``rules.disable``; an unknown id names the config line."""
    rules = load_rules([cfg.resolve(p) for p in cfg.rules.paths])
    known = {r.id for r in rules}
    errors = [
        cfg.error(("rules", "disable", i), f"unknown rule id {rule_id!r} (`cloudwatchdog rules validate` lists them)")
        for i, rule_id in enumerate(cfg.rules.disable)
        if rule_id not in known
    ]
    if errors:
        raise SourceErrors(errors)
    return [r for r in rules if r.id not in set(cfg.rules.disable)]


def exit_code(result: ScanResult, fail_on: str | None) -> int:
    if fail_on and result.findings_at_or_above(Severity(fail_on)):
        return EXIT_FINDINGS
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK


RAW_FORMAT = "cloudwatchdog-raw-snapshots"


def load_raw(path: str) -> list[Snapshot]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise UsageError(f"--from-raw {path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not JSON: line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"--from-raw {path}: not UTF-8 text (byte {exc.start})") from None
    if not (isinstance(doc, dict) and doc.get("format") == RAW_FORMAT and isinstance(doc.get("snapshots"), list)
            and all(isinstance(s, dict) for s in doc["snapshots"])):
        raise UsageError(f"--from-raw {path}: not a file written by `cloudwatchdog scan --save-raw`")
    snapshots: list[Snapshot] = doc["snapshots"]
    return snapshots


def save_raw(result: ScanResult, path: str) -> None:
    doc = {"format": RAW_FORMAT, "scan_id": result.id, "started_at": result.started_at,
           "snapshots": list(result.raw)}
    try:
        Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--save-raw {path}: cannot write: {exc.strerror or exc}") from None


def open_store(cfg: Config, url: str | None, *, create: bool = True) -> Store:
    """The state store: ``url`` (from the command line, a relative SQLite path taken from the current directory)
    or ``state.url`` (relative to the config file). Raises StateError (exit 2) naming ``state.url``."""
    from cloudwatchdog.state.store import Store

    if url is not None:
        return Store.open(url, base_dir=Path.cwd(), create=create)
    return Store.open(cfg.state.url, base_dir=cfg.source_dir, create=create)


def config_suppressions(cfg: Config) -> list[Suppression]:
    from cloudwatchdog.state.suppressions import from_config

    return from_config(cfg.suppressions)


def apply_state(result: ScanResult, store: Store | None, suppressions: Sequence[Suppression]) -> ScanResult:
    """Record the scan in the store (lifecycle fields, resolved findings); without a store, only mark the findings
    that a config suppression mutes."""
    from cloudwatchdog.state.suppressions import apply_without_store, expired
    from cloudwatchdog.state.timefmt import parse_iso

    now = parse_iso(result.finished_at)
    for s in expired(suppressions, now):
        Console(stderr=True).print(
            f"[yellow]warning:[/] {escape(s.label)}: the suppression expired on {s.expires}; it mutes nothing "
            f"(owner: {escape(s.owner)})", highlight=False)
    if store is None:
        return replace(result, findings=apply_without_store(result.findings, suppressions, now))
    from cloudwatchdog.alerts.outbox import resource_tags

    # The outbox hook (when alerts are configured) reads the resources' tags for the targets' tag filters.
    with resource_tags(result.resources):
        return store.record_scan(result, suppressions=suppressions)


def execute_scan(cfg: Config, rules: Sequence[Rule], formats: Sequence[str], output: str,
                 fail_on: str | None, *, show_progress: bool,
                 replay: Sequence[Snapshot] | None = None, store: Store | None = None,
                 suppressions: Sequence[Suppression] = ()) -> tuple[int, ScanResult, list[Path]]:
    """Scan, record in ``store`` (when given), write the outputs, print the summary."""
    # With --output -, stdout carries the document; everything for humans goes to stderr.
    console = Console(stderr=output == "-")
    err_console = Console(stderr=True)
    with progress_display(show_progress and err_console.is_terminal and replay is None, err_console) as progress:
        result = run_scan(cfg, rules, progress, replay=replay)
    if store is not None or suppressions:
        result = apply_state(result, store, suppressions)
    written = write_outputs(result, formats, output)
    if output != "-":
        print_summary(result, console)
        for path in written:
            console.print(f"Wrote {path}", soft_wrap=True, highlight=False)
    elif err_console.is_terminal:
        print_summary(result, err_console)
    if not result.complete:
        Console(stderr=True).print(
            "[yellow]warning:[/] scan incomplete: some accounts or resources could not be read "
            "(their verdicts are 'unknown'; see coverage)"
        )
    return exit_code(result, fail_on), result, written


def check_alerts(cfg: Config, no_state: bool) -> None:
    """Before scanning: the notification settings that need the file system (templates, CA files) are usable."""
    from cloudwatchdog.alerts.checks import check_notifications

    errors = check_notifications(cfg)
    if errors:
        raise SourceErrors(errors)
    if no_state:
        Console(stderr=True).print("[yellow]warning:[/] --no-state: no alerts are sent (alerts are changes, "
                                   "found by comparing with the state store)", highlight=False)


def deliver_after_scan(store: Store, cfg: Config) -> None:
    """Deliver what is due in the outbox (this scan's alerts, and retries left from before), for at most
    `alerts.scan_delivery_seconds`: a cron-driven `cloudwatchdog scan` alerts without a daemon. A failure is a
    warning: the alerts stay in the outbox for the next scan, `alerts deliver` or the daemon, and the scan's exit
    code does not change."""
    from cloudwatchdog.alerts.outbox import alert_settings, deliver_due

    err = Console(stderr=True)
    try:
        stats = deliver_due(store, cfg, time_budget=alert_settings(cfg).scan_delivery_seconds)
    except Exception as exc:  # never fail a finished scan over its alerts
        err.print(f"[yellow]warning:[/] alerts not delivered: {escape(str(exc))}; they stay in the outbox "
                  "(`cloudwatchdog alerts deliver`)", highlight=False)
        return
    if stats.sent:
        err.print(f"Alerts: {stats.sent} delivered", highlight=False)
    if stats.failed or stats.pending:
        err.print(f"[yellow]warning:[/] alerts: {stats.retried} to retry, {stats.dead} failed for good, "
                  f"{stats.pending} waiting in the outbox (`cloudwatchdog alerts list`)", highlight=False)


def cmd_scan(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    formats = parse_formats(args.format)
    output = args.output or str(cfg.resolve(cfg.reports.output_dir))
    if output == "-" and len(formats) != 1:
        raise UsageError("--output - writes one format to stdout; give exactly one --format")
    rules = configured_rules(cfg)
    if cfg.notifications:
        check_alerts(cfg, args.no_state)
    replay = load_raw(args.from_raw) if args.from_raw else None
    check_output_dir(output)
    if args.save_raw:
        check_raw_target(args.save_raw)
    suppressions = config_suppressions(cfg)
    store = None if args.no_state else open_store(cfg, args.state_url)
    try:
        if store is not None and cfg.notifications:
            from cloudwatchdog.alerts.outbox import outbox_hook

            store.add_hook(outbox_hook(cfg))
        code, result, _ = execute_scan(cfg, rules, formats, output, args.fail_on,
                                       show_progress=not args.no_progress, replay=replay, store=store,
                                       suppressions=suppressions)
        if store is not None and cfg.notifications:
            deliver_after_scan(store, cfg)
    finally:
        if store is not None:
            store.close()
    if args.save_raw:
        save_raw(result, args.save_raw)
    return code
