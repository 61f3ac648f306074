"""Thin command-line layer. Exit codes: 0 ok; 1 findings at or above --fail-on (or, for check-policy, a policy
at or above its --fail-on level); 2 usage, config or rule error; 3 scan incomplete (some account or resource could
not be read), unless 1 applies."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudwatchdog import __version__
from cloudwatchdog.yamlsource import SourceErrors

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

SEVERITIES = ("critical", "high", "medium", "low", "info")


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cloudwatchdog",
        description="Find cloud storage exposed to the internet.",
        epilog="Exit codes: 0 ok; 1 findings at or above --fail-on; 2 usage or config error; "
        "3 scan incomplete (some account or resource could not be read), unless 1 applies.",
    )
    p.add_argument("--version", action="version", version=f"cloudwatchdog {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv for debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan the configured accounts once")
    scan.add_argument("-c", "--config", help="config file (default: AWS default credentials, us-east-1)")
    scan.add_argument("--format", default="json", help="comma-separated output formats (available: json)")
    scan.add_argument("--output", help="output directory, or - for stdout (one format); default reports.output_dir")
    scan.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 when a finding is at or above this severity")
    scan.add_argument("--no-progress", action="store_true", help="no progress display, even on a terminal")
    scan.add_argument("--save-raw", metavar="FILE", help="also save the raw provider answers (for --from-raw)")
    scan.add_argument("--from-raw", metavar="FILE",
                      help="re-analyse a file saved by --save-raw instead of calling any cloud API")

    demo = sub.add_parser("demo", help="scan an embedded emulated estate seeded with classic mistakes")
    demo.add_argument("--output", default="./out", help="where the JSON goes (default ./out)")

    cp = sub.add_parser("check-policy", help="judge one policy document offline (a pre-deploy check)")
    cp.add_argument("file", help="policy JSON file, or - for stdin")
    cp.add_argument("--provider", default="aws", choices=("aws",))
    cp.add_argument("--account-id", default="000000000000", help="the account that owns the resource")
    cp.add_argument("--resource", default="bucket", choices=("bucket", "access-point"))
    cp.add_argument("--trusted-org", action="append", default=[], help="an organization id you trust (repeatable)")
    cp.add_argument("--json", action="store_true", help="print the verdict object as JSON")
    cp.add_argument("--fail-on", default="public", choices=("public", "cross-account", "never"),
                    help="exit 1 when the policy is at least this open (default public)")

    rules = sub.add_parser("rules", help="validate or test rule files")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    rv = rsub.add_parser("validate", help="check rule files (the built-in rules are always checked)")
    rv.add_argument("paths", nargs="*", help="rule files or directories")
    rt = rsub.add_parser("test", help="run every rule's test cases")
    rt.add_argument("paths", nargs="*", help="rule files or directories (default: the built-in rules)")
    return p


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbosity < 2:
        # botocore's own retry chatter is noise unless debugging.
        logging.getLogger("botocore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command == "scan":
            from cloudwatchdog.commands.scan import cmd_scan

            return cmd_scan(args)
        if args.command == "demo":
            from cloudwatchdog.commands.demo import cmd_demo

            return cmd_demo(args)
        if args.command == "check-policy":
            from cloudwatchdog.commands.check_policy import cmd_check_policy

            return cmd_check_policy(args)
        if args.command == "rules":
            from cloudwatchdog.commands.rules import cmd_rules

            return cmd_rules(args)
    except SourceErrors as exc:
        for err in exc.errors:
            print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def output_path(directory: Path, stem: str, ext: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{stem}.{ext}"


if __name__ == "__main__":
    sys.exit(main())
