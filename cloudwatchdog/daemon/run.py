"""The daemon's main loop: check the config, open the store with the alert outbox hooked in, start the scheduler
and the HTTP endpoint, and wait for SIGTERM or SIGINT.

Shutdown: no new job starts; running jobs get ``daemon.shutdown_grace`` seconds to finish (a scan that finishes is
recorded, alerts and all). When the grace period ends first (or a second signal comes), a scan still running is
abandoned: it is never recorded, and since recording is one transaction nothing is ever recorded half-way; the next
scan covers it. Exit code 0 either way. An alert delivery cut short is sent again later with the same delivery id
(the outbox leases it).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from cloudwatchdog.config import Config
from cloudwatchdog.daemon.jobs import DELIVER_JOB, DaemonJobs, ScanJob, latest_report_file, plan_scan_jobs
from cloudwatchdog.daemon.metrics import DaemonMetrics
from cloudwatchdog.daemon.status import DaemonStatus, ScanJobStatus
from cloudwatchdog.exitcodes import EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK
from cloudwatchdog.logs import config_secrets, environment_secrets, setup_logging
from cloudwatchdog.settings.schedules import parse_schedule
from cloudwatchdog.yamlsource import SourceError, SourceErrors

log = logging.getLogger("cloudwatchdog.daemon")

_ABANDON_WAIT = 15.0  # seconds to let a recording already in its transaction commit, after the grace period


def check_daemon_config(cfg: Config) -> None:
    """What the daemon needs beyond the config's own validation, located in the file: notification settings
    that touch the file system, digest schedules, per-provider scan schedules of configured providers."""
    from cloudwatchdog.alerts.checks import check_notifications
    from cloudwatchdog.daemon.jobs import enabled_providers
    from cloudwatchdog.daemon.scheduler import digest_targets

    errors: list[SourceError] = list(check_notifications(cfg))
    for i, _, cron in digest_targets(cfg):
        try:
            parse_schedule(cron)
        except ValueError as exc:
            errors.append(cfg.error(("notifications", i, "schedule"), str(exc)))
    enabled = enabled_providers(cfg)
    for provider in cfg.schedules.scan_providers:
        if provider not in enabled:
            errors.append(cfg.error(("schedules", "scan_providers", provider),
                                    f"provider {provider} is not configured (providers.{provider}) or is disabled"))
    if not enabled:
        errors.append(cfg.error(("providers",), "no provider is configured or enabled: the daemon has nothing to scan"))
    if errors:
        raise SourceErrors(errors)


class _Signals:
    """SIGTERM/SIGINT set ``stop``; a second one sets ``hurry`` (stop waiting for running jobs)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hurry = threading.Event()
        self.hup = threading.Event()

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._hup)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()
        # Logging from a signal handler can deadlock on the handler's lock: the main loop logs instead.

    def _hup(self, _signum: int, _frame: FrameType | None) -> None:
        self.hup.set()  # no reload: the main loop says so, rather than dying (SIGHUP's default action)


def _status_for(cfg: Config, scan_jobs: Sequence[ScanJob]) -> DaemonStatus:
    from cloudwatchdog.daemon.scheduler import longest_gap

    status = DaemonStatus(stale_after=cfg.daemon.stale_after, jitter=float(cfg.schedules.jitter))
    for j in scan_jobs:
        status.scan_jobs[j.job_id] = ScanJobStatus(
            j.job_id, longest_gap(parse_schedule(j.schedule), cfg.schedules.timezone), j.providers)
    return status


def run_daemon(cfg: Config, *, verbosity: int = 0, once: bool = False) -> int:
    """Run until SIGTERM/SIGINT (exit 0), or (``once``) run every scan job once, deliver, and exit (0, or 3 when a
    scan was incomplete or failed). Raises SourceErrors / StateError for config and store problems (exit 2)."""
    from cloudwatchdog.services.alerts import attach_outbox
    from cloudwatchdog.services.record import config_suppressions
    from cloudwatchdog.services.rules import configured_rules
    from cloudwatchdog.services.store import open_store

    check_daemon_config(cfg)
    rules = configured_rules(cfg)
    scan_jobs = plan_scan_jobs(cfg)
    suppressions = config_suppressions(cfg)
    store = open_store(cfg, None)
    secrets = [*config_secrets(cfg), *environment_secrets()]
    if store.url.password:
        secrets.append(str(store.url.password))
    setup_logging(cfg.daemon.log_format, verbosity, secrets)
    attach_outbox(store, cfg)
    metrics = DaemonMetrics()
    status = _status_for(cfg, scan_jobs)
    jobs = DaemonJobs(cfg, rules, store, metrics, status, scan_jobs, suppressions)
    try:
        if once:
            return _run_once(jobs, scan_jobs)
        return _serve(cfg, jobs, scan_jobs)
    finally:
        store.close()


