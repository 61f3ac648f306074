"""The daemon's change-event consumers: one thread per configured event source (``providers.<name>.events``),
long-polling its queue and asking ``DaemonJobs.rescan`` for targeted rescans (cloudwatchdog.events.consumer). What
they see goes to the daemon's metrics and /healthz; a queue that cannot be read never touches the schedules."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from cloudwatchdog.config import Config
from cloudwatchdog.daemon.jobs import DaemonJobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus
from cloudwatchdog.events.consumer import OUTCOMES, Consumer
from cloudwatchdog.events.model import EventSource
from cloudwatchdog.providers.base import change_events
from cloudwatchdog.providers.registry import PROVIDERS

log = logging.getLogger("cloudwatchdog.daemon")


@dataclass
class DaemonObserver:
    """The consumers' reports -> metrics and health."""

    metrics: DaemonMetrics
    status: DaemonStatus

    def declare(self, source: str) -> None:
        for outcome in OUTCOMES:
            self.metrics.change_events.labels(source, outcome)
        self.metrics.change_event_latency.labels(source)
        self.metrics.change_event_queue_age.labels(source).set(0)

    def event(self, source: str, outcome: str) -> None:
        self.metrics.change_events.labels(source, outcome).inc()

    def latency(self, source: str, seconds: float) -> None:
        self.metrics.change_event_latency.labels(source).observe(seconds)

    def queue_age(self, source: str, seconds: float) -> None:
        self.metrics.change_event_queue_age.labels(source).set(seconds)

    def source_state(self, source: str, error: str | None) -> None:
        self.metrics.change_event_source_up.labels(source).set(0 if error else 1)
        self.status.event_source_state(source, error)


def event_sources(cfg: Config) -> list[EventSource]:
    """Every configured, enabled event source of the enabled providers."""
    out: list[EventSource] = []
    for name, section in cfg.providers.enabled().items():
        watcher = change_events(PROVIDERS.get(name))
        source = watcher.event_source(section) if watcher is not None else None
        if source is not None:
            out.append(source)
    return out


def _window(cfg: Config, provider: str) -> tuple[float, float]:
    events = getattr(cfg.providers.enabled().get(provider), "events", None)
    return (float(getattr(events, "debounce_seconds", 2.0)), float(getattr(events, "wait_seconds", 5)))


@dataclass
class EventConsumers:
    """``start`` a thread per source; ``stop`` asks them to end (they are daemon threads: a receive in progress
    never holds up the exit, and what they had not rescanned is read again from the queue)."""

    consumers: list[Consumer] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for c in self.consumers:
            t = threading.Thread(target=self._run, args=(c,), name=f"events-{c.source.name}", daemon=True)
            t.start()
            self.threads.append(t)

    def _run(self, consumer: Consumer) -> None:
        try:
            consumer.run(self.stop_event)
        except Exception as exc:  # never expected (the loop catches its failures): said, not silent
            log.error("change events from %s stopped: %s: %s", consumer.source.name, type(exc).__name__, exc,
                      exc_info=exc, extra={"event": "events_stopped", "source": consumer.source.name})
            consumer.observer.source_state(consumer.source.name, f"the consumer stopped: {type(exc).__name__}")

    def stop(self, timeout: float = 0.0) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)


def build_consumers(cfg: Config, jobs: DaemonJobs) -> EventConsumers:
    observer = DaemonObserver(jobs.metrics, jobs.status)
    consumers = []
    for source in event_sources(cfg):
        window, wait = _window(cfg, source.provider)
        observer.declare(source.name)
        jobs.status.event_source_state(source.name, None)
        consumers.append(Consumer(source, jobs.rescan, observer, window=window, wait=wait))
    return EventConsumers(consumers)


__all__ = ["DaemonObserver", "EventConsumers", "build_consumers", "event_sources"]
