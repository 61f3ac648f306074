"""`cloudwatchdog report`: the report from the state store, in one or more formats.

Without ``--date``: the daily report, now, covering the time since the previous day's report (or the last 24 hours
when there was none); rendered again the same day (another format), it covers the same period. It is recorded: the
next day's report starts at the day's first. With ``--date D``: the report as it stood at the end of day D (UTC),
covering that day; nothing is recorded.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from cloudwatchdog.config import load_config
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_OK
from cloudwatchdog.services.outputs import check_output_dir, parse_formats, write_report
from cloudwatchdog.services.report import record_report, report_data, report_period, report_stem
from cloudwatchdog.services.store import open_store
from cloudwatchdog.state.timefmt import now_utc


def cmd_report(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    formats = parse_formats(args.format, "report format")
    output = args.output or str(cfg.resolve(cfg.reports.output_dir))
    if output == "-" and len(formats) != 1:
        raise UsageError("--output - writes one format to stdout; give exactly one --format")
    now = now_utc()
    report_period(args.date, now)  # a bad --date fails before the store is opened
    check_output_dir(output)
    console = Console(stderr=output == "-", highlight=False)
    with open_store(cfg, args.state_url, create=False) as store:
        data, period = report_data(store, args.date, now)
        if data.last_scan is None:
            Console(stderr=True).print("[yellow]warning:[/] the state store holds no scan up to then: "
                                       "the report is empty")
        written = write_report(data, formats, output, report_stem(period))
        for path in written:
            console.print(f"Wrote {path}", soft_wrap=True)
        record_report(store, period, formats, output)
    return EXIT_OK
