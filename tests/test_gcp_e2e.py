"""The whole pipeline for Google Cloud Storage: the Velora Motors GCS estate seeded into two real gcp-storage-emulator
processes (one per project: the emulator lists every bucket it holds for any project) -> collect -> normalize ->
exposure -> rules -> JSON.

The estate states, for each bucket, the verdict shared/EXPOSURE.md prescribes; the scan must agree with every one,
every seeded mistake must raise a finding and healthy buckets none. Discovery goes through the real Resource
Manager client against the test-only Resource Manager server (tests/support/gcp_resource_manager.py); failures the
emulator cannot produce are injected by the fault proxy (tests/support/gcs_fault_proxy.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.gcp_resource_manager import FakeFolder, FakeProject, ResourceManagerServer
from support.gcs import ANALYTICS, PROD, PROJECT_NUMBERS
from support.gcs_fault_proxy import FaultProxy

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo.seed_gcp import GcpDemoEstate, seed_gcp_estate
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import CoverageStatus, Level, ScanResult
from cloudwatchdog.providers.gcp.settings import GcpProject
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.raw import MAX_DEPTH, too_deep
from cloudwatchdog.services.scan import run_scan


@pytest.fixture
def estate(gcs_pair: dict[str, GcsEmulator]) -> GcpDemoEstate:
    return seed_gcp_estate({p: e.endpoint for p, e in gcs_pair.items()})


@pytest.fixture
def scanned(estate: GcpDemoEstate) -> ScanResult:
    return run_scan(Config(providers=Providers(gcp=estate.provider_config())), load_rules())


def _by_name(result: ScanResult) -> dict[str, Any]:
    return {r.name: r for r in result.resources if r.type == "gcp.storage.bucket"}


def test_every_verdict_matches_the_estate(estate: GcpDemoEstate, scanned: ScanResult) -> None:
    by_name = _by_name(scanned)
    assert set(by_name) == {b.name for b in estate.buckets}
    wrong = []
    for b in estate.buckets:
        r = by_name[b.name]
        if (r.exposure.level.value, r.exposure.latent, r.account) != (b.expected, b.latent, b.project):
            wrong.append(f"{b.name}: got {r.exposure.level.value} latent={r.exposure.latent} in {r.account}, want "
                         f"{b.expected} latent={b.latent} in {b.project}: {[e.detail for e in r.exposure.evidence]}")
    assert not wrong, "\n".join(wrong)
    assert {r.region for r in by_name.values()} == {b.location for b in estate.buckets}
    assert by_name["velora-telematics-export-eu"].tags["data-classification"] == "confidential"


def test_every_mistake_raises_a_finding_and_healthy_buckets_none(estate: GcpDemoEstate, scanned: ScanResult) -> None:
    flagged = {f.resource_name for f in scanned.findings}
    missed = [b.name for b in estate.buckets if b.issue and b.name not in flagged]
    assert not missed, f"seeded mistakes without a finding: {missed}"
    healthy = {b.name for b in estate.buckets if not b.issue}
    assert healthy, "the estate has healthy buckets"
    assert not healthy & flagged, f"findings on healthy buckets: {sorted(healthy & flagged)}"


def test_findings_per_bucket(scanned: ScanResult) -> None:
    rules: dict[str, set[tuple[str, str]]] = {}
    for f in scanned.findings:
        rules.setdefault(f.resource_name, set()).add((f.rule_id, f.severity.value))
    assert rules["velora-telematics-export-eu"] == {("gcp-storage-bucket-public", "critical"),
                                                    ("gcp-storage-public-access-prevention-off", "high")}
    assert rules["velora-press-archive"] == {("gcp-storage-bucket-latent-public", "medium")}
    assert rules["velora-dealer-upload-inbox"] == {("gcp-storage-bucket-public", "critical"),
                                                   ("gcp-storage-public-access-prevention-off", "high"),
                                                   ("gcp-storage-uniform-access-off", "low")}
    assert rules["velora-supplier-exchange"] == {("gcp-storage-bucket-cross-account", "high")}
    assert rules["velora-analytics-agency-share"] == {("gcp-storage-bucket-cross-account", "medium")}
    assert rules["velora-analytics-survey-2019"] == {("gcp-storage-bucket-latent-public", "medium"),
                                                     ("gcp-storage-uniform-access-off", "low")}
    finding = next(f for f in scanned.findings if f.resource_name == "velora-telematics-export-eu"
                   and f.rule_id == "gcp-storage-bucket-public")
    assert "granted to anyone: read, list" in finding.message
    assert finding.resource_uid == "//storage.googleapis.com/projects/_/buckets/velora-telematics-export-eu"
    assert finding.remediation.cli == "gcloud storage buckets update gs://velora-telematics-export-eu " \
                                      "--public-access-prevention"


def test_coverage_is_complete(estate: GcpDemoEstate, scanned: ScanResult) -> None:
    assert scanned.complete, [c.to_dict() for c in scanned.coverage]
    assert {c.account for c in scanned.coverage} == {p.id for p in estate.projects}
    assert all(c.api_calls > 0 and c.provider == "gcp" for c in scanned.coverage)


def test_replaying_the_raw_snapshots_gives_the_same_verdicts(scanned: ScanResult) -> None:
    assert not any(too_deep(s, limit=MAX_DEPTH // 4) for s in scanned.raw)  # far from the readers' bound
    replay = run_scan(Config(), load_rules(), replay=json.loads(json.dumps(list(scanned.raw))))
    assert [r.to_dict() for r in replay.resources] == [r.to_dict() for r in scanned.resources]
    assert {(f.rule_id, f.resource_uid) for f in replay.findings} == {(f.rule_id, f.resource_uid)
                                                                       for f in scanned.findings}


def _config_file(tmp_path: Path, estate: GcpDemoEstate) -> Path:
    projects = "".join(f"      - {{id: {p.id}, name: {p.name}, endpoint_url: {p.endpoint_url}}}\n"
                       for p in estate.projects)
    path = tmp_path / "config.yaml"
    path.write_text("providers:\n  gcp:\n    credential: anonymous\n    project_iam: false\n"
                    "    organization_domains: [velora.example]\n    projects:\n" + projects)
    return path


def test_cli_scan_json_contract(estate: GcpDemoEstate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", "-c", str(_config_file(tmp_path, estate)), "--format", "json", "--output", "-",
                 "--fail-on", "critical"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1, "the estate has critical findings"
    assert {c["account"]: c["status"] for c in doc["scan"]["coverage"]} == {PROD: "ok", ANALYTICS: "ok"}
    resource = next(r for r in doc["resources"] if r["name"] == "velora-dealer-upload-inbox")
    assert resource["uid"] == "//storage.googleapis.com/projects/_/buckets/velora-dealer-upload-inbox"
    assert (resource["provider"], resource["type"], resource["account"]) == ("gcp", "gcp.storage.bucket", PROD)
    assert resource["exposure"]["level"] == "public" and resource["exposure"]["write"] is True
    assert resource["properties"]["uniform_bucket_level_access"] is False
    finding = next(f for f in doc["findings"] if f["resource_name"] == "velora-dealer-upload-inbox"
                   and f["rule_id"] == "gcp-storage-bucket-public")
    assert finding["severity"] == "critical" and finding["evidence"][0]["source"] == "bucket-acl"
    assert "allAuthenticatedUsers" in finding["evidence"][0]["detail"]


def test_discovery_and_failures_end_to_end(estate: GcpDemoEstate, gcs_pair: dict[str, GcsEmulator],
                                           resource_manager: ResourceManagerServer) -> None:
    """The organization is walked through Resource Manager (test-only server, real client). Its two demo projects
    keep their own emulators (explicit entries win); a third, discovered project has the storage API disabled
    (injected by the fault proxy in front of the prod emulator, which serves as the provider endpoint); a folder
    cannot be listed; one bucket's IAM policy is forbidden. The scan completes and reports each failure."""
    org = "organizations/1001"
    rm = resource_manager
    rm.organizations[org] = "velora.example"
    rm.folders += [FakeFolder("folders/10", org), FakeFolder("folders/20", org)]
    rm.projects += [FakeProject(PROD, PROJECT_NUMBERS[PROD], org), FakeProject(ANALYTICS, PROJECT_NUMBERS[ANALYTICS],
                                                                              "folders/10"),
                    FakeProject("velora-sandbox-0001", "555000111222", "folders/10")]
    rm.fail[("projects.list", "folders/20")] = (403, "IAM_PERMISSION_DENIED", "denied on folders/20")
    proxy = FaultProxy(gcs_pair[PROD].endpoint).start()
    try:
        proxy.fail("GET", r"/storage/v1/b\?.*project=velora-sandbox-0001", 403, reason="accessNotConfigured",
                   error_info="SERVICE_DISABLED", message="Cloud Storage JSON API is disabled in project 555000111222")
        proxy.fail("GET", r"/b/velora-press-archive/iam", 403, reason="forbidden", message="no getIamPolicy")
        prod = next(p for p in estate.projects if p.id == PROD)
        cfg = estate.provider_config(
            organization=org, resource_manager_endpoint=rm.endpoint, endpoint_url=proxy.endpoint,
            organization_domains=[],  # learnt from the organization
            projects=[GcpProject(id=PROD, endpoint_url=proxy.endpoint),
                      GcpProject(id=ANALYTICS, endpoint_url=gcs_pair[ANALYTICS].endpoint)])
        result = run_scan(Config(providers=Providers(gcp=cfg)), load_rules())
    finally:
        proxy.stop()
    assert prod.endpoint_url == gcs_pair[PROD].endpoint
    coverage = {c.account: c for c in result.coverage}
    assert {a: c.status for a, c in coverage.items()} == {
        PROD: CoverageStatus.PARTIAL, ANALYTICS: CoverageStatus.OK,
        "velora-sandbox-0001": CoverageStatus.ERROR, "folders/20": CoverageStatus.ERROR}
    assert "SERVICE_DISABLED" in coverage["velora-sandbox-0001"].errors[0]
    assert "IAM_PERMISSION_DENIED" in coverage["folders/20"].errors[0]
    assert not result.complete
    by_name = _by_name(result)
    assert by_name["velora-press-archive"].exposure.level is Level.UNKNOWN
    assert "gcp-resource-unreadable" in {f.rule_id for f in result.findings if f.resource_name ==
                                         "velora-press-archive"}
    # Everything else still matches the estate, the org's domain keeps velora.example members internal.
    for b in estate.buckets:
        if b.name != "velora-press-archive":
            r = by_name[b.name]
            assert (r.exposure.level.value, r.exposure.latent) == (b.expected, b.latent), b.name
