"""One scan: collect -> normalize -> exposure -> rules. I/O happens only in the collectors it calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cloudwatchdog.config import Config
from cloudwatchdog.model import Coverage, CoverageStatus, Finding, Level, Resource, Severity
from cloudwatchdog.rules.engine import evaluate
from cloudwatchdog.rules.loader import Rule

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ScanResult:
    id: str
    started_at: str
    finished_at: str
    coverage: tuple[Coverage, ...]
    resources: tuple[Resource, ...]
    findings: tuple[Finding, ...]

    @property
    def complete(self) -> bool:
        return all(c.status is CoverageStatus.OK for c in self.coverage) and bool(self.coverage)

    def findings_at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity.rank >= severity.rank]

    def count_by_level(self) -> dict[str, int]:
        counts = {level.value: 0 for level in Level}
        counts["latent"] = 0
        for r in self.resources:
            counts[r.exposure.level.value] += 1
            if r.exposure.latent:
                counts["latent"] += 1
        return counts


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def collect_resources(cfg: Config, progress: Progress | None = None) -> tuple[list[Resource], list[Coverage]]:
    resources: list[Resource] = []
    coverage: list[Coverage] = []
    aws = cfg.providers.aws
    if aws is not None and aws.enabled:
        # Imported here: the collector pulls in boto3, which a pure `rules test` or `check-policy` never needs.
        from cloudwatchdog.collectors.aws import collect_aws
        from cloudwatchdog.inventory.aws import account_coverage, account_resources
        from cloudwatchdog.normalize.aws import normalize_account

        for snapshot in collect_aws(aws, progress=progress):
            inventory = normalize_account(snapshot)
            found = account_resources(inventory)
            resources.extend(found)
            coverage.append(account_coverage(inventory, found))
    return resources, coverage


def run_scan(cfg: Config, rules: Sequence[Rule], progress: Progress | None = None) -> ScanResult:
    started = _now()
    resources, coverage = collect_resources(cfg, progress)
    findings = evaluate(rules, resources)
    return ScanResult(
        id=str(uuid.uuid4()),
        started_at=started,
        finished_at=_now(),
        coverage=tuple(coverage),
        resources=tuple(resources),
        findings=tuple(findings),
    )
