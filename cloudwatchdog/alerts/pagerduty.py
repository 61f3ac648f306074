"""PagerDuty Events API v2: POST the event to the enqueue endpoint with the routing key added here (the stored
payload never holds it). The finding id is the dedup_key, so a repeated trigger updates the same alert and the
resolve closes it."""

from __future__ import annotations

import json

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.http import post
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.settings.notifications import PagerDutyTarget, TargetBase


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, PagerDutyTarget):
        raise TypeError(f"not a pagerduty target: {target.type}")
    key = target.routing_key.get_secret_value()
    body = json.dumps({"routing_key": key, **payload}, ensure_ascii=False).encode()
    return post(target.events_url, body, {"Content-Type": "application/json"}, timeout=target.timeout,
                target=target.label, secrets=[key])
