"""Routing: each target's filters and event lists decide which events it gets."""

from __future__ import annotations

from typing import Any

from cloudwatchdog.alerts.events import EventKind
from cloudwatchdog.alerts.routing import matches, route
from cloudwatchdog.model import Severity
from cloudwatchdog.settings.notifications import PagerDutyTarget, SlackTarget, TargetBase, WebhookTarget

from .samples import event


def slack(**kw: Any) -> TargetBase:
    return SlackTarget.model_validate({"type": "slack", "name": "s", "webhook_url": "https://a.example/", **kw})


def test_min_severity() -> None:
    t = slack(min_severity="high")
    assert matches(t, event(severity=Severity.HIGH))
    assert matches(t, event(severity=Severity.CRITICAL))
    assert not matches(t, event(severity=Severity.MEDIUM))


def test_default_min_severity_is_medium() -> None:
    assert matches(slack(), event(severity=Severity.MEDIUM))
    assert not matches(slack(), event(severity=Severity.LOW))


def test_escalation_is_judged_on_the_new_severity() -> None:
    t = slack(min_severity="critical")
    assert matches(t, event(EventKind.ESCALATED, severity=Severity.CRITICAL, previous=Severity.HIGH))
    assert not matches(t, event(EventKind.ESCALATED, severity=Severity.HIGH, previous=Severity.MEDIUM))


def test_chat_gets_resolved_only_when_asked() -> None:
    assert not matches(slack(), event(EventKind.RESOLVED))
    assert matches(slack(events=["new", "resolved"]), event(EventKind.RESOLVED))
    assert not matches(slack(events=["resolved"]), event(EventKind.NEW))


def test_providers_accounts_rules_with_wildcards() -> None:
    t = slack(providers=["aws"], accounts=["1234567890*"], rules=["aws-s3-*"])
    assert matches(t, event())
    assert not matches(t, event(provider="gcp"))
    assert not matches(t, event(account="999999999999"))
    assert not matches(t, event(rule_id="aws-ec2-snapshot-public"))


def test_tags_every_key_one_of_its_values() -> None:
    t = slack(tags={"env": "prod", "team": ["data", "web"]})
    assert matches(t, event(tags={"env": "prod", "team": "web", "x": "y"}))
    assert not matches(t, event(tags={"env": "prod"}))
    assert not matches(t, event(tags={"env": "dev", "team": "web"}))
    assert not matches(t, event(tags={"env": "prod", "team": "ops"}))
    assert not matches(t, event())


def test_pagerduty_resolve_passes_severity_and_tag_filters() -> None:
    pd = PagerDutyTarget.model_validate({"type": "pagerduty", "name": "pd", "routing_key": "k",
                                         "min_severity": "critical", "tags": {"env": "prod"}, "events": ["new"],
                                         "providers": ["aws"]})
    resolved_low = event(EventKind.RESOLVED, severity=Severity.MEDIUM)
    assert matches(pd, resolved_low), "an incident must not stay open because the finding was de-escalated"
    assert not matches(pd, event(EventKind.NEW, severity=Severity.MEDIUM))
    assert not matches(pd, event(EventKind.ESCALATED, severity=Severity.CRITICAL, tags={"env": "prod"}))
    assert not matches(pd, event(EventKind.RESOLVED, provider="azure")), "a resolve still honours static filters"


def test_route_pairs_in_config_order() -> None:
    targets = [
        slack(name="chat", min_severity="high"),
        WebhookTarget.model_validate({"type": "webhook", "name": "siem", "url": "https://s.example/"}),
    ]
    e_new = event(EventKind.NEW, severity=Severity.CRITICAL)
    e_low = event(EventKind.NEW, severity=Severity.LOW, id="low")
    e_res = event(EventKind.RESOLVED, id="res")
    pairs = route([e_new, e_low, e_res], targets)
    assert [(name, e.finding.id, e.kind.value) for name, e in pairs] == [
        ("chat", e_new.finding.id, "new"),
        ("siem", e_new.finding.id, "new"),
        ("siem", "res", "resolved"),
    ]


def test_wildcards_are_star_and_question_mark_only() -> None:
    assert matches(slack(accounts=["12345678901?"], rules=["aws-s3-bucket-?ublic"]), event())
    # A bracket is itself, not a character class (a shell glob would match "123456789012" here).
    assert not matches(slack(accounts=["[1]23456789012"]), event())
    assert matches(slack(accounts=["[1]23456789012"]), event(account="[1]23456789012"))
