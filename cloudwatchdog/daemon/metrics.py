"""Prometheus metrics of one daemon, in a registry of its own (not the process-global one), so that tests and
embedders can run several daemons in one process. The names are a contract (README, dashboards, alert rules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.process_collector import ProcessCollector

from cloudwatchdog import __version__
from cloudwatchdog.model import Coverage, CoverageStatus, Severity

SCAN_OUTCOMES = ("ok", "incomplete", "failed", "abandoned")
JOB_OUTCOMES = ("ok", "failed")
DELIVERY_OUTCOMES = ("sent", "retried", "dead")
_SCAN_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
_JOB_BUCKETS = (0.05, 0.25, 1, 5, 15, 60, 300, 900)
_EVENT_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900)


class DaemonMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        Info("cloudwatchdog_build", "cloudwatchdog version", registry=r).info({"version": __version__})
        self.scheduler_running = Gauge("cloudwatchdog_scheduler_running", "1 while the job scheduler runs",
                                       registry=r)
        self.scans = Counter("cloudwatchdog_scans", "Scans by scan job and outcome (ok, incomplete: some account "
                             "or resource unreadable, failed: nothing recorded, abandoned: cut short by a shutdown)",
                             ["job", "outcome"], registry=r)
        self.scan_duration = Histogram("cloudwatchdog_scan_duration_seconds", "Scan duration, collection to recorded",
                                       ["job"], buckets=_SCAN_BUCKETS, registry=r)
        self.last_scan_success = Gauge("cloudwatchdog_last_successful_scan_timestamp_seconds",
                                       "When the scan job last recorded a scan (Unix time)", ["job"], registry=r)
        self.api_calls = Counter("cloudwatchdog_api_calls", "Cloud API calls made by scans", ["provider"],
                                 registry=r)
        self.scan_errors = Counter("cloudwatchdog_scan_errors", "Read errors met by scans (each leaves a verdict "
                                   "unknown or an account partial)", ["provider"], registry=r)
        self.accounts = Gauge("cloudwatchdog_accounts", "Accounts, projects and subscriptions by coverage status "
                              "in the latest scan of their provider", ["provider", "status"], registry=r)
        self.resources = Gauge("cloudwatchdog_resources", "Resources in the latest scan of their provider",
                               ["provider"], registry=r)
        self.open_findings = Gauge("cloudwatchdog_open_findings", "Active findings (new, open, reopened) in the "
                                   "store, by severity", ["severity"], registry=r)
        self.jobs = Counter("cloudwatchdog_job_runs", "Runs of every job (scan jobs included) by outcome",
                            ["job", "outcome"], registry=r)
        self.job_duration = Histogram("cloudwatchdog_job_duration_seconds", "Job run duration", ["job"],
                                      buckets=_JOB_BUCKETS, registry=r)
        self.deliveries = Counter("cloudwatchdog_alert_deliveries", "Alert delivery attempts by outcome (sent, "
                                  "retried: failed and rescheduled, dead: given up)", ["outcome"], registry=r)
        self.outbox_pending = Gauge("cloudwatchdog_outbox_pending", "Alert deliveries waiting in the outbox",
                                    registry=r)
        self.outbox_dead = Gauge("cloudwatchdog_outbox_dead", "Alert deliveries given up (see `cloudwatchdog "
                                 "alerts list --status dead`)", registry=r)
        self.outbox_oldest = Gauge("cloudwatchdog_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest waiting alert delivery (0 when none)", registry=r)
        self.last_report = Gauge("cloudwatchdog_last_report_timestamp_seconds",
                                 "When the report job last wrote the report (Unix time)", registry=r)
        # Change events (README "Change events"): per event source (provider:queue).
        self.change_events = Counter("cloudwatchdog_change_events", "Change events received, by source and outcome "
                                     "(rescanned, unwatched, ignored, malformed, failed: left in the queue)",
                                     ["source", "outcome"], registry=r)
        self.change_event_latency = Histogram("cloudwatchdog_change_event_latency_seconds", "From a change event "
                                              "landing in its queue to its rescan recorded", ["source"],
                                              buckets=_EVENT_BUCKETS, registry=r)
        self.change_event_queue_age = Gauge("cloudwatchdog_change_event_queue_age_seconds", "Age of the oldest "
                                            "message of the latest receive (0: none waiting)", ["source"], registry=r)
        self.change_event_source_up = Gauge("cloudwatchdog_change_event_source_up", "1 when the event queue "
                                            "answered the latest receive, 0 when it could not be read", ["source"],
                                            registry=r)
        self.rescans = Counter("cloudwatchdog_rescans", "Targeted rescans by provider and outcome (ok, "
                               "incomplete, unwatched, failed)", ["provider", "outcome"], registry=r)
        for sev in Severity:
            self.open_findings.labels(sev.value)
        for outcome in DELIVERY_OUTCOMES:
            self.deliveries.labels(outcome)

    def declare_jobs(self, scan_jobs: Iterable[str], other_jobs: Iterable[str]) -> None:
        """Create every job's series at zero, so a dashboard sees them before the first run."""
        for job in scan_jobs:
            for outcome in SCAN_OUTCOMES:
                self.scans.labels(job, outcome)
            self.scan_duration.labels(job)
        for job in [*scan_jobs, *other_jobs]:
            for outcome in JOB_OUTCOMES:
                self.jobs.labels(job, outcome)
            self.job_duration.labels(job)

    def record_coverage(self, coverage: Iterable[Coverage], resources_by_provider: Mapping[str, int]) -> None:
        by_provider: dict[str, dict[str, int]] = {}
        for c in coverage:
            counts = by_provider.setdefault(c.provider, {s.value: 0 for s in CoverageStatus})
            counts[c.status.value] += 1
            self.api_calls.labels(c.provider).inc(c.api_calls)
            self.scan_errors.labels(c.provider).inc(len(c.errors))
        for provider, counts in by_provider.items():
            for status, n in counts.items():
                self.accounts.labels(provider, status).set(n)
            self.resources.labels(provider).set(resources_by_provider.get(provider, 0))

    def set_open_findings(self, counts: Mapping[Severity, int]) -> None:
        for sev in Severity:
            self.open_findings.labels(sev.value).set(counts.get(sev, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
