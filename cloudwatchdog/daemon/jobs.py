"""What each daemon job does. Every job catches its own failure (logged, counted): one bad run never stops the
schedule, and a scan never fails because alert delivery does.

- scan: ``run_scan`` for the job's providers, then the scan is recorded in the store in one transaction whose event
  hook (the alert outbox) queues the alerts; then delivery is woken. A scan that is still running when a shutdown's
  grace period ends is never recorded (the process exits without it: a checkpoint is "nothing half-way").
- report: the HTML report from the store, exactly as `cloudwatchdog report` renders and records it, written
  atomically; its path is what /report serves.
- deliver: the due outbox deliveries (``deliver_due``), again while scans keep queueing.
- digest:<target>: one digest message for a `mode: digest` target (``send_digests``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus
from cloudwatchdog.events.model import ChangeTarget
from cloudwatchdog.model import FindingState, ScanResult, Severity
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.outputs import REPORT_PREFIX
from cloudwatchdog.services.scan import run_scan

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.store import Store

log = logging.getLogger("cloudwatchdog.daemon")

DELIVER_JOB = "deliver"
REPORT_JOB = "report"
SCAN_JOB = "scan"
EVENTS_JOB = "rescan"
DELIVERY_TIME_BUDGET = 30.0  # seconds one deliver_due call may take; what is left waits for the next run
# The outbox leases a claimed delivery for at least 3x its target's timeout; a worker killed mid-delivery (kill -9)
# holds it no longer than that, then the next run sends it again with the same delivery id.
DELIVERY_LEASE = 0.0
_ACTIVE = frozenset({FindingState.NEW, FindingState.OPEN, FindingState.REOPENED})


@dataclass(frozen=True)
class ScanJob:
    """One scan job: ``providers`` are the provider sections it scans (the others are left out of its config),
    on ``schedule`` (as written in the config)."""

    job_id: str
    providers: tuple[str, ...]
    schedule: str


def digest_job_id(target: str) -> str:
    return f"digest:{target}"


def scan_job_id(provider: str | None) -> str:
    return SCAN_JOB if provider is None else f"{SCAN_JOB}:{provider}"


def enabled_providers(cfg: Config) -> list[str]:
    return list(cfg.providers.enabled())


def plan_scan_jobs(cfg: Config) -> list[ScanJob]:
    """``scan`` for every enabled provider without its own schedule, ``scan:<provider>`` for each in
    ``schedules.scan_providers``. (Providers in scan_providers that are not configured are a config error,
    checked by the daemon at start.)"""
    enabled = enabled_providers(cfg)
    own = {p: when for p, when in cfg.schedules.scan_providers.items() if p in enabled}
    rest = tuple(p for p in enabled if p not in own)
    jobs = [ScanJob(SCAN_JOB, rest, cfg.schedules.scan)] if rest else []
    return jobs + [ScanJob(scan_job_id(p), (p,), when) for p, when in own.items()]


def config_for(cfg: Config, providers: Sequence[str]) -> Config:
    """``cfg`` with only ``providers`` left in its providers section."""
    drop = {name: None for name in type(cfg.providers).model_fields if name not in providers}
    return cfg.model_copy(update={"providers": cfg.providers.model_copy(update=drop)})


def latest_report_file(directory: Path) -> Path | None:
    """The newest HTML report in ``directory`` (from an earlier run or `cloudwatchdog report`)."""
    try:
        files = [p for p in directory.glob(f"{REPORT_PREFIX}*.html") if p.is_file()]
    except OSError:
        return None
    return max(files, key=lambda p: p.stat().st_mtime, default=None)


class DaemonJobs:
    def __init__(self, cfg: Config, rules: Sequence[Rule], store: Store, metrics: DaemonMetrics,
                 status: DaemonStatus, scan_jobs: Sequence[ScanJob], suppressions: Sequence[Suppression] = ()
                 ) -> None:
        self.cfg = cfg
        self.rules = list(rules)
        self.store = store
        self.metrics = metrics
        self.status = status
        self.scan_jobs = {j.job_id: j for j in scan_jobs}
        self._scan_configs = {j.job_id: config_for(cfg, j.providers) for j in scan_jobs}
        self.suppressions = list(suppressions)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        # Set by the scheduler: make the deliver job run now (the scan queued alerts).
        self.wake_delivery: Callable[[], None] = lambda: None
        self._record_lock = threading.Lock()
        self._abandoned = False
        self._deliver_again = threading.Event()
        self._warned_expired: set[str] = set()

    # --- shutdown -----------------------------------------------------------------------------------------------

    def abandon(self, timeout: float) -> bool:
        """After the shutdown grace period: no scan is recorded from now on. Waits (up to ``timeout``) for a
        recording already in its transaction; False when it did not end (the process exit rolls it back)."""
        if not self._record_lock.acquire(timeout=timeout):
            return False
        try:
            self._abandoned = True
        finally:
            self._record_lock.release()
        return True

    # --- the wrapper every job runs in --------------------------------------------------------------------------

    def run(self, job_id: str, action: Callable[[], object]) -> bool:
        """Run one job: bookkeeping, duration, outcome metrics; an exception is logged, never raised."""
        self.status.job_started(job_id)
        t0 = time.monotonic()
        ok = False
        try:
            action()
            ok = True
        except Exception as exc:
            log.error("job %s failed: %s", job_id, _describe(exc), exc_info=exc,
                      extra={"job": job_id, "event": "job_failed"})
        finally:
            elapsed = time.monotonic() - t0
            self.metrics.jobs.labels(job_id, "ok" if ok else "failed").inc()
            self.metrics.job_duration.labels(job_id).observe(elapsed)
            self.status.job_finished(job_id)
        return ok

    # --- scan ---------------------------------------------------------------------------------------------------

    def scan(self, job_id: str) -> str:
        """One scan of the job's providers, recorded. Returns the outcome (ok, incomplete, failed, abandoned)."""
        outcome = "failed"
        t0 = time.monotonic()
        job = self.scan_jobs[job_id]
        log.info("scan started (%s)", ", ".join(job.providers), extra={"job": job_id, "event": "scan_started"})
        try:
            from cloudwatchdog.state.sample_cache import StoreResultCache

            cfg = self._scan_configs[job_id]
            cache = StoreResultCache(self.store) if cfg.data_sampling.enabled else None
            if cfg.fleet.distributed:  # through the queue and `cloudwatchdog worker` processes
                from cloudwatchdog.services.fleet import run_distributed_scan

                result = run_distributed_scan(cfg, self.rules, self.store, sample_cache=cache, keep_raw=False)
            else:
                # The raw answers are let go as each account is analysed: a daemon never saves them.
                result = run_scan(cfg, self.rules, sample_cache=cache, keep_raw=False)
            if cache is not None:
                cache.flush()
            recorded = self._record(job_id, result)
            if recorded is None:
                outcome = "abandoned"
                return outcome
            outcome = "ok" if recorded.complete else "incomplete"
            duration = time.monotonic() - t0
            self.status.scan_recorded(job_id, scan_id=recorded.id, duration=duration, outcome=outcome)
            self.metrics.last_scan_success.labels(job_id).set(time.time())
            self._scan_metrics(recorded)
            _log_scan(job_id, recorded, outcome, duration)
        finally:
            duration = time.monotonic() - t0
            self.metrics.scans.labels(job_id, outcome).inc()
            self.metrics.scan_duration.labels(job_id).observe(duration)
            if outcome in ("failed", "abandoned"):
                self.status.scan_failed(job_id, duration=duration, outcome=outcome)
        self._after_scan()
        return outcome

    def rescan(self, provider: str, account: str, targets: Sequence[ChangeTarget] | None) -> str:
        """A targeted rescan a change event asked for (daemon/events.py), recorded like a scan: "recorded",
        "unwatched" (the config does not scan it) or "failed" (not recorded, or recorded incomplete: the event is
        read again later)."""
        from cloudwatchdog.services.rescan import run_rescan

        job_id = f"{EVENTS_JOB}:{provider}:{account}"
        self.status.job_started(job_id)
        outcome = "failed"
        try:
            result = run_rescan(self.cfg, self.rules, provider, account, targets)
            if result is None:
                outcome = "unwatched"
                return outcome
            recorded = self._record(job_id, result)
            if recorded is None:
                return outcome
            outcome = "ok" if recorded.complete else "incomplete"
            for c in recorded.coverage:
                self.metrics.api_calls.labels(c.provider).inc(c.api_calls)
            _log_scan(job_id, recorded, outcome, 0.0)
        finally:
            self.metrics.rescans.labels(provider, outcome).inc()
            self.status.job_finished(job_id)
        self._after_scan()
        # A rescan that could not read what it was asked to is recorded (its errors show) but does not settle the
        # change: the message stays and is read again after its visibility timeout (then the dead-letter queue).
        return "recorded" if outcome == "ok" else "failed"

    def _record(self, job_id: str, result: ScanResult) -> ScanResult | None:
        from cloudwatchdog.state.suppressions import expired
        from cloudwatchdog.state.timefmt import parse_iso

        with self._record_lock:
            if self._abandoned:
                log.warning("scan %s finished after the shutdown grace period: not recorded", result.id,
                            extra={"job": job_id, "scan_id": result.id, "event": "scan_abandoned"})
                return None
            for s in expired(self.suppressions, parse_iso(result.finished_at)):
                if s.label not in self._warned_expired:
                    self._warned_expired.add(s.label)
                    log.warning("%s: the suppression expired on %s; it mutes nothing (owner: %s)", s.label,
                                s.expires, s.owner, extra={"event": "suppression_expired"})
            return self.store.record_scan(result, suppressions=self.suppressions)

    def _scan_metrics(self, result: ScanResult) -> None:
        resources: dict[str, int] = {}
        for r in result.resources:
            resources[r.provider] = resources.get(r.provider, 0) + 1
        self.metrics.record_coverage(result.coverage, resources)

    def _after_scan(self) -> None:
        """Refresh the findings gauge and wake delivery; neither may fail the scan."""
        try:
            self.refresh_open_findings()
        except Exception as exc:
            log.warning("cannot count open findings: %s", _describe(exc), extra={"event": "metrics_failed"})
        self._deliver_again.set()
        try:
            self.wake_delivery()
        except Exception as exc:
            log.warning("cannot wake the deliver job: %s", _describe(exc), extra={"event": "wake_failed"})

    def refresh_open_findings(self) -> None:
        counts: dict[Severity, int] = {}
        for view in self.store.list_findings(states=_ACTIVE):
            counts[view.finding.severity] = counts.get(view.finding.severity, 0) + 1
        self.metrics.set_open_findings(counts)

    # --- report -------------------------------------------------------------------------------------------------

    def report(self) -> Path:
        from cloudwatchdog.services.report import write_daily_html
        from cloudwatchdog.state.timefmt import now_utc

        path = write_daily_html(self.store, self.cfg.resolve(self.cfg.reports.output_dir), now_utc())
        self.status.latest_report = path
        self.metrics.last_report.set(time.time())
        log.info("report written: %s", path, extra={"job": REPORT_JOB, "event": "report_written"})
        return path

    # --- alert delivery -----------------------------------------------------------------------------------------

    def deliver(self, *, now: datetime | None = None) -> None:
        """Deliver what is due; again while scans queued more meanwhile (or a full batch was sent)."""
        from cloudwatchdog.alerts.outbox.deliver import deliver_due

        limit = 100
        while True:
            self._deliver_again.clear()
            stats = deliver_due(self.store, self.cfg, now=now, limit=limit, worker=self.worker_id,
                                lease_seconds=DELIVERY_LEASE, time_budget=DELIVERY_TIME_BUDGET)
            for outcome in ("sent", "retried", "dead"):
                self.metrics.deliveries.labels(outcome).inc(getattr(stats, outcome))
            if stats.sent or stats.retried or stats.dead:
                log.info("alert deliveries: %d sent, %d retried, %d given up, %d pending", stats.sent,
                         stats.retried, stats.dead, stats.pending,
                         extra={"job": DELIVER_JOB, "event": "deliveries", "sent": stats.sent,
                                "retried": stats.retried, "dead": stats.dead, "pending": stats.pending})
            full_batch = stats.sent + stats.retried + stats.dead >= limit
            if self.status.stopping or not (self._deliver_again.is_set() or full_batch):
                break
        self.refresh_outbox_metrics()

    def refresh_outbox_metrics(self) -> None:
        from cloudwatchdog.alerts.outbox.admin import outbox_stats

        s = outbox_stats(self.store)
        self.metrics.outbox_pending.set(s.pending)
        self.metrics.outbox_dead.set(s.dead)
        self.metrics.outbox_oldest.set(s.oldest_pending_age_seconds or 0.0)

    def digest(self, target: str) -> None:
        from cloudwatchdog.alerts.outbox.digests import send_digests

        stats = send_digests(self.store, self.cfg, target)
        for outcome in ("sent", "retried", "dead"):
            self.metrics.deliveries.labels(outcome).inc(getattr(stats, outcome))
        log.info("digest for %s: %d sent, %d retried, %d given up", target, stats.sent, stats.retried, stats.dead,
                 extra={"job": digest_job_id(target), "event": "digest"})


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _log_scan(job_id: str, result: ScanResult, outcome: str, duration: float) -> None:
    states: dict[str, int] = {}
    for f in result.findings:
        states[f.state.value] = states.get(f.state.value, 0) + 1
    log.info("scan %s recorded: %s, %d resources, %d findings (%d new, %d reopened), %d resolved, %.1fs",
             result.id, outcome, len(result.resources), len(result.findings), states.get("new", 0),
             states.get("reopened", 0), len(result.resolved), duration,
             extra={"job": job_id, "event": "scan_recorded", "scan_id": result.id, "outcome": outcome,
                    "resources": len(result.resources), "findings": len(result.findings),
                    "new": states.get("new", 0), "reopened": states.get("reopened", 0),
                    "resolved": len(result.resolved), "duration_seconds": round(duration, 3)})
