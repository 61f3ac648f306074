"""Test harness for the daemon as a real subprocess (the installed `cloudwatchdog` console script), plus two real
local servers the daemon tests need: a delaying forward proxy in front of the moto server (to make a scan slow
enough to be caught running) and an HTTP receiver that can be stopped and started again on the same port."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

from support.receivers import HttpReceiver, free_port

CLI = str(Path(sys.executable).parent / "cloudwatchdog")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, *, interval: float = 0.1,
             on_timeout: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{on_timeout()[-6000:]}")
        time.sleep(interval)


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class DaemonProcess:
    """``cloudwatchdog daemon -c CONFIG`` in a subprocess; its stderr (JSON log lines: not a terminal) goes to a
    file that the test reads."""

    def __init__(self, config: Path, *, port: int | None = None, args: tuple[str, ...] = ()) -> None:
        self.config = config
        self.port = port
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._previous = ""

    def start(self) -> DaemonProcess:
        if self._log is not None:
            self._previous += self.output()
            self._log.close()
        self._log = tempfile.TemporaryFile(prefix="cloudwatchdog-daemon-")  # noqa: SIM115 (closed in close)
        env = dict(os.environ)
        self.process = subprocess.Popen([CLI, "daemon", "-c", str(self.config), *self.args],
                                        stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, cwd=self.config.parent)
        return self

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def all_output(self) -> str:
        return self._previous + self.output()

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records of this run (a line that is not JSON fails the test: the format is a contract)."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def health(self) -> tuple[int, dict[str, Any]]:
        code, body = http_get(self.url + "/healthz")
        return code, json.loads(body)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        def up() -> bool:
            self._check_alive()
            try:
                return self.health()[0] == 200
            except (OSError, ValueError):
                return False

        wait_for(up, timeout, "/healthz to answer 200", on_timeout=self.all_output)

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.process.returncode}:\n{self.all_output()}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the daemon did not exit within {timeout:g}s:\n{self.all_output()}") from None

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class SlowProxy:
    """A forward proxy on 127.0.0.1 that waits ``delay`` seconds before passing each request on to ``target`` (the
    moto server) and relays the answer unchanged."""

    def __init__(self, target: str, delay: float) -> None:
        self.delay = delay
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                with proxy._lock:
                    proxy.requests += 1
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else None
                time.sleep(proxy.delay)
                conn = http.client.HTTPConnection(proxy._host, proxy._port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> SlowProxy:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


class RestartableReceiver:
    """tests/support/receivers.HttpReceiver bound to one fixed port, so that it can be stopped (connections are
    then refused) and started again at the same URL, keeping what it received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Any] = []
        self._receiver: HttpReceiver | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> HttpReceiver:
        # HttpReceiver binds an ephemeral port: rebind its server to the fixed port, with the same handler.
        receiver = HttpReceiver()
        receiver._server.server_close()
        receiver._server = ThreadingHTTPServer(("127.0.0.1", self.port), receiver._handler_class())
        receiver._server.daemon_threads = True
        receiver._thread = threading.Thread(target=receiver._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            daemon=True)
        receiver.requests = self.requests  # one list across restarts
        self._receiver = receiver.__enter__()
        return receiver

    @property
    def receiver(self) -> HttpReceiver:
        assert self._receiver is not None, "the receiver is stopped"
        return self._receiver

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.__exit__(None, None, None)
            self._receiver = None

    def events(self) -> list[tuple[str, str, str]]:
        """(X-Cloudwatchdog-Event, delivery id, bucket name) of every request received, in order."""
        out = []
        for r in list(self.requests):
            doc = r.json()
            out.append((r.headers.get("x-cloudwatchdog-event", ""), r.headers.get("x-cloudwatchdog-delivery", ""),
                        doc["finding"]["resource_name"]))
        return out
