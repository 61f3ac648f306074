"""`cloudwatchdog demo`: start the embedded emulators (AWS, Google Cloud Storage, and Azure when Node.js is there),
seed the Velora Motors estate, replay 45 days of history into a fresh state store (demo_history), scan it, write the
JSON and the HTML report.

No cloud account is touched: the process uses fixed emulator credentials and local endpoints only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from cloudwatchdog.commands.scan import execute_scan
from cloudwatchdog.commands.terminal import plural
from cloudwatchdog.demo.world import demo_world
from cloudwatchdog.exitcodes import EXIT_OK
from cloudwatchdog.rules.loader import load_rules
from cloudwatchdog.services.outputs import check_output_dir, write_report

DEMO_DB = "cloudwatchdog-demo.db"


def cmd_demo(args: argparse.Namespace) -> int:
    from cloudwatchdog.demo.history import record_history
    from cloudwatchdog.state.store import Store
    from cloudwatchdog.state.timefmt import now_utc, parse_iso

    console = Console(highlight=False)
    output = args.output
    check_output_dir(output)
    db = Path(output) / DEMO_DB
    db.unlink(missing_ok=True)  # every demo starts with an empty history
    with console.status("starting the demo ...") as status, \
            demo_world(lambda message: status.update(message), azure=not args.no_azure) as world:
        console.print("Demo estate (emulated on 127.0.0.1, fictional data):")
        for part in world.parts:
            console.print(f"  {escape(part)}", soft_wrap=True)
        for skipped in world.skipped:
            console.print(f"  [yellow]skipped[/] {escape(skipped)}", soft_wrap=True)
        rules = load_rules()
        with Store.open(f"sqlite:///{db.resolve()}") as store:
            if not args.no_history:
                history = record_history(store, world.config, rules, world.aws_s3, now_utc(),
                                         lambda message: status.update(message))
                console.print("History replayed into the store (scans at backdated times, AWS part):")
                for line in history:
                    console.print(f"  {escape(line)}", soft_wrap=True)
            status.update("scanning ...")
            _, result, written = execute_scan(world.config, rules, ["json"], output, None,
                                              show_progress=False, store=store)
            at = parse_iso(result.finished_at)
            data = store.report_data(at=at, title="cloudwatchdog demo: Velora Motors")
            written += write_report(data, ["html"], output, "cloudwatchdog-demo-report")
    console.print(f"\nThe estate was seeded with {world.mistakes} deliberate mistakes; "
                  f"the scan raised {plural(len(result.findings), 'finding')}.")
    for path in written:
        console.print(f"{path.suffix.lstrip('.').upper()}: {path}", soft_wrap=True)
    console.print(f"State store: {db}  (try: cloudwatchdog findings list --state-url sqlite:///{db})",
                  soft_wrap=True)
    return EXIT_OK
