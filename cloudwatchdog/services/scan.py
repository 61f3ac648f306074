"""One scan: collect -> normalize -> exposure -> rules. I/O happens only in the collectors it calls.

Collectors return raw snapshots (JSON-able API answers per account); everything after that is pure, so a saved
snapshot file can be replayed offline (``scan --from-raw``) and gives the same verdicts.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.config import Config
from cloudwatchdog.data.budget import Budget, ResultCache
from cloudwatchdog.model import Coverage, CoverageStatus, DataSample, Finding, Resource, ScanResult, Snapshot
from cloudwatchdog.providers.base import Progress
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules.engine import evaluate
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.exposure_checks import check_access_logging, verify_anonymously
from cloudwatchdog.services.shared import SharedParts
from cloudwatchdog.settings.data_sampling import DataSamplingConfig
from cloudwatchdog.text import scrub_value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _start() -> tuple[str, str]:
    """Now to the second (a scan's ``started_at``) and to the microsecond (its ``started_at_exact``)."""
    now = datetime.now(UTC)
    return (now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            now.isoformat(timespec="microseconds").replace("+00:00", "Z"))


def collect_snapshots(cfg: Config, progress: Progress | None = None) -> Iterator[Snapshot]:
    """I/O: every enabled provider's raw snapshots, one account at a time as each is read."""
    for name, section in cfg.providers.enabled().items():
        provider = PROVIDERS.get(name)
        yield from provider.collect(section, _labelled(progress, f"{provider.title} {provider.account_noun}"))


def _labelled(progress: Progress | None, what: str) -> Progress | None:
    """Progress whose account-start events say which cloud and what kind of account ("AWS account 1234...")."""
    if progress is None:
        return None
    report = progress

    def labelled(label: str, advance: int) -> None:
        report(f"{what} {label}" if advance == 0 else label, advance)

    return labelled


def analyse_snapshots(snapshots: Iterable[Snapshot]) -> tuple[list[Resource], list[Coverage]]:
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
        # Every resource says whose it is, by name too; equal parts of the account's resources are held once.
        shared = SharedParts()
        resources.extend(shared.resource(r, cov.name) for r in found)
        coverage.append(cov)
    return resources, coverage


def _letting_go(snapshots: list[Snapshot], holders: Sequence[list[Any]]) -> Iterator[Snapshot]:
    """Each snapshot in turn, no longer held by ``holders`` once it is handed out: an account's raw answers are let
    go as soon as it is analysed, not held until every account is."""
    for i, snapshot in enumerate(snapshots):
        for held in holders:
            held[i] = None
        yield snapshot


def _handed(snapshots: Iterable[Snapshot], sink: Callable[[Snapshot], None] | None) -> Iterator[Snapshot]:
    """Each snapshot, given to ``sink`` (when there is one) before it is analysed."""
    for snapshot in snapshots:
        if sink is not None:
            sink(snapshot)
        yield snapshot


def qualifies(resource: Resource, sampling: DataSamplingConfig) -> bool:
    """Whether data sampling reads this resource's objects: its verdict is one of ``levels`` (or latent, when
    configured); aggregates (accounts) hold no objects of their own."""
    if resource.aggregate:
        return False
    return resource.exposure.level.value in sampling.levels or (sampling.latent and resource.exposure.latent)


def sample_data(cfg: Config, resources: Sequence[Resource], cache: ResultCache | None = None) -> list[Resource]:
    """I/O: with data sampling on, each provider samples its qualifying resources; the result rides on the
    resource (``Resource.data``) for the rules and the outputs. One per-scan byte budget for every provider."""
    sampling = cfg.data_sampling
    if not sampling.enabled:
        return list(resources)
    budget = Budget(sampling.scan_byte_budget, cache)
    found: dict[str, DataSample] = {}
    for name, section in cfg.providers.enabled().items():
        mine = [r for r in resources if r.provider == name]
        chosen = [r for r in mine if qualifies(r, sampling)]
        if chosen:
            found.update(PROVIDERS.get(name).sample(section, chosen, sampling, budget, mine))
    return [dataclasses.replace(r, data=found[r.uid]) if r.uid in found else r for r in resources]


def judge(cfg: Config, rules: Sequence[Rule], resources: Sequence[Resource],
          sample_cache: ResultCache | None = None) -> tuple[list[Resource], list[Finding]]:
    """I/O, after the analysis of what was just read from the clouds (a scan, a targeted rescan, a distributed
    scan's units): data sampling, the rules, then on the findings whether access logging records each exposure and
    (``verify: {anonymous: true}``) what an unauthenticated request answers."""
    sampled = sample_data(cfg, resources, sample_cache)
    findings = evaluate(rules, sampled)
    return sampled, verify_anonymously(cfg, sampled, check_access_logging(cfg, sampled, findings))


def run_scan(cfg: Config, rules: Sequence[Rule], progress: Progress | None = None, *,
             replay: Iterable[Snapshot] | None = None, sample_cache: ResultCache | None = None,
             keep_raw: bool = True, raw_sink: Callable[[Snapshot], None] | None = None) -> ScanResult:
    """Scan the configured accounts, or (``replay``) re-analyse saved snapshots without any cloud call.
    ``sample_cache``: data sampling's earlier results per object version (the state store's). ``keep_raw=False``:
    the raw answers are let go once analysed (``ScanResult.raw`` is empty; ``replay``, when a list, is emptied),
    so they are not held through judging, recording and the outputs: the collectors' accounts (or ``replay``, an
    iterator) are read, analysed and let go one at a time. ``raw_sink``: given each account's raw answers as it is
    analysed (``--save-raw`` writes them to its file as the scan goes: with ``keep_raw=False`` they are not held
    for it)."""
    started, exact = _start()
    snapshots: list[Snapshot] = []
    source = replay if replay is not None else collect_snapshots(cfg, progress)
    if not keep_raw and not isinstance(source, Sequence):
        # A stream (the collectors', or services.raw.stream_raw's): one account's answers read, scrubbed and
        # analysed at a time, then let go.
        try:
            resources, coverage = analyse_snapshots(_handed((scrub_value(s) for s in source), raw_sink))
        finally:  # on an error too: the collectors' pools stop and their reads queued ahead are cancelled
            close = getattr(source, "close", None)
            if close is not None:
                close()
    else:
        raw = list(source)
        # Untrusted text from the cloud (or the file): a lone surrogate must not crash the report or the store.
        snapshots = [scrub_value(s) for s in raw]
        if keep_raw:
            resources, coverage = analyse_snapshots(_handed(snapshots, raw_sink))
        else:
            holders = [raw, snapshots, *([replay] if isinstance(replay, list) else [])]
            resources, coverage = analyse_snapshots(_handed(_letting_go(snapshots, holders), raw_sink))
            for held in holders:
                held.clear()
    if replay is None:
        resources, findings = judge(cfg, rules, resources, sample_cache)
    else:  # a replay makes no cloud call: nothing is sampled, logging is not checked, nothing is probed
        findings = evaluate(rules, resources)
    return ScanResult(
        id=str(uuid.uuid4()),
        started_at=started,
        finished_at=_now(),
        coverage=tuple(coverage),
        resources=tuple(resources),
        findings=tuple(findings),
        raw=tuple(snapshots),
        started_at_exact=exact,
    )
