"""The outcome of one delivery attempt, and how HTTP answers are classified (pure).

Retryable: connection errors and timeouts, 408, 429 and 5xx; permanent: any other 4xx (a bad URL, a revoked
webhook, a rejected payload: retrying cannot help). A ``Retry-After`` header (seconds or an HTTP date) is returned
as ``retry_after`` seconds so the outbox waits at least that long.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

log = logging.getLogger("cloudwatchdog.alerts")


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    retryable: bool = False
    status: int | None = None  # HTTP status or SMTP reply code, when there was one
    error: str | None = None  # never holds a secret (URLs, keys and passwords are redacted)
    retry_after: float | None = None  # seconds the receiver asked us to wait

    def describe(self) -> str:
        if self.ok:
            return f"delivered (status {self.status})" if self.status else "delivered"
        kind = "retryable" if self.retryable else "permanent"
        extra = f", retry after {self.retry_after:g}s" if self.retry_after is not None else ""
        return f"failed ({kind}{extra}): {self.error}"


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def from_http_status(status: int, retry_after: str | None, body: str, secrets: Iterable[str],
                     now: datetime | None = None) -> DeliveryResult:
    if 200 <= status < 300:
        return DeliveryResult(ok=True, status=status)
    wait = parse_retry_after(retry_after, now)
    detail = redact(" ".join(body.split())[:300], secrets)
    if 300 <= status < 400:
        return DeliveryResult(False, False, status, f"HTTP {status}: redirects are not followed", wait)
    error = f"HTTP {status}" + (f": {detail}" if detail else "")
    return DeliveryResult(False, is_retryable_status(status), status, error, wait)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After``: delta-seconds or an HTTP date (RFC 9110 10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (webhook URL, key, password) replaced by ``[redacted]``."""
    for s in secrets:
        if s:
            text = text.replace(s, "[redacted]")
    return text


def endpoint(url: str) -> str:
    """What may be logged of a URL: its scheme and host (and port). The path of a webhook URL is a secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    return f"{parts.scheme}://{host}{port}"
