"""The notification channels by `type`: one line each, plain and greppable.

A channel is a message builder (pure: events -> JSON-able payload, in messages.py) and a deliver function (I/O:
one attempt, ``(target, payload, delivery_id) -> DeliveryResult``, in the channel's own module). Both are named by
import path and loaded when used, so building messages never imports an HTTP or SMTP library. A new channel is a
target model in settings/notifications.py, a builder, a module with ``deliver``, and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.events import AlertEvent
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.settings.notifications import TargetBase

Builder = Callable[[Sequence[AlertEvent], Templates, bool, bool], Payload]
Deliver = Callable[[TargetBase, Payload, str], DeliveryResult]


@dataclass(frozen=True)
class Channel:
    type: str
    builder: str  # "module:function"
    deliverer: str  # "module:function"

    def load_builder(self) -> Builder:
        return cast(Builder, _load(self.builder))

    def load_deliver(self) -> Deliver:
        return cast(Deliver, _load(self.deliverer))


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


CHANNELS: dict[str, Channel] = {
    "slack": Channel("slack", "cloudwatchdog.alerts.messages:slack_message", "cloudwatchdog.alerts.slack:deliver"),
    "teams": Channel("teams", "cloudwatchdog.alerts.messages:teams_message", "cloudwatchdog.alerts.teams:deliver"),
    "email": Channel("email", "cloudwatchdog.alerts.messages:email_message", "cloudwatchdog.alerts.email:deliver"),
    "pagerduty": Channel("pagerduty", "cloudwatchdog.alerts.messages:pagerduty_event",
                         "cloudwatchdog.alerts.pagerduty:deliver"),
    "webhook": Channel("webhook", "cloudwatchdog.alerts.messages:webhook_body", "cloudwatchdog.alerts.webhook:deliver"),
}


def build_payload(target: TargetBase, events: Sequence[AlertEvent], templates: Templates, *, digest: bool = False,
                  test: bool = False) -> Payload:
    """The payload for ``target``: of one event, or (``digest``) of many for a target whose channel has digests."""
    if not events:
        raise ValueError("no events to build a message from")
    if not digest and len(events) != 1:
        raise ValueError(f"an immediate message carries one event, not {len(events)}")
    if digest and not target.SUPPORTS_DIGEST:
        raise ValueError(f"a {target.type} target has no digest")
    return CHANNELS[target.type].load_builder()(events, templates, digest, test)


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    """One delivery attempt of ``payload`` to ``target``. ``delivery_id`` must be the same on every retry of the
    same delivery (the webhook sends it as X-Cloudwatchdog-Delivery, email as the Message-ID)."""
    return CHANNELS[target.type].load_deliver()(target, payload, delivery_id)
