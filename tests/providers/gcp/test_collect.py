"""The GCP collector against a real gcp-storage-emulator, through the real google-cloud-storage client.

Failures the emulator cannot produce (403 forbidden, SERVICE_DISABLED, throttling, a listing that breaks part-way,
answers of an unexpected shape) are injected by a fault proxy between the client and the emulator
(tests/support/gcs_fault_proxy.py); every other request reaches the real emulator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.gcs_fault_proxy import FaultProxy

from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import CoverageStatus, Level
from cloudwatchdog.providers.gcp.collect import collect_gcp
from cloudwatchdog.providers.gcp.inventory import analyse_snapshot
from cloudwatchdog.providers.gcp.settings import GcpProject, GcpProvider

PROD = "velora-prod-7421"
OTHER = "velora-analytics-3317"


def config(endpoint: str, *projects: str, **kw: Any) -> GcpProvider:
    values: dict[str, Any] = {"credential": "anonymous", "endpoint_url": endpoint, "projects": list(projects or [PROD]),
                              "project_iam": False, "organization_domains": ["velora.example"], "retry_timeout": 2.0}
    values.update(kw)
    return GcpProvider(**values)


def seed(client: Any, name: str, *, uniform: bool = True, pap: str = "inherited",
         members: dict[str, list[str]] | None = None, acl: list[dict[str, str]] | None = None) -> Any:
    bucket = client.create_bucket(name)
    bucket.labels = {"team": "bi"}
    bucket.iam_configuration.uniform_bucket_level_access_enabled = uniform
    bucket.iam_configuration.public_access_prevention = pap
    bucket.patch()
    if members:
        policy = bucket.get_iam_policy(requested_policy_version=3)
        policy.version = 3
        policy.bindings = [{"role": role, "members": set(m)} for role, m in members.items()]
        bucket.set_iam_policy(policy)
    if acl is not None:
        bucket.acl.save(acl=acl)
    return bucket


def calls_of(snapshot: dict[str, Any], bucket: str) -> dict[str, Any]:
    entry = next(b for b in snapshot["buckets"] if b["name"] == bucket)
    calls: dict[str, Any] = entry["calls"]
    return calls


def verdicts(snapshot: dict[str, Any]) -> dict[str, Level]:
    resources, _ = analyse_snapshot(snapshot)
    return {r.name: r.exposure.level for r in resources}


def test_what_the_emulator_returns_for_each_call(gcs_client: Callable[..., Any], gcs: GcsEmulator) -> None:
    client = gcs_client()
    bucket = seed(client, "velora-bi-exports", uniform=False, members={"roles/storage.objectViewer": ["allUsers"]},
                  acl=[{"entity": "allAuthenticatedUsers", "role": "READER"}])
    policy = bucket.get_iam_policy(requested_policy_version=3)
    policy.bindings.append({"role": "roles/storage.objectAdmin", "members": {"user:ops@partner.example"},
                            "condition": {"title": "prefix", "expression": 'resource.name.startsWith("x")'}})
    bucket.set_iam_policy(policy)
    bucket.default_object_acl.save(acl=[{"entity": "allUsers", "role": "READER"}])
    blob = bucket.blob("q3.csv")
    blob.upload_from_string(b"dealer,units\n")
    blob.acl.save(acl=[{"entity": "user-ana@velora.example", "role": "OWNER"}])

    (snapshot,) = collect_gcp(config(gcs.endpoint))
    assert snapshot["status"] == "ok" and snapshot["provider"] == "gcp" and snapshot["account"] == PROD
    entry = next(b for b in snapshot["buckets"] if b["name"] == "velora-bi-exports")
    listing = entry["listing"]
    # The listing carries iamConfiguration (as PATCHed), labels and the emulator's fixed location and number.
    assert listing["iamConfiguration"]["uniformBucketLevelAccess"] == {"enabled": False}
    assert listing["iamConfiguration"]["publicAccessPrevention"] == "inherited"
    assert listing["labels"] == {"team": "bi"}
    assert listing["location"] == "US" and listing["projectNumber"] == gcs.project_number
    calls = entry["calls"]
    bindings = calls["GetIamPolicy"]["ok"]["bindings"]
    assert {"role": "roles/storage.objectViewer", "members": ["allUsers"]} in bindings
    conditional = next(b for b in bindings if b["role"] == "roles/storage.objectAdmin")
    assert conditional["condition"]["title"] == "prefix"  # conditions are stored and returned as given
    assert calls["ListBucketAcl"]["ok"]["items"] == [{"entity": "allAuthenticatedUsers", "role": "READER"}]
    assert calls["ListDefaultObjectAcl"]["ok"]["items"] == [{"entity": "allUsers", "role": "READER"}]
    assert calls["ListObjects"]["ok"]["items"] == [
        {"name": "q3.csv", "acl": [{"kind": "storage#objectAccessControl", "entity": "user-ana@velora.example",
                                    "role": "OWNER", "bucket": "velora-bi-exports", "object": "q3.csv"}]}]
    json.dumps(snapshot)  # a snapshot is plain JSON, so it can be saved and replayed

    resources, coverage = analyse_snapshot(snapshot)
    (r,) = resources
    assert r.exposure.level is Level.PUBLIC and (r.exposure.read, r.exposure.list) == (True, True)
    assert r.exposure.external_principals == ("user:ops@partner.example",)
    assert coverage.status is CoverageStatus.OK and coverage.resources == 1


def test_values_given_at_creation_are_dropped_by_the_emulator(gcs_client: Callable[..., Any]) -> None:
    """An emulator gap the demo and these tests work around with PATCH: documented, and checked to still hold."""
    client = gcs_client()
    bucket = client.bucket("velora-created-with-settings")
    bucket.labels = {"team": "bi"}
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    client.create_bucket(bucket, location="EUROPE-WEST3")
    stored = client.get_bucket("velora-created-with-settings")
    assert stored.location == "US" and not stored.labels
    assert stored.iam_configuration.uniform_bucket_level_access_enabled is False


def test_uniform_access_on_reads_no_acls(gcs_client: Callable[..., Any], gcs: GcsEmulator) -> None:
    seed(gcs_client(), "velora-uniform", pap="enforced")
    (snapshot,) = collect_gcp(config(gcs.endpoint))
    assert set(calls_of(snapshot, "velora-uniform")) == {"GetIamPolicy"}
    assert verdicts(snapshot) == {"velora-uniform": Level.PRIVATE}


def test_api_calls_are_counted(gcs_client: Callable[..., Any], gcs_fault_proxy: FaultProxy) -> None:
    client = gcs_client()
    seed(client, "velora-a")
    seed(client, "velora-b", uniform=False)
    seen_before = len(gcs_fault_proxy.seen)
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint))
    # One listing, one IAM read per bucket, plus two ACL listings and an object sample for the ACL bucket.
    assert snapshot["api_calls"] == len(gcs_fault_proxy.seen) - seen_before == 1 + 2 + 3


def test_storage_emulator_host_is_honoured(gcs_client: Callable[..., Any], gcs: GcsEmulator,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seed(gcs_client(), "velora-env")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint.removeprefix("http://"))
    cfg = GcpProvider(credential="anonymous", projects=[GcpProject(id=PROD)], project_iam=False)
    (snapshot,) = collect_gcp(cfg)
    assert snapshot["endpoint_url"] == gcs.endpoint
    assert [b["name"] for b in snapshot["buckets"]] == ["velora-env"]


def test_progress_reports_projects_and_buckets(gcs_client: Callable[..., Any], gcs: GcsEmulator) -> None:
    seed(gcs_client(), "velora-p1")
    seed(gcs_client(), "velora-p2")
    seen: list[tuple[str, int]] = []
    collect_gcp(config(gcs.endpoint), progress=lambda label, n: seen.append((label, n)))
    assert sorted(seen) == [(PROD, 0), (f"{PROD}/velora-p1", 1), (f"{PROD}/velora-p2", 1)]


# --- failures injected in front of the emulator -------------------------------------------------------------


def test_forbidden_iam_policy_makes_one_bucket_unknown(gcs_client: Callable[..., Any],
                                                       gcs_fault_proxy: FaultProxy) -> None:
    client = gcs_client()
    seed(client, "velora-locked", members={"roles/storage.objectViewer": ["group:bi@velora.example"]})
    seed(client, "velora-open", members={"roles/storage.objectViewer": ["allUsers"]})
    gcs_fault_proxy.fail("GET", r"/b/velora-locked/iam", 403, reason="forbidden",
                         message="scanner@velora-prod-7421.iam.gserviceaccount.com does not have "
                                 "storage.buckets.getIamPolicy access")
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint))
    error = calls_of(snapshot, "velora-locked")["GetIamPolicy"]["error"]
    assert error["code"] == "forbidden" and error["message"].startswith("HTTP 403: ")
    assert verdicts(snapshot) == {"velora-locked": Level.UNKNOWN, "velora-open": Level.PUBLIC}
    resources, coverage = analyse_snapshot(snapshot)
    locked = next(r for r in resources if r.name == "velora-locked")
    assert locked.exposure.evidence[0].source == "read-error"
    assert "storage.buckets.getIamPolicy" in locked.exposure.evidence[0].detail
    assert coverage.status is CoverageStatus.PARTIAL


def test_storage_api_disabled_and_unreadable_projects(gcs_client: Callable[..., Any],
                                                      gcs_fault_proxy: FaultProxy) -> None:
    seed(gcs_client(), "velora-ok")
    gcs_fault_proxy.fail("GET", rf"/storage/v1/b\?.*project={OTHER}", 403, reason="accessNotConfigured",
                         error_info="SERVICE_DISABLED",
                         message="Cloud Storage JSON API has not been used in project 318845120947 before or it "
                                 "is disabled.")
    gcs_fault_proxy.fail("GET", r"/storage/v1/b\?.*project=velora-locked-0001", 403, reason="forbidden",
                         message="scanner does not have storage.buckets.list access to the Google Cloud project")
    snapshots = {s["account"]: s for s in collect_gcp(config(gcs_fault_proxy.endpoint, PROD, OTHER,
                                                             "velora-locked-0001"))}
    assert snapshots[PROD]["status"] == "ok" and verdicts(snapshots[PROD]) == {"velora-ok": Level.PRIVATE}
    disabled = snapshots[OTHER]
    assert disabled["status"] == "error"
    assert "SERVICE_DISABLED" in disabled["error"] and "not enabled" in disabled["error"]
    locked = snapshots["velora-locked-0001"]
    assert locked["status"] == "error" and "forbidden: HTTP 403" in locked["error"]
    for name in (OTHER, "velora-locked-0001"):
        resources, coverage = analyse_snapshot(snapshots[name])
        assert resources == [] and coverage.status is CoverageStatus.ERROR and coverage.errors


def test_listing_that_breaks_part_way(gcs_client: Callable[..., Any], gcs_fault_proxy: FaultProxy) -> None:
    client = gcs_client()
    for name in ("velora-a", "velora-b", "velora-c", "velora-d", "velora-e"):
        seed(client, name)
    gcs_fault_proxy.paginate_buckets(page_size=2, fail_on_page=2)
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint, retry_timeout=1.0))
    listing = snapshot["calls"]["ListBuckets"]
    assert listing["error"]["code"] == "backendError" and "gave up after retrying" in listing["error"]["message"]
    assert [b["name"] for b in listing["partial"]["items"]] == ["velora-a", "velora-b"]
    assert verdicts(snapshot) == {"velora-a": Level.PRIVATE, "velora-b": Level.PRIVATE}
    _, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.PARTIAL
    assert any("stopped part-way" in e for e in coverage.errors)
    assert any("ListBuckets failed: backendError" in e for e in coverage.errors)


def test_throttling_is_retried(gcs_client: Callable[..., Any], gcs_fault_proxy: FaultProxy) -> None:
    seed(gcs_client(), "velora-busy", members={"roles/storage.objectViewer": ["allUsers"]})
    gcs_fault_proxy.fail("GET", r"/b/velora-busy/iam", 429, reason="rateLimitExceeded", times=2)
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint, retry_timeout=30.0))
    assert "ok" in calls_of(snapshot, "velora-busy")["GetIamPolicy"]
    assert len(gcs_fault_proxy.injected) == 2 and snapshot["api_calls"] == 1 + 3
    assert verdicts(snapshot) == {"velora-busy": Level.PUBLIC}


@pytest.mark.parametrize(("pattern", "body", "operation"), [
    (r"/b/velora-odd/iam", {"bindings": "allUsers"}, "GetIamPolicy"),
    (r"/b/velora-odd/acl", {"items": [{"role": "READER"}]}, "ListBucketAcl"),
    (r"/b/velora-odd/acl", b"<html>proxy error</html>", "ListBucketAcl"),
    (r"/b/velora-odd/o\?", {"items": [{"name": "a.csv"}]}, "ListObjects"),
])
def test_answers_of_an_unexpected_shape(gcs_client: Callable[..., Any], gcs_fault_proxy: FaultProxy, pattern: str,
                                        body: Any, operation: str) -> None:
    seed(gcs_client(), "velora-odd", uniform=False)
    seed(gcs_client(), "velora-fine")
    gcs_fault_proxy.replace("GET", pattern, body)
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint))
    assert verdicts(snapshot) == {"velora-odd": Level.UNKNOWN, "velora-fine": Level.PRIVATE}
    _, coverage = analyse_snapshot(snapshot)
    assert coverage.status is CoverageStatus.PARTIAL
    assert any(operation in e and "InvalidResponse" in e for e in coverage.errors), coverage.errors


def test_a_call_the_service_does_not_implement(gcs_client: Callable[..., Any], gcs_fault_proxy: FaultProxy) -> None:
    seed(gcs_client(), "velora-acl", uniform=False)
    gcs_fault_proxy.fail("GET", r"/b/velora-acl/defaultObjectAcl", 501, reason="notImplemented")
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint))
    assert calls_of(snapshot, "velora-acl")["ListDefaultObjectAcl"]["error"]["code"] == "notImplemented"
    assert verdicts(snapshot) == {"velora-acl": Level.UNKNOWN}


def test_unreachable_endpoint_is_an_error_entry_not_an_exception() -> None:
    (snapshot,) = collect_gcp(config("http://127.0.0.1:9", retry_timeout=0.5, timeout=2.0))
    assert snapshot["status"] == "error" and "ConnectionError" in snapshot["error"]
    assert analyse_snapshot(snapshot)[1].status is CoverageStatus.ERROR


def test_per_project_endpoints(gcs_pair: dict[str, GcsEmulator]) -> None:
    from support.gcs import make_gcs_client

    seed(make_gcs_client(gcs_pair[PROD].endpoint, PROD), "velora-in-prod")
    seed(make_gcs_client(gcs_pair[OTHER].endpoint, OTHER), "velora-in-analytics")
    cfg = GcpProvider(credential="anonymous", project_iam=False, projects=[
        GcpProject(id=PROD, endpoint_url=gcs_pair[PROD].endpoint),
        GcpProject(id=OTHER, endpoint_url=gcs_pair[OTHER].endpoint)])
    snapshots = {s["account"]: s for s in collect_gcp(cfg)}
    assert [b["name"] for b in snapshots[PROD]["buckets"]] == ["velora-in-prod"]
    assert [b["name"] for b in snapshots[OTHER]["buckets"]] == ["velora-in-analytics"]
    # Both projects' numbers (from the listings) are "ours" in each snapshot.
    assert set(snapshots[PROD]["trust"]["project_numbers"]) == {gcs_pair[PROD].project_number,
                                                                gcs_pair[OTHER].project_number}


# --- credentials --------------------------------------------------------------------------------------------


def test_missing_key_file_is_an_error_per_project(tmp_path: Path) -> None:
    cfg = GcpProvider(credential="service_account_file", key_file=str(tmp_path / "nope.json"),
                      projects=[GcpProject(id=PROD), GcpProject(id=OTHER)], project_iam=False)
    snapshots = collect_gcp(cfg)
    assert [(s["account"], s["status"]) for s in snapshots] == [(PROD, "error"), (OTHER, "error")]
    assert "nope.json does not exist" in snapshots[0]["error"]


def test_broken_key_file_never_echoes_its_content(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "scanner@x.iam.gserviceaccount.com",
                               "private_key": "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END-----",
                               "token_uri": "https://oauth2.googleapis.com/token"}))
    (snapshot,) = collect_gcp(GcpProvider(credential="service_account_file", key_file=str(key),
                                          projects=[GcpProject(id=PROD)], project_iam=False))
    assert snapshot["status"] == "error" and "service_account_file credentials" in snapshot["error"]
    assert "TOPSECRETMATERIAL" not in json.dumps(snapshot)


def test_default_credentials_missing_is_an_error_entry() -> None:
    (snapshot,) = collect_gcp(GcpProvider(projects=[GcpProject(id=PROD)], project_iam=False))
    assert snapshot["status"] == "error" and "default credentials" in snapshot["error"]


def test_an_html_error_page_is_recorded_as_one_short_line(gcs_fault_proxy: FaultProxy) -> None:
    """A proxy in the way (or an emulator) answering with a page, not a Cloud Storage error: its title is kept."""
    page = (b"<!doctype html><html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Blocked by "
            b"the corporate proxy policy.</p>" + b"<p>reference 18.f2a1</p>" * 1000 + b"</body></html>")
    gcs_fault_proxy.replace("GET", r"/storage/v1/b\?", page, status=403)
    (snapshot,) = collect_gcp(config(gcs_fault_proxy.endpoint))
    assert snapshot["status"] == "error"
    assert snapshot["error"].startswith("cannot list buckets: Forbidden: HTTP 403: GET http://127.0.0.1:")
    assert snapshot["error"].endswith(": 403 Forbidden") and "<" not in snapshot["error"]


def test_an_unreachable_endpoint_says_it_is_the_network() -> None:
    (snapshot,) = collect_gcp(config("http://127.0.0.1:9", retry_timeout=0.5, timeout=2.0))
    assert snapshot["error"].startswith("cannot list buckets: ConnectionError: cannot reach 127.0.0.1:9: Connection "
                                        "refused (a network problem, not a credentials one)")
