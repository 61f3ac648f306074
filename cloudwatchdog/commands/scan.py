"""`cloudwatchdog scan`: one scan of the configured accounts, written in the requested formats."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from cloudwatchdog.commands.summary import print_summary
from cloudwatchdog.commands.terminal import safe
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.errors import Terminated, UsageError
from cloudwatchdog.exitcodes import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from cloudwatchdog.model import ScanResult, Severity, Snapshot
from cloudwatchdog.providers.base import Progress
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.alerts import attach_outbox, check_alert_settings, deliver_after_scan
from cloudwatchdog.services.outputs import check_output_dir, parse_formats, write_scan
from cloudwatchdog.services.raw import RawFile, check_raw_target, stream_raw
from cloudwatchdog.services.record import Recording, config_suppressions, expired_suppressions, record_scan
from cloudwatchdog.services.rules import configured_rules
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.services.store import open_store

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.sample_cache import StoreResultCache
    from cloudwatchdog.state.store import Store


@contextmanager
def progress_display(enabled: bool, console: Console) -> Iterator[Progress | None]:
    """A live status line on a terminal; when piped (cron, CI, a log collector), one line per account as it starts,
    so a long scan is visibly alive."""
    if not enabled:
        yield None
        return
    if not console.is_terminal:
        def line(message: str, done: int) -> None:
            if done == 0:
                console.print(f"scanning {safe(message)} ...", highlight=False, soft_wrap=True)

        yield line
        return
    with console.status("scanning ...") as status:
        def update(message: str, done: int) -> None:
            status.update(f"scanning: {safe(message)} ({done})")

        yield update


def exit_code(result: ScanResult, fail_on: str | None) -> int:
    if fail_on and result.findings_at_or_above(Severity(fail_on)):
        return EXIT_FINDINGS
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK


def apply_state(result: ScanResult, store: Store | None, suppressions: Sequence[Suppression],
                raw_error: UsageError | None = None, raw_saved: bool = False) -> Recording:
    """Record the scan (or, without a store, apply config suppressions), warning about expired suppressions;
    ``raw_saved``/``raw_error``: what became of the raw file."""
    for s in expired_suppressions(result, suppressions):
        Console(stderr=True).print(
            f"[yellow]warning:[/] {safe(s.label)}: the suppression expired on {s.expires}; it mutes nothing "
            f"(owner: {safe(s.owner)})", highlight=False)
    return record_scan(result, store, suppressions, raw_error=raw_error, raw_saved=raw_saved)


@contextmanager
def _terminate_interrupts(active: bool) -> Iterator[None]:
    """While the raw file is written (``active``), SIGTERM is taken as Ctrl-C (``Terminated``): the scan stops, the
    part written is removed (RawFile.discard), the command says "interrupted" and exits 130. Its default action
    would end the process at once and leave the hidden part file behind."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Terminated

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _scan(cfg: Config, rules: Sequence[Rule], *, replay: Iterable[Snapshot] | None, store: Store | None,
          distributed: bool, raw_path: str | None, progress_on: bool, err_console: Console,
          ) -> tuple[ScanResult, StoreResultCache | None, UsageError | None]:
    """The scan itself, with its raw file written as it goes (``raw_path``): (the result, the sample cache to
    flush, why the raw file could not be written). The raw answers are not kept beyond their analysis (memory)."""
    with _terminate_interrupts(raw_path is not None):
        raw = RawFile(raw_path) if raw_path is not None else None
        sink = raw.write if raw is not None else None
        try:
            with progress_display(progress_on, err_console) as progress:
                cache: StoreResultCache | None = None
                if store is not None and cfg.data_sampling.enabled:
                    from cloudwatchdog.state.sample_cache import StoreResultCache  # not loaded by --no-state

                    cache = StoreResultCache(store)
                if distributed and store is not None:
                    from cloudwatchdog.services.fleet import run_distributed_scan

                    result = run_distributed_scan(cfg, rules, store, sample_cache=cache, keep_raw=False,
                                                  raw_sink=sink)
                else:
                    result = run_scan(cfg, rules, progress, replay=replay, sample_cache=cache, keep_raw=False,
                                      raw_sink=sink)
            raw_error = raw.finish(result.id, result.started_at) if raw is not None else None
        except BaseException:
            if raw is not None:
                raw.discard()  # no half-written file under its name
            raise
    return result, cache, raw_error


