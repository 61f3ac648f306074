"""`alerts:` how the alert outbox retries deliveries (the targets themselves are `notifications:`).

A failed delivery is retried after ``retry_base_seconds`` (30 s), then twice as long each time (with jitter) up to
``retry_max_seconds`` (1 h), and never sooner than a receiver's Retry-After. It is given up (status ``dead``,
listed by `cloudwatchdog alerts list --status dead`, sent again by `cloudwatchdog alerts retry`) after a permanent
failure (a 4xx other than 408/429, a refused SMTP login), after ``max_attempts`` attempts, or when it still fails
``give_up_after_hours`` after its first attempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, model_validator

from cloudwatchdog.settings.base import StrictModel

# A Retry-After beyond this is taken as this: a receiver cannot park an alert for days.
RETRY_AFTER_MAX = 6 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is given up (pure).

    Exponential backoff with jitter: attempt n (1-based) that failed waits ``base * 2**(n-1)`` capped at ``cap``, of
    which the second half is random ("equal jitter": never less than half the nominal delay, so retries stay spread
    out yet bounded), and never less than the receiver's Retry-After. A delivery is given up after ``max_attempts``
    attempts or when it still fails ``max_age`` seconds after its first attempt.
    """

    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 48
    max_age: float = 48 * 3600.0

    def delay(self, attempts: int, retry_after: float | None = None, rand: float = 0.5) -> int:
        """Whole seconds (at least 1) to wait after ``attempts`` failed attempts; ``rand`` in [0, 1)."""
        nominal = min(self.cap, self.base * 2.0 ** max(0, min(attempts - 1, 62)))
        wait = nominal / 2 + nominal / 2 * min(max(rand, 0.0), 1.0)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, RETRY_AFTER_MAX))
        return max(1, math.ceil(wait))

    def exhausted(self, attempts: int, age_seconds: float) -> bool:
        """No more attempts: ``attempts`` made, the first ``age_seconds`` ago."""
        return attempts >= self.max_attempts or age_seconds >= self.max_age


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
