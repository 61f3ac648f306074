"""`cloudwatchdog scan`: one scan of the configured accounts, written in the requested formats."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from cloudwatchdog.cli import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError, output_path
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.model import Severity
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.render.summary import print_summary
from cloudwatchdog.rules.loader import Rule, load_rules
from cloudwatchdog.scan import Progress, ScanResult, run_scan


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
        path = output_path(Path(output), f"cloudwatchdog-scan-{stamp}", ext)
        path.write_text(renderer(result), encoding="utf-8")
        written.append(path)
    return written


def exit_code(result: ScanResult, fail_on: str | None) -> int:
    if fail_on and result.findings_at_or_above(Severity(fail_on)):
        return EXIT_FINDINGS
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK


def execute_scan(cfg: Config, rules: Sequence[Rule], formats: Sequence[str], output: str,
                 fail_on: str | None, *, show_progress: bool) -> tuple[int, ScanResult, list[Path]]:
    # With --output -, stdout carries the document; everything for humans goes to stderr.
    console = Console(stderr=output == "-")
    err_console = Console(stderr=True)
    with progress_display(show_progress and err_console.is_terminal, err_console) as progress:
        result = run_scan(cfg, rules, progress)
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


def cmd_scan(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    formats = parse_formats(args.format)
    output = args.output or str(cfg.resolve(cfg.reports.output_dir))
    if output == "-" and len(formats) != 1:
        raise UsageError("--output - writes one format to stdout; give exactly one --format")
    rules = load_rules([cfg.resolve(p) for p in cfg.rules.paths], cfg.rules.disable)
    code, _, _ = execute_scan(cfg, rules, formats, output, args.fail_on, show_progress=not args.no_progress)
    return code
