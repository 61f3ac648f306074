"""Rules x resources -> findings. Pure: no I/O; the same input gives the same findings in the same order."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cloudwatchdog.model import Evidence, Finding, Remediation, Resource, Severity
from cloudwatchdog.rules.loader import Escalation, Rule
from cloudwatchdog.rules.match import matches
from cloudwatchdog.rules.templates import shell_quote


def fingerprint(rule_id: str, resource_uid: str) -> str:
    """The finding id: stable across scans, so the state store can follow a finding over time."""
    return hashlib.sha256(f"{rule_id}|{resource_uid}".encode()).hexdigest()[:20]


def evaluate(rules: Sequence[Rule], resources: Iterable[Resource]) -> list[Finding]:
    """Every finding of ``rules`` on ``resources``, ordered by rule id, then resource uid."""
    findings = []
    for resource in resources:
        doc = resource.to_dict()
        for rule in rules:
            finding = _evaluate(rule, resource, doc)
            if finding is not None:
                findings.append(finding)
    findings.sort(key=lambda f: (f.rule_id, f.resource_uid))
    return findings


def evaluate_rule(rule: Rule, resource: Resource) -> Finding | None:
    """The finding of one rule on one resource, or None when the resource is not in the failing state."""
    return _evaluate(rule, resource, resource.to_dict())


def severity_of(rule: Rule, doc: Mapping[str, Any]) -> tuple[Severity, Escalation | None]:
    """The rule severity raised by the highest matching escalation (the first one listed on a tie)."""
    best: Escalation | None = None
    for esc in rule.escalate:
        if (best is None or esc.severity.rank > best.severity.rank) and matches(esc.when, doc):
            best = esc
    if best is None or best.severity.rank <= rule.severity.rank:
        return rule.severity, None
    return best.severity, best


def _evaluate(rule: Rule, resource: Resource, doc: Mapping[str, Any]) -> Finding | None:
    if not rule.applies_to(resource.type) or not matches(rule.match, doc):
        return None
    severity, escalation = severity_of(rule, doc)
    message = rule.message.render(doc)
    if escalation is not None:
        message = f"{message} [{severity.value}: {escalation.reason.render(doc)}]"
    return Finding(
        id=fingerprint(rule.id, resource.uid),
        rule_id=rule.id,
        title=rule.title,
        severity=severity,
        resource_uid=resource.uid,
        provider=resource.provider,
        account=resource.account,
        region=resource.region,
        resource_type=resource.type,
        resource_name=resource.name,
        message=message,
        evidence=(tuple(Evidence(source, detail.render(doc)) for source, detail in rule.evidence)
                  or resource.exposure.evidence),
        remediation=Remediation(
            summary=rule.remediation_summary.render(doc),
            cli=rule.remediation_cli.render(doc, quote=shell_quote) if rule.remediation_cli is not None else None,
        ),
        compliance=rule.compliance,
        account_name=resource.account_name,
    )
