"""The GCS part of the demo estate: Velora Motors' two Google Cloud projects, seeded into gcp-storage-emulator.

``velora-prod-7421`` and ``velora-analytics-3317``, a dozen buckets with realistic names, labels, IAM policies and
ACLs: a public telematics export, a public bucket kept in check by public access prevention (latent), an upload
inbox open to any Google account through its ACL, buckets shared with outside partners, and many boring private
ones. Deterministic; all data fake (names, VINs, e-mail addresses on example domains).

``expected`` on each bucket is the verdict shared/EXPOSURE.md prescribes, so the estate doubles as an end-to-end
fixture. The emulator serves one project per process (it lists every bucket it holds for any project), so each
project gets its own emulator: ``start_demo_emulators()`` starts them, ``seed_gcp_estate`` fills them.

Emulator gaps worked around here, each the way a real estate would reach the same state: values given when a
bucket is created are dropped by the emulator, so labels, uniform bucket-level access and public access prevention
are PATCHed afterwards, and the location is PATCHed too (real GCS fixes it at creation and would refuse that).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudwatchdog.demo.seed_aws import customer_csv
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.providers.gcp.settings import GcpProject, GcpProvider

PROD = "velora-prod-7421"
ANALYTICS = "velora-analytics-3317"
PROJECT_NUMBERS = {PROD: "731204558310", ANALYTICS: "318845120947"}
PROJECT_NAMES = {PROD: "Velora Production", ANALYTICS: "Velora Analytics"}
ORG_DOMAIN = "velora.example"
SUPPLIER = "northwind-logistics.example"  # an outside logistics partner
AGENCY = "brightside-agency.example"  # an outside marketing agency


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

    def bucket(self, name: str) -> GcpDemoBucket:
        return next(b for b in self.buckets if b.name == name)

    def provider_config(self, **overrides: Any) -> GcpProvider:
        """The scan config for this estate: each project on its own emulator, anonymous credentials, no Resource
        Manager (so no project IAM), velora.example as the organization's domain."""
        values: dict[str, Any] = {
            "credential": "anonymous",
            "projects": [GcpProject(id=p.id, name=p.name, endpoint_url=p.endpoint_url) for p in self.projects],
            "organization_domains": [ORG_DOMAIN],
            "project_iam": False,
            "max_workers": 4,
        }
        values.update(overrides)
        return GcpProvider(**values)


def start_demo_emulators() -> dict[str, GcsEmulator]:
    """One running emulator per demo project (reporting that project's number); the caller stops them."""
    started: dict[str, GcsEmulator] = {}
    try:
        for project, number in PROJECT_NUMBERS.items():
            started[project] = GcsEmulator(project_number=number).start()
    except Exception:
        for emulator in started.values():
            emulator.stop()
        raise
    return started


def _labels(team: str, env: str = "prod", classification: str = "internal", **more: str) -> dict[str, str]:
    # GCS label values: lowercase letters, digits, dashes and underscores.
    return {"team": team, "env": env, "data-classification": classification, "cost-center": f"cc-{team}", **more}


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


