"""`cloudwatchdog incident`: the dossier of one exposure. The store gives the finding, its exposure windows and the
resource; the provider reads the access logs (``Provider.access_evidence``); data sampling, when on, says what the
resource holds (objects already classified by earlier scans are not read again)."""

from __future__ import annotations

import logging
from datetime import datetime

from cloudwatchdog.config import Config
from cloudwatchdog.data.budget import Budget
from cloudwatchdog.forensics.evidence import unsupported
from cloudwatchdog.forensics.model import AccessEvidence, AccessTarget, Dossier, StartEvidence, TimeSpan
from cloudwatchdog.model import DataSample, DataStatus, Exposure, Level, Resource
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.render.report_json import finding_dict
from cloudwatchdog.state.incident import resource_facts
from cloudwatchdog.state.sample_cache import StoreResultCache
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import now_utc, parse_iso

log = logging.getLogger(__name__)


def build_dossier(cfg: Config, store: Store, finding_id: str, now: datetime | None = None) -> Dossier:
    """Raises LookupError when no single finding has that id or prefix."""
    at = now or now_utc()
    view = store.find(finding_id, at)
    f = view.finding
    facts = resource_facts(store, f.resource_uid, f.provider)
    windows = tuple(TimeSpan(parse_iso(i.start), parse_iso(i.end) if i.end else at) for i in view.window.intervals)
    if not windows:  # a finding never open (suppressed from the start): its sightings
        windows = (TimeSpan(parse_iso(f.first_seen or f.last_seen or ""), parse_iso(f.last_seen or "")),)
    target = AccessTarget(uid=f.resource_uid, provider=f.provider, account=f.account, region=f.region,
                          type=f.resource_type, name=f.resource_name,
                          first_seen=facts.first_seen or windows[0].start, known_accounts=facts.known_accounts)
    access = _access(cfg, target, windows)
    earlier = start_evidence(access, windows)
    return Dossier(
        finding=finding_dict(view), resource=facts.resource, windows=windows,
        open_now=bool(view.window.open_since), estimated_start=earlier[0] if earlier else None,
        data=_data(cfg, store, target, facts.resource.get("level")), access=access, generated_at=at,
        start_evidence=tuple(earlier))


def _access(cfg: Config, target: AccessTarget, windows: tuple[TimeSpan, ...]) -> AccessEvidence:
    if target.provider not in PROVIDERS:
        return unsupported(windows, f"provider {target.provider!r} is not known to this version")
    section = cfg.providers.enabled().get(target.provider)
    provider = PROVIDERS.get(target.provider)
    if section is None:
        return unsupported(windows, f"providers.{target.provider} is not configured: its logs were not read")
    try:
        return provider.access_evidence(section, target, windows)
    except Exception as exc:  # a provider's bug must not lose the dossier: its access is unknown, with the reason
        log.exception("%s: reading the access logs of %s failed", target.provider, target.uid)
        return unsupported(windows, f"the access logs could not be read ({type(exc).__name__}); see the log")


def start_evidence(access: AccessEvidence, windows: tuple[TimeSpan, ...]) -> list[StartEvidence]:
    """Every piece of evidence that the exposure began before the store's first window, oldest first (the first
    is ``estimated_start``): a provider's (a creation date, the change that opened it), and the first successful
    external read or list in the logs."""
    found = list(access.start_evidence)
    first = access.counts.first_external
    if first is not None:
        found.append(StartEvidence(first, "the first successful external read or list in the access logs "
                                          f"({', '.join(access.sources)})"))
    return sorted((s for s in found if s.at < windows[0].start), key=lambda s: s.at)


def _data(cfg: Config, store: Store, target: AccessTarget, level: object) -> DataSample | None:
    """What the resource holds, by data sampling (when on); None when sampling is off."""
    sampling = cfg.data_sampling
    section = cfg.providers.enabled().get(target.provider)
    if not sampling.enabled or section is None or target.provider not in PROVIDERS:
        return None
    known = str(level) if str(level) in {v.value for v in Level} else Level.UNKNOWN.value
    resource = Resource(uid=target.uid, provider=target.provider, account=target.account, region=target.region,
                        type=target.type, name=target.name, exposure=Exposure(Level(known)))
    try:
        cache = StoreResultCache(store)
        found = PROVIDERS.get(target.provider).sample(section, [resource], sampling,
                                                      Budget(sampling.scan_byte_budget, cache), [resource])
    except Exception as exc:  # the dossier is still worth having: the data part says why it is missing
        log.warning("data sampling for the dossier failed: %s", exc)
        return DataSample(DataStatus.UNKNOWN, f"sampling failed: {type(exc).__name__}")
    return found.get(target.uid)
