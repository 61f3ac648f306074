"""Stopping an emulator subprocess: the one piece every emulator harness needs the same way."""

from __future__ import annotations

import subprocess
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
