"""One scan: collect -> normalize -> exposure -> rules. I/O happens only in the collectors it calls.

Collectors return raw snapshots (JSON-able API answers per account); everything after that is pure, so a saved
snapshot file can be replayed offline (``scan --from-raw``) and gives the same verdicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from cloudwatchdog.config import Config
from cloudwatchdog.model import Coverage, CoverageStatus, Resource, ScanResult, Snapshot
from cloudwatchdog.providers.base import Progress
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules.engine import evaluate
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.text import scrub_value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def collect_snapshots(cfg: Config, progress: Progress | None = None) -> list[Snapshot]:
    """I/O: ask every enabled provider for its raw snapshots."""
    snapshots: list[Snapshot] = []
    for name, section in cfg.providers.enabled().items():
        provider = PROVIDERS.get(name)
        snapshots.extend(provider.collect(section, _labelled(progress, f"{provider.title} {provider.account_noun}")))
    return snapshots


def _labelled(progress: Progress | None, what: str) -> Progress | None:
    """Progress whose account-start events say which cloud and what kind of account ("AWS account 1234...")."""
    if progress is None:
        return None
    report = progress

    def labelled(label: str, advance: int) -> None:
        report(f"{what} {label}" if advance == 0 else label, advance)

    return labelled


def analyse_snapshots(snapshots: Sequence[Snapshot]) -> tuple[list[Resource], list[Coverage]]:
    """Pure: raw snapshots -> resources with verdicts, and one coverage entry per account."""
    resources: list[Resource] = []
    coverage: list[Coverage] = []
    for snapshot in snapshots:
        name = str(snapshot.get("provider"))
        if name not in PROVIDERS:
            account = str(snapshot.get("account", "unknown"))
            coverage.append(Coverage(str(snapshot.get("provider")), account, CoverageStatus.ERROR, 0,
                                     (f"snapshot of unsupported provider {snapshot.get('provider')!r}",)))
            continue
        found, cov = PROVIDERS.get(name).analyse(snapshot)
        resources.extend(found)
        coverage.append(cov)
    return resources, coverage


def run_scan(cfg: Config, rules: Sequence[Rule], progress: Progress | None = None, *,
             replay: Sequence[Snapshot] | None = None) -> ScanResult:
    """Scan the configured accounts, or (``replay``) re-analyse saved snapshots without any cloud call."""
    started = _now()
    raw = list(replay) if replay is not None else collect_snapshots(cfg, progress)
    # Untrusted text from the cloud (or the file): a lone surrogate must not crash the report or the store.
    snapshots: list[Snapshot] = [scrub_value(s) for s in raw]
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
