"""`cloudwatchdog alerts test TARGET`: send a sample alert through one target, to check its settings.

The sample is an obviously fake finding ("cloudwatchdog-test-bucket") sent as a new finding, rendered with the
target's own templates and delivered once (no retry: the point is to see the error). What exactly is sent is the
channel's to say (``Notifier.send_test``: PagerDuty follows its trigger with the resolve).
"""

from __future__ import annotations

from datetime import UTC, datetime

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.notifier import sample_event
from cloudwatchdog.alerts.registry import NOTIFIERS
from cloudwatchdog.alerts.targets import find_target, templates_for
from cloudwatchdog.config import Config

__all__ = ["sample_event", "send_test_alert"]


def send_test_alert(cfg: Config, target_name: str) -> DeliveryResult:
    """Send a sample alert through the target named ``target_name``; raises ``UnknownTarget`` for a bad name."""
    target = find_target(cfg, target_name)
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return NOTIFIERS.get(target.type).send_test(target, templates_for(target), at)
