"""A local Cloud Storage emulator (``gcp-storage-emulator``) as a subprocess, for tests, demo and benchmarks.

Everything talks to it over real HTTP on 127.0.0.1 through google-cloud-storage, exactly like the collector talks
to GCS. What the emulator does and does not do (checked against version 2026.7):

- It serves the JSON API for buckets, objects, bucket/default-object/object ACL listings and bucket IAM policies
  (getIamPolicy/setIamPolicy). It stores them; it enforces nothing, so verdicts are judged from the settings.
- Values given when a bucket is created (location, labels, iamConfiguration, ACLs) are dropped: set them with a
  PATCH (``bucket.patch()``) or ``set_iam_policy`` afterwards.
- It serves one project: every bucket it holds is listed for any ``project``, and every bucket reports the
  process's ``--project-number``. An emulated estate of several projects runs one emulator per project.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from cloudwatchdog.emulators.process import http_ok, log_tail, terminate, wait_ready

EXECUTABLE = "gcp-storage-emulator"


class GcsEmulatorError(RuntimeError):
    """The emulator could not be found, started or reached."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def find_executable() -> Path:
    """The ``gcp-storage-emulator`` script installed beside this Python (the venv's bin directory)."""
    candidate = Path(sys.executable).parent / EXECUTABLE
    if not candidate.is_file():
        raise GcsEmulatorError(
            f"{EXECUTABLE} is not installed next to {sys.executable}: install the demo extra "
            "(pip install 'cloudwatchdog[demo]') or gcp-storage-emulator"
        )
    return candidate


class GcsEmulator:
    """``with GcsEmulator() as gcs: ... gcs.endpoint ...``; ``reset()`` forgets every bucket and object."""

    def __init__(
        self, *, port: int | None = None, project_number: str = "1234", startup_timeout: float = 30.0
    ) -> None:
        self._port = port
        self.project_number = project_number
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self._port is None or self._process is None:
            raise GcsEmulatorError("the Cloud Storage emulator is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> GcsEmulator:
        if self._process is not None:
            return self
        executable = find_executable()
        self._port = self._port or _free_port()
        if _port_in_use(self._port):
            raise GcsEmulatorError(f"port {self._port} on 127.0.0.1 is already in use")
        # A file, not a pipe: a chatty server must never block on a full pipe buffer.
        self._log = tempfile.TemporaryFile(prefix="gcs-emulator-")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [str(executable), "start", "--host", "127.0.0.1", "--port", str(self._port), "--in-memory", "--quiet",
             "--project-number", self.project_number],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait_ready()
        return self

    def _output(self) -> str:
        return log_tail(self._log)
    def _wait_ready(self) -> None:
        assert self._process is not None
        url = f"http://127.0.0.1:{self._port}/"
        problem = wait_ready(self._process, lambda: http_ok(url, b"OK"), timeout=self._startup_timeout,
                             name=EXECUTABLE, where=url)
        if problem is not None:
            output = self._output()
            self.stop()
            raise GcsEmulatorError(f"{problem}:\n{output}")
    def reset(self) -> None:
        """Forget every bucket and object (the emulator's ``/wipe``)."""
        with urllib.request.urlopen(f"{self.endpoint}/wipe", timeout=10) as response:
            if response.status != 200:
                raise GcsEmulatorError(f"emulator wipe failed: HTTP {response.status}")

    def stop(self) -> None:
        """Terminate the emulator (kill it if it does not exit within 5 s). Idempotent."""
        process, self._process = self._process, None
        log, self._log = self._log, None
        terminate(process, log)

    def __enter__(self) -> GcsEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
