"""One scan: collect -> normalize -> exposure -> rules. I/O happens only in the collectors it calls.

Collectors return raw snapshots (JSON-able API answers per account); everything after that is pure, so a saved
snapshot file can be replayed offline (``scan --from-raw``) and gives the same verdicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.config import Config
from cloudwatchdog.model import Coverage, CoverageStatus, Finding, Level, Resource, Severity
from cloudwatchdog.rules.engine import evaluate
from cloudwatchdog.rules.loader import Rule

Progress = Callable[[str, int], None]
Snapshot = Mapping[str, Any]


@dataclass(frozen=True)
class ScanResult:
    id: str
    started_at: str
    finished_at: str
    coverage: tuple[Coverage, ...]
    resources: tuple[Resource, ...]
    findings: tuple[Finding, ...]
    raw: tuple[Snapshot, ...] = field(default=(), repr=False)  # the provider answers behind this result

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


def collect_snapshots(cfg: Config, progress: Progress | None = None) -> list[Snapshot]:
    """I/O: ask every enabled provider for its raw snapshots."""
    snapshots: list[Snapshot] = []
    aws = cfg.providers.aws
    if aws is not None and aws.enabled:
        # Imported here: the collector pulls in boto3, which a pure `rules test` or `check-policy` never needs.
        from cloudwatchdog.collectors.aws import collect_aws

        snapshots.extend(collect_aws(aws, progress=progress))
    return snapshots


def analyse_snapshots(snapshots: Sequence[Snapshot]) -> tuple[list[Resource], list[Coverage]]:
    """Pure: raw snapshots -> resources with verdicts, and one coverage entry per account."""
    from cloudwatchdog.inventory.aws import account_coverage, account_resources
    from cloudwatchdog.normalize.aws import normalize_account

    resources: list[Resource] = []
    coverage: list[Coverage] = []
    for snapshot in snapshots:
        provider = snapshot.get("provider")
        if provider != "aws":
            account = str(snapshot.get("account", "unknown"))
            coverage.append(Coverage(str(provider), account, CoverageStatus.ERROR, 0,
                                     (f"snapshot of unsupported provider {provider!r}",)))
            continue
        inventory = normalize_account(snapshot)
        found = account_resources(inventory)
        resources.extend(found)
        coverage.append(account_coverage(inventory, found))
    return resources, coverage


def run_scan(cfg: Config, rules: Sequence[Rule], progress: Progress | None = None, *,
             replay: Sequence[Snapshot] | None = None) -> ScanResult:
    """Scan the configured accounts, or (``replay``) re-analyse saved snapshots without any cloud call."""
    started = _now()
    snapshots = list(replay) if replay is not None else collect_snapshots(cfg, progress)
    resources, coverage = analyse_snapshots(snapshots)
    findings = evaluate(rules, resources)
    return ScanResult(
        id=str(uuid.uuid4()),
        started_at=started,
        finished_at=_now(),
        coverage=tuple(coverage),
        resources=tuple(resources),
        findings=tuple(findings),
        raw=tuple(snapshots),
    )
