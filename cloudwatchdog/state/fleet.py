"""Distributed scans' shared records in the state store: each finished unit's result (``fleet_units``), and the
lease that keeps two distributed scans of one store from running at once.

A unit's row is written in one INSERT when the unit ends: a worker killed before it leaves nothing, and the first
row written for a (scan, unit) stays (a unit run twice, after its worker was thought lost, keeps one answer).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from cloudwatchdog.state.schema import FleetUnitRow

log = logging.getLogger("cloudwatchdog.fleet")


@dataclass(frozen=True)
class UnitOutcome:
    unit: str
    status: str  # ok | failed
    attempts: int
    worker: str | None
    error: str | None
    result: dict[str, Any] | None


def record_unit(engine: Engine, scan_id: str, outcome: UnitOutcome) -> bool:
    """Write one unit's outcome; False when the unit already has one (which stays)."""
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(FleetUnitRow).values(
        scan_id=scan_id, unit=outcome.unit, status=outcome.status, attempts=outcome.attempts,
        worker=outcome.worker, error=outcome.error, result=outcome.result, finished_at=datetime.now(UTC),
    ).on_conflict_do_nothing(index_elements=["scan_id", "unit"])
    with engine.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


def finished_units(engine: Engine, scan_id: str) -> set[str]:
    """The units of ``scan_id`` that have an outcome."""
    with engine.connect() as conn:
        return set(conn.scalars(select(FleetUnitRow.unit).where(FleetUnitRow.scan_id == scan_id)))


def unit_outcome(engine: Engine, scan_id: str, unit: str) -> UnitOutcome | None:
    """One unit's outcome (read one at a time: a scan's results are never all in memory at once)."""
    with engine.connect() as conn:
        r = conn.execute(select(FleetUnitRow).where(FleetUnitRow.scan_id == scan_id,
                                                    FleetUnitRow.unit == unit)).mappings().first()
    return None if r is None else UnitOutcome(r["unit"], r["status"], r["attempts"], r["worker"], r["error"],
                                              r["result"])


def forget_scan(engine: Engine, scan_id: str) -> None:
    """Drop a scan's unit rows once the scan is recorded (they were only its raw answers in transit)."""
    with engine.begin() as conn:
        conn.execute(delete(FleetUnitRow).where(FleetUnitRow.scan_id == scan_id))


@contextmanager
def scan_lease(engine: Engine, name: str) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for ``name`` while the block runs (released if this process dies,
    with its connection): a second distributed scan of the same queue waits until the first has finished."""
    key = int.from_bytes(hashlib.sha256(f"cloudwatchdog.fleet:{name}".encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if not got:
            log.warning("another distributed scan (queue %s) is running on this store: waiting for it to finish "
                        "(two scans never interleave)", name)
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
