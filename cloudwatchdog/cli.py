"""Thin command-line layer: parse the arguments, run the command, turn errors into one line and an exit code
(``exitcodes``): 0 ok; 1 findings at or above --fail-on (or, for check-policy, a policy at or above its --fail-on
level); 2 usage, config or rule error; 3 scan incomplete (some account or resource could not be read), unless 1
applies; 4 an unexpected error (the traceback with --debug)."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from cloudwatchdog import __version__
from cloudwatchdog.errors import Terminated, UsageError
from cloudwatchdog.exitcodes import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE
from cloudwatchdog.logs import exception_summary, setup_cli_logging
from cloudwatchdog.model import SEVERITIES
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.yamlsource import SourceErrors

log = logging.getLogger("cloudwatchdog.cli")
_entry_point = False  # set by run(): this process is the command, not a caller of main (the tests)
# The collector's young-generation threshold while a command runs (Python's default is 700). What the command loads
# after start-up is long-lived too (the store's SQLAlchemy, a cloud SDK and its service models): with 700, a scan of
# an empty account made ~290 collections costing ~0.12-0.18 s of CPU, two of them full passes over all of it; with
# 2,000, ~100 costing ~0.05 s and no full pass. Cyclic garbage waits for at most 2,000 net allocations (20,000 for
# the middle generation) before it is freed: a 1,000-bucket scan peaks at the same RSS (134 MiB).
YOUNG_THRESHOLD = 2_000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cloudwatchdog",
        description="Find cloud storage exposed to the internet.",
        epilog="Exit codes: 0 ok; 1 findings at or above --fail-on; 2 usage or config error; "
        "3 scan incomplete (some account or resource could not be read), unless 1 applies; "
        "4 unexpected error (--debug shows the traceback).",
    )
    p.add_argument("--version", action="version", version=f"cloudwatchdog {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv for debug)")
    p.add_argument("--debug", action="store_true",
                   help="debug logging, with the traceback of any error (for a bug report)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="write a starter config for the clouds whose credentials are here")
    init.add_argument("--output", default="config.yaml", help="the file to write (default ./config.yaml)")
    init.add_argument("--force", action="store_true", help="replace the file if it exists")

    scan = sub.add_parser("scan", help="scan the configured accounts once")
    scan.add_argument("-c", "--config", help="config file (default: AWS default credentials, us-east-1)")
    scan.add_argument("--format", default="json",
                      help=f"comma-separated output formats (available: {', '.join(FORMATS.names())})")
    scan.add_argument("--output", help="output directory, or - for stdout (one format); default reports.output_dir")
    scan.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 when a finding is at or above this severity")
    scan.add_argument("--no-progress", action="store_true", help="no progress display, even on a terminal")
    scan.add_argument("--details", action="store_true",
                      help="list every finding on the terminal (default: a summary and the critical and high ones)")
    scan.add_argument("--save-raw", metavar="FILE", help="also save the raw provider answers (for --from-raw)")
    scan.add_argument("--from-raw", metavar="FILE",
                      help="re-analyse a file saved by --save-raw instead of calling any cloud API")
    state = scan.add_mutually_exclusive_group()
    state.add_argument("--state-url", dest="state_url", metavar="URL",
                       help="state store URL, overriding state.url (e.g. sqlite:///state.db, "
                       "postgresql+psycopg://user@host/db)")
    # Deprecated: `--state` names finding states in `findings list`; here it was the store URL.
    state.add_argument("--state", dest="deprecated_state_url", metavar="URL", help=argparse.SUPPRESS)
    state.add_argument("--no-state", action="store_true",
                       help="do not record the scan: no lifecycle (every finding is new), nothing resolved")
    scan.add_argument("--distributed", action="store_true",
                      help="split the scan into units (one per account) for `cloudwatchdog worker` processes, wait "
                      "for them, then record it as usual (needs a PostgreSQL state store; see `fleet:`)")

    findings = sub.add_parser("findings", help="list, suppress or unsuppress findings in the state store")
    fsub = findings.add_subparsers(dest="findings_command", required=True, metavar="ACTION")
    fl = fsub.add_parser("list", help="findings in the store (by default: all but resolved)")
    fs = fsub.add_parser("suppress", help="mute one finding, with a reason, an owner and an expiry")
    fu = fsub.add_parser("unsuppress", help="remove a suppression set with `findings suppress`")
    for action in (fl, fs, fu):
        action.add_argument("-c", "--config", help="config file (for state.url and suppressions)")
        action.add_argument("--state-url", metavar="URL", help="state store URL, overriding state.url")
    fl.add_argument("--state", dest="states", metavar="STATE[,STATE]",
                    help="new, open, reopened, resolved, suppressed, active (new+open+reopened) or all "
                    "(default: all but resolved)")
    fl.add_argument("--severity", metavar="SEV[,SEV]", help=f"comma-separated: {', '.join(SEVERITIES)}")
    fl.add_argument("--min-severity", choices=SEVERITIES, help="this severity and above")
    fl.add_argument("--provider", metavar="NAME[,NAME]", help=", ".join(PROVIDERS.names()))
    fl.add_argument("--account", metavar="ID[,ID]", help="account, project or subscription ids")
    fl.add_argument("--json", action="store_true",
                    help="print JSON: {schema_version, findings: [finding + exposure_window]}")
    fs.add_argument("fingerprint", help="the finding id (a unique prefix is enough)")
    fs.add_argument("--reason", required=True, help="why it is acceptable")
    fs.add_argument("--owner", required=True, help="who decided (a person or team)")
    fs.add_argument("--until", required=True, metavar="YYYY-MM-DD",
                    help="last day the suppression is in force (UTC); after it, the finding reopens")
    fu.add_argument("fingerprint", help="the finding id (a unique prefix is enough)")

    report = sub.add_parser("report", help="write the report from the state store")
    report.add_argument("-c", "--config", help="config file (for state.url and reports.output_dir)")
    report.add_argument("--date", metavar="YYYY-MM-DD",
                        help="the report as it stood at the end of that day (UTC), covering that day; default: "
                        "now, covering the time since the previous report (and recording this one)")
    report.add_argument("--output", help="output directory, or - for stdout (one format); default reports.output_dir")
    report.add_argument("--format", default="html",
                        help="comma-separated report formats (default html; available: "
                        f"{', '.join(FORMATS.names())})")
    report.add_argument("--state-url", metavar="URL", help="state store URL, overriding state.url")

    daemon = sub.add_parser("daemon", help="run the configured schedules (scans, report, alerts) until SIGTERM")
    daemon.add_argument("-c", "--config", help="config file (default: AWS default credentials, us-east-1)")
    daemon.add_argument("--once", action="store_true",
                        help="run every scan job once, deliver the alerts it queued, and exit (0, or 3 when a scan "
                        "was incomplete or failed): for a cron job")

    worker = sub.add_parser(
        "worker", help="run units of distributed scans (`scan --distributed`) until SIGTERM",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Take units (one account, project or subscription each) of distributed scans from the queue and "
        "run them, one at a time;\nrun as many workers as you like, on any number of machines.",
        epilog="""\
