"""What the daemon's jobs are doing and have done, shared by the job threads, the HTTP endpoint and the shutdown
logic; and the health verdict /healthz gives from it.

Healthy: the scheduler runs, and every scan job recorded a scan (complete or not: an incomplete scan is visible in
the metrics and findings, not a dead daemon) within ``stale_after`` of its intervals, counted from the daemon's start
until its first scan. The interval of a cron schedule is its longest gap between runs; a scan that takes longer than
its interval stretches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class ScanJobStatus:
    job_id: str
    interval_seconds: float
    providers: tuple[str, ...]
    last_success: float | None = None  # Unix time the last scan was recorded
    last_duration: float | None = None
    last_outcome: str | None = None
    last_scan_id: str | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    body: dict[str, Any]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class DaemonStatus:
    stale_after: float = 3.0
    jitter: float = 0.0
    clock: Callable[[], float] = time.time
    started_at: float = field(default=0.0)
    scan_jobs: dict[str, ScanJobStatus] = field(default_factory=dict)
    latest_report: Path | None = None
    scheduler_alive: Callable[[], bool] = lambda: False
    stopping: bool = False
    # Change-event sources: name -> None (readable) or why the latest receive failed.
    event_sources: dict[str, str | None] = field(default_factory=dict)
    _running: dict[str, float] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        if not self.started_at:
            self.started_at = self.clock()

    # --- job bookkeeping ----------------------------------------------------------------------------------------

    def job_started(self, job_id: str) -> None:
        with self._cond:
            self._running[job_id] = self.clock()

    def job_finished(self, job_id: str) -> None:
        with self._cond:
            self._running.pop(job_id, None)
            self._cond.notify_all()

    def running(self) -> list[str]:
        with self._cond:
            return sorted(self._running)

    def is_running(self, job_id: str) -> bool:
        with self._cond:
            return job_id in self._running

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs; False when ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def scan_recorded(self, job_id: str, *, scan_id: str, duration: float, outcome: str) -> None:
        with self._cond:
            job = self.scan_jobs[job_id]
            job.last_success, job.last_duration, job.last_outcome, job.last_scan_id = (self.clock(), duration,
                                                                                       outcome, scan_id)

    def event_source_state(self, name: str, error: str | None) -> None:
        with self._cond:
            self.event_sources[name] = error

    def scan_failed(self, job_id: str, *, duration: float, outcome: str) -> None:
        with self._cond:
            job = self.scan_jobs[job_id]
            job.last_duration, job.last_outcome = duration, outcome

    # --- health -------------------------------------------------------------------------------------------------

    def health(self) -> Health:
        now = self.clock()
        problems: list[str] = []
        alive = self.scheduler_alive()
        if not alive:
            problems.append("the scheduler is not running")
        if self.stopping:
            problems.append("shutting down")
        scans: dict[str, Any] = {}
        with self._cond:
            running = dict(self._running)
            jobs = [ScanJobStatus(**vars(j)) for j in self.scan_jobs.values()]
        for job in jobs:
            since = job.last_success if job.last_success is not None else self.started_at
            age = max(0.0, now - since)
            limit = self.stale_after * max(job.interval_seconds, job.last_duration or 0.0) + self.jitter
            stale = age > limit
            if stale:
                what = "the last successful scan" if job.last_success is not None else "the start, with no scan"
                problems.append(f"scan job {job.job_id}: {what} was {age:.0f}s ago (limit {limit:.0f}s)")
            scans[job.job_id] = {
                "providers": list(job.providers),
                "last_success": _iso(job.last_success),
                "age_seconds": round(age, 3),
                "max_age_seconds": round(limit, 3),
                "last_outcome": job.last_outcome,
                "last_scan_id": job.last_scan_id,
                "running": job.job_id in running,
                "stale": stale,
            }
        with self._cond:
            sources = dict(self.event_sources)
        problems.extend(f"change events: {name} cannot be read: {error}"
                        for name, error in sorted(sources.items()) if error)
        body = {
            "status": "ok" if not problems else "unhealthy",
            "problems": problems,
            "scheduler": "running" if alive else "stopped",
            "started_at": _iso(self.started_at),
            "running_jobs": sorted(running),
            "scans": scans,
            "latest_report": self.latest_report.name if self.latest_report is not None else None,
            **({"event_sources": {n: {"ok": e is None, "error": e} for n, e in sorted(sources.items())}}
               if sources else {}),
        }
        return Health(not problems, body)
