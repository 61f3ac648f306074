"""`cloudwatchdog incident FINDING_ID`: the dossier of one exposure (who got in, since when, what it holds), written
as ``incident-<finding id>.<ext>`` into the output directory, or one format to stdout (``--output -``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from cloudwatchdog.commands.terminal import safe
from cloudwatchdog.config import load_config
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_OK

# name -> file extension (the parser is built on every run: the renderers are imported only by the command)
FORMATS = {"html": "html", "json": "json", "md": "md"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("incident", help="the dossier of one exposure: its window, who accessed it, what it holds")
    p.add_argument("finding_id", metavar="FINDING_ID", help="the finding id (a unique prefix is enough)")
    p.add_argument("-c", "--config", help="config file (providers for the logs, state.url, reports.output_dir)")
    p.add_argument("--format", default="html,json,md", help="comma-separated: html, json, md (default all three)")
    p.add_argument("--output", help="output directory, or - for stdout (one format); default reports.output_dir")
    p.add_argument("--state-url", metavar="URL", help="state store URL, overriding state.url")


def cmd_incident(args: argparse.Namespace) -> int:
    from cloudwatchdog.render.incident import incident_stem, render_dossier
    from cloudwatchdog.services.incident import build_dossier
    from cloudwatchdog.services.outputs import check_output_dir, output_path, parse_formats
    from cloudwatchdog.services.store import open_store

    cfg = load_config(args.config)
    formats = parse_formats(args.format, "dossier format", list(FORMATS))
    output = args.output or str(cfg.resolve(cfg.reports.output_dir))
    if output == "-" and len(formats) != 1:
        raise UsageError("--output - writes one format to stdout; give exactly one --format")
    check_output_dir(output)
    with open_store(cfg, args.state_url, create=False) as store:
        try:
            dossier = build_dossier(cfg, store, args.finding_id)
        except LookupError as exc:
            raise UsageError(str(exc.args[0])) from None
    if output == "-":
        sys.stdout.write(render_dossier(dossier, formats[0]))
        sys.stdout.flush()
        return EXIT_OK
    console = Console(highlight=False)
    for name in formats:
        path = output_path(Path(output), incident_stem(str(dossier.finding["id"])), FORMATS[name])
        try:
            path.write_text(render_dossier(dossier, name), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        console.print(f"Wrote {safe(str(path))}", soft_wrap=True)
    a = dossier.access
    console.print(f"Access: {a.status.value}; {a.counts.external_requests} external read/list request(s)"
                  + (f"; {len(a.gaps)} gap(s) in the logs" if a.gaps else ""), soft_wrap=True)
    return EXIT_OK
