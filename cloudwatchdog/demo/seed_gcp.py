"""Seeds the Google Cloud Storage part of the demo estate (``estate/gcp.yaml``) into gcp-storage-emulator, one
emulator per project (the emulator lists every bucket it holds for any project): ``start_demo_emulators()`` starts
them, ``seed_gcp_estate`` fills them and describes what it seeded.

Emulator gaps worked around here, each the way a real estate would reach the same state: values given when a
bucket is created are dropped by the emulator, so labels, uniform bucket-level access and public access prevention
are PATCHed afterwards, and the location is PATCHed too (real GCS fixes it at creation and would refuse that).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from cloudwatchdog.demo.content import Content, render
from cloudwatchdog.demo.estate_file import ESTATE_DIR, duplicates, load_estate
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.providers.gcp.settings import GcpProject, GcpProvider
from cloudwatchdog.settings.base import StrictModel
from cloudwatchdog.yamlsource import KeyPath

ESTATE_FILE = ESTATE_DIR / "gcp.yaml"

# --- The estate file ----------------------------------------------------------------------------------------


class Binding(StrictModel):
    role: str
    members: list[str]
    condition: dict[str, str] | None = None  # an IAM condition: title, description, expression


class AclEntry(StrictModel):
    entity: str
    role: Literal["OWNER", "WRITER", "READER"]


class Bucket(StrictModel):
    name: str
    location: str = "EUROPE-WEST3"
    expected: Literal["public", "cross-account", "private"] = "private"
    latent: bool = False
    issue: str | None = None  # what is wrong, in words; None for a healthy bucket
    labels: dict[str, str] = {}
    uniform_bucket_level_access: bool = True
    public_access_prevention: Literal["inherited", "enforced"] = "inherited"
    bindings: list[Binding] = []  # besides the project's owners, editors and viewers
    acl: list[AclEntry] = []  # with uniform bucket-level access off: besides the project's entries
    default_object_acl: list[AclEntry] = []  # likewise
    objects: dict[str, Content] = {}
    object_acl: list[AclEntry] = []  # on every object, with uniform bucket-level access off


class Project(StrictModel):
    id: str
    name: str
    number: Annotated[str, Field(pattern=r"^\d{6,20}$")]
    buckets: list[Bucket] = []


class GcpEstateSpec(StrictModel):
    organization_domains: list[str]
    projects: list[Project]


def _check(spec: GcpEstateSpec) -> list[tuple[KeyPath, str]]:
    problems = duplicates(((("projects", i, "id"), p.id) for i, p in enumerate(spec.projects)), "project")
    return problems + duplicates(
        ((("projects", i, "buckets", j, "name"), b.name) for i, p in enumerate(spec.projects)
         for j, b in enumerate(p.buckets)), "bucket")


@cache
def gcp_estate_spec(path: Path = ESTATE_FILE) -> GcpEstateSpec:
    """The GCP estate file, validated."""
    return load_estate(GcpEstateSpec, path, _check)


# --- What was seeded ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GcpDemoProject:
    id: str
    name: str
    number: str
    endpoint_url: str


@dataclass(frozen=True)
class GcpDemoBucket:
    project: str
    name: str
    location: str
    expected: str  # public | cross-account | private (a latent exposure keeps its non-public level)
    latent: bool = False
    issue: str | None = None  # what is wrong, in words; None for a healthy bucket
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GcpDemoEstate:
    projects: tuple[GcpDemoProject, ...]
    buckets: tuple[GcpDemoBucket, ...]
    organization_domains: tuple[str, ...] = ()

    def bucket(self, name: str) -> GcpDemoBucket:
        return next(b for b in self.buckets if b.name == name)

    def provider_config(self, **overrides: Any) -> GcpProvider:
        """The scan config for this estate: each project on its own emulator, anonymous credentials, no Resource
        Manager (so no project IAM), the estate's organization domains."""
        values: dict[str, Any] = {
            "credential": "anonymous",
            "projects": [GcpProject(id=p.id, name=p.name, endpoint_url=p.endpoint_url) for p in self.projects],
            "organization_domains": list(self.organization_domains),
            "project_iam": False,
            "max_workers": 4,
        }
        values.update(overrides)
        return GcpProvider(**values)


def start_demo_emulators(spec: GcpEstateSpec | None = None) -> dict[str, GcsEmulator]:
    """One running emulator per project of the estate (reporting that project's number); the caller stops them."""
    started: dict[str, GcsEmulator] = {}
    try:
        for project in (spec or gcp_estate_spec()).projects:
            started[project.id] = GcsEmulator(project_number=project.number).start()
    except Exception:
        for emulator in started.values():
            emulator.stop()
        raise
    return started


# --- Seeding ------------------------------------------------------------------------------------------------