class _Seeder:
    def __init__(self, project: str, endpoint: str) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.auth.transport.requests import AuthorizedSession
        storage: Any = importlib.import_module("google.cloud.storage")  # the library ships no type information

        self.project = project
        self.number = PROJECT_NUMBERS[project]
        self.endpoint = endpoint
        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        self.client: Any = storage.Client(project=project, credentials=credentials,
                                          client_options={"api_endpoint": endpoint})
        self.http = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        self.buckets: list[GcpDemoBucket] = []

    def bucket(
        self,
        name: str,
        *,
        location: str = "EUROPE-WEST3",
        expected: str = "private",
        latent: bool = False,
        issue: str | None = None,
        labels: dict[str, str] | None = None,
        uniform: bool = True,
        pap: str = "inherited",
        bindings: list[dict[str, Any]] | None = None,
        acl: list[tuple[str, str]] | None = None,
        default_acl: list[tuple[str, str]] | None = None,
        objects: dict[str, bytes] | None = None,
        object_acl: list[tuple[str, str]] | None = None,
    ) -> None:
        bucket = self.client.create_bucket(name)
        labels = labels or {}
        # The emulator drops create-time settings: PATCH them (location included, which real GCS fixes at creation).
        response = self.http.patch(f"{self.endpoint}/storage/v1/b/{name}", json={"location": location}, timeout=10)
        response.raise_for_status()
        bucket.labels = labels
        bucket.iam_configuration.uniform_bucket_level_access_enabled = uniform
        bucket.iam_configuration.public_access_prevention = pap
        bucket.patch()
        policy = bucket.get_iam_policy(requested_policy_version=3)
        policy.version = 3
        policy.bindings = _default_bindings(self.project) + (bindings or [])
        bucket.set_iam_policy(policy)
        if not uniform:
            self._acl(bucket.acl, _owners(self.number) + (acl or []))
            self._acl(bucket.default_object_acl, [(f"project-owners-{self.number}", "OWNER")] + (default_acl or []))
        for key, body in sorted((objects or {}).items()):
            blob = bucket.blob(key)
            blob.upload_from_string(body, content_type="text/csv" if key.endswith(".csv") else None)
            if object_acl and not uniform:
                self._acl(blob.acl, [(f"project-owners-{self.number}", "OWNER"), *object_acl])
        self.buckets.append(GcpDemoBucket(self.project, name, location.lower(), expected, latent, issue, labels))

    @staticmethod
    def _acl(acl: Any, entries: list[tuple[str, str]]) -> None:
        acl.save(acl=[{"entity": entity, "role": role} for entity, role in entries])


def _seed_prod(s: _Seeder) -> None:
    s.bucket(
        "velora-telematics-export-eu",
        expected="public",
        issue="allUsers holds roles/storage.objectViewer on a telematics export with customer names, e-mail "
              "addresses, VINs and GPS positions: anyone can list and download it",
        labels=_labels("connected-car", classification="confidential", project="dealer-portal-2016"),
        bindings=[{"role": "roles/storage.objectViewer", "members": {"allUsers"}}],
        objects={f"exports/2016/customers_part{n:02d}.csv": customer_csv(100 + n) for n in range(1, 3)},
    )
    s.bucket(
        "velora-press-archive",
        location="EU",
        expected="private",
        latent=True,
        issue="allUsers holds roles/storage.objectViewer, neutralised only by public access prevention (one "
              "setting away from public)",
        labels=_labels("communications", classification="public"),
        pap="enforced",
        bindings=[{"role": "roles/storage.objectViewer", "members": {"allUsers"}}],
        objects={"press/2019/launch-estate.pdf": b"%PDF-1.4 fake\n"},
    )
    s.bucket(
        "velora-dealer-upload-inbox",
        expected="public",
        issue="uniform bucket-level access is off and the bucket ACL grants WRITER to allAuthenticatedUsers: any "
              "Google account can upload and delete files",
        labels=_labels("sales"),
        uniform=False,
        acl=[("allAuthenticatedUsers", "WRITER")],
        objects={"inbox/README.txt": b"Dealers: drop monthly stock reports here.\n"},
    )
    s.bucket(
        "velora-supplier-exchange",
        expected="cross-account",
        issue=f"roles/storage.objectAdmin granted to user:dispatch@{SUPPLIER}, outside the organization",
        labels=_labels("procurement", classification="confidential", partner="northwind"),
        pap="enforced",
        bindings=[{"role": "roles/storage.objectAdmin", "members": {f"user:dispatch@{SUPPLIER}"}}],
    )
    s.bucket(
        "velora-web-campaign-assets",
        location="US",
        expected="public",
        issue="allUsers holds roles/storage.objectViewer under an IAM condition on the public/ prefix: the "
              "condition narrows which objects, not who can read them",
        labels=_labels("marketing", classification="public"),
        bindings=[{
            "role": "roles/storage.objectViewer",
            "members": {"allUsers"},
            "condition": {
                "title": "public-prefix-only",
                "description": "campaign assets under public/",
                "expression": 'resource.name.startsWith("projects/_/buckets/velora-web-campaign-assets/objects/'
                              'public/")',
            },
        }],
    )
    boring = [
        ("velora-vehicle-firmware", "embedded", "restricted", "enforced"),
        ("velora-terraform-state", "platform", "restricted", "enforced"),
        ("velora-hr-documents", "hr", "restricted", "enforced"),
        ("velora-ci-build-cache", "devops", "internal", "inherited"),
        ("velora-crash-test-footage", "safety", "confidential", "inherited"),
    ]
    for name, team, classification, pap in boring:
        s.bucket(
            name,
            labels=_labels(team, classification=classification),
            pap=pap,
            bindings=[
                {"role": "roles/storage.objectAdmin", "members": {f"group:{team}@{ORG_DOMAIN}"}},
                {"role": "roles/storage.objectViewer",
                 "members": {f"serviceAccount:deployer@{PROD}.iam.gserviceaccount.com"}},
            ],
            objects={f"{team}/README.txt": f"{name}: internal only\n".encode()},
        )


