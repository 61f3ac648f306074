"""Generic webhook: POST ``{"event": "finding.<kind>", "at", "finding"}`` as JSON.

Headers: ``X-Cloudwatchdog-Event`` (the event name), ``X-Cloudwatchdog-Delivery`` (a stable id per delivery: the
same on every retry, so a receiver can drop duplicates) and, when a secret is set, ``X-Cloudwatchdog-Signature:
sha256=<hex>``, the HMAC-SHA256 of the raw request body with the secret. A receiver verifies it by computing the
HMAC over the bytes it received (not a re-serialised copy) and comparing in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.messages import Payload, webhook_body
from cloudwatchdog.alerts.notifier import Channel
from cloudwatchdog.settings.notifications import TargetBase, WebhookTarget

SIGNATURE_HEADER = "X-Cloudwatchdog-Signature"
DELIVERY_HEADER = "X-Cloudwatchdog-Delivery"
EVENT_HEADER = "X-Cloudwatchdog-Event"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, WebhookTarget):
        raise TypeError(f"not a webhook target: {target.type}")
    from cloudwatchdog.alerts.http import post  # httpx: only when delivering

    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {name: value.get_secret_value() for name, value in target.headers.items()}
    headers.update({
        "Content-Type": "application/json; charset=utf-8",
        EVENT_HEADER: str(payload.get("event", "")),
        DELIVERY_HEADER: delivery_id,
    })
    secrets = [v.get_secret_value() for v in target.headers.values()]
    if target.secret is not None:
        secret = target.secret.get_secret_value()
        headers[SIGNATURE_HEADER] = signature(secret, body)
        secrets.append(secret)
    return post(target.url.get_secret_value(), body, headers, timeout=target.timeout, target=target.label,
                secrets=secrets)


NOTIFIER = Channel("webhook", webhook_body, deliver)
