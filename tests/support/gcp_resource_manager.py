"""A test-only Resource Manager v3 server: real HTTP on 127.0.0.1, serving the REST shapes the official
google-cloud-resource-manager client (``transport="rest"``) sends and parses.

No emulator exists for Resource Manager, so this in-process server stands in for it: the collector's discovery
talks to it through the real client (``client_options={"api_endpoint": ...}``, AnonymousCredentials), so request
building, paging and error parsing are the library's own. Served:

    GET  /v3/projects:search?query=state:ACTIVE&pageToken=..   projects.search (every project the caller sees)
    GET  /v3/projects?parent=organizations/1&pageToken=..      projects.list (direct children only)
    GET  /v3/folders?parent=folders/2&pageToken=..             folders.list (direct children only)
    GET  /v3/organizations/1                                   organizations.get (displayName: the domain)
    POST /v3/projects/<id>:getIamPolicy                        projects.getIamPolicy

Pages hold ``page_size`` entries so paging is exercised. ``fail`` injects an error answer for one operation and
key, e.g. ``("projects.list", "folders/20")`` or ``("getIamPolicy", "velora-analytics-3317")``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeProject:
    project_id: str
    number: str
    parent: str  # organizations/1 or folders/2
    display_name: str = ""
    state: str = "ACTIVE"

    def resource(self) -> dict[str, Any]:
        return {"name": f"projects/{self.number}", "projectId": self.project_id, "parent": self.parent,
                "displayName": self.display_name or self.project_id, "state": self.state, "etag": "W/\"1\""}


@dataclass
class FakeFolder:
    name: str  # folders/20
    parent: str
    display_name: str = ""
    state: str = "ACTIVE"

    def resource(self) -> dict[str, Any]:
        return {"name": self.name, "parent": self.parent, "displayName": self.display_name or self.name,
                "state": self.state}


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
             500: "INTERNAL", 503: "UNAVAILABLE"}
    return {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN"),
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                                   "domain": "cloudresourcemanager.googleapis.com"}]}}


@dataclass
class ResourceManagerServer:
    organizations: dict[str, str] = field(default_factory=dict)  # organizations/1 -> its domain
    folders: list[FakeFolder] = field(default_factory=list)
    projects: list[FakeProject] = field(default_factory=list)
    iam: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> policy JSON
    page_size: int = 2
    fail: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)  # -> (status, reason, message)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (operation, key) of every request served
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the Resource Manager test server is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ResourceManagerServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self)

            def do_POST(self) -> None:
                fake._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-resource-manager", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- routing ---

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        if length:
            handler.rfile.read(length)
        url = urlsplit(handler.path)
        path = unquote(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, body = self._route(handler.command, path, query)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/v3/projects:search":
            op, key = "projects.search", query.get("query", "")
            items: list[dict[str, Any]] | None = [
                p.resource() for p in self.projects if key != "state:ACTIVE" or p.state == "ACTIVE"
            ]
            list_key = "projects"
        elif method == "GET" and path == "/v3/projects":
            op, key = "projects.list", query.get("parent", "")
            deleted = query.get("showDeleted") == "true"
            items = [p.resource() for p in self.projects if p.parent == key and (deleted or p.state == "ACTIVE")]
            list_key = "projects"
        elif method == "GET" and path == "/v3/folders":
            op, key = "folders.list", query.get("parent", "")
            items = [f.resource() for f in self.folders if f.parent == key and f.state == "ACTIVE"]
            list_key = "folders"
        elif method == "GET" and path.startswith("/v3/organizations/"):
            op, key = "organizations.get", path.removeprefix("/v3/")
            items, list_key = None, ""
        elif method == "POST" and path.startswith("/v3/projects/") and path.endswith(":getIamPolicy"):
            op, key = "getIamPolicy", path.removeprefix("/v3/projects/").removesuffix(":getIamPolicy")
            items, list_key = None, ""
        else:
            return 404, error_body(404, "NOT_FOUND", f"no route for {method} {path}")
        self.requests.append((op, key))
        if (op, key) in self.fail:
            status, reason, message = self.fail[(op, key)]
            return status, error_body(status, reason, message)
        if op == "organizations.get":
            if key not in self.organizations:
                return 403, error_body(403, "IAM_PERMISSION_DENIED", f"permission denied on {key}")
            return 200, {"name": key, "displayName": self.organizations[key], "state": "ACTIVE"}
        if op == "getIamPolicy":
            known = {p.project_id for p in self.projects}
            if key not in known:
                return 403, error_body(403, "IAM_PERMISSION_DENIED", f"permission denied on projects/{key}")
            return 200, {"version": 3, "etag": "BwYAAAAAAAA=", **self.iam.get(key, {"bindings": []})}
        assert items is not None
        start = int(query.get("pageToken") or 0)
        size = int(query.get("pageSize") or self.page_size)
        page = items[start:start + size]
        body: dict[str, Any] = {list_key: page}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return 200, body
