"""Change events from Azure, in-process: the daemon's jobs and its event consumer against the ARM emulator and
Azurite's queue service (read with the real azure-storage-queue client, over HTTPS with the emulators' token), events
shaped as Event Grid delivers them to a Storage Queue. A container's change rescans that container only; a storage
account's change rescans the subscription; a message is deleted once its rescan is recorded."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.azure import SUB_A, SUB_B, AzureEmulators
from support.receivers import HttpReceiver

from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.commands.scan import config_suppressions, configured_rules, open_store
from cloudwatchdog.config import Config, load_config
from cloudwatchdog.daemon.events import build_consumers
from cloudwatchdog.daemon.jobs import DaemonJobs, plan_scan_jobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.emulators.azurite_queue import AzuriteQueueServer, deliver, resource_event
from cloudwatchdog.emulators.tls import TlsFiles
from cloudwatchdog.model import FindingState
from cloudwatchdog.state.schema import CoverageRow, TargetedCoverageRow
from cloudwatchdog.state.store import Store

QUEUE = "cloudwatchdog-events"
ACCOUNT = "cwdevents1"  # no Azurite data plane behind it: the ARM emulator alone answers for it
_ACTIVE = {FindingState.NEW, FindingState.OPEN, FindingState.REOPENED}
RULE = "azure-storage-container-public"


def _coverage(store: Store) -> list[tuple[str, list[str] | None]]:
    """Every recorded coverage row: (account, its targets, None for a scan of the whole account)."""
    with store.read_session() as s:
        targeted = {(t.scan_id, t.account): list(t.targets) for t in s.query(TargetedCoverageRow)}
        return [(c.account, targeted.get((c.scan_id, c.account)))
                for c in s.query(CoverageRow).order_by(CoverageRow.id)]


@pytest.fixture(scope="module")
def queues(azure_tls: TlsFiles) -> Iterator[AzuriteQueueServer]:
    with AzuriteQueueServer("cwdqueues", azure_tls) as server:
        yield server


@pytest.fixture
def queue(queues: AzuriteQueueServer) -> Any:
    client = queues.queue_client(QUEUE)
    from azure.core.exceptions import ResourceNotFoundError

    with contextlib.suppress(ResourceNotFoundError):  # the first test finds none
        client.delete_queue()
    client.create_queue()
    return client


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


class Daemon:
    def __init__(self, cfg: Config, queue: Any) -> None:
        self.queue = queue
        self.store = open_store(cfg, None)
        self.store.add_hook(outbox_hook(cfg))
        self.metrics = DaemonMetrics()
        self.status = DaemonStatus()
        jobs = plan_scan_jobs(cfg)
        for j in jobs:
            self.status.scan_jobs[j.job_id] = ScanJobStatus(j.job_id, 3600.0, j.providers)
        self.jobs = DaemonJobs(cfg, configured_rules(cfg), self.store, self.metrics, self.status, jobs,
                               config_suppressions(cfg))
        (self.consumer,) = build_consumers(cfg, self.jobs).consumers

    def drain(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.consumer.step()
            if not len(self.consumer.batcher) and self.queue.get_queue_properties().approximate_message_count == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the queue did not drain")

    def active(self) -> dict[str, str]:
        return {v.finding.resource_name: v.finding.state.value for v in self.store.list_findings(states=_ACTIVE)
                if v.finding.rule_id == RULE}


@pytest.fixture
def daemon(tmp_path: Path, azure: AzureEmulators, queues: AzuriteQueueServer, queue: Any,
           receiver: HttpReceiver) -> Iterator[Daemon]:
    azure.arm.add_subscription(SUB_A, "production")
    azure.arm.add_subscription(SUB_B, "staging")
    azure.arm.add_account(SUB_A, ACCOUNT, resource_group="rg-web", allow_blob_public_access=True)
    azure.arm.add_account(SUB_B, "cwdevents2", resource_group="rg-stage", allow_blob_public_access=True)
    path = tmp_path / "config.yaml"
    path.write_text(f"""state: {{url: "sqlite:///state.db"}}
