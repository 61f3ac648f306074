"""`cloudwatchdog report`: the report from the state store, in one or more formats.

Without ``--date``: now, covering the time since the previous report (or the last 24 hours when there was none),
and this report is recorded so that the next one starts here. With ``--date D``: the report as it stood at the end of
day D (UTC), covering that day; nothing is recorded.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console

from cloudwatchdog.cli import EXIT_OK, UsageError, output_path
from cloudwatchdog.commands.scan import check_output_dir, open_store
from cloudwatchdog.config import load_config
from cloudwatchdog.report_model import ReportData
from cloudwatchdog.state.timefmt import now_utc

ReportRenderer = Callable[[ReportData], str]


def report_formats() -> dict[str, tuple[ReportRenderer, str]]:
    from cloudwatchdog.render.report_formats import REPORT_FORMATS

    return REPORT_FORMATS


def parse_report_formats(value: str) -> list[str]:
    available = report_formats()
    names = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in names if f not in available]
    if unknown or not names:
        raise UsageError(f"--format: unknown report format {', '.join(unknown) or '(none)'}; "
                         f"available: {', '.join(available)}")
    return list(dict.fromkeys(names))


def report_period(day: str | None, now: datetime) -> tuple[datetime, datetime] | None:
    """``--date D``: (end of D or now if D is today, start of D); None without --date."""
    if day is None:
        return None
    try:
        d = date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"--date {day}: not a date (YYYY-MM-DD)") from None
    if d > now.date():
        raise UsageError(f"--date {day}: the day has not come yet")
    end = min(datetime.combine(d, time(23, 59, 59), tzinfo=UTC), now)
    return end, datetime.combine(d, time(0, 0, 0), tzinfo=UTC)


def write_report(data: ReportData, formats: Sequence[str], output: str, stem: str) -> list[Path]:
    available = report_formats()
    if output == "-":
        sys.stdout.write(available[formats[0]][0](data))
        sys.stdout.flush()
        return []
    written = []
    for name in formats:
        renderer, ext = available[name]
        try:
            path = output_path(Path(output), stem, ext)
            path.write_text(renderer(data), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        written.append(path)
    return written


def cmd_report(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    formats = parse_report_formats(args.format)
    output = args.output or str(cfg.resolve(cfg.reports.output_dir))
    if output == "-" and len(formats) != 1:
        raise UsageError("--output - writes one format to stdout; give exactly one --format")
    now = now_utc()
    period = report_period(args.date, now)
    check_output_dir(output)
    console = Console(stderr=output == "-", highlight=False)
    with open_store(cfg, args.state_url, create=False) as store:
        if period is not None:
            end, start = period
            data = store.report_data(at=end, since=start, title=f"cloudwatchdog report {end.date()}")
        else:
            end = now
            since = store.last_report_time(at=now)
            data = store.report_data(at=now, since=since, title=f"cloudwatchdog report {now.date()}")
        if data.last_scan is None:
            Console(stderr=True).print("[yellow]warning:[/] the state store holds no scan up to then: "
                                       "the report is empty")
        written = write_report(data, formats, output, f"cloudwatchdog-report-{end.date().isoformat()}")
        if period is None:
            store.record_report(generated_at=now, period_start=since or now - timedelta(days=1), formats=formats,
                                location=output)
    for path in written:
        console.print(f"Wrote {path}", soft_wrap=True)
    return EXIT_OK
