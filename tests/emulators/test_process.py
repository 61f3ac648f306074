"""The shared emulator start-up wait, against real subprocesses: an emulator that dies, one that never answers,
and one that does."""

from __future__ import annotations

import subprocess
import sys

from cloudwatchdog.emulators.process import terminate, wait_ready


def _spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_process_that_exits_is_reported_with_its_code() -> None:
    process = _spawn("raise SystemExit(3)")
    process.wait(timeout=10)
    problem = wait_ready(process, lambda: False, timeout=5, name="fake emulator", where="http://127.0.0.1:1/")
    assert problem == "fake emulator exited with code 3 before answering"


def test_a_process_that_never_answers_times_out() -> None:
    process = _spawn("import time; time.sleep(30)")
    try:
        problem = wait_ready(process, lambda: False, timeout=0.3, name="fake emulator", where="http://x/")
        assert problem == "fake emulator did not answer on http://x/ within 0s"
    finally:
        terminate(process)
    assert process.poll() is not None


def test_a_process_that_answers_is_ready() -> None:
    process = _spawn("import time; time.sleep(30)")
    try:
        assert wait_ready(process, lambda: True, timeout=5, name="fake emulator", where="http://x/") is None
    finally:
        terminate(process)
