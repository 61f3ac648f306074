"""A delay line on 127.0.0.1: every HTTP request through it waits N ms before it is forwarded to the upstream server
(moto), as if the server were a real cloud endpoint N ms away.

    .venv/bin/python bench/latency_proxy.py --upstream http://127.0.0.1:5000 --latency-ms 50 [--port 5050]

or ``with LatencyProxy(upstream, 50) as proxy: ... proxy.endpoint ...`` (bench/scan_buckets.py --latency-ms).
A request is the first bytes a client sends after the last answer (or after connecting): HTTP/1.1 alternates, so
this delays each request once, on keep-alive connections as on fresh ones. moto's server (werkzeug) answers
``Connection: close`` and closes every connection after one request, so each request through it also pays a new
TCP connection (on loopback: well under 1 ms). Loopback only, bench only: nothing in the package imports it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from typing import cast
from urllib.parse import urlsplit

STATS = {"connections": 0, "requests": 0}


class _Upstream(asyncio.Protocol):
    """The proxy's connection to the upstream server: answers go straight back to the client."""

    def __init__(self, client: _Client) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.turn = True  # the next bytes from the client start a new request
        self.client.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.transport.close()


class _Client(asyncio.Protocol):
    """One client connection. The first bytes of each request are held ``delay`` seconds (with whatever follows
    them meanwhile), then forwarded in order; asyncio protocols rather than streams keep the proxy's own CPU small,
    since it shares the cores with the server and the client it measures."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream_address, self.delay = upstream, delay
        self.turn, self.held, self.release_at = True, bytearray(), 0.0
        self.up: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        STATS["connections"] += 1
        loop = asyncio.get_running_loop()
        self.connecting = loop.create_task(self._connect(loop))

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            up, _ = await loop.create_connection(lambda: _Upstream(self), *self.upstream_address)
        except OSError:
            self.transport.close()
            return
        if self.closed:
            up.close()
            return
        self.up = up
        if self.held and loop.time() >= self.release_at:
            self._release()

    def data_received(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        if self.turn:
            self.turn = False
            STATS["requests"] += 1
            self.release_at = loop.time() + self.delay  # the request's one-way trip, the answer's folded in
            self.held += data
            loop.call_at(self.release_at, self._release)
        elif self.held or self.up is None or loop.time() < self.release_at:
            self.held += data  # (a request's later bytes wait behind its first)
        else:
            self.up.write(data)

    def _release(self) -> None:
        if self.up is not None and self.held:
            self.up.write(bytes(self.held))
            self.held.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.up is not None:
            self.up.close()


class LatencyProxy:
    def __init__(self, upstream: str, latency_ms: float, port: int = 0) -> None:
        parts = urlsplit(upstream)
        self._up = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._delay = latency_ms / 1000
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Client(self._up, self._delay), "127.0.0.1", self._port, backlog=1024))
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--port", type=int, default=5050)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with LatencyProxy(args.upstream, args.latency_ms, args.port) as proxy:
        print(f"{proxy.endpoint} -> {args.upstream}, +{args.latency_ms:g} ms per request; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        finally:
            print(f"{STATS['requests']} requests on {STATS['connections']} connections", flush=True)


if __name__ == "__main__":
    main()
