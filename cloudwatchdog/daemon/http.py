"""The daemon's HTTP endpoint (stdlib ThreadingHTTPServer, GET and HEAD only):

- ``/healthz``: 200 ``{"status": "ok", ...}`` when the scheduler runs and no scan job is stale, else 503 with the
  problems listed (see status.py);
- ``/metrics``: Prometheus text format, from the daemon's own registry;
- ``/report``: the latest HTML report the report job wrote (404 before the first), served with the report's own
  Content-Security-Policy as a header plus ``frame-ancestors 'none'``, ``nosniff`` and no caching.
"""

from __future__ import annotations

import html
import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from cloudwatchdog import __version__
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus
from cloudwatchdog.settings.daemon import ListenAddress

log = logging.getLogger("cloudwatchdog.daemon.http")

_META_CSP = re.compile(r"""<meta\s+http-equiv=["']?Content-Security-Policy["']?\s+content=(["'])(.*?)\1""",
                       re.IGNORECASE | re.DOTALL)
# When the report carries no CSP of its own: nothing runs, nothing loads.
_FALLBACK_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
_INDEX = b"cloudwatchdog daemon: /healthz /metrics /report\n"


IDLE_TIMEOUT = 10.0  # seconds a connection may sit without sending a request (or while sending one)
MAX_CONNECTIONS = 32  # connections served at once; more are closed at once (one thread each)


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` of them: a scraper or a prober that opens hundreds of
    connections and sends nothing gets them closed, and never starves the daemon of threads."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: a burst of connections waits briefly instead of SYN retries

    def __init__(self, address: ListenAddress, handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        self.address_family = socket.AF_INET6 if address.is_ipv6 else socket.AF_INET
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__((address.host, address.port), handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.debug("HTTP: %d connections open already: closing one from %s", MAX_CONNECTIONS, client_address)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def report_csp(page: str) -> str:
    """The report's own CSP (from its meta tag) with ``frame-ancestors 'none'`` (which a meta tag cannot set)."""
    m = _META_CSP.search(page[:8192])
    policy = html.unescape(m.group(2)).strip().rstrip(";") if m else _FALLBACK_CSP
    return f"{policy}; frame-ancestors 'none'"


def _handler(status: DaemonStatus, metrics: DaemonMetrics, serve_report: bool,
             idle_timeout: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"cloudwatchdog/{__version__}"
        sys_version = ""
        protocol_version = "HTTP/1.1"
        timeout = idle_timeout  # a socket timeout: an idle or half-sent connection is closed after it

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def _serve(self, *, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    health = status.health()
                    metrics.scheduler_running.set(1 if health.body["scheduler"] == "running" else 0)
                    body = (json.dumps(health.body, indent=1) + "\n").encode()
                    self._send(200 if health.ok else 503, "application/json", body, head)
                elif path == "/metrics":
                    metrics.scheduler_running.set(1 if status.scheduler_alive() else 0)
                    self._send(200, CONTENT_TYPE_LATEST, metrics.exposition(), head)
                elif path == "/report" and serve_report:
                    self._report(head)
                elif path == "/":
                    self._send(200, "text/plain; charset=utf-8", _INDEX, head)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", head)
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception as exc:
                log.error("HTTP %s failed: %s", path, type(exc).__name__, exc_info=exc)
                self._send(500, "text/plain; charset=utf-8", b"internal error\n", head)

        def _report(self, head: bool) -> None:
            latest = status.latest_report
            try:
                page = latest.read_text(encoding="utf-8") if latest is not None else None
            except OSError:
                page = None
            if page is None:
                self._send(404, "text/plain; charset=utf-8", b"no report yet: the report job has not run\n", head)
                return
            self._send(200, "text/html; charset=utf-8", page.encode("utf-8"), head, {
                "Content-Security-Policy": report_csp(page),
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
            })

        def _send(self, code: int, ctype: str, body: bytes, head: bool, extra: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_POST(self) -> None:
            self.send_error(405)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    return Handler


class HttpEndpoint:
    """``HttpEndpoint(address, status, metrics).start()`` ... ``.stop()``. Binding fails at ``__init__``."""

    def __init__(self, address: ListenAddress, status: DaemonStatus, metrics: DaemonMetrics, *,
                 serve_report: bool = True, idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self._server = _Server(address, _handler(status, metrics, serve_report, idle_timeout), max_connections)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="cloudwatchdog-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HttpEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
