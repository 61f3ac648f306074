"""Schema migrations, run programmatically when the store opens: an empty database is created at head, an older
one is upgraded (migrations only add: an upgrade never loses history), a newer one is refused."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x0C1D_3A7C  # advisory lock: one process migrates at a time
_THREAD_LOCK = threading.Lock()  # alembic's `context`/`op` proxies are process-global: one migration at a time


class SchemaTooNew(Exception):
    """The database was migrated by a newer cloudwatchdog."""


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


def upgrade(engine: Engine) -> bool:
    """Bring the schema to head; True when something was migrated. Raises SchemaTooNew."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {s.revision for s in script.walk_revisions()}
    with _THREAD_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(conn)
        if current is not None and current not in known:
            raise SchemaTooNew(f"the database schema is at revision {current}, which this cloudwatchdog does not "
                               f"know (newest known: {script.get_current_head()}): upgrade cloudwatchdog")
        if current == script.get_current_head():
            return False
        command.upgrade(alembic_config(conn), "head")
        return True
