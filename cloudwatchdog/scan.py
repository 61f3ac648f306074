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
from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Finding,
    FindingState,
    Level,
    Resource,
    Severity,
    counts_as_exposed,
)
from cloudwatchdog.providers import PROVIDERS
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
    # Findings this scan resolved (state resolved), known only when the scan is recorded in the state store.
    resolved: tuple[Finding, ...] = ()

    @property
    def complete(self) -> bool:
        return all(c.status is CoverageStatus.OK for c in self.coverage) and bool(self.coverage)

    def findings_at_or_above(self, severity: Severity) -> list[Finding]:
        """Active findings (not suppressed) at or above ``severity``: what ``--fail-on`` counts."""
        return [f for f in self.findings
                if f.severity.rank >= severity.rank and f.state is not FindingState.SUPPRESSED]

    def count_by_level(self) -> dict[str, int]:
        """Resources by verdict (and latent), each exposed thing once: aggregate types are left out, unless their
        verdict is unknown (an unknown is never hidden)."""
        counts = {level.value: 0 for level in Level}
        counts["latent"] = 0
        for r in self.resources:
            if not counts_as_exposed(r) and r.exposure.level is not Level.UNKNOWN:
                continue
            counts[r.exposure.level.value] += 1
            if r.exposure.latent:
                counts["latent"] += 1
        return counts


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def collect_snapshots(cfg: Config, progress: Progress | None = None) -> list[Snapshot]:
    """I/O: ask every enabled provider for its raw snapshots."""
    snapshots: list[Snapshot] = []
    for name, provider in PROVIDERS.items():
        section = getattr(cfg.providers, name)
        if section is not None and section.enabled:
            snapshots.extend(provider.load_collector()(section, progress=progress))
    return snapshots


def analyse_snapshots(snapshots: Sequence[Snapshot]) -> tuple[list[Resource], list[Coverage]]:
    """Pure: raw snapshots -> resources with verdicts, and one coverage entry per account."""
    resources: list[Resource] = []
    coverage: list[Coverage] = []
    for snapshot in snapshots:
        provider = PROVIDERS.get(str(snapshot.get("provider")))
        if provider is None:
            account = str(snapshot.get("account", "unknown"))
            coverage.append(Coverage(str(snapshot.get("provider")), account, CoverageStatus.ERROR, 0,
                                     (f"snapshot of unsupported provider {snapshot.get('provider')!r}",)))
            continue
        found, cov = provider.load_analyser()(snapshot)
        resources.extend(found)
        coverage.append(cov)
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
