"""`alerts:` how the alert outbox retries deliveries (the targets themselves are `notifications:`).

A failed delivery is retried after ``retry_base_seconds`` (30 s), then twice as long each time (with jitter) up to
``retry_max_seconds`` (1 h), and never sooner than a receiver's Retry-After. It is given up (status ``dead``,
listed by `cloudwatchdog alerts list --status dead`, sent again by `cloudwatchdog alerts retry`) after a permanent
failure (a 4xx other than 408/429, a refused SMTP login), after ``max_attempts`` attempts, or when it still fails
``give_up_after_hours`` after its first attempt.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from cloudwatchdog.alerts.backoff import RetryPolicy
from cloudwatchdog.settings.base import StrictModel


class AlertsConfig(StrictModel):
    retry_base_seconds: Annotated[float, Field(ge=1, le=3600)] = 30.0
    retry_max_seconds: Annotated[float, Field(ge=1, le=86400)] = 3600.0
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 48
    give_up_after_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 48.0
    # `cloudwatchdog scan` delivers what the scan queued for at most this long; the rest stays in the outbox.
    scan_delivery_seconds: Annotated[float, Field(ge=0, le=600)] = 20.0

    @model_validator(mode="after")
    def _order(self) -> AlertsConfig:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be at least retry_base_seconds")
        return self

    def policy(self) -> RetryPolicy:
        return RetryPolicy(base=self.retry_base_seconds, cap=self.retry_max_seconds, max_attempts=self.max_attempts,
                           max_age=self.give_up_after_hours * 3600)
