"""Distributed scans' shared records in the state store: each finished unit's result (``fleet_units``), and the
lease that keeps two distributed scans of one store from running at once.

A unit's row is written in one INSERT when the unit ends: a worker killed before it leaves nothing, and the first
row written for a (scan, unit) stays (a unit run twice, after its worker was thought lost, keeps one answer).

A scan takes results only while it is open: its coordinator writes the scan's marker row (unit ``""``, status
``open``) first and deletes it when it stops waiting (every unit has an outcome, or ``fleet.scan_timeout``). A
unit's INSERT holds a share lock on the marker and writes nothing without it, so a unit that ends after its scan
was closed (a late unit of a timed-out scan) leaves no row, and closing waits for the INSERTs already under way.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from cloudwatchdog.state.schema import FleetUnitRow, StoreMeta

log = logging.getLogger("cloudwatchdog.fleet")


@dataclass(frozen=True)
class UnitOutcome:
    unit: str
    status: str  # ok | failed
    attempts: int
    worker: str | None
    error: str | None
    result: dict[str, Any] | None


MARKER = ""  # the unit of a scan's marker row: real unit keys are never empty (services.fleet.plan_units)


def _marker(scan_id: str) -> Any:
    return select(FleetUnitRow.unit).where(FleetUnitRow.scan_id == scan_id, FleetUnitRow.unit == MARKER)


def open_scan(engine: Engine, scan_id: str) -> None:
    """Let units of ``scan_id`` record their outcomes (until close_scan)."""
    with engine.begin() as conn:
        conn.execute(insert(FleetUnitRow).values(scan_id=scan_id, unit=MARKER, status="open", attempts=0,
                                                 finished_at=datetime.now(UTC)))


def scan_is_open(engine: Engine, scan_id: str, store: str | None = None) -> bool:
    """Whether ``scan_id`` takes results; with ``store`` (store_identity), also whether a coordinator holds the
    store's scan lease (a scan whose coordinator died leaves its marker, but no lease)."""
    with engine.connect() as conn:
        if conn.execute(_marker(scan_id)).first() is None:
            return False
        if store is None:
            return True
        # Looked up, not taken: trying the lock would hold it for a moment (a coordinator starting then would
        # wait), and a failed unlock would leave it held by a pooled connection.
        return bool(conn.execute(_LEASE_HELD, {"k": _lease_key(store)}).scalar())


# A session advisory lock on one bigint shows in pg_locks as its high and low 32 bits (classid, objid), objsubid 1.
_LEASE_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = ((CAST(:k AS bigint) >> 32) & 4294967295)::oid"
    " AND objid = (CAST(:k AS bigint) & 4294967295)::oid)")


def record_unit(engine: Engine, scan_id: str, outcome: UnitOutcome) -> bool:
    """Write one unit's outcome while its scan is open; False when the unit already has one (which stays) or the
    scan is closed (nothing written)."""
    upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(FleetUnitRow).values(
        scan_id=scan_id, unit=outcome.unit, status=outcome.status, attempts=outcome.attempts,
        worker=outcome.worker, error=outcome.error, result=outcome.result, finished_at=datetime.now(UTC),
    ).on_conflict_do_nothing(index_elements=["scan_id", "unit"])
    with engine.begin() as conn:
        # The marker's share lock: close_scan cannot delete it until this INSERT is committed.
        if conn.execute(_marker(scan_id).with_for_update(key_share=True)).first() is None:
            return False
        return bool(conn.execute(stmt).rowcount)


def close_scan(engine: Engine, scan_id: str) -> None:
    """Take no more outcomes for ``scan_id``: once this returns, its rows are final (a unit still running then
    writes nothing)."""
    with engine.begin() as conn:
        conn.execute(delete(FleetUnitRow).where(FleetUnitRow.scan_id == scan_id, FleetUnitRow.unit == MARKER))


def finished_units(engine: Engine, scan_id: str) -> set[str]:
    """The units of ``scan_id`` that have an outcome."""
    with engine.connect() as conn:
        return set(conn.scalars(select(FleetUnitRow.unit).where(FleetUnitRow.scan_id == scan_id,
                                                                FleetUnitRow.unit != MARKER)))


def unit_outcome(engine: Engine, scan_id: str, unit: str) -> UnitOutcome | None:
    """One unit's outcome (read one at a time: a scan's results are never all in memory at once)."""
    with engine.connect() as conn:
        r = conn.execute(select(FleetUnitRow).where(FleetUnitRow.scan_id == scan_id,
                                                    FleetUnitRow.unit == unit)).mappings().first()
    return None if r is None else UnitOutcome(r["unit"], r["status"], r["attempts"], r["worker"], r["error"],
                                              r["result"])


def forget_scan(engine: Engine, scan_id: str) -> None:
    """Close the scan and drop its unit rows (they were only its raw answers in transit)."""
    close_scan(engine, scan_id)  # first, in its own transaction: a late INSERT is then committed or refused
    with engine.begin() as conn:
        conn.execute(delete(FleetUnitRow).where(FleetUnitRow.scan_id == scan_id))


def forget_other_scans(engine: Engine, scan_id: str) -> int:
    """Drop the rows of every scan but ``scan_id`` (call it under the scan lease: their coordinators are gone, so
    nobody reads them); their markers first, so their late units write nothing more. Returns the rows dropped."""
    with engine.begin() as conn:
        conn.execute(delete(FleetUnitRow).where(FleetUnitRow.scan_id != scan_id, FleetUnitRow.unit == MARKER))
    with engine.begin() as conn:
        return int(conn.execute(delete(FleetUnitRow).where(FleetUnitRow.scan_id != scan_id)).rowcount)


def store_identity(engine: Engine) -> str:
    """What names this store on its server: the database, and the schema its tables live in (``search_path``),
    with the store's creation time. Two deployments on one PostgreSQL server differ in the first two; the third
    tells apart stores of the same names on different servers."""
    with engine.connect() as conn:
        database, schema = conn.execute(text(
            "SELECT current_database(), (SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.oid = to_regclass('store_meta'))")).one()
        created = conn.execute(select(StoreMeta.created_at).where(StoreMeta.id == 1)).scalar()
    return f"{database}.{schema}@{created.isoformat() if created is not None else '-'}"


def _lease_key(store: str) -> int:
    return int.from_bytes(hashlib.sha256(f"cloudwatchdog.fleet.scan:{store}".encode()).digest()[:8], "big",
                          signed=True)


@contextmanager
def scan_lease(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock of this store (store_identity: its database and schema, whatever
    the queue's name or database) while the block runs; released if this process dies, with its connection. A
    second distributed scan of the same store waits until the first has finished; scans of other stores, on the
    same server or not, never wait for it."""
    name = store_identity(engine)
    key = _lease_key(name)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if not got:
            log.warning("another distributed scan of this store (%s) is running: waiting for it to finish "
                        "(two scans never interleave)", name)
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