def _run_once(jobs: DaemonJobs, scan_jobs: Sequence[ScanJob]) -> int:
    outcomes: list[str] = []

    def scan(job_id: str) -> Callable[[], None]:
        return lambda: outcomes.append(jobs.scan(job_id))

    for j in scan_jobs:
        if not jobs.run(j.job_id, scan(j.job_id)):
            outcomes.append("failed")
    jobs.run(DELIVER_JOB, jobs.deliver)
    log.info("one run of every scan job done: %s", ", ".join(outcomes), extra={"event": "once_done"})
    return EXIT_OK if all(o == "ok" for o in outcomes) else EXIT_INCOMPLETE


def _serve(cfg: Config, jobs: DaemonJobs, scan_jobs: Sequence[ScanJob]) -> int:
    from cloudwatchdog.daemon.events import build_consumers
    from cloudwatchdog.daemon.http import HttpEndpoint
    from cloudwatchdog.daemon.scheduler import (
        build_scheduler,
        delivery_waker,
        job_specs,
        scheduler_alive,
    )

    status, metrics = jobs.status, jobs.metrics
    status.latest_report = latest_report_file(cfg.resolve(cfg.reports.output_dir))
    specs = job_specs(cfg, jobs, scan_jobs)
    metrics.declare_jobs([j.job_id for j in scan_jobs], [s.job_id for s in specs if s.job_id not in jobs.scan_jobs])
    scheduler: Any = build_scheduler(cfg, specs)
    jobs.wake_delivery = delivery_waker(scheduler, jobs)
    status.scheduler_alive = scheduler_alive(scheduler)
    address = cfg.daemon.listen_address
    endpoint = None
    if address is not None:
        try:
            endpoint = HttpEndpoint(address, status, metrics, serve_report=cfg.daemon.serve_report)
        except OSError as exc:
            raise SourceErrors([cfg.error(("daemon", "listen"),
                                          f"cannot listen on {address}: {exc.strerror or exc}")]) from None
    signals = _Signals()
    signals.install()
    now = datetime.now(ZoneInfo(cfg.schedules.timezone))
    # Scan at start (the schedule takes over from there), and deliver what an earlier run left in the outbox.
    for j in scan_jobs:
        scheduler.get_job(j.job_id).modify(next_run_time=now)
    scheduler.get_job(DELIVER_JOB).modify(next_run_time=now)
    # Change events: targeted rescans between the scheduled scans. Built before any thread runs (their sources
    # import their SDKs here, once, in this thread).
    consumers = build_consumers(cfg, jobs)
    scheduler.start()
    metrics.scheduler_running.set(1)
    consumers.start()
    if endpoint is not None:
        endpoint.start()
        if address is not None and not address.is_loopback:
            log.warning("the HTTP endpoint listens on %s, beyond this host: /report shows your exposed storage; "
                        "keep it behind a network policy or set daemon.serve_report: false", address)
    log.info("daemon started: %s; HTTP endpoint %s", ", ".join(
        f"{s.job_id} ({s.schedule})" for s in specs), address or "off",
        extra={"event": "daemon_started", "jobs": [s.job_id for s in specs], "pid": os.getpid()})
    code = EXIT_OK
    while not signals.stop.wait(0.5):
        if signals.hup.is_set():
            signals.hup.clear()
            log.warning("SIGHUP: the config is not reloaded; restart the daemon to apply changes",
                        extra={"event": "sighup"})
        if not status.scheduler_alive():
            log.error("the scheduler stopped unexpectedly: exiting", extra={"event": "scheduler_dead"})
            code = EXIT_ERROR
            break
    status.stopping = True
    consumers.stop()
    return _shutdown(cfg, jobs, scheduler, endpoint, signals, code)


def _shutdown(cfg: Config, jobs: DaemonJobs, scheduler: Any, endpoint: Any, signals: _Signals, code: int) -> int:
    status = jobs.status
    grace = cfg.daemon.shutdown_grace
    running = status.running()
    log.info("shutting down%s", f": waiting up to {grace:g}s for {', '.join(running)}" if running else "",
             extra={"event": "shutdown", "running_jobs": running})
    scheduler.shutdown(wait=False)
    jobs.metrics.scheduler_running.set(0)
    deadline = time.monotonic() + grace
    idle = status.wait_idle(0)
    while not idle and not signals.hurry.is_set() and time.monotonic() < deadline:
        idle = status.wait_idle(min(0.5, max(0.0, deadline - time.monotonic())))
    if endpoint is not None:
        endpoint.stop()
    if not idle:
        left = status.running()
        jobs.abandon(_ABANDON_WAIT)
        log.warning("stopped without waiting for %s: a scan cut short is not recorded (the next one covers it)",
                    ", ".join(left), extra={"event": "stopped", "abandoned_jobs": left})
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        # Job threads cannot be interrupted, and the interpreter would wait for them at exit.
        os._exit(code)
    log.info("stopped", extra={"event": "stopped"})
    return code
