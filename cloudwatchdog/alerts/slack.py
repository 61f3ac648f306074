"""Slack incoming webhook: POST the Block Kit payload as JSON."""

from __future__ import annotations

import json

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.messages import Payload, slack_message
from cloudwatchdog.alerts.notifier import Channel
from cloudwatchdog.settings.notifications import SlackTarget, TargetBase


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, SlackTarget):
        raise TypeError(f"not a slack target: {target.type}")
    from cloudwatchdog.alerts.http import post  # httpx: only when delivering

    body = json.dumps(payload, ensure_ascii=False).encode()
    return post(target.webhook_url.get_secret_value(), body, {"Content-Type": "application/json; charset=utf-8"},
                timeout=target.timeout, target=target.label)


NOTIFIER = Channel("slack", slack_message, deliver)
