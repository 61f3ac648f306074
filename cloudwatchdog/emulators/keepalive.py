"""A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every S3 request with the same bucket ACL, and counts the
connections it was sent requests on (tests and benchmarks only).

moto's server closes every connection after one answer, so it cannot show whether a client reuses its connections;
AWS keeps them open. This stand-in keeps them open too (a fake of one S3 answer, since no emulator does), optionally
over TLS (a certificate from ``emulators/tls.py`` that names ``s3.localhost`` and ``*.s3.localhost`` serves
virtual-hosted bucket addresses). It runs in a process of its own (``KeepAliveServer``), so a benchmark's CPU
figures are the client's alone; ``GET /_stats`` answers ``{"connections": N, "requests": N, "hosts": N}`` and starts
the counts afresh (its own connection is not counted).
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, Any

from cloudwatchdog.emulators.process import log_tail, terminate, wait_ready

ACL = (b'<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
       b"<Owner><ID>0123456789abcdef</ID></Owner><AccessControlList><Grant><Grantee "
       b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>0123456789abcdef</ID>'
       b"</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>")


class Counts:
    """What the server saw since the last ``take``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = self.requests = 0
        self.hosts: set[str] = set()

    def take(self) -> dict[str, int]:
        with self.lock:
            out = {"connections": self.connections, "requests": self.requests, "hosts": len(self.hosts)}
            self.connections, self.requests, self.hosts = 0, 0, set()
            return out


def make_server(port: int, counts: Counts, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """The server (not started: ``serve_forever`` it)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        counted = False

        def do_GET(self) -> None:
            if self.path == "/_stats":
                body = json.dumps(counts.take()).encode()
            else:
                with counts.lock:
                    counts.requests += 1
                    counts.hosts.add(str(self.headers.get("Host")))
                    if not self.counted:
                        self.counted = True
                        counts.connections += 1
                body = ACL
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    return server


class KeepAliveServer:
    """``make_server`` in a process of its own: ``with KeepAliveServer(tls_files) as server: server.port ...``."""

    def __init__(self, cert_file: str | None = None, key_file: str | None = None) -> None:
        self.cert_file, self.key_file = cert_file, key_file
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> KeepAliveServer:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        tls = ["--cert", self.cert_file, "--key", self.key_file] if self.cert_file and self.key_file else []
        self._log = tempfile.TemporaryFile(prefix="keepalive-")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cloudwatchdog.emulators.keepalive", "--port", str(self.port), *tls],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        problem = wait_ready(self._process, self._listening, timeout=20, name="keep-alive server",
                             where=f"127.0.0.1:{self.port}")
        if problem is not None:
            output = log_tail(self._log)
            self.__exit__(None, None, None)
            raise RuntimeError(f"{problem}:\n{output}")
        return self

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stats(self, context: ssl.SSLContext | None = None) -> dict[str, int]:
        """The counts since the last call (the readiness probe's connection has no request: it is not counted)."""
        import http.client

        conn: http.client.HTTPConnection = (
            http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=10) if context
            else http.client.HTTPConnection("127.0.0.1", self.port, timeout=10))
        try:
            conn.request("GET", "/_stats")
            counts: dict[str, int] = json.loads(conn.getresponse().read())
            return counts
        finally:
            conn.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        process, self._process = self._process, None
        log, self._log = self._log, None
        terminate(process, log)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="keep-alive S3 stand-in for tests and benchmarks (127.0.0.1)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    context = None
    if args.cert and args.key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    server = make_server(args.port, Counts(), context)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