def _owners(number: str) -> list[tuple[str, str]]:
    """The ACL entries GCS gives every new bucket: the project's owners, editors and viewers."""
    return [(f"project-owners-{number}", "OWNER"), (f"project-editors-{number}", "OWNER"),
            (f"project-viewers-{number}", "READER")]


def _default_bindings(project: str) -> list[dict[str, Any]]:
    """The bucket IAM policy GCS starts every bucket with (the project convenience values)."""
    return [
        {"role": "roles/storage.legacyBucketOwner", "members": {f"projectOwner:{project}", f"projectEditor:{project}"}},
        {"role": "roles/storage.legacyBucketReader", "members": {f"projectViewer:{project}"}},
        {"role": "roles/storage.legacyObjectOwner", "members": {f"projectOwner:{project}", f"projectEditor:{project}"}},
        {"role": "roles/storage.legacyObjectReader", "members": {f"projectViewer:{project}"}},
    ]


def _binding(b: Binding) -> dict[str, Any]:
    return {"role": b.role, "members": set(b.members), **({"condition": dict(b.condition)} if b.condition else {})}


def _entries(acl: list[AclEntry]) -> list[tuple[str, str]]:
    return [(e.entity, e.role) for e in acl]


class _Seeder:
    def __init__(self, project: Project, endpoint: str) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.auth.transport.requests import AuthorizedSession
        storage: Any = importlib.import_module("google.cloud.storage")  # the library ships no type information

        self.project = project.id
        self.number = project.number
        self.endpoint = endpoint
        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        self.client: Any = storage.Client(project=project.id, credentials=credentials,
                                          client_options={"api_endpoint": endpoint})
        self.http = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        self.buckets: list[GcpDemoBucket] = []

    def bucket(self, b: Bucket) -> None:
        bucket = self.client.create_bucket(b.name)
        # The emulator drops create-time settings: PATCH them (location included, which real GCS fixes at creation).
        response = self.http.patch(f"{self.endpoint}/storage/v1/b/{b.name}", json={"location": b.location},
                                   timeout=10)
        response.raise_for_status()
        bucket.labels = dict(b.labels)
        bucket.iam_configuration.uniform_bucket_level_access_enabled = b.uniform_bucket_level_access
        bucket.iam_configuration.public_access_prevention = b.public_access_prevention
        bucket.patch()
        policy = bucket.get_iam_policy(requested_policy_version=3)
        policy.version = 3
        policy.bindings = _default_bindings(self.project) + [_binding(x) for x in b.bindings]
        bucket.set_iam_policy(policy)
        owner = (f"project-owners-{self.number}", "OWNER")
        if not b.uniform_bucket_level_access:
            self._acl(bucket.acl, _owners(self.number) + _entries(b.acl))
            self._acl(bucket.default_object_acl, [owner, *_entries(b.default_object_acl)])
        for key, content in sorted(b.objects.items()):
            blob = bucket.blob(key)
            blob.upload_from_string(render(content), content_type="text/csv" if key.endswith(".csv") else None)
            if b.object_acl and not b.uniform_bucket_level_access:
                self._acl(blob.acl, [owner, *_entries(b.object_acl)])
        self.buckets.append(GcpDemoBucket(self.project, b.name, b.location.lower(), b.expected, b.latent, b.issue,
                                          dict(b.labels)))

    @staticmethod
    def _acl(acl: Any, entries: list[tuple[str, str]]) -> None:
        acl.save(acl=[{"entity": entity, "role": role} for entity, role in entries])


def seed_gcp_estate(endpoints: Mapping[str, str], spec: GcpEstateSpec | None = None) -> GcpDemoEstate:
    """Seed the GCS estate (``estate/gcp.yaml`` unless ``spec`` is given): ``endpoints`` maps each project id to
    its own empty emulator (see ``start_demo_emulators``)."""
    spec = spec or gcp_estate_spec()
    missing = sorted({p.id for p in spec.projects} - set(endpoints))
    if missing:
        raise ValueError(f"no emulator endpoint for project(s) {', '.join(missing)}")
    if len(set(endpoints.values())) != len(endpoints):
        raise ValueError("each project needs its own emulator: the emulator lists every bucket for any project")
    buckets: list[GcpDemoBucket] = []
    for project in spec.projects:
        seeder = _Seeder(project, endpoints[project.id])
        for bucket in project.buckets:
            seeder.bucket(bucket)
        buckets += seeder.buckets
    projects = tuple(GcpDemoProject(p.id, p.name, p.number, endpoints[p.id]) for p in spec.projects)
    return GcpDemoEstate(projects=projects, buckets=tuple(buckets),
                         organization_domains=tuple(spec.organization_domains))


__all__ = [
    "GcpDemoBucket",
    "GcpDemoEstate",
    "GcpDemoProject",
    "GcpEstateSpec",
    "gcp_estate_spec",
    "seed_gcp_estate",
    "start_demo_emulators",
]