providers:
  aws: {{enabled: false}}
  azure:
    arm_endpoint: {azure.arm.endpoint}
    credential: emulator
    ca_bundle: {azure.tls.ca_file}
    subscriptions: ["{SUB_A}", "{SUB_B}"]
    max_attempts: 2
    retry_backoff: 0
    events: {{queue_account_url: "{queues.account_url}", queue: {QUEUE}, credential: emulator,
              debounce_seconds: 0.3, wait_seconds: 0, visibility_timeout: 2}}
notifications:
  - {{type: webhook, name: siem, url: "{receiver.url()}", timeout: 5}}
""")
    d = Daemon(load_config(path), queue)
    yield d
    d.store.close()


def _alerts(receiver: HttpReceiver) -> list[tuple[str, str]]:
    return sorted((r.headers["x-cloudwatchdog-event"], r.json()["finding"]["resource_name"])
                  for r in receiver.requests if r.json()["finding"]["rule_id"] == RULE)


def test_a_container_change_rescans_that_container(daemon: Daemon, azure: AzureEmulators, queue: Any,
                                                   receiver: HttpReceiver) -> None:
    azure.arm.add_container(ACCOUNT, "brochures", "None")
    azure.arm.add_container(ACCOUNT, "price-lists", "Container")
    azure.arm.add_container("cwdevents2", "staging-dump", "Container")
    assert daemon.jobs.scan("scan") == "ok"
    assert daemon.active() == {f"{ACCOUNT}/price-lists": "new", "cwdevents2/staging-dump": "new"}
    daemon.jobs.deliver()
    receiver.requests.clear()

    azure.arm.remove_container(ACCOUNT, "price-lists")  # gone without an event: not this rescan's business
    azure.arm.add_container(ACCOUNT, "brochures", "Container")
    deliver(queue, resource_event(SUB_A, "rg-web", ACCOUNT, "brochures"))
    daemon.drain()
    daemon.jobs.deliver()
    assert _alerts(receiver) == [("finding.new", f"{ACCOUNT}/brochures")]
    # price-lists (gone, not read by this rescan) keeps the state of the last scan that looked at it.
    assert daemon.active() == {f"{ACCOUNT}/brochures": "new", f"{ACCOUNT}/price-lists": "new",
                               "cwdevents2/staging-dump": "new"}
    assert _coverage(daemon.store)[-1] == (SUB_A, [f"azure.storage.container:{ACCOUNT}/brochures"])

    # The fix, then a deleted container: each resolves through its event; a raw (not base64) body is read too.
    receiver.requests.clear()
    azure.arm.add_container(ACCOUNT, "brochures", "None")
    deliver(queue, resource_event(SUB_A, "rg-web", ACCOUNT, "brochures"))
    azure.arm.remove_container("cwdevents2", "staging-dump")
    queue.send_message(json.dumps(resource_event(SUB_B, "rg-stage", "cwdevents2", "staging-dump", delete=True)))
    daemon.drain()
    daemon.jobs.deliver()
    assert _alerts(receiver) == [("finding.resolved", f"{ACCOUNT}/brochures"),
                                 ("finding.resolved", "cwdevents2/staging-dump")]
    assert daemon.active() == {f"{ACCOUNT}/price-lists": "new"}


def test_a_storage_account_change_rescans_the_subscription(daemon: Daemon, azure: AzureEmulators,
                                                           queue: Any) -> None:
    azure.arm.add_container(ACCOUNT, "price-lists", "Container")
    deliver(queue, resource_event(SUB_A, "rg-web", ACCOUNT))
    queue.send_message(base64.b64encode(b"{not json").decode())
    queue.send_message(json.dumps({"eventType": "Microsoft.Resources.ResourceActionSuccess", "data": {}}))
    daemon.drain()
    assert daemon.active() == {f"{ACCOUNT}/price-lists": "new"}
    rows = _coverage(daemon.store)
    assert rows == [(SUB_A, None)], "the whole subscription, and only it"
    sample = daemon.metrics.registry.get_sample_value
    assert sample("cloudwatchdog_change_events_total", {"source": "azure:cloudwatchdog-events",
                                                        "outcome": "malformed"}) == 1
    assert sample("cloudwatchdog_change_events_total", {"source": "azure:cloudwatchdog-events",
                                                        "outcome": "ignored"}) == 1
