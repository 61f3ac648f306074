"""Discovered Google Cloud projects and Azure subscriptions as units of a distributed scan (providers/gcp/units.py,
providers/azure/units.py), and the trust Google Cloud projects share across units (services.fleet).

Each unit is collected here as a worker collects it (``collect`` of the unit's settings, after the JSON round trip
of the queue) and put back together by ``assemble``; the verdicts must equal a single-process scan's. Against the
real gcp-storage-emulator and Azurite with the test-only Resource Manager and ARM servers (nothing emulates those).
"""

from __future__ import annotations

from typing import Any

from support.azure import SUB_A, SUB_B, AzureEmulators
from support.gcp_resource_manager import FakeProject, ResourceManagerServer
from support.gcs import ANALYTICS, PROD, PROJECT_NUMBERS, make_gcs_client

from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import Level
from cloudwatchdog.providers.base import Unit
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.services.fleet import assemble
from cloudwatchdog.services.fleet_queue import PlannedUnit
from cloudwatchdog.services.scan import analyse_snapshots
from cloudwatchdog.state.fleet import UnitOutcome

ORG = "organizations/1001"
ANALYTICS_AGENT = f"serviceAccount:etl@{ANALYTICS}.iam.gserviceaccount.com"
ANALYTICS_STORAGE_AGENT = (f"serviceAccount:service-{PROJECT_NUMBERS[ANALYTICS]}"
                           "@gs-project-accounts.iam.gserviceaccount.com")


def _run_units(provider: str, units: list[Unit], lost: str | None = None) -> tuple[list[Any], list[Any], list[Any]]:
    """Each unit collected as a worker does (its settings through JSON), then assembled by the coordinator;
    ``lost``: the account whose unit left no result (its worker died for good)."""
    plugin = PROVIDERS.get(provider)
    planned = [PlannedUnit(f"{provider}/{i:05d}/{u.account}", provider, u.account, u.name,
                           u.settings.model_dump(mode="json")) for i, u in enumerate(units)]
    outcomes = {}
    for unit in planned:
        if unit.account == lost:
            continue
        snapshots = list(plugin.collect(plugin.settings.model_validate(unit.settings)))
        result = {"scan_id": "s", "unit": unit.key, "provider": provider, "account": unit.account,
                  "snapshots": snapshots}
        outcomes[unit.key] = UnitOutcome(unit.key, "ok", 1, "w", None, result)
    resources, coverage, failed, _ = assemble(planned, outcomes.get, scan_id="s")
    return resources, coverage, failed


def _verdicts(resources: list[Any], coverage: list[Any]) -> list[Any]:
    return sorted((r.uid, r.exposure.level.value, r.exposure.external_principals, r.account_name or "")
                  for r in resources) + sorted((c.account, c.status.value, c.name or "") for c in coverage)


def test_discovered_projects_are_units_judged_with_the_whole_scans_trust(
    resource_manager: ResourceManagerServer, gcs_pair: dict[str, GcsEmulator]
) -> None:
    rm = resource_manager
    rm.organizations[ORG] = "velora.example"
    rm.projects += [FakeProject(PROD, PROJECT_NUMBERS[PROD], ORG, "Velora Production"),
                    FakeProject(ANALYTICS, PROJECT_NUMBERS[ANALYTICS], ORG, "Velora Analytics"),
                    FakeProject("velora-ci-2231", "100000000002", ORG)]
    for project in (PROD, ANALYTICS):
        bucket = make_gcs_client(gcs_pair[project].endpoint, project).create_bucket(f"{project}-data")
        bucket.iam_configuration.uniform_bucket_level_access_enabled = True
        bucket.patch()
    # Production lets the analytics project's service accounts read its objects: ours, in a scan of both.
    rm.iam[PROD] = {"bindings": [{"role": "roles/storage.objectViewer",
                                  "members": [ANALYTICS_AGENT, ANALYTICS_STORAGE_AGENT]}]}
    rm.iam[ANALYTICS] = {"bindings": [{"role": "roles/storage.objectViewer",
                                       "members": ["user:auditor@outside-audit.example"]}]}
    gcp = PROVIDERS.get("gcp")
    cfg = gcp.settings.model_validate({
        "credential": "anonymous", "endpoint_url": "http://127.0.0.1:9", "resource_manager_endpoint": rm.endpoint,
        "organization": ORG, "exclude_projects": ["velora-ci-2231"], "retry_timeout": 1.0,
        # (each project's own emulator: gcp-storage-emulator lists every bucket it holds for any project)
        "projects": [{"id": p, "endpoint_url": gcs_pair[p].endpoint} for p in (PROD, ANALYTICS)]})
    single = gcp.collect(cfg)

    units = gcp.units(cfg)
    assert [(u.account, u.name, [(p.id, p.number) for p in u.settings.projects]) for u in units] == [
        (PROD, "Velora Production", [(PROD, PROJECT_NUMBERS[PROD])]),
        (ANALYTICS, "Velora Analytics", [(ANALYTICS, PROJECT_NUMBERS[ANALYTICS])])]
    assert all(not u.settings.discovers and u.settings.organization_domains == ["velora.example"] for u in units)
    listings = len(rm.requests)
    resources, coverage, failed = _run_units("gcp", units)
    assert not any(op.startswith(("projects.list", "folders.list", "projects.search")) for op, _ in
                   rm.requests[listings:])  # the units discover nothing: the coordinator did, once

    assert failed == [] and _verdicts(resources, coverage) == _verdicts(*analyse_snapshots(single))
    by_name = {r.name: r for r in resources}
    assert by_name[f"{PROD}-data"].exposure.level is Level.PRIVATE  # the analytics accounts are ours
    assert by_name[f"{ANALYTICS}-data"].exposure.external_principals == ("user:auditor@outside-audit.example",)
    # What the trust shared across units changes: production's unit alone takes them for another organization's.
    (prod_alone,), _ = analyse_snapshots(PROVIDERS.get("gcp").collect(units[0].settings))
    assert prod_alone.exposure.level is Level.CROSS_ACCOUNT
    assert set(prod_alone.exposure.external_principals) == {ANALYTICS_AGENT, ANALYTICS_STORAGE_AGENT}
    # The analytics unit leaves no result: its project is still ours (a single process trusts every project it
    # targets, read or not), and its own coverage is the unit's error.
    resources, coverage, failed = _run_units("gcp", units, lost=ANALYTICS)
    assert [r.name for r in resources] == [f"{PROD}-data"] and resources[0].exposure.level is Level.PRIVATE
    assert [c.account for c in failed] == [ANALYTICS]


