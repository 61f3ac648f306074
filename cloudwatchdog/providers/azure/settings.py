"""`providers.azure`: Azure Blob storage (storage accounts and their blob containers).

Subscriptions are the configured ones, or every subscription the credential can list. The credential is
azure-identity's DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI, ...), or, for
the local emulators only, ``emulator``: a fixed unsigned token that is accepted only with a loopback
``arm_endpoint`` and only ever sent to loopback addresses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from cloudwatchdog.settings.base import ProviderSettings, StrictModel, is_loopback_url
from cloudwatchdog.settings.events import EventSourceSettings

SUBSCRIPTION_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_HTTPS_URL = re.compile(r"^https://[^/\s]+")

_SUBSCRIPTION_ID = re.compile(SUBSCRIPTION_ID)


def _subscription_id(value: str) -> str:
    if not _SUBSCRIPTION_ID.match(value):
        raise ValueError(f"{value!r} is not a subscription id: a GUID such as 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d "
                         "(az account list --query '[].id')")
    return value.lower()


SubscriptionId = Annotated[str, AfterValidator(_subscription_id)]


class AzureResourceLogs(StrictModel):
    """Where a diagnostic setting exports the accounts' StorageRead resource logs (``incident`` reads them)."""

    blob_endpoint: Annotated[str, Field(pattern=r"^https://")]  # the destination account's blob endpoint
    container: str = "insights-logs-storageread"


class AzureEvents(EventSourceSettings):
    """`providers.azure.events`: the Storage Queue an Event Grid subscription delivers the subscription's resource
    changes to (deploy/azure/events.bicep)."""

    # The storage account's queue endpoint: https://<account>.queue.core.windows.net (an emulator's on loopback).
    queue_account_url: Annotated[str, Field(pattern=r"^https://[^/\s]+(/[A-Za-z0-9]+)?/?$")]
    queue: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    # default: azure-identity's DefaultAzureCredential (the role "Storage Queue Data Message Processor" on the
    # queue); emulator: the emulators' unsigned token, only with a loopback queue_account_url. Unset: as the
    # provider's own `credential`.
    credential: Literal["default", "emulator"] | None = None
    # Storage Queues have no long poll: an empty queue is asked again every this many seconds (within wait_seconds).
    poll_seconds: Annotated[float, Field(ge=0.1, le=20)] = 1.0

    @field_validator("credential")
    @classmethod
    def _emulator_only_on_loopback(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v == "emulator" and not is_loopback_url(info.data.get("queue_account_url")):
            raise ValueError("credential: emulator is accepted only with a loopback queue_account_url")
        return v


class AzureProvider(ProviderSettings):
    # Azure Resource Manager: None means the public cloud (https://management.azure.com); a sovereign cloud's
    # endpoint, or an emulator's on 127.0.0.1.
    arm_endpoint: str | None = None
    credential: Literal["default", "emulator"] = "default"
    subscriptions: list[SubscriptionId] = []  # empty: every subscription the credential can list
    exclude_subscriptions: list[SubscriptionId] = []  # skipped when discovering
    # A PEM file of CA certificates to trust instead of the system's (an emulator's, a TLS-inspecting proxy's).
    # Without it, REQUESTS_CA_BUNDLE is honoured.
    ca_bundle: str | None = None
    # `cloudwatchdog incident`: the storage account a diagnostic setting exports StorageRead resource logs to
    # (read besides the Storage Analytics logs in each account's $logs). null: none.
    resource_logs: AzureResourceLogs | None = None
    max_workers: Annotated[int, Field(ge=1, le=64)] = 8
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 4  # per API call, the first try included
    retry_backoff: Annotated[float, Field(ge=0, le=60)] = 0.8  # seconds; doubled on every further retry
    # Change events (README "Change events"): the Storage Queue Event Grid delivers resource changes to.
    events: AzureEvents | None = None

    @field_validator("arm_endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v is not None and not _HTTPS_URL.match(v):
            raise ValueError(
                "must be an https URL such as https://management.azure.com (Azure SDK clients refuse to send "
                "a token over plain http)"
            )
        return v

    @field_validator("credential")
    @classmethod
    def _emulator_only_on_loopback(cls, v: str, info: ValidationInfo) -> str:
        if v == "emulator":
            endpoint = info.data.get("arm_endpoint")
            if not is_loopback_url(endpoint):
                raise ValueError(
                    "credential: emulator sends a fixed, unsigned token and is accepted only with a loopback "
                    f"arm_endpoint (https://127.0.0.1:PORT, ::1 or localhost); arm_endpoint is {endpoint or 'not set'}"
                )
        return v

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).expanduser().is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @field_validator("events")
    @classmethod
    def _events_emulator_on_loopback(cls, v: AzureEvents | None, info: ValidationInfo) -> AzureEvents | None:
        if v is not None and v.credential is None and info.data.get("credential") == "emulator" and \
                not is_loopback_url(v.queue_account_url):
            raise ValueError("credential: emulator sends an unsigned token: events.queue_account_url must be on a "
                             f"loopback address too; it is {v.queue_account_url}")
        return v

    @property
    def effective_arm_endpoint(self) -> str:
        return (self.arm_endpoint or "https://management.azure.com").rstrip("/")


__all__ = ["SUBSCRIPTION_ID", "AzureProvider", "is_loopback_url"]
