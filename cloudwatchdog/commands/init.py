"""`cloudwatchdog init`: write a small, commented config for the clouds whose credentials this machine has.

Credentials are looked for where each cloud's SDK looks (environment variables, ~/.aws, gcloud's application
default credentials, az login's profile), without any network call; nothing secret is copied into the file. The
file scans what it can with defaults, keeps its state store next to itself, and points to config.example.yaml
for every other key.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cloudwatchdog.commands.terminal import plain
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_OK
from cloudwatchdog.providers.base import Starter
from cloudwatchdog.providers.registry import PROVIDERS

_HEADER = """\
# cloudwatchdog configuration, written by `cloudwatchdog init`. Every other key is documented in
# config.example.yaml, beside the README in cloudwatchdog's source; unknown keys are errors. Secrets belong in the
# environment, referenced as ${NAME}.
#
#   cloudwatchdog scan -c {file}            # scan once: a summary here, JSON and HTML in reports.output_dir
#   cloudwatchdog report -c {file}          # the daily report from the history kept in state.url
#   cloudwatchdog daemon -c {file}          # keep watching (schedules below)

state:
  url: sqlite:///cloudwatchdog.db   # the history of every finding, next to this file

reports:
  output_dir: ./out

"""

_FOOTER = """
# schedules: {scan: "0 * * * *", report: "0 7 * * *", timezone: UTC}   # for `cloudwatchdog daemon`
# notifications:                                                      # alerts on new, reopened, escalated findings
#   - {type: slack, name: security-chat, webhook_url: "${SLACK_WEBHOOK_URL}", min_severity: high}
"""


def starters(environ: dict[str, str], home: Path) -> dict[str, Starter]:
    return {name: s for name, p in PROVIDERS.items() if (s := p.starter(environ, home)) is not None}


def render_config(found: dict[str, Starter], file_name: str) -> str:
    text = _HEADER.replace("{file}", file_name)
    if found:
        text += "providers:\n" + "".join(s.section for s in found.values())
    else:
        text += ("# No cloud credentials were found on this machine. Configure one of them (see README, "
                 "\"Permissions\"), run `cloudwatchdog init --force` again, or write `providers:` by hand from "
                 "config.example.yaml.\nproviders: {}\n")
    return text + _FOOTER


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.output)
    if target.exists() and not args.force:
        raise UsageError(f"{target} exists already; --force replaces it")
    found = starters(dict(os.environ), Path.home())
    try:
        target.write_text(render_config(found, target.name), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    print(f"Wrote {plain(target)}")
    for name, s in found.items():
        print(f"  {PROVIDERS.get(name).title}: {plain(s.found)}")
    if not found:
        print("  no cloud credentials found: the file scans nothing until you add a provider")
        return EXIT_OK
    print(f"Next: cloudwatchdog scan -c {plain(target)}")
    return EXIT_OK
