"""The APScheduler scheduler of the daemon: one job per scan job, the report, alert delivery and each digest target.

Every job: at most one run at a time (``max_instances=1``: a run still going when the next is due skips that one),
missed runs coalesced into one (``coalesce=True``) and run late rather than skipped (``misfire_grace_time=None``:
after a suspend, a scan runs once, as soon as it can), stable ids (``scan``, ``scan:<provider>``, ``report``,
``deliver``, ``digest:<target>``). ``schedules.jitter`` delays scans, the report and digests by up to that many
seconds; delivery is never delayed. Times are in ``schedules.timezone``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from cloudwatchdog.config import Config
from cloudwatchdog.daemon.jobs import DELIVER_JOB, REPORT_JOB, DaemonJobs, ScanJob, digest_job_id
from cloudwatchdog.settings.schedules import Every, Schedule, build_trigger, parse_schedule


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    schedule: Schedule
    action: Callable[[], object]
    jitter: int


def longest_gap(schedule: Schedule, timezone: str, *, runs: int = 24, now: datetime | None = None) -> float:
    """Seconds between runs: the interval, or the longest gap among a cron schedule's next ``runs`` runs."""
    if isinstance(schedule, Every):
        return float(schedule.seconds)
    trigger: Any = build_trigger(schedule, timezone)
    from zoneinfo import ZoneInfo

    current = now or datetime.now(ZoneInfo(timezone))
    previous = trigger.get_next_fire_time(None, current)
    gap = 0.0
    for _ in range(runs):
        if previous is None:
            break
        following = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
        if following is None:
            break
        gap = max(gap, (following - previous).total_seconds())
        previous = following
    return gap or 86400.0


def digest_targets(cfg: Config) -> list[tuple[int, str, str]]:
    """(index in notifications, name, cron) of every `mode: digest` target."""
    return [(i, t.label, t.digest_schedule) for i, t in enumerate(cfg.notifications) if t.mode == "digest"]


def job_specs(cfg: Config, jobs: DaemonJobs, scan_jobs: Sequence[ScanJob]) -> list[JobSpec]:
    jitter = cfg.schedules.jitter
    specs = [JobSpec(j.job_id, parse_schedule(j.schedule), _bind(jobs, j.job_id, partial(jobs.scan, j.job_id)),
                     jitter) for j in scan_jobs]
    if cfg.schedules.report is not None:
        specs.append(JobSpec(REPORT_JOB, parse_schedule(cfg.schedules.report),
                             _bind(jobs, REPORT_JOB, jobs.report), jitter))
    specs.append(JobSpec(DELIVER_JOB, parse_schedule(cfg.schedules.deliver), _bind(jobs, DELIVER_JOB, jobs.deliver),
                         0))
    for _, name, cron in digest_targets(cfg):
        jid = digest_job_id(name)
        specs.append(JobSpec(jid, parse_schedule(cron), _bind(jobs, jid, partial(jobs.digest, name)), jitter))
    return specs


def _bind(jobs: DaemonJobs, job_id: str, action: Callable[[], object]) -> Callable[[], object]:
    """The job as the scheduler calls it: inside ``DaemonJobs.run`` (bookkeeping, metrics, errors logged)."""
    return partial(jobs.run, job_id, action)


def build_scheduler(cfg: Config, specs: Sequence[JobSpec]) -> Any:
    """A BackgroundScheduler (not started) with every job, in ``schedules.timezone``, with a thread per job so
    that a long scan never delays delivery."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    tz = cfg.schedules.timezone
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=max(1, len(specs)))},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        timezone=tz,
    )
    for spec in specs:
        scheduler.add_job(spec.action, trigger=build_trigger(spec.schedule, tz, spec.jitter), id=spec.job_id,
                          name=spec.job_id, replace_existing=True)
    return scheduler


def delivery_waker(scheduler: Any, jobs: DaemonJobs) -> Callable[[], None]:
    """Make the deliver job run now, unless it is running (it then loops once more by itself)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(jobs.cfg.schedules.timezone)

    def wake() -> None:
        if not jobs.status.is_running(DELIVER_JOB) and not jobs.status.stopping:
            scheduler.modify_job(DELIVER_JOB, next_run_time=datetime.now(tz))

    return wake


def scheduler_alive(scheduler: Any) -> Callable[[], bool]:
    def alive() -> bool:
        from apscheduler.schedulers.base import STATE_RUNNING

        thread = getattr(scheduler, "_thread", None)
        return bool(scheduler.state == STATE_RUNNING and thread is not None and thread.is_alive())

    return alive
