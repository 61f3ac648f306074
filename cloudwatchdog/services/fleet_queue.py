"""The distributed scan's queue, on procrastinate (PostgreSQL): the unit task that workers run, and the
coordinator's loop that enqueues a scan's units and watches them to the end.

- A unit runs ``Provider.collect`` on its narrowed settings and writes its raw snapshots in one row
  (state.fleet.record_unit) when it ends; nothing is written before, so a worker killed mid-unit leaves nothing.
- A unit that raised is run again by procrastinate's retry strategy; a unit whose worker stopped sending heartbeats
  (killed, machine lost) is found by the coordinator (procrastinate's stalled-job query) and put back in the queue.
  Both stop after ``fleet.max_attempts`` runs: the unit is then ``failed`` and its account's coverage ``error``.
- Units still unfinished at ``fleet.scan_timeout`` are failed; when the coordinator stops waiting (done or timed
  out) the scan is closed (state.fleet: a unit that ends later writes nothing) and its jobs leave the queue: those
  waiting are cancelled and deleted, those of a lost worker failed and deleted, a running one is asked to abort:
  its unit stops reading (the provider's collect is asked ``should_stop`` before each request or resource), records
  nothing, and its job succeeds and is deleted. Jobs whose scan is closed are no-ops.
- While a unit runs, its worker keeps beating and watching for the abort itself (``_tend``), and whether its scan
  is still open: a coordinator that died (SIGKILL, a lost machine) cannot ask for the abort, but no longer holds
  the store's scan lease, so the unit stops reading at the next heartbeat. It does so also once it was asked
  to stop (SIGTERM, SIGINT): procrastinate's graceful shutdown first cancels its heartbeat and abort-polling tasks,
  then waits for the running job; without ``_tend`` a unit longer than ``fleet.stalled_after`` would look lost and
  run twice.
- Each job names its store (state.fleet.store_identity): a worker of another store that takes it (two deployments
  sharing a queue database and queue name) refuses it, and never writes to its own store.

procrastinate is imported only here, and only when a distributed scan or a worker runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cloudwatchdog.config import Config
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.state.fleet import UnitOutcome, finished_units, record_unit, scan_is_open, store_identity
from cloudwatchdog.text import scrub_value

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.worker import Worker
    from sqlalchemy.engine import Engine

log = logging.getLogger("cloudwatchdog.fleet")

TASK = "cloudwatchdog.fleet.unit"


@dataclass(frozen=True)
class PlannedUnit:
    """One unit of a scan: ``key`` is unique in the scan; ``settings`` the provider's narrowed section as JSON."""

    key: str
    provider: str
    account: str
    name: str | None
    settings: dict[str, Any]

    def job_kwargs(self, scan_id: str, store: str) -> dict[str, Any]:
        return {"scan_id": scan_id, "unit": self.key, "provider": self.provider, "account": self.account,
                "store_of_scan": store, "settings": self.settings}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_unit(engine: Engine, cfg: Config, *, scan_id: str, unit: str, provider: str, account: str,
                 settings: dict[str, Any], attempt: int, store: str | None = None,
                 aborted: Callable[[], bool] = lambda: False) -> None:
    """Run one unit (``attempt``: earlier runs of it) and record its outcome. Raises (for a retry) when it failed
    with runs left; records ``failed`` when it failed on its last run. A unit whose scan is closed (finished, timed
    out, or its coordinator gone: no one holds ``store``'s scan lease) or whose job was aborted (``aborted``,
    asked while it reads: it then stops reading) records nothing and does not retry."""
    runs = attempt + 1
    why_stopped = "its scan stopped waiting for it (timed out, or its coordinator ended)"
    if not scan_is_open(engine, scan_id, store):
        log.warning("unit %s of scan %s: dropped: the scan is closed (finished or timed out, or its coordinator "
                    "is gone)", unit, scan_id)
        return
    log.info("unit %s of scan %s: started (run %d of at most %d)", unit, scan_id, runs, cfg.fleet.max_attempts)
    try:
        plugin = PROVIDERS.get(provider)
        snapshots = [scrub_value(s) for s in plugin.collect(plugin.settings.model_validate(settings),
                                                            should_stop=aborted)]
    except Exception as exc:  # a bug or a broken unit: retried, then reported as the unit's failure
        log.exception("unit %s of scan %s: failed", unit, scan_id)
        if aborted():
            log.warning("unit %s of scan %s: not retried: %s", unit, scan_id, why_stopped)
            return
        if runs < cfg.fleet.max_attempts:
            raise
        why = f"{type(exc).__name__}: {str(exc)[:300]}"
        record_unit(engine, scan_id, UnitOutcome(unit, "failed", runs, worker_name(), why, None))
        return
    if aborted():  # what was read is incomplete, and nobody waits for it: nothing is recorded
        log.warning("unit %s of scan %s: stopped: %s; nothing recorded", unit, scan_id, why_stopped)
        return
    result = {"scan_id": scan_id, "unit": unit, "provider": provider, "account": account, "snapshots": snapshots}
    if not record_unit(engine, scan_id, UnitOutcome(unit, "ok", runs, worker_name(), None, result)):
        log.warning("unit %s of scan %s: result dropped: the scan stopped waiting for it (timed out) or already "
                    "has it", unit, scan_id)
        return
    log.info("unit %s of scan %s: done (%d snapshots)", unit, scan_id, len(snapshots))


