"""Which GCP projects to scan: the configured ones, plus those discovered through Resource Manager v3.

- ``organization`` / ``folders``: every ACTIVE project below them; folders are walked recursively
  (``projects.list`` and ``folders.list`` with ``parent``), since a project's parent is its nearest folder.
- neither, and no explicit projects: every ACTIVE project the credentials can see (``projects.search``).

A parent that cannot be listed is reported as its own failed entry (the rest of the walk goes on), so missing
projects never look like a complete scan. I/O only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from google.auth.credentials import Credentials

from cloudwatchdog.providers.gcp.session import (
    CallCounter,
    describe_exception,
    resource_manager_options,
    resource_manager_retry,
)
from cloudwatchdog.providers.gcp.settings import GcpProvider

log = logging.getLogger("cloudwatchdog.providers.gcp.collect")

ACTIVE = "ACTIVE"
MAX_FOLDER_DEPTH = 10  # Resource Manager allows 10 levels of folders


@dataclass
class ProjectTarget:
    project_id: str
    name: str | None = None
    number: str | None = None
    via: str = "config"  # config | search | organizations/<id> | folders/<id>
    endpoint_url: str | None = None  # a per-project emulator endpoint (config only)


@dataclass
class DiscoveryFailure:
    label: str  # what could not be listed: organizations/1, folders/2, or "projects" (search)
    error: str


@dataclass
class Discovery:
    targets: list[ProjectTarget] = field(default_factory=list)
    failures: list[DiscoveryFailure] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)  # the organization's own domain, when read
    counter: CallCounter = field(default_factory=CallCounter)


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state))


def _number(resource_name: str) -> str | None:
    prefix, _, number = resource_name.partition("/")
    return number if prefix == "projects" and number.isdigit() else None


class _Walker:
    def __init__(self, cfg: GcpProvider, credentials: Credentials, out: Discovery) -> None:
        from google.cloud import resourcemanager_v3

        options = resource_manager_options(cfg)
        self.cfg = cfg
        self.out = out
        self.projects = resourcemanager_v3.ProjectsClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self.folders = resourcemanager_v3.FoldersClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self.organizations = resourcemanager_v3.OrganizationsClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self.found: dict[str, ProjectTarget] = {}
        self.opts: dict[str, Any] = {"timeout": cfg.timeout, "retry": resource_manager_retry(cfg, out.counter)}

    def _add(self, project: Any, via: str) -> None:
        if _state_name(project.state) != ACTIVE:
            return
        pid = str(project.project_id)
        if pid and pid not in self.found:
            self.found[pid] = ProjectTarget(pid, str(project.display_name) or None, _number(str(project.name)), via)

    def _pages(self, pager: Any) -> Any:
        """Each page of a pager, counting one request per page."""
        for page in pager.pages:
            self.out.counter.add()
            yield page

    def search(self) -> None:
        try:
            pager = self.projects.search_projects(request={"query": "state:ACTIVE"}, **self.opts)
            for page in self._pages(pager):
                for project in page.projects:
                    self._add(project, "search")
        except Exception as exc:
            self._fail("projects", "cannot search the projects these credentials can see", exc)

    def walk(self, parent: str, via: str, depth: int = 0) -> None:
        try:
            pager = self.projects.list_projects(request={"parent": parent}, **self.opts)
            for page in self._pages(pager):
                for project in page.projects:
                    self._add(project, via)
        except Exception as exc:
            self._fail(parent, f"cannot list the projects in {parent}", exc)
        if depth >= MAX_FOLDER_DEPTH:
            return
        children: list[str] = []
        try:
            folders = self.folders.list_folders(request={"parent": parent}, **self.opts)
            for page in self._pages(folders):
                children.extend(str(f.name) for f in page.folders if _state_name(f.state) == ACTIVE)
        except Exception as exc:
            self._fail(parent, f"cannot list the folders in {parent}", exc)
        for child in children:
            self.walk(child, via, depth + 1)

    def organization_domain(self, organization: str) -> None:
        """The organization's display name is its primary domain: members there are internal. A failure only
        makes them look external (never private): log it and go on."""
        try:
            self.out.counter.add()
            org = self.organizations.get_organization(name=organization, **self.opts)
            domain = str(org.display_name).strip().lower()
            if domain and "." in domain:
                self.out.domains.append(domain)
        except Exception as exc:
            code, message = describe_exception(exc)
            log.warning("gcp %s: cannot read the organization's domain: %s: %s", organization, code, message)

    def _fail(self, label: str, what: str, exc: Exception) -> None:
        code, message = describe_exception(exc)
        log.warning("gcp %s: %s: %s: %s", label, what, code, message)
        self.out.failures.append(DiscoveryFailure(label, f"{what}: {code}: {message}"))


def discover_projects(cfg: GcpProvider, credentials: Credentials) -> Discovery:
    """The projects to scan: explicit ones first (their settings win), then discovered ones not excluded."""
    out = Discovery()
    explicit = [ProjectTarget(p.id, p.name, p.number, "config", p.endpoint_url) for p in cfg.projects]
    found: dict[str, ProjectTarget] = {}
    if cfg.discovers:
        walker = _Walker(cfg, credentials, out)
        if cfg.organization is not None:
            walker.organization_domain(cfg.organization)
            walker.walk(cfg.organization, cfg.organization)
        for folder in cfg.folders:
            walker.walk(folder, folder)
        if cfg.organization is None and not cfg.folders:
            walker.search()
        found = walker.found
    seen = {t.project_id for t in explicit}
    for target in explicit:
        if target.project_id in found:  # discovery knows its number and name
            target.number = found[target.project_id].number
            target.name = target.name or found[target.project_id].name
    excluded = set(cfg.exclude_projects)
    out.targets = [t for t in explicit if t.project_id not in excluded] + [
        t for pid, t in sorted(found.items()) if pid not in seen and pid not in excluded
    ]
    return out


__all__ = ["Discovery", "DiscoveryFailure", "ProjectTarget", "discover_projects"]
