"""A targeted rescan: what a change event names, read again and judged like any scan, as a partial scan.

The provider reads one account (``ChangeEvents.rescan``): the named resources only, or the whole account for an
account-wide change. Everything after that is the scan's pipeline (analyse, data sampling, rules). A rescan of named
resources keeps only those resources, and its coverage says so (``Coverage.targets``): the store then resolves
nothing but their findings, marks nothing else gone, and the report's per-account coverage is not replaced by it.
The rescan reads the current settings: the event only said what to read.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from cloudwatchdog.config import Config
from cloudwatchdog.data.budget import ResultCache
from cloudwatchdog.events.model import ChangeTarget
from cloudwatchdog.model import ScanResult, target_key
from cloudwatchdog.providers.base import change_events
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.scan import _now, _start, analyse_snapshots, judge
from cloudwatchdog.text import scrub_value


def run_rescan(cfg: Config, rules: Sequence[Rule], provider_name: str, account: str,
               targets: Sequence[ChangeTarget] | None, *, sample_cache: ResultCache | None = None
               ) -> ScanResult | None:
    """Rescan ``account`` of ``provider_name``: ``targets`` (resources of that account), or the whole account when
    None. None when the config does not watch it (provider off or without change events, account or resources not
    scanned)."""
    section = cfg.providers.enabled().get(provider_name)
    if section is None or provider_name not in PROVIDERS:
        return None
    watcher = change_events(PROVIDERS.get(provider_name))
    if watcher is None:
        return None
    started, exact = _start()
    raw = watcher.rescan(section, account, targets)
    if not raw:
        return None
    snapshots = [scrub_value(s) for s in raw]
    resources, coverage = analyse_snapshots(snapshots)
    if targets is not None:
        keys = tuple(sorted({target_key(t.resource_type, t.name) for t in targets
                             if t.resource_type is not None and t.name is not None}))
        resources = [r for r in resources if r.provider == provider_name and r.account == account
                     and target_key(r.type, r.name) in keys]
        coverage = [dataclasses.replace(c, targets=keys, resources=len(resources)) for c in coverage]
    # As a scan does (sampling, rules, access logging, probes): a finding a rescan records keeps what a full scan
    # says of it.
    resources, findings = judge(cfg, rules, resources, sample_cache)
    return ScanResult(id=str(uuid.uuid4()), started_at=started, finished_at=_now(), coverage=tuple(coverage),
                      resources=tuple(resources), findings=tuple(findings), raw=tuple(snapshots),
                      started_at_exact=exact)


__all__ = ["run_rescan"]
