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
from urllib.parse import urlsplit

STATS = {"connections": 0, "requests": 0}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, turn: list[bool], delay: float,
                request_side: bool) -> None:
    try:
        while data := await reader.read(65536):
            if request_side and turn[0]:
                turn[0] = False
                STATS["requests"] += 1
                await asyncio.sleep(delay)  # the request's one-way trip, the answer's is folded in
            elif not request_side:
                turn[0] = True  # the next bytes from the client start a new request
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


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

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self._up)
        except OSError:
            client_w.close()
            return
        turn = [True]
        STATS["connections"] += 1
        await asyncio.gather(_pipe(client_r, up_w, turn, self._delay, True),
                             _pipe(up_r, client_w, turn, self._delay, False))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self._port, backlog=1024))
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
