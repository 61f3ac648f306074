"""`daemon:` how `cloudwatchdog daemon` runs: where its HTTP endpoint (/healthz, /metrics, /report) listens, the
log format, how long a shutdown waits for a running scan, and when /healthz calls the scans stale."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from cloudwatchdog.settings.base import StrictModel

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_LISTEN_HINT = "write HOST:PORT, e.g. 127.0.0.1:9187, 0.0.0.0:9187 or [::1]:9187"


@dataclass(frozen=True)
class ListenAddress:
    host: str  # an IP address or a host name, without brackets
    port: int

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if self.is_ipv6 else f"{self.host}:{self.port}"


def parse_listen(text: str) -> ListenAddress:
    """``HOST:PORT`` (an IPv6 host in brackets). Raises ValueError naming what is wrong."""
    value = str(text).strip()
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
        if not sep:
            raise ValueError(f"{value!r}: an IPv6 address is written [ADDRESS]:PORT, e.g. [::1]:9187")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host!r} is not an IPv6 address") from None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep or not host:
            raise ValueError(f"{value!r} has no host and port: {_LISTEN_HINT}")
        if ":" in host:
            raise ValueError(f"{value!r}: put an IPv6 address in brackets: [{host}]:{port_text}")
        if not _HOSTNAME.match(host):
            raise ValueError(f"{value!r}: {host!r} is not an IP address or host name")
    if not port_text.isdigit():
        raise ValueError(f"{value!r}: the port {port_text!r} is not a number: {_LISTEN_HINT}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r}: port {port} is out of range (1-65535)")
    return ListenAddress(host, port)


def _check_listen(value: str | None) -> str | None:
    if value is not None:
        parse_listen(value)
    return value


class DaemonConfig(StrictModel):
    # HOST:PORT of the HTTP endpoint (/healthz, /metrics, /report); null: no endpoint. Loopback by default: the
    # report lists your exposed storage, so widen it (0.0.0.0 in a container) only behind a network policy.
    listen: Annotated[str | None, AfterValidator(_check_listen)] = "127.0.0.1:9187"
    # Serve the latest HTML report at /report (turn off when the endpoint is reachable by more than you).
    serve_report: bool = True
    # auto: JSON lines when stderr is not a terminal (journald, containers), text on a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    # On SIGTERM/SIGINT: seconds to wait for a running scan to finish (and be recorded) before exiting without
    # recording it. Keep it below systemd's TimeoutStopSec and Kubernetes' terminationGracePeriodSeconds.
    shutdown_grace: Annotated[float, Field(ge=0, le=3600)] = 60.0
    # /healthz answers 503 when a scan job's last successful scan is older than this many of its intervals.
    stale_after: Annotated[float, Field(ge=1, le=1000)] = 3.0

    @property
    def listen_address(self) -> ListenAddress | None:
        return parse_listen(self.listen) if self.listen is not None else None
