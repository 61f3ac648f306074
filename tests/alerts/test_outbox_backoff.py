"""The retry policy (pure) and the `alerts:` settings that make it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloudwatchdog.settings.alerts import RETRY_AFTER_MAX, AlertsConfig, RetryPolicy


def test_exponential_with_equal_jitter_and_a_cap() -> None:
    p = RetryPolicy(base=30, cap=3600)
    assert [p.delay(n, rand=0.0) for n in range(1, 10)] == [15, 30, 60, 120, 240, 480, 960, 1800, 1800]
    assert [p.delay(n, rand=0.999999) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert p.delay(500, rand=0.5) == 2700, "huge attempt counts do not overflow"
    assert RetryPolicy(base=1, cap=1).delay(1, rand=0.0) == 1, "never less than a second"


def test_retry_after_is_a_floor_within_reason() -> None:
    p = RetryPolicy(base=30, cap=3600)
    assert p.delay(1, retry_after=120, rand=0.0) == 120
    assert p.delay(8, retry_after=5, rand=0.0) == 1800, "a short Retry-After does not shorten the backoff"
    assert p.delay(1, retry_after=10 * 86400, rand=0.0) == RETRY_AFTER_MAX


def test_giving_up() -> None:
    p = RetryPolicy(max_attempts=3, max_age=3600)
    assert not p.exhausted(2, 3599)
    assert p.exhausted(3, 0) and p.exhausted(1, 3600)


def test_settings_make_the_policy() -> None:
    assert AlertsConfig().policy() == RetryPolicy(base=30, cap=3600, max_attempts=48, max_age=48 * 3600)
    custom = AlertsConfig.model_validate({"retry_base_seconds": 10, "retry_max_seconds": 60, "max_attempts": 5,
                                          "give_up_after_hours": 2})
    assert custom.policy() == RetryPolicy(base=10, cap=60, max_attempts=5, max_age=7200)
    with pytest.raises(ValidationError, match="retry_max_seconds must be at least retry_base_seconds"):
        AlertsConfig.model_validate({"retry_base_seconds": 100, "retry_max_seconds": 50})
    with pytest.raises(ValidationError, match="max_attempts"):
        AlertsConfig.model_validate({"max_attempts": 0})
    with pytest.raises(ValidationError, match="Extra inputs"):
        AlertsConfig.model_validate({"retries": 3})
