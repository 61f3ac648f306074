"""What a notification channel is: the ``Notifier`` protocol, and ``Channel``, the usual implementation.

A notifier builds its message (pure: events -> a JSON-able payload that holds no secret; the builders are in
messages.py) and delivers it (I/O: one attempt). What is particular to one channel lives in its own module: which
events get past the target's severity and tag filters (PagerDuty's resolves), and what ``alerts test`` sends
(PagerDuty's trigger and its resolve). Channel modules import their network library when delivering, so routing and
building a message never import one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.messages import Payload
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.model import Evidence, Finding, FindingState, Remediation, Severity
from cloudwatchdog.settings.notifications import TargetBase

Builder = Callable[[Sequence[AlertEvent], Templates, bool, bool], Payload]
Deliver = Callable[[TargetBase, Payload, str], DeliveryResult]


@runtime_checkable
class Notifier(Protocol):
    type: str  # the `type:` of a notification target

    def build(self, events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
        """The payload of one event, or (``digest``) of many."""

    def deliver(self, target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
        """One delivery attempt; ``delivery_id`` is the same on every retry of the same delivery."""

    def bypasses_filters(self, event: AlertEvent) -> bool:
        """Whether ``event`` reaches the target whatever its severity and tag filters say."""

    def send_test(self, target: TargetBase, templates: Templates, at: str) -> DeliveryResult:
        """`alerts test`: a sample alert through ``target``, delivered once."""


def sample_event(at: str, severity: Severity = Severity.HIGH) -> AlertEvent:
    """An obviously fake finding ("cloudwatchdog-test-bucket" of provider "test"), new at ``at``."""
    fid = "test-" + uuid.uuid4().hex[:15]
    finding = Finding(
        id=fid,
        rule_id="cloudwatchdog-test-alert",
        title="Test alert from cloudwatchdog",
        severity=severity,
        resource_uid="cloudwatchdog-test://bucket/cloudwatchdog-test-bucket",
        provider="test",
        account="000000000000",
        region="test-region",
        resource_type="test.bucket",
        resource_name="cloudwatchdog-test-bucket",
        message="This is a test alert: the notification target's settings work. No action is needed.",
        evidence=(Evidence("test", "sent by `cloudwatchdog alerts test`"),),
        remediation=Remediation("Nothing to fix: this finding is not real."),
        state=FindingState.NEW,
        first_seen=at,
        last_seen=at,
    )
    return AlertEvent(EventKind.NEW, finding, at)


def test_delivery_id() -> str:
    return "test-" + uuid.uuid4().hex


@dataclass(frozen=True)
class Channel:
    type: str
    builder: Builder
    deliverer: Deliver

    def build(self, events: Sequence[AlertEvent], templates: Templates, digest: bool, test: bool) -> Payload:
        return self.builder(events, templates, digest, test)

    def deliver(self, target: TargetBase, payload: Payload, delivery_id: str) -> DeliveryResult:
        return self.deliverer(target, payload, delivery_id)

    def bypasses_filters(self, event: AlertEvent) -> bool:
        return False

    def send_test(self, target: TargetBase, templates: Templates, at: str) -> DeliveryResult:
        event = sample_event(at)
        return self.deliver(target, self.build([event], templates, False, True), test_delivery_id())
