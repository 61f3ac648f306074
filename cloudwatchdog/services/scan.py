"""One scan: collect -> normalize -> exposure -> rules. I/O happens only in the collectors it calls.

Collectors return raw snapshots (JSON-able API answers per account); everything after that is pure, so a saved
snapshot file can be replayed offline (``scan --from-raw``) and gives the same verdicts.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from cloudwatchdog.config import Config
from cloudwatchdog.data.budget import Budget, ResultCache
from cloudwatchdog.model import (
    AccessLogging,
    Coverage,
    CoverageStatus,
    DataSample,
    Finding,
    Level,
    Probe,
    Resource,
    ScanResult,
    Snapshot,
)
from cloudwatchdog.providers.base import Progress
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules.engine import evaluate
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.settings.data_sampling import DataSamplingConfig
from cloudwatchdog.text import scrub_value

log = logging.getLogger(__name__)


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
        if cov.name:  # every resource says whose it is, by name too
            found = [dataclasses.replace(r, account_name=cov.name) for r in found]
        resources.extend(found)
        coverage.append(cov)
    return resources, coverage


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


def run_scan(cfg: Config, rules: Sequence[Rule], progress: Progress | None = None, *,
             replay: Sequence[Snapshot] | None = None, sample_cache: ResultCache | None = None) -> ScanResult:
    """Scan the configured accounts, or (``replay``) re-analyse saved snapshots without any cloud call.
    ``sample_cache``: data sampling's earlier results per object version (the state store's)."""
    started = _now()
    raw = list(replay) if replay is not None else collect_snapshots(cfg, progress)
    # Untrusted text from the cloud (or the file): a lone surrogate must not crash the report or the store.
    snapshots: list[Snapshot] = [scrub_value(s) for s in raw]
    resources, coverage = analyse_snapshots(snapshots)
    if replay is None:  # a replay makes no cloud call: nothing is sampled
        resources = sample_data(cfg, resources, sample_cache)
    findings = evaluate(rules, resources)
    if replay is None:  # a replay makes no cloud call: logging is not checked
        findings = verify_anonymously(cfg, resources, check_access_logging(cfg, resources, findings))
    return ScanResult(
        id=str(uuid.uuid4()),
        started_at=started,
        finished_at=_now(),
        coverage=tuple(coverage),
        resources=tuple(resources),
        findings=tuple(findings),
        raw=tuple(snapshots),
    )


def check_access_logging(cfg: Config, resources: Sequence[Resource], findings: Sequence[Finding]) -> list[Finding]:
    """I/O, after the analysis: for the exposed resources (public or cross-account) that have a finding, whether
    access logs record their requests (``cloudwatchdog incident`` reads them); each finding on such a resource says
    so (``Finding.access_logging``). A provider that fails here marks its resources unknown, never fails the scan."""
    flagged = {f.resource_uid for f in findings}
    exposed = [r for r in resources if r.uid in flagged and not r.aggregate
               and r.exposure.level in (Level.PUBLIC, Level.CROSS_ACCOUNT)]
    found: dict[str, AccessLogging] = {}
    for name, section in cfg.providers.enabled().items():
        mine = [r for r in exposed if r.provider == name]
        if not mine:
            continue
        try:
            found.update(PROVIDERS.get(name).access_logging(section, mine))
        except Exception as exc:  # a bug must not lose the scan: these resources are unknown, with the reason
            log.exception("%s: reading the access logging configuration failed", name)
            found.update({r.uid: AccessLogging("unknown", f"not read: {type(exc).__name__}") for r in mine})
    return [dataclasses.replace(f, access_logging=found[f.resource_uid]) if f.resource_uid in found else f
            for f in findings]


def verify_anonymously(cfg: Config, resources: Sequence[Resource], findings: Sequence[Finding]) -> list[Finding]:
    """I/O, with ``verify: {anonymous: true}``: for each public resource that has a finding, one unauthenticated
    request as its provider says (``Provider.probe_targets``); the answer rides on the finding
    (``Finding.anonymous_probe``), a disagreement flagged, the verdict unchanged."""
    if not cfg.verify.anonymous:
        return list(findings)
    import ssl

    import httpx

    flagged = {f.resource_uid for f in findings}
    public = [r for r in resources if r.uid in flagged and not r.aggregate and r.exposure.level is Level.PUBLIC]
    found: dict[str, Probe] = {}
    for name, section in cfg.providers.enabled().items():
        mine = [r for r in public if r.provider == name]
        if not mine:
            continue
        targets = PROVIDERS.get(name).probe_targets(section, mine, [r for r in resources if r.provider == name])
        for r in mine:
            target = targets.get(r.uid)
            if target is None:
                found[r.uid] = Probe("-", _now(), None, None, "not probed: no unauthenticated request can show it "
                                                              "(a read needs an object name)")
                continue
            at = _now()
            verify = ssl.create_default_context(cafile=target.verify) if isinstance(target.verify, str) else \
                target.verify
            try:
                with httpx.Client(trust_env=False, timeout=cfg.verify.timeout, verify=verify,
                                  follow_redirects=False) as client:
                    status = client.get(target.url).status_code
            except httpx.HTTPError as exc:
                found[r.uid] = Probe(target.operation, at, None, None,
                                     f"anonymous {target.operation} got no answer at {at}: {type(exc).__name__}")
                continue
            agrees = True if 200 <= status < 300 else False if status in (401, 403, 404, 409) else None
            detail = f"anonymous {target.operation} returned {status} at {at}"
            if agrees is False:
                detail += ": the analysis says public, the endpoint refused (the verdict is kept; check it)"
            found[r.uid] = Probe(target.operation, at, status, agrees, detail)
    return [dataclasses.replace(f, anonymous_probe=found[f.resource_uid]) if f.resource_uid in found else f
            for f in findings]
