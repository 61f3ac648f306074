"""The process entry point (console script and ``python -m cloudwatchdog``): main's exit code, the start-up
heap frozen before the command runs, and the collector frozen at exit (start-up and shut-down time,
bench/scan_buckets.py), while in-process callers of ``main`` keep theirs."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from cloudwatchdog.cli import main
from cloudwatchdog.services.raw import RAW_FORMAT

PROBE = """
import atexit, gc, os
from cloudwatchdog import cli
atexit.register(lambda: os.write(1, f"frozen={gc.get_freeze_count() > 0}".encode()))
cli.main = lambda: 3
cli.run()
"""


def test_run_exits_with_the_code_of_main_and_freezes_the_collector() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 3, done.stderr
    assert done.stdout == "frozen=True"


def test_python_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "cloudwatchdog", "--version"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0 and done.stdout.startswith("cloudwatchdog "), done.stderr


def test_main_in_process_leaves_the_collector_alone() -> None:
    before = gc.get_freeze_count()
    assert main(["rules", "validate"]) == 0
    assert gc.get_freeze_count() == before and gc.isenabled()


def test_the_collector_is_on_while_a_command_runs() -> None:
    """run() turns it off for start-up; the command itself (a scan, the daemon) runs with it on."""
    gc.disable()
    try:
        assert main(["rules", "validate"]) == 0
        assert gc.isenabled()
    finally:
        gc.enable()


COMMAND_PROBE = """
import gc, os, sys
from cloudwatchdog import cli
import cloudwatchdog.commands.rules as rules
def probe(args):
    os.write(1, f"enabled={gc.isenabled()} frozen={gc.get_freeze_count() > 0}".encode())
    return 0
rules.cmd_rules = probe
sys.argv = ["cloudwatchdog", "rules", "validate"]
cli.run()
"""


def test_run_freezes_the_start_up_heap_before_the_command_runs_with_the_collector_on() -> None:
    """What the imports built is out of the collections the command triggers (start-up time); in-process callers of
    ``main`` are not frozen (test_main_in_process_leaves_the_collector_alone)."""
    done = subprocess.run([sys.executable, "-c", COMMAND_PROBE], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "enabled=True frozen=True"


def test_the_command_runs_with_fewer_young_collections_and_in_process_callers_keep_pythons() -> None:
    """What a command loads after start-up (the store's SQLAlchemy, an SDK's service models) is long-lived: the
    entry point collects the young generation every YOUNG_THRESHOLD net allocations (start-up time); ``main`` called
    in-process leaves the collector's settings as they were."""
    from cloudwatchdog.cli import YOUNG_THRESHOLD

    probe = COMMAND_PROBE.replace('f"enabled={gc.isenabled()} frozen={gc.get_freeze_count() > 0}"',
                                  'f"threshold={gc.get_threshold()}"')
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"threshold={(YOUNG_THRESHOLD, *gc.get_threshold()[1:])}"
    assert gc.get_threshold()[0] < YOUNG_THRESHOLD
    before = gc.get_threshold()
    assert main(["rules", "validate"]) == 0
    assert gc.get_threshold() == before


STORE_PROBE = """
import gc, os, sys
from cloudwatchdog import cli
import cloudwatchdog.commands.scan as scan
def probe(args):
    os.write(1, f"store={'cloudwatchdog.state.store' in sys.modules} frozen={gc.get_freeze_count() > 0}".encode())
    return 0
scan.cmd_scan = probe
sys.argv = ["cloudwatchdog", "scan"] + sys.argv[1:]
cli.run()
"""


def test_a_scan_with_a_store_has_the_store_loaded_and_frozen_before_it_starts() -> None:
    """SQLAlchemy and the ORM load with the collector off and are frozen with the rest of start-up (start-up
    time); ``--no-state`` still does without them."""
    for extra, loaded in (([], True), (["--no-state"], False)):
        done = subprocess.run([sys.executable, "-c", STORE_PROBE, *extra], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"store={loaded} frozen=True", extra


NO_STATE_PROBE = """
import atexit, os, sys
from cloudwatchdog import cli
atexit.register(lambda: os.write(1, repr(sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")).encode()))
cli.run()
"""


def test_a_scan_without_a_store_loads_no_database_library(tmp_path: Path) -> None:
    """``scan --no-state`` records nothing: its start-up does not pay for SQLAlchemy (~0.2 s)."""
    raw, out = tmp_path / "raw.json", tmp_path / "out"
    raw.write_text(json.dumps({"format": RAW_FORMAT, "snapshots": []}), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", NO_STATE_PROBE, "scan", "--from-raw", str(raw), "--no-state",
                           "--output", str(out), "--no-progress"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode in (0, 3), done.stderr  # an empty raw file covers no account: incomplete
    assert len(list(out.glob("cloudwatchdog-scan-*.json"))) == 1
    assert done.stdout.splitlines()[-1].endswith("[]"), done.stdout
