"""Raw GCP project snapshots -> typed buckets and coverage. Pure: the payloads below have the shapes the collector
records from google-cloud-storage and gcp-storage-emulator (see tests/collectors/test_gcp.py for the real thing);
every malformed shape must become a per-resource ReadError, never a crash or a silently empty setting."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloudwatchdog.model import CoverageStatus, Level, ReadError
from cloudwatchdog.providers.gcp.inventory import analyse_snapshot
from cloudwatchdog.providers.gcp.model import AclEntry, IamPolicy
from cloudwatchdog.providers.gcp.normalize import normalize_project

PROJECT = "velora-prod-7421"


def listing(name: str, *, uniform: bool = True, pap: str | None = "inherited", **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"uniformBucketLevelAccess": {"enabled": uniform}, "bucketPolicyOnly": {"enabled": False}}
    if pap is not None:
        config["publicAccessPrevention"] = pap
    return {"kind": "storage#bucket", "name": name, "projectNumber": "731204558310", "location": "EUROPE-WEST3",
            "iamConfiguration": config, "labels": {"team": "bi"}, **extra}


def ok(payload: Any) -> dict[str, Any]:
    return {"ok": payload}


def iam(*bindings: dict[str, Any]) -> dict[str, Any]:
    return ok({"version": 3, "etag": "CAE=", "bindings": list(bindings)})


def bucket_entry(name: str, *, uniform: bool = True, **calls: Any) -> dict[str, Any]:
    entry_calls: dict[str, Any] = {"GetIamPolicy": iam()}
    if not uniform:
        entry_calls.update(ListBucketAcl=ok({"items": [{"entity": "project-owners-731204558310", "role": "OWNER"}]}),
                           ListDefaultObjectAcl=ok({"items": []}))
    entry_calls.update(calls)
    return {"name": name, "listing": listing(name, uniform=uniform), "calls": entry_calls}


def snapshot(*buckets: dict[str, Any], **top: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "schema_version": 1, "provider": "gcp", "account": PROJECT, "name": "Velora Production",
        "project_number": "731204558310", "via": "config", "status": "ok", "error": None, "api_calls": 7,
        "trust": {"domains": ["velora.example"], "projects": [PROJECT], "project_numbers": ["731204558310"]},
        "calls": {"ListBuckets": ok({"items": [b["listing"] for b in buckets]})},
        "buckets": list(buckets),
    }
    snap.update(top)
    return snap


def test_settings_are_typed() -> None:
    public = bucket_entry(
        "b1", uniform=False,
        GetIamPolicy=iam({"role": "roles/storage.objectViewer", "members": ["allUsers"],
                          "condition": {"title": "t", "expression": "true"}}),
        ListObjects=ok({"items": [{"name": "a.csv", "acl": [{"entity": "allUsers", "role": "READER"}]}]}),
    )
    inv = normalize_project(snapshot(public, calls={
        "ListBuckets": ok({"items": [public["listing"]]}),
        "GetProjectIamPolicy": ok({"version": 1,
                                   "bindings": [{"role": "roles/owner", "members": ["user:a@x.example"]}]}),
    }))
    assert inv.status == "ok" and inv.errors == () and inv.api_calls == 7
    (b,) = inv.buckets
    assert (b.name, b.location, b.project_number, b.uniform_access) == ("b1", "europe-west3", "731204558310", False)
    assert b.public_access_prevention == "inherited" and b.pap_reported
    assert isinstance(b.iam_policy, IamPolicy)
    binding = b.iam_policy.bindings[0]
    assert binding.members == ("allUsers",) and binding.condition is not None and binding.condition.title == "t"
    assert b.bucket_acl == (AclEntry("project-owners-731204558310", "OWNER"),)
    assert b.default_object_acl == ()
    assert b.object_acls[0].name == "a.csv" and b.object_acls[0].acl == (AclEntry("allUsers", "READER"),)
    assert b.labels == {"team": "bi"}
    assert isinstance(b.project_iam, IamPolicy) and b.project_iam.bindings[0].role == "roles/owner"
    assert b.trust.domains == frozenset({"velora.example"}) and PROJECT in b.trust.projects


def test_uniform_access_on_means_acls_do_not_apply() -> None:
    entry = bucket_entry("b1", ListBucketAcl=ok({"items": [{"entity": "allUsers", "role": "READER"}]}))
    (b,) = normalize_project(snapshot(entry)).buckets
    assert b.uniform_access is True and b.bucket_acl is None and b.default_object_acl is None


@pytest.mark.parametrize(("pap", "expected", "reported"), [
    ("enforced", "enforced", True), ("inherited", "inherited", True), ("unspecified", "inherited", True),
    (None, "inherited", False),
])
def test_public_access_prevention_values(pap: str | None, expected: str, reported: bool) -> None:
    entry = bucket_entry("b1")
    entry["listing"] = listing("b1", pap=pap)
    (b,) = normalize_project(snapshot(entry)).buckets
    assert (b.public_access_prevention, b.pap_reported) == (expected, reported)


def test_former_field_name_of_uniform_access() -> None:
    entry = bucket_entry("b1")
    entry["listing"]["iamConfiguration"] = {"bucketPolicyOnly": {"enabled": True}}
    (b,) = normalize_project(snapshot(entry)).buckets
    assert b.uniform_access is True


def _broken(mutate: Any) -> tuple[Any, tuple[str, ...]]:
    entry = bucket_entry("b1", uniform=False)
    mutate(entry)
    inv = normalize_project(snapshot(entry))
    return inv.buckets[0], inv.errors


def _invalid(value: Any) -> bool:
    return isinstance(value, ReadError) and value.code == "InvalidResponse"


def test_iam_configuration_missing() -> None:
    b, errors = _broken(lambda e: e["listing"].pop("iamConfiguration"))
    assert _invalid(b.uniform_access) and _invalid(b.public_access_prevention)
    assert any("iamConfiguration is missing" in line for line in errors)


def test_unknown_prevention_value() -> None:
    b, _ = _broken(lambda e: e["listing"]["iamConfiguration"].update(publicAccessPrevention="sometimes"))
    assert _invalid(b.public_access_prevention) and b.uniform_access is False


def test_labels_malformed_costs_only_the_labels() -> None:
    b, _ = _broken(lambda e: e["listing"].update(labels=["team"]))
    assert _invalid(b.labels) and isinstance(b.iam_policy, IamPolicy)


def test_location_missing() -> None:
    b, errors = _broken(lambda e: e["listing"].pop("location"))
    assert b.location == "unknown" and any("location is not a string" in line for line in errors)


@pytest.mark.parametrize("payload", [
    {"bindings": "allUsers"},
    {"bindings": [{"role": "roles/storage.objectViewer", "members": "allUsers"}]},
    {"bindings": [{"members": ["allUsers"]}]},
    {"bindings": [{"role": "r", "members": [], "condition": {"title": "no expression"}}]},
    {"bindings": [], "version": "3"},
    ["not", "a", "policy"],
])
def test_malformed_iam_policy(payload: Any) -> None:
    b, errors = _broken(lambda e: e["calls"].update(GetIamPolicy=ok(payload)))
    assert _invalid(b.iam_policy), b.iam_policy
    assert any("GetIamPolicy failed: InvalidResponse" in line for line in errors)


@pytest.mark.parametrize("payload", [{"items": [{"role": "READER"}]}, {"items": {"entity": "allUsers"}}, "x"])
def test_malformed_acl(payload: Any) -> None:
    b, _ = _broken(lambda e: e["calls"].update(ListBucketAcl=ok(payload)))
    assert _invalid(b.bucket_acl)


def test_object_without_its_acl() -> None:
    b, errors = _broken(lambda e: e["calls"].update(ListObjects=ok({"items": [{"name": "a.csv"}]})))
    assert _invalid(b.object_acls[0].acl)
    assert any("object a.csv" in line and "without its ACL" in line for line in errors)


def test_failed_and_missing_calls() -> None:
    error = {"error": {"operation": "GetIamPolicy", "code": "forbidden", "message": "HTTP 403: denied"}}
    b, errors = _broken(lambda e: (e["calls"].update(GetIamPolicy=error), e["calls"].pop("ListDefaultObjectAcl")))
    assert b.iam_policy == ReadError("GetIamPolicy", "forbidden", "HTTP 403: denied")
    assert isinstance(b.default_object_acl, ReadError) and b.default_object_acl.code == "NotCollected"
    assert "bucket b1: GetIamPolicy failed: forbidden: HTTP 403: denied" in errors


def test_call_result_of_unknown_shape() -> None:
    b, _ = _broken(lambda e: e["calls"].update(GetIamPolicy={"maybe": 1}))
    assert _invalid(b.iam_policy)


def test_bucket_that_vanished() -> None:
    gone = {"error": {"operation": "GetIamPolicy", "code": "NotFound", "message": "HTTP 404: no such bucket"}}
    b, _ = _broken(lambda e: e["calls"].update(GetIamPolicy=gone))
    assert [e.code for e in b.other_errors] == ["NotFound"]


def test_listing_failed() -> None:
    failed = {"error": {"operation": "ListBuckets", "code": "SERVICE_DISABLED", "message": "HTTP 403: not enabled"}}
    inv = normalize_project(snapshot(calls={"ListBuckets": failed}))
    assert inv.status == "error" and inv.error is not None and "SERVICE_DISABLED" in inv.error
    resources, coverage = analyse_snapshot(snapshot(calls={"ListBuckets": failed}))
    assert resources == [] and coverage.status is CoverageStatus.ERROR and "SERVICE_DISABLED" in coverage.errors[0]


def test_listing_failed_part_way_keeps_what_was_listed() -> None:
    b1, b2 = bucket_entry("b1"), bucket_entry("b2")
    failed = {"error": {"operation": "ListBuckets", "code": "backendError", "message": "HTTP 503"},
              "partial": {"items": [b1["listing"], b2["listing"]]}}
    resources, coverage = analyse_snapshot(snapshot(b1, calls={"ListBuckets": failed}))
    assert [r.name for r in resources] == ["b1"]
    assert coverage.status is CoverageStatus.PARTIAL
    assert any("stopped part-way" in e for e in coverage.errors)
    assert any("bucket b2" in e and "not read" in e for e in coverage.errors)


def test_error_snapshot() -> None:
    resources, coverage = analyse_snapshot(snapshot(status="error", error="cannot list the projects in folders/2"))
    assert resources == [] and coverage.status is CoverageStatus.ERROR
    assert coverage.errors == ("cannot list the projects in folders/2",)


def test_invalid_status_and_junk_entries() -> None:
    snap = snapshot(bucket_entry("b1"))
    snap["buckets"].append("junk")
    snap["buckets"].append({"listing": {}})
    inv = normalize_project(snap)
    assert [b.name for b in inv.buckets] == ["b1"]
    assert any("not a mapping" in e for e in inv.errors) and any("without a name" in e for e in inv.errors)
    assert normalize_project(snapshot(status="maybe")).status == "error"


def test_project_iam_states() -> None:
    denied = {"error": {"operation": "GetProjectIamPolicy", "code": "IAM_PERMISSION_DENIED", "message": "403"}}
    entry = bucket_entry("b1")
    read = normalize_project(snapshot(entry, calls={"ListBuckets": ok({"items": [entry["listing"]]}),
                                                    "GetProjectIamPolicy": denied}))
    assert isinstance(read.buckets[0].project_iam, ReadError)
    assert normalize_project(snapshot(entry)).buckets[0].project_iam is None


def test_resources_and_coverage() -> None:
    public = bucket_entry("velora-open", GetIamPolicy=iam({"role": "roles/storage.objectViewer",
                                                           "members": ["allUsers"]}))
    denied = bucket_entry("velora-locked", GetIamPolicy={"error": {"operation": "GetIamPolicy", "code": "forbidden",
                                                                   "message": "HTTP 403: denied"}})
    resources, coverage = analyse_snapshot(snapshot(public, denied))
    by_name = {r.name: r for r in resources}
    open_ = by_name["velora-open"]
    assert open_.uid == "//storage.googleapis.com/projects/_/buckets/velora-open"
    assert (open_.provider, open_.account, open_.region, open_.type) == ("gcp", PROJECT, "europe-west3",
                                                                          "gcp.storage.bucket")
    assert open_.exposure.level is Level.PUBLIC and open_.tags == {"team": "bi"}
    assert open_.properties["uniform_bucket_level_access"] is True
    assert open_.properties["public_access_prevention"] == "inherited"
    assert open_.properties["public_settings"] is True and open_.properties["read_errors"] == []
    locked = by_name["velora-locked"]
    assert locked.exposure.level is Level.UNKNOWN and locked.properties["public_settings"] is None
    assert coverage.status is CoverageStatus.PARTIAL and coverage.resources == 2 and coverage.api_calls == 7
    assert coverage.errors == ("bucket velora-locked: GetIamPolicy failed: forbidden: HTTP 403: denied",)


def test_replay_is_deterministic() -> None:
    snap = snapshot(bucket_entry("b1", uniform=False), bucket_entry("b2"))
    first = analyse_snapshot(copy.deepcopy(snap))
    assert analyse_snapshot(snap) == first
