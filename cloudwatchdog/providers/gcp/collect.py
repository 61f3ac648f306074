"""GCP collector: reads the Cloud Storage settings exposure analysis needs, one raw snapshot per project.

The snapshot keeps the API answers (as the client libraries hand them over), so a scan can be replayed offline by
``cloudwatchdog.providers.gcp.normalize``. Each call's result is ``{"ok": <payload>}`` or
``{"error": {"operation", "code", "message"}}`` (403 forbidden, SERVICE_DISABLED, throttling after retries, a
connection failure, an answer the client could not parse, ...). A bucket listing that fails part-way keeps what it
returned before the failure under ``"partial"``. Nothing here raises for a cloud-side problem: a failed call is
recorded, a project that cannot be listed is a snapshot with ``status: error``; one bucket's failure never stops
the others.

Snapshot shape, schema_version 1::

    {"schema_version": 1, "provider": "gcp", "account": "<project id>", "name": "<display name>" | null,
     "project_number": "<number>" | null, "via": "config" | "search" | "organizations/<id>" | "folders/<id>",
     "status": "ok" | "error", "error": null | "<why the project could not be read>",
     "api_calls": <HTTP requests for this project, retries included>, "started_at": iso, "finished_at": iso,
     "endpoint_url": null | "<emulator url>",
     "trust": {"domains": [..], "projects": [..], "project_numbers": [..]},
     "calls": {"ListBuckets": r (+ "partial": {"items": [...]} when it failed part-way),
               "GetProjectIamPolicy": r (when project_iam is on)},
     "buckets": [{"name": n, "listing": <the bucket resource from the listing>,
                  "calls": {"GetIamPolicy": r,
                            "ListBucketAcl": r, "ListDefaultObjectAcl": r,   (uniform bucket-level access not on)
                            "ListObjects": r (a sample of object names and ACLs, when object_acl_sample > 0)}}]}

Discovery failures (an organization or folder that cannot be listed) are snapshots of their own, with the parent
as ``account`` and ``status: error``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.providers.gcp.discovery import (
    Discovery,
    DiscoveryFailure,
    ProjectTarget,
    discover_projects,
)
from cloudwatchdog.providers.gcp.session import (
    CallCounter,
    CredentialsError,
    authorized_session,
    describe_exception,
    guard,
    jsonable,
    load_credentials,
    resource_manager_options,
    resource_manager_retry,
    storage_client,
    storage_retry,
)
from cloudwatchdog.providers.gcp.settings import GcpProvider
from cloudwatchdog.providers.ordered import ordered_map

log = logging.getLogger("cloudwatchdog.providers.gcp.collect")

SCHEMA_VERSION = 1

ProjectSnapshot = dict[str, Any]
CallResult = dict[str, Any]
Progress = Callable[[str, int], None]
ShouldStop = Callable[[], bool]
STOPPED = "stopped before the project was read in full: the scan stopped waiting for it"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _uniform_access_on(listing: Any) -> bool:
    """True only when the listing says so plainly: anything else means ACLs may be in force, so read them."""
    try:
        return listing["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    except (KeyError, TypeError):
        return False


@dataclass
class _Project:
    """One project being read: its target, clients and the snapshot under construction."""

    target: ProjectTarget
    snapshot: ProjectSnapshot
    counter: CallCounter
    client: Any = None  # google.cloud.storage.Client
    buckets: list[dict[str, Any]] = field(default_factory=list)


class GcpReader:
    """Reads projects and buckets; every call goes through ``call`` so failures are recorded alike."""

    def __init__(self, cfg: GcpProvider, credentials: Any) -> None:
        self.cfg = cfg
        self.credentials = credentials
        self.retry = storage_retry(cfg)
        self._projects_client: Any = None
        self._lock = threading.Lock()

    def call(self, project: str, resource: str, operation: str, fn: Callable[[], Any]) -> CallResult:
        def failed(op: str, code: str, message: str) -> None:
            log.warning("gcp project %s%s: %s failed: %s: %s", project, f" {resource}" if resource else "", op, code,
                        message)

        return guard(operation, fn, failed)

    # --- project level ---

    def open(self, p: _Project) -> None:
        endpoint = p.target.endpoint_url or self.cfg.effective_endpoint()
        session = authorized_session(self.credentials, p.counter, self.cfg.max_workers * 2)
        p.client = storage_client(self.credentials, p.target.project_id, endpoint, session)

    def list_buckets(self, p: _Project) -> CallResult:
        """Every bucket resource of the project, page by page; a failure part-way keeps the pages before it."""
        items: list[Any] = []

        def run() -> dict[str, Any]:
            iterator = p.client.list_buckets(
                project=p.target.project_id, projection="noAcl", retry=self.retry, timeout=self.cfg.timeout
            )
            for page in iterator.pages:
                items.extend(dict(b._properties) for b in page)  # the bucket resource as the API returned it
            return {"items": items}

        result = self.call(p.target.project_id, "buckets", "ListBuckets", run)
        if "error" in result and items:
            result["partial"] = {"items": jsonable(items)}
        return result

    def project_iam(self, project_id: str, counter: CallCounter) -> CallResult:
        def run() -> dict[str, Any]:
            counter.add()
            policy = self._projects().get_iam_policy(
                request={"resource": f"projects/{project_id}", "options": {"requested_policy_version": 3}},
                timeout=self.cfg.timeout,
                retry=resource_manager_retry(self.cfg, counter),
            )
            return _policy_dict(policy)

        return self.call(project_id, "project", "GetProjectIamPolicy", run)

    def _projects(self) -> Any:
        with self._lock:
            return self._projects_client or self._make_projects_client()

    def _make_projects_client(self) -> Any:
        if self._projects_client is None:
            from google.cloud import resourcemanager_v3

            self._projects_client = resourcemanager_v3.ProjectsClient(
                credentials=self.credentials, transport="rest", client_options=resource_manager_options(self.cfg)
            )
        return self._projects_client

    # --- per bucket ---

    def read_bucket(self, p: _Project, listing: dict[str, Any]) -> dict[str, Any]:
        name = str(listing.get("name"))
        project = p.target.project_id
        resource = f"bucket {name}"
        bucket = p.client.bucket(name)
        opts = {"retry": self.retry, "timeout": self.cfg.timeout}

        def iam() -> dict[str, Any]:
            return dict(bucket.get_iam_policy(requested_policy_version=3, **opts).to_api_repr())

        calls: dict[str, CallResult] = {"GetIamPolicy": self.call(project, resource, "GetIamPolicy", iam)}
        if not _uniform_access_on(listing):
            # ACLs are in force (or we cannot tell): read them. With uniform access on GCS refuses to return them.
            def bucket_acl() -> dict[str, Any]:
                bucket.acl.reload(**opts)
                return {"items": list(bucket.acl)}

            def default_acl() -> dict[str, Any]:
                bucket.default_object_acl.reload(**opts)
                return {"items": list(bucket.default_object_acl)}

            calls["ListBucketAcl"] = self.call(project, resource, "ListBucketAcl", bucket_acl)
            calls["ListDefaultObjectAcl"] = self.call(project, resource, "ListDefaultObjectAcl", default_acl)
            if self.cfg.object_acl_sample > 0:
                def objects() -> dict[str, Any]:
                    blobs = p.client.list_blobs(
                        name, max_results=self.cfg.object_acl_sample, projection="full", **opts
                    )
                    return {"items": [{"name": b.name, "acl": b._properties.get("acl")} for b in blobs]}

                calls["ListObjects"] = self.call(project, resource, "ListObjects", objects)
        return {"name": name, "listing": jsonable(listing), "calls": calls}


def _policy_dict(policy: Any) -> dict[str, Any]:
    """A google.iam.v1 Policy message in the JSON shape Cloud Storage returns (the etag left out)."""
    bindings = []
    for b in policy.bindings:
        binding: dict[str, Any] = {"role": b.role, "members": list(b.members)}
        if b.HasField("condition"):
            c = b.condition
            binding["condition"] = {"title": c.title, "description": c.description, "expression": c.expression}
        bindings.append(binding)
    return {"version": int(policy.version), "bindings": bindings}


def _bucket_listings(result: CallResult) -> list[dict[str, Any]]:
    payload = result.get("ok") or result.get("partial")
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return []
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            seen.setdefault(item["name"], item)
    return [seen[n] for n in sorted(seen)]


def _snapshot(target: ProjectTarget, cfg: GcpProvider, started: str, error: str | None = None) -> ProjectSnapshot:
    return {
        "schema_version": SCHEMA_VERSION,
        "provider": "gcp",
        "account": target.project_id,
        "name": target.name,
        "project_number": target.number,
        "via": target.via,
        "status": "error" if error else "ok",
        "error": error,
        "api_calls": 0,
        "started_at": started,
        "finished_at": started,
        "endpoint_url": target.endpoint_url or cfg.effective_endpoint(),
        "trust": {"domains": [], "projects": [], "project_numbers": []},
        "calls": {},
        "buckets": [],
    }


def _failure_snapshot(label: str, error: str, cfg: GcpProvider, api_calls: int = 0) -> ProjectSnapshot:
    started = _now()
    snapshot = _snapshot(ProjectTarget(label, None, None, "discovery"), cfg, started, error)
    snapshot["api_calls"] = api_calls
    return snapshot


def _list_project(reader: GcpReader, p: _Project, progress: Progress | None) -> None:
    project = p.target.project_id
    if progress:
        progress(project, 0)
    try:
        reader.open(p)
    except Exception as exc:
        code, message = describe_exception(exc)
        log.warning("gcp project %s: cannot create the Cloud Storage client: %s: %s", project, code, message)
        p.snapshot.update(status="error", error=f"cannot create the Cloud Storage client: {code}: {message}")
        return
    listing = reader.list_buckets(p)
    p.snapshot["calls"]["ListBuckets"] = listing
    if "error" in listing and "partial" not in listing:
        err = listing["error"]
        p.snapshot.update(status="error", error=f"cannot list buckets: {err['code']}: {err['message']}")
        return
    if reader.cfg.project_iam:
        p.snapshot["calls"]["GetProjectIamPolicy"] = reader.project_iam(project, p.counter)
    p.buckets = _bucket_listings(listing)


def collect_gcp(cfg: GcpProvider, progress: Progress | None = None, *,
                should_stop: ShouldStop | None = None) -> list[ProjectSnapshot]:
    """Every project's raw snapshot (``stream_gcp``), as a list."""
    return list(stream_gcp(cfg, progress, should_stop=should_stop))


