"""``collect(..., should_stop=...)`` on each cloud's emulator: once it says stop, nothing more is read, and what was
not read in full is an ``error`` snapshot, which analyses to its account's coverage error and no resource (never a
resource taken for private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.azure import SUB_A, SUB_B, AzureEmulators

from cloudwatchdog.emulators.gcs import GcsEmulator
from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session
from cloudwatchdog.model import CoverageStatus
from cloudwatchdog.providers.registry import PROVIDERS


class StopAfter:
    """A progress callback and a should_stop that says yes once ``n`` resources were read."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.read: list[str] = []
        self.asked = 0

    def progress(self, label: str, advance: int) -> None:
        if advance:
            self.read.append(label)

    def should_stop(self) -> bool:
        self.asked += 1
        return len(self.read) >= self.n


def _stopped(provider: str, snapshot: dict[str, Any]) -> bool:
    """The snapshot analyses to an error, because it was stopped, and to no resource."""
    resources, coverage = PROVIDERS.get(provider).analyse(snapshot)
    return (coverage.status is CoverageStatus.ERROR and "the scan stopped waiting for it" in coverage.errors[0]
            and resources == [])


def test_aws_sends_nothing_once_told_to_stop(moto: MotoServer) -> None:
    s3 = account_session(moto.endpoint).client("s3", endpoint_url=moto.endpoint)
    names = [f"stop-{n}" for n in range(6)]
    for name in names:
        s3.create_bucket(Bucket=name)
    aws = PROVIDERS.get("aws")
    settings = aws.settings.model_validate({"endpoint_url": moto.endpoint, "credential": "emulator",
                                            "regions": ["us-east-1"], "sharing": False, "object_acl_sample": 0,
                                            "max_workers": 1})
    (full,) = aws.collect(settings)
    stop = StopAfter(2)
    (snapshot,) = aws.collect(settings, stop.progress, should_stop=stop.should_stop)

    assert full["status"] == "ok" and stop.asked > 0
    assert snapshot["status"] == "error" and "stopped before the account was read in full" in snapshot["error"]
    assert snapshot["api_calls"] < full["api_calls"] - 2 * 3, (snapshot["api_calls"], full["api_calls"])
    unread = [b["name"] for b in snapshot["buckets"]
              if all(r.get("error", {}).get("code") == "Stopped" for r in b["calls"].values())]
    assert len(unread) >= 3 and [b["name"] for b in snapshot["buckets"]] == names
    assert _stopped("aws", snapshot)
    # An account not started when told to stop is not read at all (who the default chain is was asked before).
    (untouched,) = aws.collect(settings, should_stop=lambda: True)
    assert untouched["account"] == DEFAULT_ACCOUNT and _stopped("aws", untouched)
    assert "ListBuckets" not in untouched["calls"] and untouched["buckets"] == []


def test_gcp_reads_no_more_buckets_once_told_to_stop(gcs: GcsEmulator, gcs_client: Callable[..., Any]) -> None:
    client = gcs_client()
    for n in range(4):
        client.create_bucket(f"velora-stop-{n}")
    gcp = PROVIDERS.get("gcp")
    settings = gcp.settings.model_validate({"credential": "anonymous", "endpoint_url": gcs.endpoint,
                                            "projects": ["velora-prod-7421"], "project_iam": False,
                                            "retry_timeout": 2.0, "max_workers": 1})
    stop = StopAfter(1)
    (snapshot,) = gcp.collect(settings, stop.progress, should_stop=stop.should_stop)

    assert len(stop.read) == 1
    assert snapshot["status"] == "error" and "stopped before the project was read in full" in snapshot["error"]
    unread = [b["name"] for b in snapshot["buckets"] if b["calls"] == {}]
    assert len(unread) == 3
    assert _stopped("gcp", snapshot)


def test_azure_reads_no_more_storage_accounts_once_told_to_stop(azure: AzureEmulators) -> None:
    azure.arm.add_subscription(SUB_A, "Velora Production")
    azure.arm.add_subscription(SUB_B, "Velora Data")
    azure.arm.add_account(SUB_A, "cwdtest1", resource_group="rg-web", allow_blob_public_access=True)
    azure.arm.add_container("cwdtest1", "brochures", "Container")
    azure.arm.add_account(SUB_A, "cwdtest2", resource_group="rg-data", allow_blob_public_access=True)
    azure.arm.add_container("cwdtest2", "exports", "Container")
    azure.arm.add_account(SUB_B, "cwdtest3", resource_group="rg-ml")
    stop = StopAfter(1)
    snapshots = {s["account"]: s for s in PROVIDERS.get("azure").collect(
        azure.provider(max_workers=1), stop.progress, should_stop=stop.should_stop)}

    assert len(stop.read) == 1
    first, second = snapshots[SUB_A], snapshots[SUB_B]
    assert first["status"] == "error" and "stopped before the subscription was read in full" in first["error"]
    assert [a["calls"] == {} for a in first["storage_accounts"]] == [False, True]  # the second was not read
    assert _stopped("azure", first) and _stopped("azure", second)
    assert second["storage_accounts"] == [] and second["api_calls"] == 0
