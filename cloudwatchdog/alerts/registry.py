"""The notification channels by `type`: one line each. A new channel is a target model in
settings/notifications.py, a module ending with its ``NOTIFIER`` (``alerts.notifier.Notifier``), and one line here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.events import AlertEvent
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.notifier import Notifier
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.registry import Registry
from cloudwatchdog.settings.notifications import TargetBase

NOTIFIERS: Registry[Notifier] = Registry("notifier", Notifier, {
    "slack": "cloudwatchdog.alerts.slack:NOTIFIER",
    "teams": "cloudwatchdog.alerts.teams:NOTIFIER",
    "email": "cloudwatchdog.alerts.email:NOTIFIER",
    "pagerduty": "cloudwatchdog.alerts.pagerduty:NOTIFIER",
    "webhook": "cloudwatchdog.alerts.webhook:NOTIFIER",
})


def build_payload(target: TargetBase, events: Sequence[AlertEvent], templates: Templates, *, digest: bool = False,
                  test: bool = False) -> Payload:
    """The payload for ``target``: of one event, or (``digest``) of many for a target whose channel has digests."""
    if not events:
        raise ValueError("no events to build a message from")
    if not digest and len(events) != 1:
        raise ValueError(f"an immediate message carries one event, not {len(events)}")
    if digest and not target.SUPPORTS_DIGEST:
        raise ValueError(f"a {target.type} target has no digest")
    return NOTIFIERS.get(target.type).build(events, templates, digest, test)


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    """One delivery attempt of ``payload`` to ``target``. ``delivery_id`` must be the same on every retry of the
    same delivery (the webhook sends it as X-Cloudwatchdog-Delivery, email as the Message-ID)."""
    return NOTIFIERS.get(target.type).deliver(target, payload, delivery_id)
