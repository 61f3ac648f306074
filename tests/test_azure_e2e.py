"""The whole pipeline for Azure, against Azurite (blob data plane) and the test-only ARM emulator (management plane;
nothing else emulates it): collect -> normalize -> exposure -> rules -> JSON.

The Velora Motors Azure estate states the verdict shared/EXPOSURE.md prescribes for every account and container; the
scan must agree with each, every seeded mistake must raise a finding and healthy resources none. Where Azurite can
judge (the container level, for anonymous requests), the verdicts must agree with what it actually serves.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.azure import SUB_CONNECTED_CAR, SUB_PRODUCTION, AzureEmulators

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo.seed_azure import AzureDemoEstate, AzureDemoUnavailable, seed_azure_estate, start_azure_demo
from cloudwatchdog.model import CoverageStatus, Level, Resource, ScanResult
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.raw import MAX_DEPTH, load_raw, too_deep
from cloudwatchdog.services.scan import run_scan


@pytest.fixture
def estate(azure: AzureEmulators) -> AzureDemoEstate:
    return seed_azure_estate(azure.arm, azure.tls.ca_file)


def _scan(estate: AzureDemoEstate, **overrides: Any) -> ScanResult:
    cfg = estate.azure_provider(max_attempts=2, retry_backoff=0, **overrides)
    return run_scan(Config(providers=Providers(azure=cfg)), load_rules())


@pytest.fixture
def scanned(estate: AzureDemoEstate) -> ScanResult:
    return _scan(estate)


def _by_name(result: ScanResult) -> dict[tuple[str, str], Resource]:
    return {(r.type, r.name): r for r in result.resources}


def test_every_verdict_matches_the_estate(estate: AzureDemoEstate, scanned: ScanResult) -> None:
    found = _by_name(scanned)
    expected = estate.expected_verdicts()
    wrong = [
        f"{key}: got {found[key].exposure.level.value} latent={found[key].exposure.latent}, want {want}: "
        f"{[e.detail for e in found[key].exposure.evidence]}"
        for key, want in expected.items()
        if key in found and (found[key].exposure.level.value, found[key].exposure.latent) != want
    ]
    assert not wrong, "\n".join(wrong)
    assert set(found) == set(expected), "every seeded resource is scanned, nothing else"


def test_every_mistake_raises_a_finding_and_healthy_resources_none(estate: AzureDemoEstate,
                                                                    scanned: ScanResult) -> None:
    flagged = {f.resource_name for f in scanned.findings}
    mistakes = [a.name for a in estate.accounts if a.issue] + [c.resource_name for c in estate.containers if c.issue]
    assert not [m for m in mistakes if m not in flagged], f"seeded mistakes without a finding: {mistakes}"
    healthy = {a.name for a in estate.accounts if not a.issue and a.expected == "private" and not a.latent}
    healthy |= {c.resource_name for c in estate.containers if not c.issue and c.expected == "private"}
    assert healthy and not healthy & flagged, f"findings on healthy resources: {sorted(healthy & flagged)}"


def test_findings_carry_the_rules_severities_and_evidence(scanned: ScanResult) -> None:
    rules = {(f.rule_id, f.resource_name): f for f in scanned.findings}
    brochures = rules[("azure-storage-container-public", "velorabrochures/dealer-brochures")]
    assert brochures.severity.value == "critical" and brochures.resource_type == "azure.storage.container"
    assert brochures.resource_uid.endswith("/storageAccounts/velorabrochures/blobServices/default/containers/"
                                           "dealer-brochures")
    assert "public access level Container" in brochures.evidence[0].detail
    assert "--name dealer-brochures" in (brochures.remediation.cli or "")
    website = rules[("azure-storage-container-public", "velorawebsite/$web")]
    assert "static website hosting is on" in website.evidence[0].detail
    feed = rules[("azure-storage-container-latent-public", "veloradealerfeed/inventory-feed")]
    assert feed.severity.value == "medium" and "IP 203.0.113.0/24" in feed.message
    assert rules[("azure-storage-account-network-open-public-containers", "velorabrochures")].severity.value == "high"
    assert rules[("azure-storage-account-blob-public-access-allowed", "veloracrmexports")].severity.value == "medium"
    assert rules[("azure-storage-account-shared-key-access", "veloratelematics")].severity.value == "low"
    assert not any(f.rule_id == "azure-resource-unreadable" for f in scanned.findings)


def test_coverage_is_complete(estate: AzureDemoEstate, scanned: ScanResult) -> None:
    assert scanned.complete, [c.to_dict() for c in scanned.coverage]
    assert {c.account for c in scanned.coverage} == set(estate.subscriptions)
    calls = {c.account: c.api_calls for c in scanned.coverage}
    assert calls[SUB_PRODUCTION] > 0 and calls[SUB_CONNECTED_CAR] > 0


def _anonymous(url: str, azure: AzureEmulators) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10, context=azure.tls.client_context()) as response:
            return int(response.status) == 200
    except urllib.error.HTTPError:
        return False


def test_verdicts_agree_with_what_azurite_serves_anonymously(
        azure: AzureEmulators, estate: AzureDemoEstate, scanned: ScanResult) -> None:
    """Azurite enforces container levels for anonymous requests but knows nothing of the ARM-level account flag or
    firewall (nor serves static websites), so the comparison covers the containers whose verdict rests on the
    level alone: accounts that allow anonymous access with a firewall open to every network."""
    compared = 0
    for r in scanned.resources:
        if r.type != "azure.storage.container" or r.properties["container"] == "$web":
            continue
        props = r.properties
        if props["account_blob_public_access_allowed"] is not True or props["network_access"] != "internet":
            continue
        account, container = r.properties["storage_account"], r.properties["container"]
        base = f"{azure.azurite.account_url(account)}/{container}"
        blob = next(iter(azure.azurite.service_client(account).get_container_client(container).list_blob_names()),
                    None)
        if blob is not None:
            assert _anonymous(f"{base}/{blob}", azure) is r.exposure.read, r.name
        assert _anonymous(f"{base}?restype=container&comp=list", azure) is r.exposure.list, r.name
        compared += 1
    assert compared >= 4  # dealer-brochures (Container), press-images (Blob), brochure-drafts, crm-exports-2019


def test_a_denied_subscription_costs_only_that_subscription(azure: AzureEmulators, estate: AzureDemoEstate) -> None:
    azure.arm.deny(SUB_CONNECTED_CAR)
    result = _scan(estate)
    coverage = {c.account: c for c in result.coverage}
    assert coverage[SUB_CONNECTED_CAR].status is CoverageStatus.ERROR
    assert "AuthorizationFailed" in coverage[SUB_CONNECTED_CAR].errors[0]
    assert coverage[SUB_PRODUCTION].status is CoverageStatus.OK
    assert ("azure.storage.container", "velorabrochures/dealer-brochures") in _by_name(result)
    assert not any(r.account == SUB_CONNECTED_CAR for r in result.resources)


def test_a_container_listing_failing_half_way(azure: AzureEmulators, estate: AzureDemoEstate) -> None:
    azure.arm.page_size = 1
    azure.arm.fail(r"veloraerp/blobServices/default/containers\?.*\$skiptoken=1", status=500)
    result = _scan(estate)
    found = _by_name(result)
    erp = found[("azure.storage.account", "veloraerp")]
    assert erp.exposure.level is Level.UNKNOWN
    assert "the container listing is incomplete: ListContainers failed: InternalServerError" in (
        erp.exposure.evidence[0].detail)
    assert found[("azure.storage.container", "veloraerp/invoices")].exposure.level is Level.PRIVATE
    assert ("azure.storage.container", "veloraerp/payroll-exports") not in found
    coverage = {c.account: c for c in result.coverage}
    assert coverage[SUB_PRODUCTION].status is CoverageStatus.PARTIAL
    assert any("veloraerp" in e and "InternalServerError" in e for e in coverage[SUB_PRODUCTION].errors)
    assert coverage[SUB_CONNECTED_CAR].status is CoverageStatus.OK
    unreadable = [f for f in result.findings if f.rule_id == "azure-resource-unreadable"]
    assert [f.resource_name for f in unreadable] == ["veloraerp"]
    # Everything else is still judged: the public containers are still found, with paging.
    assert found[("azure.storage.container", "velorabrochures/dealer-brochures")].exposure.level is Level.PUBLIC


def test_an_unexpected_shape_makes_the_affected_resources_unknown(
        azure: AzureEmulators, estate: AzureDemoEstate) -> None:
    body = json.loads(json.dumps({"value": [azure.arm.account_body(a.name) for a in estate.accounts
                                            if a.subscription == SUB_PRODUCTION]}))
    crm = next(a for a in body["value"] if a["name"] == "veloracrmexports")
    crm["properties"]["allowBlobPublicAccess"] = "sometimes"
    azure.arm.respond(rf"/subscriptions/{SUB_PRODUCTION}/providers/Microsoft.Storage/storageAccounts\?", body)
    result = _scan(estate)
    found = _by_name(result)
    export = found[("azure.storage.container", "veloracrmexports/crm-exports-2019")]
    assert export.exposure.level is Level.UNKNOWN
    assert any("allowBlobPublicAccess is not a boolean" in e.detail for e in export.exposure.evidence)
    finding = next(f for f in result.findings if f.resource_name == "veloracrmexports/crm-exports-2019")
    assert (finding.rule_id, finding.severity.value) == ("azure-resource-unreadable", "high")
    assert found[("azure.storage.container", "velorabrochures/dealer-brochures")].exposure.level is Level.PUBLIC
    assert {c.account: c.status for c in result.coverage}[SUB_PRODUCTION] is CoverageStatus.PARTIAL


def test_a_static_website_that_cannot_be_read(azure: AzureEmulators, estate: AzureDemoEstate) -> None:
    body = json.loads(json.dumps({"value": [azure.arm.account_body(a.name) for a in estate.accounts
                                            if a.subscription == SUB_PRODUCTION]}))
    site = next(a for a in body["value"] if a["name"] == "velorawebsite")
    site["properties"]["primaryEndpoints"]["blob"] = "https://127.0.0.1:9/velorawebsite/"  # nothing listens there
    azure.arm.respond(rf"/subscriptions/{SUB_PRODUCTION}/providers/Microsoft.Storage/storageAccounts\?", body)
    result = _scan(estate)
    web = _by_name(result)[("azure.storage.container", "velorawebsite/$web")]
    assert web.exposure.level is Level.UNKNOWN
    assert any("GetBlobServiceProperties failed: ServiceRequestError" in e.detail for e in web.exposure.evidence)


def _config_file(tmp_path: Path, estate: AzureDemoEstate, extra: str = "") -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(f"providers:\n  azure:\n    arm_endpoint: {estate.arm_endpoint}\n    credential: emulator\n"
                 f"    ca_bundle: {estate.ca_file}\n    max_attempts: 2\n    retry_backoff: 0\n{extra}")
    return p


def _scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--format", "json", "--output", "-", "--no-progress", *args])
    return code, json.loads(capsys.readouterr().out)


def test_cli_scan_json_and_replay(estate: AzureDemoEstate, azure: AzureEmulators, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw.json"
    code, live = _scan_json(capsys, "-c", str(_config_file(tmp_path, estate)), "--fail-on", "critical",
                            "--save-raw", str(raw))
    assert code == 1, "the estate has critical findings"
    assert not any(too_deep(s, limit=MAX_DEPTH // 4) for s in load_raw(str(raw)))  # far from the readers' bound
    container = next(r for r in live["resources"] if r["name"] == "velorabrochures/dealer-brochures")
    assert container["type"] == "azure.storage.container" and container["provider"] == "azure"
    assert container["account"] == SUB_PRODUCTION and container["region"] == "westeurope"
    assert container["exposure"]["level"] == "public" and container["exposure"]["list"] is True
    assert {c["status"] for c in live["scan"]["coverage"]} == {"ok"}
    requests_before = azure.arm.hits(".")
    # Replaying needs no cloud: point the config at a closed port to prove no call is made.
    dead = _config_file(tmp_path, AzureDemoEstate("https://127.0.0.1:9", estate.ca_file, {}, (), ()))
    code, replayed = _scan_json(capsys, "-c", str(dead), "--from-raw", str(raw), "--fail-on", "critical")
    assert code == 1
    assert azure.arm.hits(".") == requests_before
    assert replayed["resources"] == live["resources"]
    assert [f["id"] for f in replayed["findings"]] == [f["id"] for f in live["findings"]]


def test_cli_incomplete_scan_exits_3(estate: AzureDemoEstate, azure: AzureEmulators, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    azure.arm.deny(SUB_CONNECTED_CAR)
    code, doc = _scan_json(capsys, "-c", str(_config_file(tmp_path, estate)))
    assert code == 3
    assert {c["account"]: c["status"] for c in doc["scan"]["coverage"]}[SUB_CONNECTED_CAR] == "error"


def test_start_azure_demo_runs_its_own_emulators_and_stops_them() -> None:
    demo = start_azure_demo(install=False)
    try:
        result = run_scan(Config(providers=Providers(azure=demo.provider)), load_rules())
        found = _by_name(result)
        assert set(found) == set(demo.estate.expected_verdicts())
        assert found[("azure.storage.container", "velorawebsite/$web")].exposure.level is Level.PUBLIC
        assert result.complete
    finally:
        demo.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(demo.estate.arm_endpoint, timeout=5)


def test_start_azure_demo_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    with pytest.raises(AzureDemoUnavailable, match=r"Node\.js is not installed"):
        start_azure_demo(install=True)
