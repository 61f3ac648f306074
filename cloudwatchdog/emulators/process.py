"""What every emulator harness does the same way: wait for the subprocess to answer, show its log, stop it."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import IO, Any


def terminate(process: subprocess.Popen[Any] | None, log: IO[Any] | None = None, *, timeout: float = 5) -> None:
    """Terminate ``process`` (kill it if it does not exit within ``timeout`` s) and close its ``log``."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    if log is not None:
        log.close()


def log_tail(log: IO[bytes] | None, limit: int = 4000) -> str:
    """The last ``limit`` characters an emulator wrote to its log file (for error messages)."""
    if log is None:
        return ""
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")[-limit:]


def wait_ready(process: subprocess.Popen[Any], ready: Callable[[], bool], *, timeout: float, name: str,
               where: str) -> str | None:
    """Poll ``ready`` until it is true (None), the process exits, or ``timeout`` passes (a message saying which)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return f"{name} exited with code {process.returncode} before answering"
        if ready() and process.poll() is None:
            return None
        if time.monotonic() > deadline:
            return f"{name} did not answer on {where} within {timeout:.0f}s"
        time.sleep(0.1)


def http_ok(url: str, expect: bytes | None = None) -> bool:
    """Whether ``url`` answers 200 (and, when given, exactly ``expect``)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200 and (expect is None or response.read() == expect))
    except (urllib.error.URLError, OSError):
        return False