def _seed_analytics(s: _Seeder) -> None:
    s.bucket(
        "velora-analytics-bi-exports",
        expected="public",
        issue="the default object ACL grants READER to allUsers with uniform bucket-level access off: every new "
              "export is readable by anyone",
        labels=_labels("bi", classification="confidential"),
        uniform=False,
        default_acl=[("allUsers", "READER")],
        objects={"exports/q3-sales-by-dealer.csv": b"dealer,units\nMunich-01,412\n"},
    )
    s.bucket(
        "velora-analytics-agency-share",
        expected="cross-account",
        issue=f"roles/storage.objectViewer granted to group:analysts@{AGENCY}, an outside marketing agency",
        labels=_labels("marketing-analytics", classification="confidential", partner="brightside"),
        pap="enforced",
        bindings=[
            {"role": "roles/storage.objectViewer", "members": {f"group:analysts@{AGENCY}",
                                                               f"user:mia.keller@{ORG_DOMAIN}"}},
        ],
    )
    s.bucket(
        "velora-analytics-survey-2019",
        expected="private",
        latent=True,
        issue="an object ACL grants READER to allUsers on a customer survey (uniform bucket-level access off); "
              "public access prevention neutralises it for now",
        labels=_labels("customer-insights", classification="confidential"),
        uniform=False,
        pap="enforced",
        objects={"responses/2019/wave1.csv": customer_csv(19, rows=12)},
        object_acl=[("allUsers", "READER")],
    )
    boring = [
        ("velora-analytics-ml-datasets", "data-science", "internal", "enforced"),
        ("velora-analytics-query-results", "bi", "internal", "inherited"),
        ("velora-analytics-raw-events", "data-platform", "confidential", "enforced"),
    ]
    for name, team, classification, pap in boring:
        s.bucket(
            name,
            location="EUROPE-WEST4",
            labels=_labels(team, classification=classification),
            pap=pap,
            bindings=[
                {"role": "roles/storage.objectViewer", "members": {f"group:{team}@{ORG_DOMAIN}"}},
                {"role": "roles/storage.objectCreator", "members": {
                    f"serviceAccount:service-{PROJECT_NUMBERS[ANALYTICS]}@gcp-sa-bigquery.iam.gserviceaccount.com"}},
            ],
        )


def seed_gcp_estate(endpoints: Mapping[str, str]) -> GcpDemoEstate:
    """Seed the Velora Motors GCS estate: ``endpoints`` maps each project id (``PROD``, ``ANALYTICS``) to its
    own empty emulator (see ``start_demo_emulators``)."""
    missing = sorted(set(PROJECT_NUMBERS) - set(endpoints))
    if missing:
        raise ValueError(f"no emulator endpoint for project(s) {', '.join(missing)}")
    if len(set(endpoints.values())) != len(endpoints):
        raise ValueError("each project needs its own emulator: the emulator lists every bucket for any project")
    prod = _Seeder(PROD, endpoints[PROD])
    _seed_prod(prod)
    analytics = _Seeder(ANALYTICS, endpoints[ANALYTICS])
    _seed_analytics(analytics)
    projects = tuple(
        GcpDemoProject(p, PROJECT_NAMES[p], PROJECT_NUMBERS[p], endpoints[p]) for p in (PROD, ANALYTICS)
    )
    return GcpDemoEstate(projects=projects, buckets=tuple(prod.buckets + analytics.buckets))


__all__ = [
    "ANALYTICS",
    "PROD",
    "GcpDemoBucket",
    "GcpDemoEstate",
    "GcpDemoProject",
    "seed_gcp_estate",
    "start_demo_emulators",
]
