"""GCP plumbing shared by the collector and discovery: credentials, HTTP sessions that count their requests, client
factories, and turning any SDK failure into a ``(code, message)`` pair. I/O only; no verdicts here."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import google.auth
import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from cloudwatchdog.providers.error_text import error_line, unreachable
from cloudwatchdog.providers.gcp.settings import GcpProvider

# Read-only is enough for everything the collector calls (buckets.list, getIamPolicy, ACL listings, projects.list
# and search, folders.list, organizations.get, projects.getIamPolicy).
SCOPES = ("https://www.googleapis.com/auth/cloud-platform.read-only",)
INVALID = "InvalidResponse"


class CredentialsError(Exception):
    """The configured credentials could not be loaded; the message is safe to log (it never holds key material)."""


def load_credentials(cfg: GcpProvider) -> tuple[Credentials, str | None]:
    """(credentials, their default project if any) for the configured credential source."""
    try:
        if cfg.credential == "anonymous":
            return AnonymousCredentials(), None  # type: ignore[no-untyped-call]
        if cfg.credential == "service_account_file":
            path = cfg.key_path()
            assert path is not None  # the config validator requires key_file
            if not path.is_file():
                raise CredentialsError(f"key_file {path} does not exist")
            sa = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(path), scopes=list(SCOPES)
            )
            return sa, sa.project_id
        creds, project = google.auth.default(scopes=list(SCOPES))
        return creds, project
    except CredentialsError:
        raise
    except (auth_exceptions.GoogleAuthError, ValueError, OSError) as exc:
        # Never echo a key file's content: name the source and the error class and text only.
        raise CredentialsError(
            f"cannot load {cfg.credential} credentials: {type(exc).__name__}: {error_line(exc)}"
        ) from None


class CallCounter:
    """Counts HTTP requests (retries included) of one project; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.add()
        return response


def authorized_session(credentials: Credentials, counter: CallCounter, pool_size: int) -> AuthorizedSession:
    """An HTTP session signing with ``credentials`` (refreshed as needed), counting every response."""
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(10, pool_size))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(counter.hook)
    return session


def storage_client(
    credentials: Credentials, project: str, endpoint: str | None, session: AuthorizedSession
) -> Any:
    """A google-cloud-storage client for ``project`` over ``session`` (typed ``Any``: the library ships no
    type information)."""
    storage: Any = importlib.import_module("google.cloud.storage")  # the library ships no type information

    options = {"api_endpoint": endpoint} if endpoint else None
    client = storage.Client(project=project, credentials=credentials, client_options=options, _http=session)
    # google-cloud-storage >= 3.5 fetches each bucket's metadata on a background thread to decorate OpenTelemetry
    # spans, traces on or off: one extra request (and thread) per bucket for a scanner. Its switch is a process
    # environment variable, which a library must not set for its host; every use of the cache is guarded by
    # `client._bucket_metadata_cache` being truthy, so this client goes without one (tests count the requests).
    if getattr(client, "_bucket_metadata_cache", None) is not None:
        client._bucket_metadata_cache = None
    return client


def storage_retry(cfg: GcpProvider) -> Any:
    """The library's retry policy (429, 5xx, connection errors; exponential backoff) bounded by retry_timeout."""
    from google.cloud.storage.retry import DEFAULT_RETRY  # type: ignore[import-untyped]

    return DEFAULT_RETRY.with_timeout(cfg.retry_timeout)


def resource_manager_retry(cfg: GcpProvider, counter: CallCounter) -> Any:
    """Retries of transient Resource Manager errors (429, 5xx, connection errors) bounded by retry_timeout; each
    failed attempt is counted (the first attempt of every call is counted by the caller)."""
    from google.api_core.retry import Retry, if_transient_error

    return Retry(predicate=if_transient_error, initial=0.5, maximum=8.0, multiplier=2.0,
                 timeout=cfg.retry_timeout, on_error=lambda _exc: counter.add())


def resource_manager_options(cfg: GcpProvider) -> dict[str, Any] | None:
    return {"api_endpoint": cfg.resource_manager_endpoint} if cfg.resource_manager_endpoint else None


def _api_reason(exc: api_exceptions.GoogleAPICallError) -> str | None:
    if exc.reason:  # google.rpc.ErrorInfo, e.g. SERVICE_DISABLED
        return str(exc.reason)
    for error in exc.errors or ():
        if isinstance(error, dict) and error.get("reason"):
            return str(error["reason"])  # JSON API errors[].reason, e.g. accessNotConfigured, forbidden
    return None


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(code, message) of any SDK, auth or transport failure, without request internals or credentials: short and
    on one line (an HTML page an endpoint or a proxy answered with is reduced to its title)."""
    code, message = _describe(exc)
    return error_line(code, 100), error_line(message)


def _describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, api_exceptions.RetryError) and exc.cause is not None:
        code, message = describe_exception(exc.cause)
        return code, f"{message} (gave up after retrying)"
    if isinstance(exc, api_exceptions.RetryError):
        return "RetryError", str(exc.message)
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        reason = _api_reason(exc)
        status = exc.code if exc.code is not None else "?"
        code = reason or type(exc).__name__
        message = str(exc.message or "").strip() or type(exc).__name__
        if reason == "SERVICE_DISABLED" or reason == "accessNotConfigured":
            message = f"the API is not enabled in this project: {message}"
        return code, f"HTTP {status}: {message}"
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return "CredentialsError", f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return INVALID, f"the answer is not JSON: {exc}"
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return type(exc).__name__, unreachable(exc) or str(exc)
    if isinstance(exc, requests.RequestException):
        return type(exc).__name__, str(exc)
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        # The SDK could not parse the answer: the service (or an emulator) replied in an unexpected shape.
        return INVALID, f"{type(exc).__name__}: {exc}"
    return type(exc).__name__, str(exc)


def guard(
    operation: str, fn: Callable[[], Any], log_failure: Callable[[str, str, str], None]
) -> dict[str, Any]:
    """Run one API call: ``{"ok": payload}`` or ``{"error": {operation, code, message}}``, never raising."""
    try:
        payload = fn()
    except Exception as exc:  # the collector's edge: any SDK, network or parsing failure is data
        code, message = describe_exception(exc)
        log_failure(operation, code, message)
        return {"error": {"operation": operation, "code": code, "message": message}}
    return {"ok": jsonable(payload)}


def jsonable(value: Any) -> Any:
    """An SDK answer as plain JSON values: datetimes as ISO 8601 text, bytes as UTF-8 text, sets as sorted lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
