"""Distributed scans: Google Cloud projects as units of work (``Provider.units``), and the trust they share.

Each listed project is a unit of its own. Projects found through Resource Manager (an organization, folders, or
every project the credentials can see) are discovered once, here in the coordinator, and each becomes a unit that
names that one project (with its number) and discovers nothing; the organization's domain found on the way is
carried in every unit's ``organization_domains``. When discovery fails anywhere (credentials, an organization or
folder that cannot be listed, nothing found), the whole section stays one unit, whose ``collect`` reports exactly
what a single-process scan would.

Who is "ours" spans the scan: a single-process scan trusts every project it reads (ids and numbers) in every
project's judgement. A unit sees only its own project, so the coordinator unites the units' trust before analysing
them (``scan_trust``, ``with_trust``): the verdicts equal a single-process scan's.

Differences in the raw answers only: a discovered project's snapshot says ``via: config``, and the Resource Manager
requests of discovery are the coordinator's, counted in no unit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cloudwatchdog.model import Snapshot
from cloudwatchdog.providers.base import Unit
from cloudwatchdog.providers.gcp.settings import GcpProject, GcpProvider

log = logging.getLogger("cloudwatchdog.providers.gcp.units")

TRUST_KEYS = ("domains", "projects", "project_numbers")


def gcp_units(cfg: GcpProvider) -> list[Unit]:
    if not cfg.discovers:
        return [Unit(p.id, cfg.model_copy(update={"projects": [p]}), p.name) for p in cfg.projects]
    whole = Unit("discovered", cfg)
    from cloudwatchdog.providers.gcp.discovery import discover_projects
    from cloudwatchdog.providers.gcp.session import load_credentials

    try:
        credentials, _ = load_credentials(cfg)
        discovery = discover_projects(cfg, credentials)
    except Exception as exc:  # collect says why, in the section's own snapshots
        log.warning("gcp: cannot discover the projects apart (%s: %s); they are one unit", type(exc).__name__,
                    str(exc)[:200])
        return [whole]
    if discovery.failures or not discovery.targets:
        log.warning("gcp: project discovery was not complete; the discovered projects are one unit")
        return [whole]
    domains = sorted(set(cfg.organization_domains) | {d.lower() for d in discovery.domains})
    units = []
    for target in discovery.targets:
        try:
            project = GcpProject(id=target.project_id, name=target.name, endpoint_url=target.endpoint_url,
                                 number=target.number)
        except ValueError as exc:  # a discovered id, name or number our settings refuse: one unit, as collected
            log.warning("gcp: discovered project %r cannot be a unit of its own (%s); the projects are one unit",
                        target.project_id, str(exc).splitlines()[0][:200])
            return [whole]
        settings = cfg.model_copy(update={"projects": [project], "organization": None, "folders": [],
                                          "organization_domains": domains})
        units.append(Unit(target.project_id, settings, target.name))
    return units


def scan_trust(snapshot: Snapshot) -> dict[str, set[str]]:
    """What one project's snapshot trusts (its unit's: the configured domains, its own id and number, the numbers
    its bucket listing named): domains, project ids and numbers."""
    raw = snapshot.get("trust")
    trust: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    lists = {key: trust.get(key) for key in TRUST_KEYS}
    return {key: {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()
            for key, value in lists.items()}


def plan_trust(settings: Mapping[str, Any]) -> dict[str, set[str]]:
    """What a unit's settings (JSON) trust whether it is read or not, as a single process trusts every project it
    targets, including one whose listing fails: the organization's domains, its projects' ids and numbers."""
    projects = settings.get("projects")
    excluded = settings.get("exclude_projects")
    left_out = set(excluded) if isinstance(excluded, list) else set()  # a single process does not scan them
    listed = [p for p in projects if isinstance(p, Mapping) and p.get("id") not in left_out] \
        if isinstance(projects, list) else []
    domains = settings.get("organization_domains")

    def texts(values: Any) -> set[str]:
        return {v for v in values if isinstance(v, str) and v} if isinstance(values, list) else set()

    return {"domains": texts(domains), "projects": texts([p.get("id") for p in listed]),
            "project_numbers": texts([p.get("number") for p in listed])}


def with_trust(snapshot: Snapshot, trust: Mapping[str, set[str]]) -> Snapshot:
    """The snapshot judged with the whole scan's trust (``trust``: the units' ``scan_trust`` united)."""
    return {**snapshot, "trust": {key: sorted(trust.get(key, set())) for key in TRUST_KEYS}}


__all__ = ["gcp_units", "scan_trust", "with_trust"]