class ForeignUnit(Exception):
    """A unit of another store's scan: this worker writes to its own store only."""


def make_app(cfg: Config, conninfo: str, engine: Engine, store: str | None = None) -> procrastinate.App:
    """The procrastinate app with the unit task, on the queue database ``conninfo`` (libpq); units write their
    outcomes through ``engine``, the state store whose store_identity is ``store`` (workers only)."""
    import procrastinate
    from procrastinate.job_context import AbortReason

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    retries = cfg.fleet.max_attempts - 1
    retry: procrastinate.RetryStrategy | bool = procrastinate.RetryStrategy(max_attempts=retries) if retries else False

    def unit_task(context: procrastinate.JobContext, scan_id: str, unit: str, provider: str,
                  settings: dict[str, Any], account: str = "", store_of_scan: str = "") -> None:
        if store_of_scan != store:
            log.error("unit %s of scan %s is another state store's (%s; this worker's: %s): refused. Deployments "
                      "that share a queue database need a fleet.queue each", unit, scan_id, store_of_scan, store)
            raise ForeignUnit(f"unit {unit} of scan {scan_id}: another state store's")
        # Aborted by its coordinator (not by this worker's shutdown, which waits for the unit to end): told by
        # procrastinate (LISTEN/NOTIFY, while the worker is not stopping) or by _tend. Both are in memory: cheap.
        told = context.additional_context.get(_ABORT)
        execute_unit(engine, cfg, scan_id=scan_id, unit=unit, provider=provider, account=account,
                     settings=settings, attempt=context.job.attempts, store=store,
                     aborted=lambda: context.abort_reason() is AbortReason.USER_REQUEST or (
                         isinstance(told, threading.Event) and told.is_set()))

    app.task(name=TASK, queue=cfg.fleet.queue, retry=retry, pass_context=True)(unit_task)
    return app