what a worker needs:
  state.url (or --state-url)  the coordinator's PostgreSQL state store: units write their results there
  fleet.url, fleet.queue      the queue database (default: the state store) and queue name, as the coordinator's
  provider credentials        each worker reads the accounts of the units it takes: give it the credentials (or
                              the role to assume) for them, as a single-process scan needs; the database role
                              reads and writes the store's and the queue's tables (the first process creates them)
concurrency:
  one unit at a time per worker process (start more processes for more); inside a unit the provider's own
  max_workers and retry mode apply. Two workers never read one account at once.
stopping:
  SIGTERM or SIGINT  takes no new unit, finishes and records the one it runs (its heartbeats go on meanwhile,
                     so the unit is not run again elsewhere), exits 0; a second signal ends it at once (as SIGKILL)
  SIGKILL (or a lost machine)  its unit records nothing; after fleet.stalled_after seconds without a heartbeat the
                     coordinator runs it again on another worker, up to fleet.max_attempts runs (then the account
                     is an error of the scan, and nothing of it is resolved)
exit codes:
  0 stopped by SIGTERM/SIGINT; 2 config error, or the state store or queue cannot be reached or used at start (one
  line naming which, no password); 4 unexpected error. Once running, a worker rides out a database outage: it
  keeps retrying (a warning per failed attempt).
