"""The Azure collector's edge to the SDKs: credentials, clients with retries and timeouts, the API-call counter,
and the description of errors. Azure SDK modules are imported inside the functions that need them.

Credentials: ``default`` is azure-identity's DefaultAzureCredential. ``emulator`` is ``EmulatorCredential``: an
unsigned token with the claims an emulator checks (Azurite's basic OAuth), never valid in Azure. It is accepted only
with a loopback ``arm_endpoint`` (config validation) and every request made with it must go to a loopback address
(``CallCounter.hook`` refuses any other before it is sent, e.g. a ``nextLink`` or a blob endpoint pointing away).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from cloudwatchdog.providers.azure.settings import AzureProvider, is_loopback_url
from cloudwatchdog.providers.error_text import error_line, unreachable

EMULATOR_TENANT = "00000000-0000-0000-0000-00000000e1a7"
CONNECTION_TIMEOUT = 10
READ_TIMEOUT = 30


class EmulatorOnlyError(RuntimeError):
    """A request with the emulator credential to an address that is not loopback."""


class EmulatorCredential:
    """A TokenCredential for the local emulators: a fixed-shape, unsigned JWT whose audience is the requested
    scope's resource (Azurite checks issuer, audience and lifetime, never the signature; the ARM emulator only
    checks that a bearer token is present). Worthless anywhere else."""

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        now = int(time.time())
        audience = (scopes[0] if scopes else "https://management.azure.com/.default").removesuffix("/.default")
        payload = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{EMULATOR_TENANT}/",
            "iat": now,
            "nbf": now - 300,
            "exp": now + 3600,
            "tid": EMULATOR_TENANT,
            "oid": "c0ffee00-0000-4000-8000-000000000000",
            "appid": "cloudwatchdog-emulator",
        }
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
        return AccessToken(token, now + 3600)

    def close(self) -> None:
        return None


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()


def make_credential(cfg: AzureProvider) -> Any:
    """The configured credential (typed ``Any``: a TokenCredential)."""
    if cfg.credential == "emulator":
        return EmulatorCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class CallCounter:
    """Counts HTTP requests (retries included) through azure-core's ``raw_request_hook``; with the emulator
    credential it also refuses any request to an address that is not loopback, before it is sent."""

    def __init__(self, *, loopback_only: bool = False) -> None:
        self.loopback_only = loopback_only
        self._lock = threading.Lock()
        self._value = 0

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def hook(self, request: Any) -> None:
        url = str(request.http_request.url)
        if self.loopback_only and not is_loopback_url(url):
            raise EmulatorOnlyError(
                f"refused to send the emulator credential to {url.split('?')[0]}: not a loopback address"
            )
        with self._lock:
            self._value += 1


def client_kwargs(cfg: AzureProvider, counter: CallCounter) -> dict[str, Any]:
    """Keyword arguments every Azure SDK client gets: retries, timeouts, CA bundle, the counter hook."""
    kwargs: dict[str, Any] = {
        "retry_total": cfg.max_attempts - 1,
        "retry_backoff_factor": cfg.retry_backoff,
        "retry_backoff_max": 60,
        "connection_timeout": CONNECTION_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "raw_request_hook": counter.hook,
        "user_agent": "cloudwatchdog",
    }
    if cfg.ca_bundle:
        kwargs["connection_verify"] = cfg.ca_bundle
    return kwargs


def arm_kwargs(cfg: AzureProvider, counter: CallCounter) -> dict[str, Any]:
    kwargs = client_kwargs(cfg, counter)
    kwargs["base_url"] = cfg.effective_arm_endpoint
    if cfg.arm_endpoint:  # a sovereign cloud (or an emulator): tokens for that resource manager
        kwargs["credential_scopes"] = [f"{cfg.effective_arm_endpoint}/.default"]
    return kwargs


def subscription_client(cfg: AzureProvider, credential: Any, counter: CallCounter) -> Any:
    # From azure-mgmt-resource-subscriptions (azure-mgmt-resource 25+ no longer ships it).
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return SubscriptionClient(credential, **arm_kwargs(cfg, counter))


def storage_client(cfg: AzureProvider, credential: Any, subscription_id: str, counter: CallCounter) -> Any:
    from azure.mgmt.storage import StorageManagementClient

    return StorageManagementClient(credential, subscription_id, **arm_kwargs(cfg, counter))


def blob_service_client(cfg: AzureProvider, credential: Any, account_url: str, counter: CallCounter) -> Any:
    """A data-plane client of one account's blob endpoint, authorised with the scanning credential."""
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    kwargs = client_kwargs(cfg, counter)
    for key in ("retry_total", "retry_backoff_factor", "retry_backoff_max"):
        kwargs.pop(key)
    # Storage's own retry policy (it knows the storage hosts); whole seconds: initial + 2**n (no wait when 0).
    backoff = round(cfg.retry_backoff)
    retry = ExponentialRetry(initial_backoff=backoff, increment_base=2 if backoff else 0,
                             random_jitter_range=1 if backoff else 0, retry_total=cfg.max_attempts - 1)
    return BlobServiceClient(account_url, credential=credential, retry_policy=retry, **kwargs)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(code, message) of an Azure SDK or network error: short, on one line (an HTML page an endpoint or a proxy
    answered with is reduced to its title), without request internals or tokens."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, HttpResponseError):
        error = getattr(exc, "error", None)
        code = getattr(exc, "error_code", None) or getattr(error, "code", None)
        message = getattr(error, "message", None) or exc.reason or ""
        status = exc.status_code
        if not code:
            code = f"HTTP{status}" if status else type(exc).__name__
        if not message:
            message = str(exc).splitlines()[0] if str(exc) else ""
        text = _first_line(message)
        return error_line(code, 100), error_line(f"HTTP {status}: {text}" if status else text)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return type(exc).__name__, unreachable(exc) or error_line(_first_line(exc))
    return type(exc).__name__, error_line(_first_line(exc))


def _first_line(text: object) -> str:
    """The SDK's own line: what follows is a dump of the body or of every credential tried."""
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


__all__ = [
    "CallCounter",
    "EmulatorCredential",
    "EmulatorOnlyError",
    "arm_kwargs",
    "blob_service_client",
    "describe_exception",
    "make_credential",
    "storage_client",
    "subscription_client",
]