def ensure_queue_schema(conninfo: str) -> None:
    """Create procrastinate's tables in the queue database when they are not there (once, whoever comes first)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo, connect_timeout=10) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('cloudwatchdog.fleet.schema'))")
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
            conn.execute(SchemaManager.get_schema())


def run_worker(cfg: Config, conninfo: str, engine: Engine) -> None:
    """Take units from the queue and run them, one at a time, until SIGINT/SIGTERM (the unit running then is
    finished first, its heartbeats going on: ``_tend``)."""
    ensure_queue_schema(conninfo)
    app = make_app(cfg, conninfo, engine, store_identity(engine))
    # procrastinate hands the first SIGINT/SIGTERM to its graceful stop and then puts back the handlers it found.
    # For SIGINT that would be asyncio's, which only cancels the main task (and procrastinate goes on waiting for
    # the unit): with the default action found instead, a second Ctrl-C ends the worker at once, as a second
    # SIGTERM does.
    # (Python's own SIGINT handler only: one that was set to be ignored, as for a background job, stays so.)
    main_thread = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main_thread else None
    if before is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        app.run_worker(queues=[cfg.fleet.queue], concurrency=1, name=worker_name(),
                       update_heartbeat_interval=cfg.fleet.heartbeat, stalled_worker_timeout=cfg.fleet.stalled_after,
                       fetch_job_polling_interval=min(5.0, cfg.fleet.poll_interval), delete_jobs="successful",
                       worker_middleware=[functools.partial(_tend, cfg, engine)])
    finally:
        if before is signal.default_int_handler:
            signal.signal(signal.SIGINT, before)


_ABORT = "cloudwatchdog.abort"  # JobContext.additional_context: set by _tend when the job's abort was asked


async def _tend(cfg: Config, engine: Engine, call_next: Callable[[], Awaitable[Any]],
                context: procrastinate.JobContext, worker: Worker) -> Any:
    """A worker middleware (on the worker's event loop, around each job): while the job runs, every
    ``fleet.heartbeat`` seconds, beat the worker's heartbeat and look whether the job's abort was asked, or its
    scan closed (its coordinator gone: nobody would ask). procrastinate beats and polls in tasks of its own, but its
    graceful shutdown cancels them before it waits for the running job."""
    jobs = context.app.job_manager
    told = threading.Event()
    context.additional_context[_ABORT] = told
    kwargs = context.job.task_kwargs
    scan_id, store = kwargs.get("scan_id"), kwargs.get("store_of_scan")

    async def beat() -> None:
        while True:
            await asyncio.sleep(cfg.fleet.heartbeat)
            try:
                if worker.worker_id is not None:
                    await jobs.update_heartbeat(worker.worker_id)
                if context.job.id in set(await jobs.list_jobs_to_abort_async(queue=cfg.fleet.queue)):
                    told.set()
            except Exception:  # the queue database unreachable for a while: try again at the next beat
                log.warning("unit job %s: heartbeat failed", context.job.id, exc_info=True)

    async def watch() -> None:
        """Apart from the beats: a store that hangs must not hold the heartbeat up (the unit would look lost)."""
        if not (isinstance(scan_id, str) and isinstance(store, str) and store):
            return
        while not told.is_set():
            await asyncio.sleep(cfg.fleet.heartbeat)
            try:
                if not await asyncio.to_thread(scan_is_open, engine, scan_id, store):
                    told.set()
            except Exception:  # the store unreachable for a while: the unit goes on, the record will tell
                log.warning("unit job %s: cannot see whether its scan is open", context.job.id, exc_info=True)

    tasks = [asyncio.create_task(beat(), name=f"tend job {context.job.id}"),
             asyncio.create_task(watch(), name=f"watch the scan of job {context.job.id}")]
    try:
        return await call_next()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def coordinate(cfg: Config, conninfo: str, engine: Engine, scan_id: str, units: Sequence[PlannedUnit],
               progress: Callable[[int, int], None] | None = None) -> None:
    """Enqueue the units of ``scan_id`` and return when each has an outcome (ok, failed, or failed as timed
    out); the scan's jobs have then left the queue, or been asked to abort (a running one)."""
    ensure_queue_schema(conninfo)
    app = make_app(cfg, conninfo, engine)
    store = store_identity(engine)

    async def run() -> None:
        async with app.open_async():
            # Jobs of earlier scans of this store whose coordinator is gone: nobody waits for them (the scan
            # lease is ours now).
            await _clear_jobs(app, cfg, lambda kw: kw.get("store_of_scan") == store and kw.get("scan_id") != scan_id)
            try:
                await _coordinate(app, cfg, engine, scan_id, store, units, progress)
            finally:
                await _clear_jobs(app, cfg, lambda kw: kw.get("scan_id") == scan_id)

    asyncio.run(run())


async def _coordinate(app: procrastinate.App, cfg: Config, engine: Engine, scan_id: str, store: str,
                      units: Sequence[PlannedUnit], progress: Callable[[int, int], None] | None) -> None:
    from procrastinate.jobs import Status

    fleet = cfg.fleet
    jobs = app.job_manager
    await app.tasks[TASK].batch_defer_async(*[u.job_kwargs(scan_id, store) for u in units])
    pending = {u.key for u in units}
    deadline = time.monotonic() + fleet.scan_timeout
    while True:
        pending -= await asyncio.to_thread(finished_units, engine, scan_id)
        if progress is not None:
            progress(len(units) - len(pending), len(units))
        if not pending:
            return
        for job in await jobs.get_stalled_jobs(queue=fleet.queue, task_name=TASK,
                                               seconds_since_heartbeat=fleet.stalled_after):
            key = job.task_kwargs.get("unit")
            if job.task_kwargs.get("scan_id") != scan_id or key not in pending:
                continue
            if job.attempts + 1 < fleet.max_attempts:
                log.warning("unit %s of scan %s: its worker stopped answering; running it again", key, scan_id)
                await jobs.retry_job(job)
                continue
            await jobs.finish_job(job, Status.FAILED, delete_job=True)
            why = (f"its worker stopped answering (no heartbeat for {fleet.stalled_after:g} s) on each of "
                   f"{job.attempts + 1} runs")
            await asyncio.to_thread(record_unit, engine, scan_id,
                                    UnitOutcome(str(key), "failed", job.attempts + 1, None, why, None))
        for job in await jobs.list_jobs_async(queue=fleet.queue, task=TASK, status="failed"):
            key = job.task_kwargs.get("unit")
            if job.task_kwargs.get("scan_id") == scan_id and key in pending:
                await asyncio.to_thread(record_unit, engine, scan_id, UnitOutcome(
                    str(key), "failed", job.attempts + 1, None, "the unit's job failed in the queue", None))
        if time.monotonic() > deadline:
            why = f"timed out: unfinished after fleet.scan_timeout ({fleet.scan_timeout:g} s)"
            for key in sorted(pending):
                await asyncio.to_thread(record_unit, engine, scan_id, UnitOutcome(key, "failed", 0, None, why, None))
            return
        await asyncio.sleep(fleet.poll_interval)


_FINAL = ("succeeded", "failed", "cancelled", "aborted")


async def _clear_jobs(app: procrastinate.App, cfg: Config, ours: Callable[[dict[str, Any]], bool]) -> None:
    """The unit jobs whose arguments ``ours`` matches leave the queue: waiting ones are cancelled and deleted, those
    of a lost worker (no heartbeat) failed and deleted, finished ones deleted; a running one is asked to abort (its
    unit then drops its result and its job succeeds, which deletes it)."""
    from procrastinate.jobs import Status

    fleet, jobs = cfg.fleet, app.job_manager
    lost = {j.id for j in await jobs.get_stalled_jobs(queue=fleet.queue, task_name=TASK,
                                                      seconds_since_heartbeat=fleet.stalled_after)}
    finished: list[int] = []
    for status in ("todo", "doing", *_FINAL):
        for job in await jobs.list_jobs_async(queue=fleet.queue, task=TASK, status=status):
            if job.id is None or not ours(job.task_kwargs):
                continue
            if status == "todo":
                await jobs.cancel_job_by_id_async(job.id, delete_job=True)
            elif status == "doing" and job.id in lost:
                await jobs.finish_job_by_id_async(job.id, Status.FAILED, delete_job=True)
            elif status == "doing":
                await jobs.cancel_job_by_id_async(job.id, abort=True)
            else:
                finished.append(job.id)
    if finished:
        await app.connector.execute_query_async("DELETE FROM procrastinate_jobs WHERE id = ANY(%(ids)s)",
                                                ids=finished)
