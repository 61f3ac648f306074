"""PagerDuty Events API v2: POST the event to the enqueue endpoint with the routing key added here (the stored
payload never holds it). The finding id is the dedup_key, so a repeated trigger updates the same alert and the
resolve closes it.

Two things differ from the other channels. A resolve gets past the target's severity and tag filters: both can
change while an incident is open (a finding de-escalated, a tag edited), and an incident must never stay open
because its resolve was filtered out (PagerDuty drops a resolve for an alert it never opened, so the extra resolves
cost nothing). And the test alert is a trigger at severity `info` followed by its resolve, so no incident stays
open (it may still notify whoever is on call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.messages import Payload, pagerduty_event
from cloudwatchdog.alerts.notifier import sample_event, test_delivery_id
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.model import Severity
from cloudwatchdog.settings.notifications import PagerDutyTarget, TargetBase


def deliver(target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
    if not isinstance(target, PagerDutyTarget):
        raise TypeError(f"not a pagerduty target: {target.type}")
    from cloudwatchdog.alerts.http import post  # httpx: only when delivering

    key = target.routing_key.get_secret_value()
    body = json.dumps({"routing_key": key, **payload}, ensure_ascii=False).encode()
    return post(target.events_url, body, {"Content-Type": "application/json"}, timeout=target.timeout,
                target=target.label, secrets=[key])


class PagerDuty:
    type = "pagerduty"

    def build(self, events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
        return pagerduty_event(events, templates, digest, test)

    def deliver(self, target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
        return deliver(target, payload, delivery_id)

    def bypasses_filters(self, event: AlertEvent) -> bool:
        return event.kind is EventKind.RESOLVED

    def send_test(self, target: TargetBase, templates: Templates, at: str) -> DeliveryResult:
        delivery = test_delivery_id()
        event = sample_event(at, Severity.INFO)
        trigger = self.deliver(target, self.build([event], templates, False, True), delivery)
        if not trigger.ok:
            return trigger
        resolved = AlertEvent(EventKind.RESOLVED, event.finding, at)
        resolve = self.deliver(target, self.build([resolved], templates, False, True), delivery + "-resolve")
        if not resolve.ok:
            return DeliveryResult(False, resolve.retryable, resolve.status,
                                  f"the test trigger went through but its resolve failed: {resolve.error}",
                                  resolve.retry_after)
        return trigger


NOTIFIER = PagerDuty()
