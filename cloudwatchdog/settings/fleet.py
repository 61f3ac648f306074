"""`fleet:` distributed scans (``scan --distributed``, ``cloudwatchdog worker``, the daemon with ``distributed``).

A distributed scan is split into units (one per account, project or subscription the configuration names or the
coordinator discovers); worker processes on any number of machines take them from a procrastinate queue in
PostgreSQL and write each unit's raw snapshots to the shared state store; the coordinator waits for every unit,
then analyses, judges and records the scan exactly as a single-process scan would.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from cloudwatchdog.settings.base import StrictModel


class FleetConfig(StrictModel):
    # The daemon's scans go through the queue too (the default: the daemon scans in its own process).
    distributed: bool = False
    # The queue's PostgreSQL database (an SQLAlchemy URL, postgresql+psycopg://...); null: state.url, which must
    # then be PostgreSQL. Workers and the coordinator must name the same database.
    url: str | None = None
    # Workers and the coordinator must agree; deployments sharing a queue database need one each. Two distributed
    # scans of one store never run at once whatever their queues (the scan lease is the store's: state.fleet).
    queue: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")] = "cloudwatchdog"
    # Runs of one unit before it is given up (its accounts' coverage becomes `error`): a unit whose worker died
    # (no heartbeat for `stalled_after` seconds) or that raised is run again until then.
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    heartbeat: Annotated[float, Field(gt=0, le=300)] = 10.0  # seconds between a worker's heartbeats
    stalled_after: Annotated[float, Field(gt=0, le=3600)] = 30.0  # seconds without a heartbeat: the worker is gone
    # Seconds the coordinator waits for the whole scan; units still unfinished then are failed (timed out).
    scan_timeout: Annotated[float, Field(gt=0, le=7 * 86400)] = 6 * 3600.0
    poll_interval: Annotated[float, Field(gt=0, le=60)] = 1.0  # seconds between the coordinator's looks

    @field_validator("url")
    @classmethod
    def _postgres(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("postgresql"):
            raise ValueError("the queue lives in PostgreSQL: a URL such as postgresql+psycopg://user@host/db")
        return v
