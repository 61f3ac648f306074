"""Microsoft Teams workflow webhook: POST the message with its Adaptive Card attachment as JSON."""

from __future__ import annotations

import json

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.http import post
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.settings.notifications import TargetBase, TeamsTarget


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, TeamsTarget):
        raise TypeError(f"not a teams target: {target.type}")
    body = json.dumps(payload, ensure_ascii=False).encode()
    return post(target.webhook_url.get_secret_value(), body, {"Content-Type": "application/json; charset=utf-8"},
                timeout=target.timeout, target=target.label)
