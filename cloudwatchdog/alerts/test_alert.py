"""`cloudwatchdog alerts test TARGET`: send a sample alert through one target, to check its settings.

The sample is an obviously fake finding ("cloudwatchdog-test-bucket") sent as a new finding, rendered with the
target's own templates and delivered once (no retry: the point is to see the error). PagerDuty gets a trigger at
severity `info` followed by its resolve, so no incident stays open (it may still notify whoever is on call).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cloudwatchdog.alerts.delivery import DeliveryResult
from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.alerts.registry import build_payload, deliver
from cloudwatchdog.alerts.targets import find_target, templates_for
from cloudwatchdog.config import Config
from cloudwatchdog.model import Evidence, Finding, FindingState, Remediation, Severity
from cloudwatchdog.settings.notifications import PagerDutyTarget


def sample_event(at: str, severity: Severity = Severity.HIGH) -> AlertEvent:
    fid = "test-" + uuid.uuid4().hex[:15]
    finding = Finding(
        id=fid,
        rule_id="cloudwatchdog-test-alert",
        title="Test alert from cloudwatchdog",
        severity=severity,
        resource_uid="arn:aws:s3:::cloudwatchdog-test-bucket",
        provider="aws",
        account="000000000000",
        region="us-east-1",
        resource_type="aws.s3.bucket",
        resource_name="cloudwatchdog-test-bucket",
        message="This is a test alert: the notification target's settings work. No action is needed.",
        evidence=(Evidence("test", "sent by `cloudwatchdog alerts test`"),),
        remediation=Remediation("Nothing to fix: this finding is not real."),
        state=FindingState.NEW,
        first_seen=at,
        last_seen=at,
    )
    return AlertEvent(EventKind.NEW, finding, at)


def send_test_alert(cfg: Config, target_name: str) -> DeliveryResult:
    """Send a sample alert through the target named ``target_name``; raises ``UnknownTarget`` for a bad name."""
    target = find_target(cfg, target_name)
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    delivery = "test-" + uuid.uuid4().hex
    templates = templates_for(target)
    if isinstance(target, PagerDutyTarget):
        event = sample_event(at, Severity.INFO)
        trigger = deliver(target, build_payload(target, [event], templates, test=True), delivery)
        if not trigger.ok:
            return trigger
        resolved = AlertEvent(EventKind.RESOLVED, event.finding, at)
        resolve = deliver(target, build_payload(target, [resolved], templates, test=True), delivery + "-resolve")
        if not resolve.ok:
            return DeliveryResult(False, resolve.retryable, resolve.status,
                                  f"the test trigger went through but its resolve failed: {resolve.error}",
                                  resolve.retry_after)
        return trigger
    event = sample_event(at)
    return deliver(target, build_payload(target, [event], templates, test=True), delivery)
