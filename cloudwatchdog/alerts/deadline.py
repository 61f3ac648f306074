"""A hard total deadline for one delivery attempt.

httpx and smtplib time out each network operation, not the whole exchange: a receiver that answers one byte just
under the timeout keeps an attempt going for ever, past the outbox lease, and another worker sends the alert again.
``Deadline`` shuts the attempt's sockets down once its total time is up, which ends any blocked read or write with
an error that the channel reports as a retryable failure.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

# An attempt may take this many times the target's timeout in all (the outbox lease is longer: LEASE_PER_TIMEOUT).
TOTAL_PER_TIMEOUT = 2


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket (whose own would unwrap TLS from this thread). Errors:
    # already closed, or detached by a TLS upgrade (the upgraded socket is watched too).
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Deadline:
    """``with Deadline(seconds) as d: d.watch(sock) ...``: after ``seconds``, every watched socket is shut down
    (one watched later is shut down at once) and ``d.expired`` is true."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, sock: Any) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._socks.append(sock)
            if not self.expired:
                return
        _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()
