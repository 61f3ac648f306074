"""Cloud Storage verdicts, one table row per rule of shared/EXPOSURE.md ("Google Cloud Storage") plus the
conservative decisions documented in cloudwatchdog/exposure/gcs.py. Pure: typed buckets in, verdicts out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cloudwatchdog.model import Level, ReadError
from cloudwatchdog.providers.gcp.exposure import (
    BucketOwner,
    Kind,
    acl_member,
    bucket_exposure,
    bucket_public_grants,
    classify_member,
    role_capabilities,
)
from cloudwatchdog.providers.gcp.model import (
    AclEntry,
    GcsBucket,
    IamBinding,
    IamCondition,
    IamPolicy,
    ObjectAclSample,
    TrustContext,
)

PROJECT = "velora-prod-7421"
NUMBER = "731204558310"
TRUST = TrustContext(domains=frozenset({"velora.example"}), projects=frozenset({PROJECT, "velora-analytics-3317"}),
                     project_numbers=frozenset({NUMBER, "318845120947"}))
DENIED = ReadError("GetIamPolicy", "forbidden", "HTTP 403: caller lacks storage.buckets.getIamPolicy")

DEFAULT_BINDINGS = (
    IamBinding("roles/storage.legacyBucketOwner", (f"projectEditor:{PROJECT}", f"projectOwner:{PROJECT}")),
    IamBinding("roles/storage.legacyBucketReader", (f"projectViewer:{PROJECT}",)),
)
OWNERS_ACL = (AclEntry(f"project-owners-{NUMBER}", "OWNER"), AclEntry(f"project-viewers-{NUMBER}", "READER"))


def policy(*bindings: tuple[str, tuple[str, ...]] | IamBinding) -> IamPolicy:
    extra = tuple(b if isinstance(b, IamBinding) else IamBinding(b[0], b[1]) for b in bindings)
    return IamPolicy(DEFAULT_BINDINGS + extra, 3)


def bucket(**kw: Any) -> GcsBucket:
    """A private bucket with uniform access on and public access prevention inherited, changed by ``kw``."""
    values: dict[str, Any] = {
        "project": PROJECT, "name": "velora-test-bucket", "location": "europe-west3", "project_number": NUMBER,
        "uniform_access": True, "public_access_prevention": "inherited", "iam_policy": policy(),
        "bucket_acl": None, "default_object_acl": None, "trust": TRUST, "project_iam": IamPolicy(()),
    }
    if kw.get("uniform_access") is False:
        values["bucket_acl"] = OWNERS_ACL
        values["default_object_acl"] = (AclEntry(f"project-owners-{NUMBER}", "OWNER"),)
    values.update(kw)
    return GcsBucket(**values)


def acl(*entries: tuple[str, str]) -> tuple[AclEntry, ...]:
    return OWNERS_ACL + tuple(AclEntry(e, r) for e, r in entries)


OFF = {"uniform_access": False}
ENFORCED = {"public_access_prevention": "enforced"}

# (id, bucket settings, level, latent, (read, list, write), external principals)
CASES: list[tuple[str, dict[str, Any], Level, bool, tuple[bool, bool, bool], tuple[str, ...]]] = [
    # allUsers / allAuthenticatedUsers in IAM; roles set capability
    ("iam allUsers objectViewer", {"iam_policy": policy(("roles/storage.objectViewer", ("allUsers",)))},
     Level.PUBLIC, False, (True, True, False), ()),
    ("iam allAuthenticatedUsers legacyObjectReader",
     {"iam_policy": policy(("roles/storage.legacyObjectReader", ("allAuthenticatedUsers",)))},
     Level.PUBLIC, False, (True, False, False), ()),
    ("iam allUsers objectCreator writes", {"iam_policy": policy(("roles/storage.objectCreator", ("allUsers",)))},
     Level.PUBLIC, False, (False, False, True), ()),
    ("iam allUsers legacyBucketReader lists",
     {"iam_policy": policy(("roles/storage.legacyBucketReader", ("allUsers",)))},
     Level.PUBLIC, False, (False, True, False), ()),
    ("iam allUsers legacyBucketWriter", {"iam_policy": policy(("roles/storage.legacyBucketWriter", ("allUsers",)))},
     Level.PUBLIC, False, (False, True, True), ()),
    ("iam allUsers objectAdmin", {"iam_policy": policy(("roles/storage.objectAdmin", ("allUsers",)))},
     Level.PUBLIC, False, (True, True, True), ()),
    ("iam allUsers admin", {"iam_policy": policy(("roles/storage.admin", ("allUsers",)))},
     Level.PUBLIC, False, (True, True, True), ()),
    ("iam allUsers bucket metadata only", {"iam_policy": policy(("roles/storage.bucketViewer", ("allUsers",)))},
     Level.PUBLIC, False, (False, False, False), ()),
    # public access prevention
    ("iam public neutralised by enforced prevention",
     {"iam_policy": policy(("roles/storage.objectViewer", ("allUsers",))), **ENFORCED},
     Level.PRIVATE, True, (True, True, False), ()),
    ("enforced prevention without public grants is plainly private", {**ENFORCED},
     Level.PRIVATE, False, (False, False, False), ()),
    # uniform bucket-level access: on, only IAM counts
    ("uniform access on ignores stored ACLs",
     {"bucket_acl": acl(("allUsers", "READER")), "default_object_acl": acl(("allUsers", "READER"))},
     Level.PRIVATE, False, (False, False, False), ()),
    # off: bucket ACL, default object ACL and object ACLs grant access
    ("acl allUsers READER lists", {**OFF, "bucket_acl": acl(("allUsers", "READER"))},
     Level.PUBLIC, False, (False, True, False), ()),
    ("acl allAuthenticatedUsers WRITER", {**OFF, "bucket_acl": acl(("allAuthenticatedUsers", "WRITER"))},
     Level.PUBLIC, False, (False, True, True), ()),
    ("default object acl allUsers READER", {**OFF, "default_object_acl": acl(("allUsers", "READER"))},
     Level.PUBLIC, False, (True, False, False), ()),
    ("object acl allUsers READER",
     {**OFF, "object_acls": (ObjectAclSample("survey.csv", acl(("allUsers", "READER"))),)},
     Level.PUBLIC, False, (True, False, False), ()),
    ("public acl neutralised by enforced prevention", {**OFF, **ENFORCED, "bucket_acl": acl(("allUsers", "OWNER"))},
     Level.PRIVATE, True, (False, True, True), ()),
    # members outside the organization are external
    ("org domain user is internal", {"iam_policy": policy(("roles/storage.objectAdmin", ("user:ana@velora.example",)))},
     Level.PRIVATE, False, (False, False, False), ()),
    ("org subdomain group is internal",
     {"iam_policy": policy(("roles/storage.objectViewer", ("group:bi@eu.velora.example",)))},
     Level.PRIVATE, False, (False, False, False), ()),
    ("external user", {"iam_policy": policy(("roles/storage.objectAdmin", ("user:dispatch@northwind.example",)))},
     Level.CROSS_ACCOUNT, False, (True, True, True), ("user:dispatch@northwind.example",)),
    ("external group reads",
     {"iam_policy": policy(("roles/storage.objectViewer", ("group:analysts@brightside.example",)))},
     Level.CROSS_ACCOUNT, False, (True, True, False), ("group:analysts@brightside.example",)),
    ("external domain", {"iam_policy": policy(("roles/storage.objectViewer", ("domain:partner.example",)))},
     Level.CROSS_ACCOUNT, False, (True, True, False), ("domain:partner.example",)),
    ("lookalike domain is external",
     {"iam_policy": policy(("roles/storage.objectViewer", ("domain:velora.example.evil",)))},
     Level.CROSS_ACCOUNT, False, (True, True, False), ("domain:velora.example.evil",)),
    ("own service account and service agent are internal", {"iam_policy": policy(("roles/storage.objectAdmin", (
        f"serviceAccount:deployer@{PROJECT}.iam.gserviceaccount.com",
        f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
        f"serviceAccount:{NUMBER}-compute@developer.gserviceaccount.com",
        f"serviceAccount:{PROJECT}@appspot.gserviceaccount.com")))},
     Level.PRIVATE, False, (False, False, False), ()),
    ("service agent look-alike in a foreign project is external", {"iam_policy": policy((
        "roles/storage.objectAdmin", (f"serviceAccount:service-{NUMBER}@attacker-proj.iam.gserviceaccount.com",)))},
     Level.CROSS_ACCOUNT, False, (True, True, True),
     (f"serviceAccount:service-{NUMBER}@attacker-proj.iam.gserviceaccount.com",)),
    ("service account of a foreign project",
     {"iam_policy": policy(("roles/storage.objectViewer", ("serviceAccount:etl@agency-prj.iam.gserviceaccount.com",)))},
     Level.CROSS_ACCOUNT, False, (True, True, False), ("serviceAccount:etl@agency-prj.iam.gserviceaccount.com",)),
    ("convenience member of a foreign project",
     {"iam_policy": policy(("roles/storage.legacyBucketReader", ("projectViewer:someone-elses-project",)))},
     Level.CROSS_ACCOUNT, False, (False, True, False), ("projectViewer:someone-elses-project",)),
    ("federated identities are external", {"iam_policy": policy(("roles/storage.objectViewer", (
        "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/*",)))},
     Level.CROSS_ACCOUNT, False, (True, True, False),
     ("principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/*",)),
    ("deleted principal grants nothing",
     {"iam_policy": policy(("roles/storage.objectViewer", ("deleted:user:old@partner.example?uid=123",)))},
     Level.PRIVATE, False, (False, False, False), ()),
    ("acl external user", {**OFF, "bucket_acl": acl(("user-ops@partner.example", "READER"))},
     Level.CROSS_ACCOUNT, False, (False, True, False), ("user:ops@partner.example",)),
    ("acl foreign project team", {**OFF, "bucket_acl": acl(("project-viewers-999999999999", "READER"))},
     Level.CROSS_ACCOUNT, False, (False, True, False), ("project-viewers-999999999999",)),
    ("acl own project teams are internal", {**OFF}, Level.PRIVATE, False, (False, False, False), ()),
    ("latent and external", {**ENFORCED, "iam_policy": policy(
        ("roles/storage.objectViewer", ("allUsers", "group:analysts@brightside.example")))},
     Level.CROSS_ACCOUNT, True, (True, True, False), ("group:analysts@brightside.example",)),
    # conservative decisions
    ("condition on a public binding does not restrict it", {"iam_policy": policy(IamBinding(
        "roles/storage.objectViewer", ("allUsers",),
        IamCondition("public-prefix", 'resource.name.startsWith("projects/_/buckets/b/objects/public/")')))},
     Level.PUBLIC, False, (True, True, False), ()),
    ("custom role on allUsers assumed to allow everything",
     {"iam_policy": policy(("projects/velora-prod-7421/roles/assetReader", ("allUsers",)))},
     Level.PUBLIC, False, (True, True, True), ()),
    ("unknown storage role assumed to allow everything",
     {"iam_policy": policy(("roles/storage.futureRole", ("user:x@partner.example",)))},
     Level.CROSS_ACCOUNT, False, (True, True, True), ("user:x@partner.example",)),
    # project IAM reaches every bucket
    ("project IAM grants allUsers a storage role",
     {"project_iam": IamPolicy((IamBinding("roles/storage.objectViewer", ("allUsers",)),))},
     Level.PUBLIC, False, (True, True, False), ()),
    ("project IAM public grant neutralised by bucket prevention",
     {**ENFORCED, "project_iam": IamPolicy((IamBinding("roles/storage.objectViewer", ("allUsers",)),))},
     Level.PRIVATE, True, (True, True, False), ()),
    ("project IAM external viewer",
     {"project_iam": IamPolicy((IamBinding("roles/viewer", ("user:c@consult.example",)),))},
     Level.CROSS_ACCOUNT, False, (True, True, False), ("user:c@consult.example",)),
    # another service's predefined role on the project may carry storage.objects.* permissions: assumed to allow all
    ("project IAM role of another service is assumed to reach bucket data",
     {"project_iam": IamPolicy((IamBinding("roles/bigquery.dataViewer", ("user:c@consult.example",)),))},
     Level.CROSS_ACCOUNT, False, (True, True, True), ("user:c@consult.example",)),
    ("project IAM composer worker to an outside user",
     {"project_iam": IamPolicy((IamBinding("roles/composer.worker", ("user:dispatch@northwind-logistics.example",)),))},
     Level.CROSS_ACCOUNT, False, (True, True, True), ("user:dispatch@northwind-logistics.example",)),
    ("project IAM cloud build builder to an outside user", {"project_iam": IamPolicy((IamBinding(
        "roles/cloudbuild.builds.builder", ("user:dispatch@northwind-logistics.example",)),))},
     Level.CROSS_ACCOUNT, False, (True, True, True), ("user:dispatch@northwind-logistics.example",)),
    ("project IAM role of another service to our own members stays private", {"project_iam": IamPolicy((IamBinding(
        "roles/composer.worker", ("user:ana@velora.example", f"serviceAccount:{NUMBER}-compute@developer."
                                  "gserviceaccount.com")),))},
     Level.PRIVATE, False, (False, False, False), ()),
    ("project IAM not read", {"project_iam": None}, Level.PRIVATE, False, (False, False, False), ()),
    # unknown is never private
    ("iam policy unreadable", {"iam_policy": DENIED}, Level.UNKNOWN, False, (False, False, False), ()),
    ("public acl wins over an unreadable iam policy",
     {**OFF, "iam_policy": DENIED, "bucket_acl": acl(("allUsers", "READER"))},
     Level.PUBLIC, False, (False, True, False), ()),
    ("prevention unreadable with a public grant",
     {"public_access_prevention": ReadError("ListBuckets", "InvalidResponse", "iamConfiguration is missing"),
      "iam_policy": policy(("roles/storage.objectViewer", ("allUsers",)))},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("prevention unreadable without public grants",
     {"public_access_prevention": ReadError("ListBuckets", "InvalidResponse", "iamConfiguration is missing")},
     Level.PRIVATE, False, (False, False, False), ()),
    ("uniform access unreadable with a public acl",
     {"uniform_access": ReadError("ListBuckets", "InvalidResponse", "x"), "bucket_acl": acl(("allUsers", "READER")),
      "default_object_acl": ()},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("uniform access unreadable, public acl, prevention enforced",
     {"uniform_access": ReadError("ListBuckets", "InvalidResponse", "x"), "bucket_acl": acl(("allUsers", "READER")),
      "default_object_acl": (), **ENFORCED},
     Level.PRIVATE, True, (False, True, False), ()),
    ("uniform access unreadable, clean acls",
     {"uniform_access": ReadError("ListBuckets", "InvalidResponse", "x"), "bucket_acl": acl(),
      "default_object_acl": ()},
     Level.PRIVATE, False, (False, False, False), ()),
    ("bucket acl unreadable while acls are in force",
     {**OFF, "bucket_acl": ReadError("ListBucketAcl", "forbidden", "HTTP 403: denied")},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("object sample unreadable while acls are in force",
     {**OFF, "objects_listing": ReadError("ListObjects", "forbidden", "HTTP 403: denied")},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("object acl unreadable", {**OFF, "object_acls": (
        ObjectAclSample("a.csv", ReadError("ListObjects", "InvalidResponse", "no acl")),)},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("project IAM unreadable", {"project_iam": ReadError("GetProjectIamPolicy", "IAM_PERMISSION_DENIED", "403")},
     Level.UNKNOWN, False, (False, False, False), ()),
    ("bucket vanished mid-scan", {"other_errors": (ReadError("GetIamPolicy", "NotFound", "HTTP 404"),)},
     Level.UNKNOWN, False, (False, False, False), ()),
]


@pytest.mark.parametrize(("settings", "level", "latent", "access", "external"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdict(settings: dict[str, Any], level: Level, latent: bool, access: tuple[bool, bool, bool],
                 external: tuple[str, ...]) -> None:
    exposure = bucket_exposure(bucket(**settings))
    evidence = [f"{e.source}: {e.detail}" for e in exposure.evidence]
    assert (exposure.level, exposure.latent) == (level, latent), evidence
    assert (exposure.read, exposure.list, exposure.write) == access, evidence
    assert exposure.external_principals == external, evidence
    assert exposure.evidence, "every verdict carries its evidence"


def _details(**settings: Any) -> list[str]:
    return [f"{e.source}: {e.detail}" for e in bucket_exposure(bucket(**settings)).evidence]


def test_decisive_evidence_comes_first() -> None:
    details = _details(iam_policy=policy(("roles/storage.objectViewer", ("allUsers",))))
    assert details[0].startswith("bucket-iam: bucket IAM policy grants roles/storage.objectViewer to allUsers")
    assert any("public access prevention is not enforced" in d for d in details[:3])


def test_latent_names_the_guardrail() -> None:
    details = _details(iam_policy=policy(("roles/storage.objectViewer", ("allUsers",))), **ENFORCED)
    assert "public-access-prevention: public access prevention is enforced on the bucket: the grants to " \
           "allUsers/allAuthenticatedUsers are neutralised (latent)" in details


def test_condition_is_recorded_as_evidence() -> None:
    condition = IamCondition("until-2020", 'request.time < timestamp("2020-01-01T00:00:00Z")')
    details = _details(iam_policy=policy(IamBinding("roles/storage.objectViewer", ("allUsers",), condition)))
    assert any("under condition 'until-2020': request.time <" in d for d in details)
    assert any(d.startswith("iam-condition:") and "not treated as a restriction" in d for d in details)


def test_unknown_permissions_are_said() -> None:
    details = _details(iam_policy=policy(("organizations/1/roles/reader", ("allUsers",))))
    assert any("custom role organizations/1/roles/reader: its permissions were not read" in d for d in details)


def test_read_errors_are_evidence() -> None:
    exposure = bucket_exposure(bucket(iam_policy=DENIED))
    assert exposure.evidence[0].source == "read-error"
    assert "GetIamPolicy failed: forbidden: HTTP 403" in exposure.evidence[0].detail


def test_object_sample_is_noted_as_a_sample() -> None:
    details = _details(**OFF, object_acls=(ObjectAclSample("a.csv", acl()),))
    assert any("1 object ACL(s) sampled; other objects may carry different ACLs" in d for d in details)


def test_without_organization_domains_every_named_user_is_external() -> None:
    exposure = bucket_exposure(bucket(trust=TrustContext(projects=frozenset({PROJECT})),
                                      iam_policy=policy(("roles/storage.objectViewer", ("user:ana@velora.example",)))))
    assert exposure.level is Level.CROSS_ACCOUNT


@pytest.mark.parametrize(("settings", "expected"), [
    ({"iam_policy": policy(("roles/storage.objectViewer", ("allUsers",))), **ENFORCED}, True),
    ({**OFF, "default_object_acl": acl(("allAuthenticatedUsers", "READER"))}, True),
    ({"bucket_acl": acl(("allUsers", "READER"))}, False),  # uniform access on: the ACL is not in force
    ({}, False),
    ({"iam_policy": DENIED}, None),
    ({**OFF, "bucket_acl": ReadError("ListBucketAcl", "forbidden", "403")}, None),
    ({"project_iam": IamPolicy((IamBinding("roles/storage.objectViewer", ("allAuthenticatedUsers",)),))}, True),
])
def test_public_grants(settings: dict[str, Any], expected: bool | None) -> None:
    assert bucket_public_grants(bucket(**settings)) is expected


def test_roles() -> None:
    caps, note = role_capabilities("roles/storage.objectViewer")
    assert (caps.read, caps.list, caps.write) == (True, True, False) and note is None
    caps, note = role_capabilities("roles/storage.objectViewer_withcond_2b3c")
    assert caps.read and note is None
    for project_level in (False, True):
        caps, note = role_capabilities("roles/composer.worker", project_level=project_level)
        assert (caps.read, caps.list, caps.write) == (True, True, True)
        assert note and "not a Cloud Storage role" in note and "assumed to allow read, list and write" in note
    assert "granted on the project" in (role_capabilities("roles/composer.worker", project_level=True)[1] or "")
    caps, note = role_capabilities("roles/viewer", project_level=True)
    assert (caps.read, caps.list, caps.write, note) == (True, True, False, None), "basic roles stay as they were"


def test_members() -> None:
    owner = BucketOwner(PROJECT, NUMBER, TRUST)
    assert classify_member("allUsers", owner)[0] is Kind.PUBLIC
    assert classify_member("allAuthenticatedUsers", owner)[0] is Kind.PUBLIC
    assert classify_member("user:a@VELORA.example", owner)[0] is Kind.INTERNAL
    assert classify_member("user:a@gmail.com", owner)[0] is Kind.EXTERNAL
    assert classify_member("projectOwner:velora-analytics-3317", owner)[0] is Kind.INTERNAL
    assert classify_member("serviceAccount:service-318845120947@gcp-sa-bigquery.iam.gserviceaccount.com",
                           owner)[0] is Kind.INTERNAL
    assert classify_member("serviceAccount:service-1@gcp-sa-bigquery.iam.gserviceaccount.com",
                           owner)[0] is Kind.EXTERNAL
    assert classify_member("weird", owner)[0] is Kind.EXTERNAL
    assert acl_member("allAuthenticatedUsers", owner)[0] is Kind.PUBLIC
    assert acl_member("domain-velora.example", owner)[:2] == (Kind.INTERNAL, "domain:velora.example")
    assert acl_member("group-00b4903a97d", owner)[0] is Kind.EXTERNAL
    assert acl_member("project-editors-318845120947", owner)[0] is Kind.INTERNAL


@pytest.mark.parametrize(("email", "kind"), [
    # Google-managed accounts named after a scanned project's number: ours
    (f"{NUMBER}@cloudservices.gserviceaccount.com", Kind.INTERNAL),
    (f"{NUMBER}-compute@developer.gserviceaccount.com", Kind.INTERNAL),
    (f"{NUMBER}@cloudbuild.gserviceaccount.com", Kind.INTERNAL),
    (f"service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com", Kind.INTERNAL),
    (f"service-{NUMBER}@gcp-sa-cloudbuild.iam.gserviceaccount.com", Kind.INTERNAL),
    (f"service-{NUMBER}@compute-system.iam.gserviceaccount.com", Kind.INTERNAL),
    (f"service-{NUMBER}@gae-api-prod.google.com.iam.gserviceaccount.com", Kind.INTERNAL),
    ("service-318845120947@dataproc-accounts.iam.gserviceaccount.com", Kind.INTERNAL),
    # accounts of a scanned project (by id): ours
    ("etl@velora-analytics-3317.iam.gserviceaccount.com", Kind.INTERNAL),
    (f"{PROJECT}@appspot.gserviceaccount.com", Kind.INTERNAL),
    # the same Google domains with another project's number: not ours
    ("999999999999@cloudservices.gserviceaccount.com", Kind.EXTERNAL),
    ("999999999999-compute@developer.gserviceaccount.com", Kind.EXTERNAL),
    # our number in an address anyone can create in their own project: look-alikes, not ours
    (f"service-{NUMBER}@attacker-proj.iam.gserviceaccount.com", Kind.EXTERNAL),
    (f"{NUMBER}-compute@attacker-proj.iam.gserviceaccount.com", Kind.EXTERNAL),
    (f"{NUMBER}@attacker-proj.iam.gserviceaccount.com", Kind.EXTERNAL),
    (f"service-{NUMBER}@evilgserviceaccount.com", Kind.EXTERNAL),
    (f"{NUMBER}@cloudservices.gserviceaccount.com.evil.example", Kind.EXTERNAL),
    (f"service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com.evil.example", Kind.EXTERNAL),
    (f"{NUMBER}@developer.gserviceaccount.com", Kind.EXTERNAL),
    ("svc@velora-prod-7421-evil.iam.gserviceaccount.com", Kind.EXTERNAL),
])
def test_service_accounts(email: str, kind: Kind) -> None:
    assert classify_member(f"serviceAccount:{email}", BucketOwner(PROJECT, NUMBER, TRUST))[0] is kind


def test_a_verdict_does_not_depend_on_labels_or_location() -> None:
    base = bucket(iam_policy=policy(("roles/storage.objectViewer", ("allUsers",))))
    other = replace(base, labels=ReadError("ListBuckets", "InvalidResponse", "labels"), location="unknown")
    assert bucket_exposure(other).level is Level.PUBLIC