def test_incomplete_project_discovery_stays_one_unit(resource_manager: ResourceManagerServer) -> None:
    rm = resource_manager
    rm.organizations[ORG] = "velora.example"
    rm.projects.append(FakeProject(PROD, PROJECT_NUMBERS[PROD], ORG))
    rm.fail[("folders.list", ORG)] = (403, "IAM_PERMISSION_DENIED", "denied")
    gcp = PROVIDERS.get("gcp")
    cfg = gcp.settings.model_validate({
        "credential": "anonymous", "endpoint_url": "http://127.0.0.1:9", "resource_manager_endpoint": rm.endpoint,
        "organization": ORG, "retry_timeout": 1.0})
    assert [(u.account, u.settings) for u in gcp.units(cfg)] == [("discovered", cfg)]


def _seed_azure(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_subscription(SUB_B, "Velora ML")
    azure.arm.add_account(SUB_A, "cwdtest1", resource_group="rg-web", allow_blob_public_access=True)
    azure.arm.add_container("cwdtest1", "brochures", "Container", blobs={"c3.pdf": b"%PDF"})
    azure.arm.add_account(SUB_B, "cwdtest3", resource_group="rg-ml")
    azure.arm.add_container("cwdtest3", "models")


def test_discovered_subscriptions_are_units_that_judge_as_one_process(azure: AzureEmulators) -> None:
    _seed_azure(azure)
    plugin = PROVIDERS.get("azure")
    cfg = azure.provider()
    single = plugin.collect(cfg)
    units = plugin.units(cfg)
    assert [(u.account, u.name, u.settings.subscriptions) for u in units] == [
        (SUB_A, "Velora Production", [SUB_A]), (SUB_B, "Velora ML", [SUB_B])]
    listings = azure.arm.hits(r"^/subscriptions\?")
    resources, coverage, failed = _run_units("azure", units)
    assert azure.arm.hits(r"^/subscriptions\?") == listings  # listed once, by the coordinator
    assert failed == [] and _verdicts(resources, coverage) == _verdicts(*analyse_snapshots(single))
    assert any(r.exposure.level is Level.PUBLIC for r in resources)
    # A listing that fails leaves the subscriptions one unit: its collect reports the failure as one process does.
    azure.arm.fail(r"^/subscriptions\?", status=500)
    assert [(u.account, u.settings) for u in plugin.units(cfg)] == [("discovered", cfg)]


def test_a_listed_subscription_the_settings_refuse_keeps_the_subscriptions_one_unit(azure: AzureEmulators) -> None:
    """An id from the listing that is not a subscription id our settings take does not fail the planning (nor the
    unit on its worker): the subscriptions stay one unit, collected as a single process collects them."""
    _seed_azure(azure)
    azure.arm.add_subscription("not-a-subscription-id", "Odd")
    plugin = PROVIDERS.get("azure")
    cfg = azure.provider()
    assert [(u.account, u.settings) for u in plugin.units(cfg)] == [("discovered", cfg)]
