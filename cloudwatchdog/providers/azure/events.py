"""The Storage Queue of Azure change events (I/O): receive (polled: Storage Queues have no long poll), delete, and
`events check`'s look at the queue. Authorised with a token (DefaultAzureCredential, or the emulators' unsigned one
on loopback only); every failure is a one-line SourceError."""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cloudwatchdog.events.model import Hint, Message, SourceCheck, SourceError
from cloudwatchdog.providers.azure.events_parse import parse_event_message
from cloudwatchdog.providers.azure.session import (
    CallCounter,
    EmulatorCredential,
    client_kwargs,
    describe_exception,
)
from cloudwatchdog.providers.azure.settings import AzureEvents, AzureProvider

PEEK = 32  # messages `events check` peeks at (the most a peek returns)


class StorageQueueSource:
    provider = "azure"

    def __init__(self, cfg: AzureProvider, events: AzureEvents) -> None:
        self.cfg = cfg
        self.settings = events
        self.credential_kind = events.credential or cfg.credential
        self.name = f"azure:{events.queue}"
        self._client: Any = None
        self._credential: Any = None
        # The SDK is imported here, in the thread that builds the source, before the daemon's threads run: azure-core
        # imported by two threads at once (a scan's and this consumer's) fails with a circular-import error.
        importlib.import_module("azure.storage.queue")
        if self.credential_kind != "emulator":
            importlib.import_module("azure.identity")

    def _queue(self) -> Any:
        if self._client is None:
            try:
                from azure.storage.queue import QueueClient

                if self.credential_kind == "emulator":
                    self._credential = EmulatorCredential()
                else:
                    from azure.identity import DefaultAzureCredential

                    self._credential = DefaultAzureCredential()
                counter = CallCounter(loopback_only=self.credential_kind == "emulator")
                kwargs = client_kwargs(self.cfg, counter)
                for key in ("retry_total", "retry_backoff_factor", "retry_backoff_max"):
                    kwargs.pop(key)
                self._client = QueueClient(self.settings.queue_account_url, self.settings.queue,
                                           credential=self._credential, retry_total=1, **kwargs)
            except Exception as exc:
                raise SourceError(self._describe(exc)) from None
        return self._client

    def _describe(self, exc: BaseException) -> str:
        code, message = describe_exception(exc)
        return f"{self.settings.queue_account_url} queue {self.settings.queue}: {code}: {message}"

    def receive(self, wait: float) -> Sequence[Message]:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                got = list(self._queue().receive_messages(max_messages=self.settings.max_messages,
                                                          visibility_timeout=self.settings.visibility_timeout))
            except SourceError:
                raise
            except Exception as exc:
                raise SourceError(self._describe(exc)) from None
            left = deadline - time.monotonic()
            if got or left <= 0:
                return [self._message(m) for m in got]
            time.sleep(min(self.settings.poll_seconds, left))

    def _message(self, m: Any) -> Message:
        inserted = getattr(m, "inserted_on", None)
        sent_at = inserted.replace(tzinfo=inserted.tzinfo or UTC).timestamp() if isinstance(inserted, datetime) \
            else None
        content = m.content if isinstance(m.content, str) else bytes(m.content or b"").decode("utf-8", "replace")
        return Message(self.name, str(m.id), content, sent_at, (str(m.id), getattr(m, "pop_receipt", None)))

    def delete(self, messages: Sequence[Message]) -> None:
        failed = []
        for m in messages:
            ident, receipt = m.token
            try:
                self._queue().delete_message(ident, receipt)
            except SourceError:
                raise
            except Exception as exc:
                failed.append(f"{m.id}: {self._describe(exc)}")
        if failed:
            raise SourceError("; ".join(failed)[:500])

    def parse(self, message: Message) -> Hint:
        return parse_event_message(message.body)

    def check(self) -> SourceCheck:
        try:
            count = self._queue().get_queue_properties().approximate_message_count
            peeked = [self._message(m) for m in self._queue().peek_messages(max_messages=PEEK)]
        except SourceError as exc:
            return SourceCheck(self.name, False, str(exc))
        except Exception as exc:
            return SourceCheck(self.name, False, self._describe(exc))
        sent = [m.sent_at for m in peeked if m.sent_at is not None]
        return SourceCheck(self.name, True, None, count if isinstance(count, int) else None,
                           round(max(0.0, time.time() - min(sent)), 1) if sent else None,
                           f"{self.settings.queue_account_url} queue {self.settings.queue}")


__all__ = ["StorageQueueSource"]
