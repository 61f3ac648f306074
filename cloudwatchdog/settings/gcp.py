"""`providers.gcp`: Google Cloud Storage. (Scaffold: the GCP work fills this in.)"""

from __future__ import annotations

from pydantic import field_validator

from cloudwatchdog.settings.base import StrictModel, check_http_url


class GcpProvider(StrictModel):
    enabled: bool = True
    endpoint_url: str | None = None

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return check_http_url(v)
