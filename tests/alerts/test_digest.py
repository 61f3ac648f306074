"""Digests: the events piled up for a digest target become one message, ordered, without repeats."""

from __future__ import annotations

from cloudwatchdog.alerts.digest import build_digests, digest_order
from cloudwatchdog.alerts.events import EventKind
from cloudwatchdog.alerts.routing import route
from cloudwatchdog.alerts.templates import Templates
from cloudwatchdog.model import Severity
from cloudwatchdog.settings.notifications import EmailTarget, SlackTarget, TargetBase

from .samples import event


def test_order_and_duplicates() -> None:
    resolved = event(EventKind.RESOLVED, id="r", severity=Severity.CRITICAL)
    low = event(id="low", severity=Severity.LOW, resource_name="b")
    crit = event(id="crit", severity=Severity.CRITICAL, resource_name="z")
    esc = event(EventKind.ESCALATED, id="esc", severity=Severity.HIGH, previous=Severity.MEDIUM)
    ordered = digest_order([resolved, low, esc, crit, low])
    assert [e.finding.id for e in ordered] == ["crit", "low", "esc", "r"]


def test_one_message_per_digest_target() -> None:
    targets: list[TargetBase] = [
        EmailTarget.model_validate({"type": "email", "name": "daily", "host": "h", "from": "a@b.example",
                                    "to": ["c@d.example"], "mode": "digest", "min_severity": "low",
                                    "events": ["new", "resolved"]}),
        SlackTarget.model_validate({"type": "slack", "name": "now", "webhook_url": "https://hooks.example/x"}),
    ]
    events = [event(id="a", resource_name="bucket-a"), event(id="b", resource_name="bucket-b", severity=Severity.LOW),
              event(EventKind.RESOLVED, id="c", resource_name="bucket-c")]
    routed = route(events, targets)
    digests = build_digests(routed, targets, lambda t: Templates())
    assert [name for name, _ in digests] == ["daily"]  # the immediate target is not digested
    (_, payload) = digests[0]
    assert payload["subject"] == "cloudwatchdog: 3 finding changes (2 new, 1 resolved)"
    assert all(f"bucket-{x}" in payload["text"] for x in "abc")
    assert build_digests([], targets, lambda t: Templates()) == []