""")
    worker.add_argument("-c", "--config", help="config file (default: AWS default credentials, us-east-1)")
    worker.add_argument("--state-url", metavar="URL", help="state store URL, overriding state.url")

    demo = sub.add_parser("demo", help="scan an embedded emulated estate seeded with classic mistakes")
    demo.add_argument("--output", default="./out",
                      help="where the JSON, the HTML report and the demo's state store go (default ./out)")
    demo.add_argument("--no-azure", action="store_true", help="leave out the Azure part (it needs Node.js)")
    demo.add_argument("--no-history", action="store_true",
                      help="scan once, without replaying 45 days of history into the store first")

    cp = sub.add_parser("check-policy", help="judge one policy document offline (a pre-deploy check)")
    cp.add_argument("file", help="policy JSON file, or - for stdin")
    judges = [name for name, p in PROVIDERS.items() if p.policy_resources]
    cp.add_argument("--provider", default=judges[0], choices=judges)
    cp.add_argument("--account-id", default="000000000000", help="the account that owns the resource")
    kinds = list(dict.fromkeys(k for _, p in PROVIDERS.items() for k in p.policy_resources))
    cp.add_argument("--resource", default=kinds[0], choices=kinds)
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

    from cloudwatchdog.commands.alerts import add_parser as add_alerts_parser

    add_alerts_parser(sub)
    from cloudwatchdog.commands.incident import add_parser as add_incident_parser

    add_incident_parser(sub)
    from cloudwatchdog.commands.events import add_parser as add_events_parser

    add_events_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.debug:
        args.verbose = max(args.verbose, 2)
    setup_cli_logging(args.verbose)
    if getattr(args, "deprecated_state_url", None):
        print("warning: `scan --state URL` is deprecated (in `findings list`, --state means finding states): "
              "use --state-url", file=sys.stderr)
        args.state_url = args.deprecated_state_url
    try:
        return _dispatch(args)
    except StateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SourceErrors as exc:
        for err in exc.errors:
            print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, Terminated):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line for the user, the traceback in the log with --debug
        log.debug("unexpected error", exc_info=exc)
        print(f"error: unexpected {exception_summary(exc)}"
              + ("" if args.debug else " (run again with --debug for details, and please report it)"),
              file=sys.stderr)
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command (each imported only when it runs: `cloudwatchdog rules` never loads a cloud SDK)."""
    match args.command:
        case "init":
            from cloudwatchdog.commands.init import cmd_init as run
        case "scan":
            from cloudwatchdog.commands.scan import cmd_scan as run
        case "demo":
            from cloudwatchdog.commands.demo import cmd_demo as run
        case "check-policy":
            from cloudwatchdog.commands.check_policy import cmd_check_policy as run
        case "rules":
            from cloudwatchdog.commands.rules import cmd_rules as run
        case "findings":
            from cloudwatchdog.commands.findings import cmd_findings as run
        case "report":
            from cloudwatchdog.commands.report import cmd_report as run
        case "daemon":
            from cloudwatchdog.commands.daemon import cmd_daemon as run
        case "alerts":
            from cloudwatchdog.commands.alerts import cmd_alerts as run
        case "incident":
            from cloudwatchdog.commands.incident import cmd_incident as run
        case "events":
            from cloudwatchdog.commands.events import cmd_events as run
        case "worker":
            from cloudwatchdog.commands.worker import cmd_worker as run
        case _:
            raise AssertionError(f"unhandled command {args.command}")
    # Start-up is over: run() keeps the collector off while the modules load, and here moves what they built (long-
    # lived: modules, classes, models) out of its reach, so that no collection the command triggers walks it again.
    # What the command itself loads is long-lived too: fewer passes over it (YOUNG_THRESHOLD).
    if _entry_point:
        if args.command == "scan" and not args.no_state:
            # The store's SQLAlchemy and ORM (~0.2 s of imports, --no-state does without) load with the collector
            # off and are frozen with the rest, instead of being walked while the store opens.
            import cloudwatchdog.state.store  # noqa: F401
        settle_collector()
    gc.enable()
    return run(args)


def settle_collector() -> None:
    """Start-up is over: what was built until now is frozen out of the collector's reach, and young objects are
    collected less often (``YOUNG_THRESHOLD``). bench/scan_buckets.py's scans do the same, as the command does."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run() -> None:
    """The process entry point (the console script, ``python -m cloudwatchdog``): ``main``, then exit with its code.

    The collector is off while the modules load (they allocate long-lived objects, nothing to collect; its passes
    over the growing heap cost 0.05-0.1 s of CPU) and on again once the command is imported (``_dispatch``), with
    the objects built until then frozen (``gc.freeze()``): otherwise the collections the command triggers walk the
    whole start-up heap again, 0.1-0.15 s of CPU in a scan of an empty account (the first one alone ~25 ms, a full
    one ~30-100 ms). The price: the cyclic garbage the imports left (~1,000 objects, ~0.2 MiB) is never freed.
    Everything still alive when the command has returned (files and the store are closed by then, logging is flushed
    at exit) is left to the operating system: ``gc.freeze()`` spares the interpreter's final garbage-collection passes
    over the objects the SDKs and the ORM leave behind, 0.15-0.25 s of CPU after a scan (measured with
    bench/scan_buckets.py). In-process callers (the tests) call ``main``: it never freezes, only turns the collector
    on."""
    global _entry_point
    _entry_point = True
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
