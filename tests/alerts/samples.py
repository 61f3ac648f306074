"""Findings and events for the alert tests. Names hold markup on purpose where a test says so."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cloudwatchdog.alerts.events import AlertEvent, EventKind
from cloudwatchdog.model import Evidence, Finding, FindingState, Remediation, Severity

HOSTILE_NAME = "<!channel> <https://evil.example|click> & **bold** [x](https://evil.example) <b>hi</b>"


def finding(**changes: Any) -> Finding:
    base = Finding(
        id="3f2a9c0d1e4b5a6f7081",
        rule_id="aws-s3-bucket-public",
        title="S3 bucket is accessible to anyone on the internet",
        severity=Severity.HIGH,
        resource_uid="arn:aws:s3:::acme-public-assets",
        provider="aws",
        account="123456789012",
        region="eu-west-1",
        resource_type="aws.s3.bucket",
        resource_name="acme-public-assets",
        message="Bucket acme-public-assets in 123456789012 is public: policy statement 0 allows s3:GetObject to *",
        evidence=(Evidence("bucket-policy", "Statement 0 (Sid PublicRead) allows s3:GetObject to *"),),
        remediation=Remediation("Remove the public statement or turn on Block Public Access",
                                "aws s3api put-public-access-block --bucket acme-public-assets ..."),
        state=FindingState.NEW,
        first_seen="2026-03-01T10:00:00Z",
        last_seen="2026-03-01T10:00:00Z",
    )
    return replace(base, **changes)


def event(kind: EventKind = EventKind.NEW, at: str = "2026-03-01T10:00:00Z", tags: dict[str, str] | None = None,
          previous: Severity | None = None, **finding_changes: Any) -> AlertEvent:
    return AlertEvent(kind, finding(**finding_changes), at, previous, tags or {})