def stream_gcp(cfg: GcpProvider, progress: Progress | None = None, *,
               should_stop: ShouldStop | None = None) -> Iterator[ProjectSnapshot]:
    """Raw snapshots of every configured or discovered project; never raises for a cloud-side failure.

    Every project's bucket listing is read first (who is "ours" spans the scan's projects); then the buckets, and
    each project's snapshot is handed out as soon as its buckets (and every project's before it) are read, with at
    most a few times ``max_workers`` buckets read ahead.

    ``progress(label, advance)`` is called with ``(project_id, 0)`` when a project starts, then with
    ``("<project>/<bucket>", 1)`` as each bucket is read. ``should_stop()`` is asked before each project and
    bucket: once true, nothing more is read, and each project not read in full is an ``error`` snapshot.
    """
    def stopped(p: _Project) -> bool:
        if should_stop is None or not should_stop():
            return False
        p.snapshot.update(status="error", error=STOPPED)
        return True

    try:
        credentials, _ = load_credentials(cfg)
    except CredentialsError as exc:
        log.warning("gcp: %s", exc)
        labels = [p.id for p in cfg.projects] or ["unknown"]
        yield from (_failure_snapshot(label, str(exc), cfg) for label in labels)
        return

    try:
        discovery = discover_projects(cfg, credentials)
    except Exception as exc:  # a bug or an SDK surprise in discovery: report it, still scan the explicit projects
        code, message = describe_exception(exc)
        log.exception("gcp: project discovery failed")
        discovery = Discovery(targets=[ProjectTarget(p.id, p.name, p.number, "config", p.endpoint_url)
                                       for p in cfg.projects if p.id not in cfg.exclude_projects])
        discovery.failures.append(DiscoveryFailure("discovery", f"project discovery failed: {code}: {message}"))

    # Resource Manager requests of discovery count towards the first snapshot handed out (coverage sums them up).
    uncharged = [discovery.counter.value]

    def charged(snapshot: ProjectSnapshot) -> ProjectSnapshot:
        snapshot["api_calls"] += uncharged.pop() if uncharged else 0
        return snapshot

    failures = [_failure_snapshot(f.label, f.error, cfg) for f in discovery.failures]
    started = _now()
    projects = [_Project(t, _snapshot(t, cfg, started), CallCounter()) for t in discovery.targets]
    if not projects:
        if not failures:
            failures.append(_failure_snapshot("unknown", "no project to scan: discovery found none", cfg))
        yield from (charged(s) for s in failures)
        return
    reader = GcpReader(cfg, credentials)

    with ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix="gcp") as pool:

        def project_job(p: _Project) -> None:
            if stopped(p):
                return
            try:
                _list_project(reader, p, progress)
            except Exception as exc:  # a bug or an unforeseen SDK shape costs this project, not the scan
                code, message = describe_exception(exc)
                log.exception("gcp project %s: listing failed", p.target.project_id)
                p.snapshot.update(status="error", error=f"scan failed: {code}: {message}")

        list(pool.map(project_job, projects))

        # Who is "ours": the organization's domains, every project of this scan (ids and numbers).
        trust = {
            "domains": sorted(set(cfg.organization_domains) | set(discovery.domains)),
            "projects": sorted({p.target.project_id for p in projects}),
            "project_numbers": sorted(
                {str(p.target.number) for p in projects if p.target.number}
                | {str(b["projectNumber"]) for p in projects for b in p.buckets if b.get("projectNumber")}
            ),
        }

        def bucket_job(item: tuple[_Project, dict[str, Any]]) -> dict[str, Any]:
            p, listing = item
            if stopped(p):  # no answers recorded: NotCollected -> unknown, and the project is an error
                return {"name": listing.get("name"), "listing": listing, "calls": {}}
            try:
                result = reader.read_bucket(p, listing)
            except Exception:  # no answers recorded: the normalizer marks the settings NotCollected -> unknown
                log.exception("gcp project %s bucket %s: read failed", p.target.project_id, listing.get("name"))
                result = {"name": listing.get("name"), "listing": listing, "calls": {}}
            if progress:
                progress(f"{p.target.project_id}/{listing.get('name')}", 1)
            return result

        yield from (charged(s) for s in failures)
        # Closed when the stream is (a consumer that stops early): the reads queued ahead are cancelled, not waited
        # for by the pool.
        with contextlib.closing(ordered_map(pool, bucket_job, ((p, b) for p in projects for b in p.buckets),
                                            ahead=4 * cfg.max_workers)) as results:
            for p in projects:
                snapshot = p.snapshot
                snapshot["buckets"] = [next(results) for _ in p.buckets]
                snapshot["trust"] = trust
                snapshot["api_calls"] = p.counter.value
                snapshot["finished_at"] = _now()
                p.buckets, p.snapshot = [], {}  # handed out: the caller lets it go once analysed
                yield charged(snapshot)


__all__ = ["CallResult", "GcpReader", "ProjectSnapshot", "collect_gcp", "stream_gcp"]
