"""Project discovery and project IAM through the real google-cloud-resource-manager client (REST transport,
AnonymousCredentials) against a test-only Resource Manager v3 server on 127.0.0.1.

Nothing emulates Resource Manager, so tests/support/gcp_resource_manager.py is an in-process HTTP stand-in that
serves the v3 REST shapes (projects.search, projects.list and folders.list with parent, organizations.get,
projects.getIamPolicy); the client's own request building, paging and error parsing are exercised for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from support.gcp_resource_manager import FakeFolder, FakeProject, ResourceManagerServer

from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import CoverageStatus, Level
from cloudwatchdog.providers.gcp.collect import collect_gcp
from cloudwatchdog.providers.gcp.discovery import discover_projects
from cloudwatchdog.providers.gcp.inventory import analyse_snapshot
from cloudwatchdog.providers.gcp.settings import GcpProvider

ORG = "organizations/1001"


@pytest.fixture
def velora(resource_manager: ResourceManagerServer) -> ResourceManagerServer:
    """organizations/1001 (velora.example): one project directly under it, a folder tree below, a project being
    deleted, and a project of another organization that only a search can see."""
    rm = resource_manager
    rm.page_size = 1  # every listing of two or more entries takes several pages
    rm.organizations[ORG] = "velora.example"
    rm.folders += [FakeFolder("folders/10", ORG, "engineering"), FakeFolder("folders/20", "folders/10", "data"),
                   FakeFolder("folders/30", ORG, "old", state="DELETE_REQUESTED")]
    rm.projects += [
        FakeProject("velora-prod-7421", "731204558310", ORG, "Velora Production"),
        FakeProject("velora-shared-vpc-1", "100000000001", ORG),
        FakeProject("velora-legacy-0042", "100000000042", ORG, state="DELETE_REQUESTED"),
        FakeProject("velora-ci-2231", "100000000002", "folders/10"),
        FakeProject("velora-analytics-3317", "318845120947", "folders/20", "Velora Analytics"),
        FakeProject("partner-sandbox-77", "900000000077", "organizations/2002"),
    ]
    return rm


def cfg(rm: ResourceManagerServer, **kw: Any) -> GcpProvider:
    values: dict[str, Any] = {"credential": "anonymous", "endpoint_url": "http://127.0.0.1:9",
                              "resource_manager_endpoint": rm.endpoint, "project_iam": False}
    values.update(kw)
    return GcpProvider(**values)


def discover(rm: ResourceManagerServer, **kw: Any) -> Any:
    return discover_projects(cfg(rm, **kw), AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_organization_walk(velora: ResourceManagerServer) -> None:
    found = discover(velora, organization=ORG)
    assert [(t.project_id, t.number, t.via) for t in found.targets] == [
        ("velora-analytics-3317", "318845120947", ORG),
        ("velora-ci-2231", "100000000002", ORG),
        ("velora-prod-7421", "731204558310", ORG),
        ("velora-shared-vpc-1", "100000000001", ORG),
    ]
    assert found.failures == [] and found.domains == ["velora.example"]
    assert ("folders.list", "folders/20") in velora.requests  # the walk went two folders deep
    # Two ACTIVE projects directly under the organization, one per page: paging took two requests.
    assert velora.requests.count(("projects.list", ORG)) == 2
    assert found.counter.value == len(velora.requests)


def test_folders_only(velora: ResourceManagerServer) -> None:
    found = discover(velora, folders=["folders/10"])
    assert [t.project_id for t in found.targets] == ["velora-analytics-3317", "velora-ci-2231"]
    assert found.domains == []


def test_search_sees_every_visible_project(velora: ResourceManagerServer) -> None:
    found = discover(velora)
    assert {t.project_id for t in found.targets} == {"velora-prod-7421", "velora-shared-vpc-1", "velora-ci-2231",
                                                     "velora-analytics-3317", "partner-sandbox-77"}
    assert {t.via for t in found.targets} == {"search"}
    assert ("projects.search", "state:ACTIVE") in velora.requests


def test_explicit_projects_win_and_exclusions(velora: ResourceManagerServer) -> None:
    found = discover(velora, organization=ORG, exclude_projects=["velora-ci-2231"], projects=[
        {"id": "velora-prod-7421", "endpoint_url": "http://127.0.0.1:7001"}, "velora-extra-9999"])
    targets = {t.project_id: t for t in found.targets}
    assert list(targets) == ["velora-prod-7421", "velora-extra-9999", "velora-analytics-3317",
                             "velora-shared-vpc-1"]
    prod = targets["velora-prod-7421"]
    assert (prod.via, prod.endpoint_url, prod.number, prod.name) == ("config", "http://127.0.0.1:7001",
                                                                     "731204558310", "Velora Production")


def test_a_folder_that_cannot_be_listed(velora: ResourceManagerServer) -> None:
    velora.fail[("projects.list", "folders/10")] = (403, "IAM_PERMISSION_DENIED",
                                                    "Permission 'resourcemanager.projects.list' denied on folders/10")
    found = discover(velora, organization=ORG)
    assert [t.project_id for t in found.targets] == ["velora-analytics-3317", "velora-prod-7421",
                                                     "velora-shared-vpc-1"]
    (failure,) = found.failures
    assert failure.label == "folders/10"
    assert "cannot list the projects in folders/10: IAM_PERMISSION_DENIED: HTTP 403" in failure.error


def test_organization_domain_unreadable(velora: ResourceManagerServer) -> None:
    velora.fail[("organizations.get", ORG)] = (403, "IAM_PERMISSION_DENIED", "denied")
    found = discover(velora, organization=ORG)
    assert found.domains == [] and len(found.targets) == 4 and found.failures == []


def test_collect_reports_discovery_failures_and_scans_the_rest(
    velora: ResourceManagerServer, gcs: GcsEmulator, gcs_client: Callable[..., Any]
) -> None:
    """The org's projects all point at one emulator here, so only velora-prod-7421 is listed: the others are
    excluded; the failed folder is a coverage entry of its own."""
    bucket = gcs_client().create_bucket("velora-only-bucket")
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True  # two storage calls: listing, IAM
    bucket.patch()
    velora.fail[("folders.list", ORG)] = (503, "UNAVAILABLE", "backend unavailable")
    snapshots = collect_gcp(cfg(velora, endpoint_url=gcs.endpoint, organization=ORG, retry_timeout=1.0,
                                exclude_projects=["velora-shared-vpc-1"]))
    by_account = {s["account"]: s for s in snapshots}
    assert set(by_account) == {ORG, "velora-prod-7421"}
    failed = by_account[ORG]
    assert failed["status"] == "error" and "cannot list the folders in organizations/1001" in failed["error"]
    _, coverage = analyse_snapshot(failed)
    assert coverage.status is CoverageStatus.ERROR
    prod = by_account["velora-prod-7421"]
    assert prod["status"] == "ok" and [b["name"] for b in prod["buckets"]] == ["velora-only-bucket"]
    assert prod["trust"]["domains"] == ["velora.example"]
    # Every Resource Manager request (the retries of the failing one too) and both storage requests are counted.
    assert sum(s["api_calls"] for s in snapshots) == len(velora.requests) + 2


def test_project_iam(velora: ResourceManagerServer, gcs: GcsEmulator, gcs_client: Callable[..., Any]) -> None:
    bucket = gcs_client().create_bucket("velora-only-bucket")
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.patch()
    velora.iam["velora-prod-7421"] = {"bindings": [
        {"role": "roles/storage.objectViewer", "members": ["user:auditor@outside-audit.example"],
         "condition": {"title": "q3", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}},
        {"role": "roles/owner", "members": ["group:platform@velora.example"]}]}
    (snapshot,) = collect_gcp(cfg(velora, endpoint_url=gcs.endpoint, projects=["velora-prod-7421"],
                                  organization_domains=["velora.example"], project_iam=True))
    policy = snapshot["calls"]["GetProjectIamPolicy"]["ok"]
    assert policy["bindings"][0]["condition"]["title"] == "q3"
    (resource,), coverage = analyse_snapshot(snapshot)
    assert resource.exposure.level is Level.CROSS_ACCOUNT
    assert resource.exposure.external_principals == ("user:auditor@outside-audit.example",)
    assert any(e.source == "project-iam" and "velora-prod-7421 IAM policy grants roles/storage.objectViewer"
               in e.detail for e in resource.exposure.evidence)
    assert coverage.status is CoverageStatus.OK


def test_project_iam_unreadable(velora: ResourceManagerServer, gcs: GcsEmulator,
                                gcs_client: Callable[..., Any]) -> None:
    gcs_client().create_bucket("velora-only-bucket")
    velora.fail[("getIamPolicy", "velora-prod-7421")] = (403, "IAM_PERMISSION_DENIED",
                                                        "Permission 'resourcemanager.projects.getIamPolicy' denied")
    (snapshot,) = collect_gcp(cfg(velora, endpoint_url=gcs.endpoint, projects=["velora-prod-7421"],
                                  project_iam=True))
    (resource,), coverage = analyse_snapshot(snapshot)
    assert resource.exposure.level is Level.UNKNOWN
    assert any("GetProjectIamPolicy failed: IAM_PERMISSION_DENIED" in e.detail for e in resource.exposure.evidence)
    assert coverage.status is CoverageStatus.PARTIAL
