"""After the analysis, for exposed resources only (I/O): whether access logs record their requests, and (with
``verify: {anonymous: true}``) what an unauthenticated request to each public one answers. Both ride on the
findings; neither changes a verdict."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from cloudwatchdog.config import Config
from cloudwatchdog.model import AccessLogging, Finding, Level, Probe, Resource
from cloudwatchdog.providers.registry import PROVIDERS

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        try:
            targets = PROVIDERS.get(name).probe_targets(section, mine, [r for r in resources if r.provider == name])
        except Exception as exc:  # a bug must not lose the scan: these resources are not probed, with the reason
            log.exception("%s: choosing the anonymous probes failed", name)
            found.update({r.uid: Probe("-", _now(), None, None, f"not probed: {type(exc).__name__}") for r in mine})
            continue
        for r in mine:
            target = targets.get(r.uid)
            if target is None:
                found[r.uid] = Probe("-", _now(), None, None, "not probed: no unauthenticated request can show it "
                                                              "(a read needs an object name)")
                continue
            at = _now()
            try:
                verify = ssl.create_default_context(cafile=target.verify) if isinstance(target.verify, str) else \
                    target.verify
                with httpx.Client(trust_env=False, timeout=cfg.verify.timeout, verify=verify,
                                  follow_redirects=False) as client:
                    status = client.get(target.url).status_code
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:  # no answer, or none possible
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
