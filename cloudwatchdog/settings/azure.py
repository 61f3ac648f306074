"""`providers.azure`: Azure Blob storage. (Scaffold: the Azure work fills this in.)"""

from __future__ import annotations

from pydantic import field_validator

from cloudwatchdog.settings.base import StrictModel, check_http_url


class AzureProvider(StrictModel):
    enabled: bool = True
    arm_endpoint: str | None = None

    @field_validator("arm_endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_http_url(v)
