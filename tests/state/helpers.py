"""Builders of scan results for the store tests (plain domain objects; the scans themselves are not run here)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Evidence,
    Exposure,
    Finding,
    Level,
    Remediation,
    Resource,
    ScanResult,
    Severity,
)
from cloudwatchdog.rules.engine import fingerprint
from cloudwatchdog.state.timefmt import iso

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ACCOUNT = "111111111111"
_ids = itertools.count()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def bucket(name: str, level: Level = Level.PUBLIC, *, latent: bool = False, account: str = ACCOUNT,
           write: bool = False) -> Resource:
    return Resource(uid=f"arn:aws:s3:::{name}", provider="aws", account=account, region="us-east-1",
                    type="aws.s3.bucket", name=name,
                    exposure=Exposure(level=level, latent=latent, read=level is Level.PUBLIC, write=write,
                                      evidence=(Evidence("bucket-policy", f"{name} policy"),)))


def public_finding(r: Resource, severity: Severity = Severity.CRITICAL,
                   rule: str = "aws-s3-bucket-public") -> Finding:
    return Finding(id=fingerprint(rule, r.uid), rule_id=rule, title=f"{rule} title", severity=severity,
                   resource_uid=r.uid, provider=r.provider, account=r.account, region=r.region,
                   resource_type=r.type, resource_name=r.name, message=f"{r.name} is public",
                   evidence=r.exposure.evidence, remediation=Remediation("fix it", f"aws s3 fix {r.name}"),
                   compliance=("CIS 2.1.4",))


def scan(resources: Sequence[Resource], findings: Sequence[Finding] = (), *, when: datetime = T0,
         status: CoverageStatus = CoverageStatus.OK, accounts: Sequence[str] = (ACCOUNT,),
         errors: Sequence[str] = ()) -> ScanResult:
    """A scan of ``accounts`` that saw ``resources``; by default every public, non-latent one gets a finding."""
    if not findings:
        findings = [public_finding(r) for r in resources if r.exposure.level is Level.PUBLIC and not r.exposure.latent]
    return ScanResult(
        id=f"scan-{next(_ids)}",
        started_at=iso(when - timedelta(minutes=5)),
        finished_at=iso(when),
        coverage=tuple(Coverage("aws", a, status, sum(1 for r in resources if r.account == a), tuple(errors), 3)
                       for a in accounts),
        resources=tuple(resources),
        findings=tuple(findings),
    )