def execute_scan(cfg: Config, rules: Sequence[Rule], formats: Sequence[str], output: str,
                 fail_on: str | None, *, show_progress: bool,
                 replay: Iterable[Snapshot] | None = None, store: Store | None = None,
                 suppressions: Sequence[Suppression] = (), details: bool = False,
                 raw_path: str | None = None, distributed: bool = False) -> tuple[int, ScanResult, list[Path]]:
    """Scan, save the raw snapshots (``raw_path``, written as the scan goes: they are not held for it), record in
    ``store`` (when given), write the outputs, print the summary. A store that cannot record the scan, or a raw
    file that cannot be written, fails the command only after everything else is written (services.record)."""
    # With --output -, stdout carries the document; everything for humans goes to stderr.
    console = Console(stderr=output == "-")
    err_console = Console(stderr=True)
    result, cache, raw_error = _scan(cfg, rules, replay=replay, store=store, distributed=distributed,
                                     raw_path=raw_path, progress_on=show_progress and replay is None,
                                     err_console=err_console)
    if cache is not None:
        cache.flush()  # before recording: the store's answer to recording is about the scan, not this
    recording = apply_state(result, store, suppressions, raw_error, raw_saved=raw_path is not None)
    result = recording.result
    written = write_scan(result, formats, output)
    if output != "-":
        print_summary(result, console, details=details)
        for path in written:
            console.print(f"Wrote {path}", soft_wrap=True, highlight=False)
    elif err_console.is_terminal:
        print_summary(result, err_console, details=details)
    if not result.complete:
        Console(stderr=True).print(
            "[yellow]warning:[/] scan incomplete: some accounts or resources could not be read "
            "(their verdicts are 'unknown'; see coverage)"
        )
    recording.raise_for_failure()
    return exit_code(result, fail_on), result, written


def _deliver(store: Store, cfg: Config) -> None:
    """What is due in the outbox, for a little while; a failure is a warning and the exit code does not change."""
    err = Console(stderr=True)
    outcome = deliver_after_scan(store, cfg)
    if outcome.stats is None:
        err.print(f"[yellow]warning:[/] alerts not delivered: {safe(outcome.error or '')}; they stay in the "
                  "outbox (`cloudwatchdog alerts deliver`)", highlight=False)
        return
    stats = outcome.stats
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
        check_alert_settings(cfg)
        if args.no_state:
            Console(stderr=True).print("[yellow]warning:[/] --no-state: no alerts are sent (alerts are changes, "
                                       "found by comparing with the state store)", highlight=False)
    if args.distributed and (args.from_raw or args.no_state):
        raise UsageError("--distributed scans through workers and records in the shared state store: it goes with "
                         "neither --from-raw nor --no-state")
    replay = stream_raw(args.from_raw) if args.from_raw else None  # one account at a time
    check_output_dir(output)
    if args.save_raw:
        check_raw_target(args.save_raw)
    suppressions = config_suppressions(cfg)
    store = None if args.no_state else open_store(cfg, args.state_url)
    try:
        if store is not None:
            attach_outbox(store, cfg)
        code, _, _ = execute_scan(cfg, rules, formats, output, args.fail_on,
                                  show_progress=not args.no_progress, replay=replay, store=store,
                                  suppressions=suppressions, details=args.details, raw_path=args.save_raw,
                                  distributed=args.distributed)
        if store is not None and cfg.notifications:
            _deliver(store, cfg)
    finally:
        if store is not None:
            store.close()
    return code
