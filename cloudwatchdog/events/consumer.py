"""The consumer loop of one event source: long-poll the queue, parse each message into targets, coalesce them per
account for ``window`` seconds, rescan, and delete each message only once the rescan covering it is recorded.

- A message that cannot be parsed, or names a change we do not act on, is logged with its id and deleted: it can
  never block the queue nor crash the loop.
- A rescan that says the account or resource is not watched (not in the config) deletes its messages too (logged).
- A rescan that fails (or the process dying before it is recorded) deletes nothing: the queue shows the message again
  after its visibility timeout, and it is rescanned then (the store's lifecycle alerts only on a change of state,
  so a message read twice alerts once).
- A queue that cannot be reached or read is reported to the observer (/healthz, metrics), retried with a backoff
  of up to a minute; the daemon's schedules are untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from cloudwatchdog.events.batch import Batch, Batcher
from cloudwatchdog.events.model import ChangeTarget, EventSource, HintError, Message, SourceError

log = logging.getLogger("cloudwatchdog.events")

# What happened to each message (the outcome label of cloudwatchdog_change_events_total).
RESCANNED = "rescanned"  # its rescan was recorded; deleted
UNWATCHED = "unwatched"  # it names an account or resource the config does not watch; deleted
IGNORED = "ignored"  # a change we do not act on; deleted
MALFORMED = "malformed"  # not a change event we can read; deleted
FAILED = "failed"  # its rescan failed: left in the queue, read again after the visibility timeout
OUTCOMES = (RESCANNED, UNWATCHED, IGNORED, MALFORMED, FAILED)

# A rescan's result: "recorded", "unwatched" or "failed".
RECORDED = "recorded"
Rescan = Callable[[str, str, "tuple[ChangeTarget, ...] | None"], str]

MAX_BACKOFF = 60.0


class Observer(Protocol):
    """Where the consumer reports (the daemon's metrics and health)."""

    def event(self, source: str, outcome: str) -> None: ...

    def latency(self, source: str, seconds: float) -> None:
        """From the message landing in the queue to its rescan recorded."""

    def queue_age(self, source: str, seconds: float) -> None:
        """Age of the oldest message of the latest receive (0 when it brought none)."""

    def source_state(self, source: str, error: str | None) -> None:
        """None: the queue answered; else why it did not."""


class Consumer:
    def __init__(self, source: EventSource, rescan: Rescan, observer: Observer, *, window: float, wait: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.rescan = rescan
        self.observer = observer
        self.wait = wait
        self.clock = clock
        self.batcher = Batcher(window)
        self._pending: dict[int, int] = {}  # id(message) -> batches not yet done
        self._failed: set[int] = set()
        self._deletable: list[Message] = []
        self._failures = 0

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set. Batches still open then are not rescanned: their messages come back."""
        log.info("reading change events from %s", self.source.name,
                 extra={"event": "events_started", "source": self.source.name})
        while not stop.is_set():
            backoff = self.step()
            if backoff:
                stop.wait(backoff)

    def step(self) -> float:
        """One receive and the rescans that are due. Returns how long to back off (0: none)."""
        due_at = self.batcher.next_due()
        wait = self.wait if due_at is None else max(0.0, min(self.wait, due_at - self.clock()))
        backoff = 0.0
        try:
            messages = self.source.receive(wait)
        except SourceError as exc:
            self._failures += 1
            backoff = min(MAX_BACKOFF, 2.0 ** min(self._failures, 6))
            self.observer.source_state(self.source.name, str(exc))
            log.error("change events: %s cannot be read: %s (retrying in %.0fs)", self.source.name, exc, backoff,
                      extra={"event": "events_source_error", "source": self.source.name, "error": str(exc)})
            messages = ()
        else:
            if self._failures:
                log.info("change events: %s can be read again", self.source.name,
                         extra={"event": "events_source_ok", "source": self.source.name})
            self._failures = 0
            self.observer.source_state(self.source.name, None)
            self._observe_age(messages)
        for m in messages:
            self._accept(m)
        self.flush(self.clock())
        self._delete_done()
        return backoff

    def flush(self, now: float, *, all_: bool = False) -> int:
        """Rescan every batch that is due (every open one with ``all_``); returns how many."""
        batches = self.batcher.due(now, all_=all_)
        for batch in batches:
            self._rescan(batch)
        self._delete_done()
        return len(batches)

    # --- internals ----------------------------------------------------------------------------------------------

    def _observe_age(self, messages: Sequence[Message]) -> None:
        sent = [m.sent_at for m in messages if m.sent_at is not None]
        self.observer.queue_age(self.source.name, max(0.0, self.clock() - min(sent)) if sent else 0.0)

    def _accept(self, m: Message) -> None:
        try:
            hint = self.source.parse(m)
        except HintError as exc:
            log.warning("change event %s from %s cannot be read, dropped: %s", m.id, self.source.name, exc,
                        extra={"event": "change_event_malformed", "source": self.source.name, "message_id": m.id,
                               "error": str(exc)})
            self._done(m, MALFORMED)
            return
        if not hint.targets:
            log.info("change event %s from %s: %s; nothing to rescan", m.id, self.source.name,
                     hint.ignored or "no target", extra={"event": "change_event_ignored", "source": self.source.name,
                                                         "message_id": m.id, "reason": hint.ignored})
            self._done(m, IGNORED)
            return
        batches = self.batcher.add(m, hint.targets, self.clock())
        self._pending[id(m)] = self._pending.get(id(m), 0) + len(batches)
        log.debug("change event %s: %s", m.id, "; ".join(t.describe() for t in hint.targets),
                  extra={"event": "change_event", "source": self.source.name, "message_id": m.id})

    def _rescan(self, batch: Batch) -> None:
        ids = [m.id for m in batch.messages]
        try:
            result = self.rescan(batch.provider, batch.account, batch.scope())
        except Exception as exc:  # a bug in one rescan must not stop the consumer; the messages come back
            log.error("rescan of %s failed: %s: %s", batch.describe(), type(exc).__name__, exc, exc_info=exc,
                      extra={"event": "rescan_failed", "source": self.source.name, "message_ids": ids})
            result = "failed"
        if result == "unwatched":
            log.info("change events %s name %s, which the config does not watch: dropped", ", ".join(ids),
                     batch.describe(), extra={"event": "change_event_unwatched", "source": self.source.name,
                                              "message_ids": ids})
        for m in batch.messages:
            if result not in (RECORDED, "unwatched"):
                self._failed.add(id(m))
            left = self._pending.get(id(m), 1) - 1
            if left > 0:
                self._pending[id(m)] = left
                continue
            self._pending.pop(id(m), None)
            failed = id(m) in self._failed
            self._failed.discard(id(m))
            if failed:
                self.observer.event(self.source.name, FAILED)  # not deleted: the queue shows it again later
            else:
                self._done(m, RESCANNED if result == RECORDED else UNWATCHED)

    def _done(self, m: Message, outcome: str) -> None:
        """``m`` is done with: deleted with the others at the end of this step."""
        self._deletable.append(m)
        self.observer.event(self.source.name, outcome)
        if outcome == RESCANNED and m.sent_at is not None:
            self.observer.latency(self.source.name, max(0.0, self.clock() - m.sent_at))

    def _delete_done(self) -> None:
        done, self._deletable = self._deletable, []
        if not done:
            return
        try:
            self.source.delete(done)
        except SourceError as exc:  # they come back after the visibility timeout; a second read alerts nothing new
            ids = [m.id for m in done]
            log.warning("change events %s from %s could not be deleted: %s", ", ".join(ids), self.source.name, exc,
                        extra={"event": "change_event_delete_failed", "source": self.source.name,
                               "message_ids": ids})


__all__ = ["OUTCOMES", "RECORDED", "Consumer", "Observer", "Rescan"]
