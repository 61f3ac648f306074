"""When a failed delivery is tried again, and when it is given up (pure).

Exponential backoff with jitter: attempt n (1-based) that failed waits ``base * 2**(n-1)`` capped at ``cap``, of
which the second half is random ("equal jitter": never less than half the nominal delay, so retries stay spread
out yet bounded), and never less than the receiver's Retry-After. A delivery is given up after ``max_attempts``
attempts or when it still fails ``max_age`` seconds after its first attempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A Retry-After beyond this is taken as this: a receiver cannot park an alert for days.
RETRY_AFTER_MAX = 6 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
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
