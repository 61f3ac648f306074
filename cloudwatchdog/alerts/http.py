"""One HTTP POST for the HTTP channels (Slack, Teams, PagerDuty, webhook), through httpx, with a timeout, no
redirects followed, and logs and errors that name only the endpoint's scheme and host: a webhook URL's path and
query are its secret, so they are redacted from error bodies and from httpx's own request log."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from cloudwatchdog import __version__
from cloudwatchdog.alerts.deadline import TOTAL_PER_TIMEOUT, Deadline
from cloudwatchdog.alerts.delivery import DeliveryResult, endpoint, from_http_status, log, redact

USER_AGENT = f"cloudwatchdog/{__version__}"


class _UrlRedactingFilter(logging.Filter):
    """httpx logs ``HTTP Request: POST <full URL> ...`` at INFO; keep only the scheme and host of the URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(endpoint(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


_FILTER = _UrlRedactingFilter()


def _redact_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that must not be shown: the whole URL, its path (the token of a Slack or Teams webhook)
    and its query."""
    out = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    if len(parts.path) > 1:
        out.append(parts.path)
    if parts.query:
        out.append(parts.query)
    return out


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float, target: str,
         secrets: Sequence[str] = ()) -> DeliveryResult:
    """POST ``body`` to ``url``; ``secrets`` (with the URL's path and query) are kept out of every message.
    ``timeout`` bounds each network operation, and ``TOTAL_PER_TIMEOUT`` x ``timeout`` the whole exchange."""
    _redact_httpx_log()
    hidden = [*url_secrets(url), *secrets]
    where = endpoint(url)
    all_headers = {"User-Agent": USER_AGENT, **headers}
    total = TOTAL_PER_TIMEOUT * timeout
    deadline = Deadline(total)

    def trace(name: str, info: Mapping[str, Any]) -> None:  # httpcore's hook: each new socket gets watched
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None:
                deadline.watch(stream.get_extra_info("socket"))

    try:
        # Proxy settings (HTTPS_PROXY, NO_PROXY) and SSL_CERT_FILE come from the environment.
        with deadline, httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=all_headers, extensions={"trace": trace})
    except httpx.UnsupportedProtocol:
        result = DeliveryResult(False, False, None, f"unsupported URL scheme for {where}")
    except httpx.TimeoutException as exc:
        result = DeliveryResult(False, True, None, f"timed out after {timeout:g}s: {type(exc).__name__}")
    except httpx.TransportError as exc:
        error = (f"no complete answer within {total:g}s (the total deadline)" if deadline.expired
                 else redact(f"{type(exc).__name__}: {exc}", hidden))
        result = DeliveryResult(False, True, None, error)
    except httpx.InvalidURL:
        result = DeliveryResult(False, False, None, "invalid URL")
    else:
        result = from_http_status(response.status_code, response.headers.get("Retry-After"), response.text, hidden)
    if result.ok:
        log.info("alert target %s: delivered to %s (HTTP %s)", target, where, result.status)
    else:
        log.warning("alert target %s: delivery to %s %s", target, where, result.describe())
    return result
