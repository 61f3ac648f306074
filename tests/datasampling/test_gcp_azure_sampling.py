"""Data sampling on GCS (gcp-storage-emulator) and Azure Blob (Azurite, read anonymously as an outsider would):
the demo estate's public bucket or container, given customer files, is reported with what it holds."""

from __future__ import annotations

import pytest
from data_corpus import build_corpus
from support.azure import AzureEmulators
from support.gcs import make_gcs_client

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo.seed_azure import seed_azure_estate
from cloudwatchdog.demo.seed_gcp import seed_gcp_estate
from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.model import DataStatus, Severity
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.settings.data_sampling import DataSamplingConfig

SAMPLING = DataSamplingConfig(enabled=True, max_objects=10, max_bytes=256 * 1024)


def test_gcs_public_bucket_with_customer_files(gcs_pair: dict[str, GcsEmulator]) -> None:
    estate = seed_gcp_estate({p: e.endpoint for p, e in gcs_pair.items()})
    public = next(b for b in estate.buckets if b.expected == "public" and not b.latent)
    client = make_gcs_client(gcs_pair[public.project].endpoint, public.project)
    for o in build_corpus(rows=300):
        client.bucket(public.name).blob(o.key).upload_from_string(o.body, content_type=o.content_type)
    result = run_scan(Config(providers=Providers(gcp=estate.provider_config()), data_sampling=SAMPLING), load_rules())

    bucket = next(r for r in result.resources if r.name == public.name)
    assert bucket.data is not None and bucket.data.status is DataStatus.SAMPLED, bucket.data
    found = {c.data_class.value for c in bucket.data.classes}
    assert {"email", "phone", "postal_address", "credential"} <= found
    assert bucket.data.bytes_read <= 10 * 256 * 1024
    findings = [f for f in result.findings if f.rule_id == "gcp-storage-public-personal-data"]
    assert [f.resource_name for f in findings] == [public.name] and findings[0].severity is Severity.CRITICAL
    for r in result.resources:  # only qualifying verdicts are read
        assert (r.data is not None) == (r.exposure.level.value in ("public", "cross-account")), r.name


@pytest.mark.timeout(240)
def test_azure_public_container_read_anonymously(azure: AzureEmulators) -> None:
    estate = seed_azure_estate(azure.arm, azure.tls.ca_file)
    cfg = estate.azure_provider(max_attempts=2, retry_backoff=0)
    before = run_scan(Config(providers=Providers(azure=cfg)), load_rules())
    target = next(r for r in before.resources if r.type == "azure.storage.container" and r.exposure.read
                  and r.exposure.list and r.properties["network_access"] == "internet"
                  and r.properties["container"] != "$web")
    account, container = target.properties["storage_account"], target.properties["container"]
    blobs = azure.azurite.service_client(account).get_container_client(container)
    for o in build_corpus(rows=300):
        blobs.upload_blob(o.key, o.body, overwrite=True)

    result = run_scan(Config(providers=Providers(azure=cfg), data_sampling=SAMPLING), load_rules())
    sampled = next(r for r in result.resources if r.uid == target.uid)
    assert sampled.data is not None and sampled.data.status is DataStatus.SAMPLED, sampled.data
    assert {"email", "phone", "national_id", "vin"} <= {c.data_class.value for c in sampled.data.classes}
    findings = [f for f in result.findings if f.rule_id == "azure-storage-container-public-personal-data"]
    assert target.name in [f.resource_name for f in findings]
    assert all(f.severity is Severity.CRITICAL for f in findings)
