"""Schema migrations, run programmatically when the store opens: an empty database is created at head, an older
one is upgraded (migrations only add: an upgrade never loses history), a newer one is refused, and so is one that
is not a store at all (another application's tables, or an existing SQLite file of 0 bytes): it is never silently
turned into an empty store."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x0C1D_3A7C  # advisory lock: one process migrates at a time
_THREAD_LOCK = threading.Lock()  # alembic's `context`/`op` proxies are process-global: one migration at a time


class SchemaTooNew(Exception):
    """The database was migrated by a newer cloudwatchdog."""


class NotAStore(Exception):
    """The database is not a cloudwatchdog state store; the message says why (``0 bytes``, ``it holds other
    tables: ...``)."""


class EmptyFile(NotAStore):
    """An SQLite file of 0 bytes that was there before it was opened."""

    def __init__(self) -> None:
        super().__init__("0 bytes")


STORE_TABLE = "store_meta"  # in every store since the first revision


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _check_is_a_store(conn: Connection, current: str | None, known: set[str], existing_file: Path | None) -> None:
    """Raise NotAStore unless the database is a store (``current`` known, or a newer store's) or empty. Runs under
    the migration lock, so a store another process is creating right now is seen once it is created, not half-way."""
    if current is not None and current in known:
        return
    tables = sorted(inspect(conn).get_table_names())
    if current is not None and STORE_TABLE in tables:
        return  # a store of a newer cloudwatchdog: SchemaTooNew says so
    if tables:
        shown = ", ".join(tables[:8]) + (f" and {len(tables) - 8} more" if len(tables) > 8 else "")
        raise NotAStore(f"it holds other tables: {shown}")
    if existing_file is not None and existing_file.stat().st_size == 0:
        # There before it was opened, and empty under the write lock: truncated, unless another process created it
        # an instant ago and has not taken the lock yet (the caller looks again).
        raise EmptyFile()


def upgrade(engine: Engine, *, existing_file: Path | None = None) -> bool:
    """Bring the schema to head; True when something was migrated. Raises SchemaTooNew, and NotAStore for a
    database that holds other tables or an ``existing_file`` (the SQLite file, when it was there before it was
    opened) of 0 bytes."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {s.revision for s in script.walk_revisions()}
    with _THREAD_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(conn)
        _check_is_a_store(conn, current, known, existing_file)
        if current is not None and current not in known:
            raise SchemaTooNew(f"the database schema is at revision {current}, which this cloudwatchdog does not "
                               f"know (newest known: {script.get_current_head()}): upgrade cloudwatchdog")
        if current == script.get_current_head():
            return False
        command.upgrade(alembic_config(conn), "head")
        return True
