"""Azurite's queue service (``azurite-queue``, from the same npm package as the blob service) as a subprocess, and
Event Grid's delivery to a Storage Queue: each event base64-encoded JSON in one message, as Event Grid writes it.

Like the blob service here, it serves HTTPS on 127.0.0.1 with the emulators' certificate and basic OAuth, so the
daemon reads it exactly as it reads Azure Storage: a bearer token over TLS (``credential: emulator``), path-style
account URLs (``https://127.0.0.1:PORT/<account>``). For tests, the benchmark and trying the daemon locally."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from cloudwatchdog.emulators.azurite import AzuriteError, _answers, _free_port, account_key, find_azurite
from cloudwatchdog.emulators.process import log_tail, terminate, wait_ready
from cloudwatchdog.emulators.tls import TlsFiles

WRITE = "Microsoft.Resources.ResourceWriteSuccess"
DELETE = "Microsoft.Resources.ResourceDeleteSuccess"


class AzuriteQueueServer:
    """``with AzuriteQueueServer("cwdqueues", tls) as q: q.queue_client("events") ...``"""

    def __init__(self, account: str, tls: TlsFiles, *, binary: Path | None = None, startup_timeout: float = 60.0
                 ) -> None:
        self.account = account
        self.tls = tls
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def account_url(self) -> str:
        if self._process is None or self._port is None:
            raise AzuriteError("the Azurite queue service is not running")
        return f"https://127.0.0.1:{self._port}/{self.account}"

    def start(self) -> AzuriteQueueServer:
        if self._process is not None:
            return self
        binary = (self._binary or find_azurite()).parent / "azurite-queue"
        self._port = _free_port()
        env = dict(os.environ)
        env["AZURITE_ACCOUNTS"] = f"{self.account}:{account_key(self.account)}"
        self._log = tempfile.TemporaryFile(prefix="azurite-queue-")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [str(binary), "--queueHost", "127.0.0.1", "--queuePort", str(self._port), "--inMemoryPersistence",
             "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--oauth", "basic",
             "--cert", str(self.tls.cert_file), "--key", str(self.tls.key_file)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        url = f"https://127.0.0.1:{self._port}/{self.account}?comp=list"
        context = self.tls.client_context()
        problem = wait_ready(self._process, lambda: _answers(url, context), timeout=self._startup_timeout,
                             name="Azurite (queue)", where=url)
        if problem is not None:
            output = log_tail(self._log)
            self.stop()
            raise AzuriteError(f"{problem}:\n{output}")
        return self

    def queue_client(self, name: str) -> Any:
        """A QueueClient authorised with the account key (for seeding; typed ``Any``: no SDK import here)."""
        from azure.storage.queue import QueueClient

        return QueueClient(self.account_url, name, credential={"account_name": self.account,
                                                               "account_key": account_key(self.account)},
                           connection_verify=str(self.tls.ca_file), retry_total=0)

    def stop(self) -> None:
        process, self._process = self._process, None
        log, self._log = self._log, None
        terminate(process, log)

    def __enter__(self) -> AzuriteQueueServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def resource_event(subscription: str, resource_group: str, account: str, container: str | None = None, *,
                   delete: bool = False) -> dict[str, Any]:
    """An Event Grid event of a storage account's or a blob container's change, as a subscription's system topic
    publishes it."""
    uri = (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Storage/"
           f"storageAccounts/{account}")
    operation = "Microsoft.Storage/storageAccounts"
    if container is not None:
        uri += f"/blobServices/default/containers/{container}"
        operation += "/blobServices/containers"
    operation += "/delete" if delete else "/write"
    return {
        "id": str(uuid.uuid4()), "topic": f"/subscriptions/{subscription}", "subject": uri,
        "eventType": DELETE if delete else WRITE,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "dataVersion": "2", "metadataVersion": "1",
        "data": {"operationName": operation, "subscriptionId": subscription, "resourceUri": uri,
                 "status": "Succeeded", "tenantId": "00000000-0000-0000-0000-00000000e1a7",
                 "authorization": {"scope": uri, "action": operation},
                 "claims": {"appid": "terraform"}, "correlationId": str(uuid.uuid4())},
    }


def deliver(queue: Any, event: dict[str, Any]) -> None:
    """Put ``event`` on ``queue`` (a QueueClient) as Event Grid does: base64 of its JSON."""
    queue.send_message(base64.b64encode(json.dumps(event).encode()).decode())


__all__ = ["AzuriteQueueServer", "deliver", "resource_event"]
