"""A fault-injecting HTTP proxy in front of the real Cloud Storage emulator (test-only, real HTTP on 127.0.0.1).

The emulator answers every call it implements successfully, so failures it cannot produce (403 forbidden, 403
SERVICE_DISABLED / accessNotConfigured, 503 throttling, a listing that fails on its second page, an answer in an
unexpected shape) are injected here, between the real google-cloud-storage client and the real emulator. Every
other request is forwarded untouched, so the collector still reads real emulator state.

    proxy = FaultProxy(emulator.endpoint).start()
    proxy.fail("GET", r"/b/velora-press-archive/iam", 403, reason="forbidden", message="...")
    proxy.replace("GET", r"/b/x/acl$", {"items": [{"role": "READER"}]})   # 200 with a malformed body
    proxy.paginate_buckets(page_size=2, fail_on_page=2)                    # listing breaks part-way
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


def gcs_error(status: int, reason: str, message: str, *, error_info: str | None = None) -> dict[str, Any]:
    """A Cloud Storage JSON API error body (``errors[].reason``, and a google.rpc.ErrorInfo when given)."""
    body: dict[str, Any] = {"code": status, "message": message,
                            "errors": [{"message": message, "domain": "global", "reason": reason}]}
    if error_info:
        body["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": error_info,
                            "domain": "googleapis.com", "metadata": {"service": "storage.googleapis.com"}}]
    return {"error": body}


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]  # searched in "path?query"
    status: int
    body: Any
    times: int | None  # None: always


@dataclass
class FaultProxy:
    target: str  # the emulator endpoint
    rules: list[_Rule] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # "METHOD path?query" of every request
    injected: list[str] = field(default_factory=list)  # the requests answered by a rule
    bucket_page_size: int | None = None
    bucket_fail_on_page: int | None = None
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the fault proxy is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, method: str, pattern: str, status: int, *, reason: str = "forbidden", message: str = "",
             error_info: str | None = None, times: int | None = None) -> None:
        body = gcs_error(status, reason, message or f"injected {status} {reason}", error_info=error_info)
        self.rules.append(_Rule(method, re.compile(pattern), status, body, times))

    def replace(self, method: str, pattern: str, body: Any, *, status: int = 200) -> None:
        """Answer matching requests with ``body`` (any JSON value, or bytes sent as they are)."""
        self.rules.append(_Rule(method, re.compile(pattern), status, body, None))

    def paginate_buckets(self, page_size: int, fail_on_page: int | None = None) -> None:
        """Serve the bucket listing in pages of ``page_size`` (the emulator does not page), answering 503 for page
        ``fail_on_page`` (1-based) every time, so retries give up and the listing breaks part-way."""
        self.bucket_page_size, self.bucket_fail_on_page = page_size, fail_on_page

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="gcs-fault-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- serving ---

    def _rule_for(self, method: str, target: str) -> _Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.method == method and rule.pattern.search(target) and rule.times != 0:
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        method, target = handler.command, handler.path
        with self._lock:
            self.seen.append(f"{method} {target}")
        rule = self._rule_for(method, target)
        if rule is not None:
            with self._lock:
                self.injected.append(f"{method} {target}")
            payload = rule.body if isinstance(rule.body, bytes) else json.dumps(rule.body).encode()
            return self._send(handler, rule.status, payload)
        url = urlsplit(target)
        if method == "GET" and url.path == "/storage/v1/b" and self.bucket_page_size:
            return self._bucket_page(handler, url.query)
        status, data, content_type = self._forward(method, target, body, handler)
        self._send(handler, status, data, content_type)

    def _bucket_page(self, handler: BaseHTTPRequestHandler, query: str) -> None:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        token = int(params.pop("pageToken", "0") or 0)
        size = self.bucket_page_size or 1
        if self.bucket_fail_on_page is not None and token // size + 1 == self.bucket_fail_on_page:
            with self._lock:
                self.injected.append(f"GET bucket page {token // size + 1}")
            payload = json.dumps(gcs_error(503, "backendError", "injected: the listing broke part-way")).encode()
            return self._send(handler, 503, payload)
        status, data, content_type = self._forward("GET", "/storage/v1/b?" + urlencode(params), b"", handler)
        if status != 200:
            return self._send(handler, status, data, content_type)
        full = json.loads(data)
        items = full.get("items", [])
        page = {"kind": "storage#buckets", "items": items[token:token + size]}
        if token + size < len(items):
            page["nextPageToken"] = str(token + size)
        self._send(handler, 200, json.dumps(page).encode())

    def _forward(self, method: str, target: str, body: bytes,
                 handler: BaseHTTPRequestHandler) -> tuple[int, bytes, str]:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length",
                                                                                  "connection")}
        request = urllib.request.Request(self.target + target, data=body if body else None, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "application/json")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes,
              content_type: str = "application/json; charset=UTF-8") -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
