"""Schema migrations, run programmatically when the store opens: an empty database is created at head, an older
one is upgraded (migrations only add: an upgrade never loses history), a newer one is refused, and so is one that
is not a store at all (another application's tables, or an existing SQLite file of 0 bytes): it is never silently
turned into an empty store.

Start-up is on every command's path, so the two common cases do not load Alembic (and with it every dialect
SQLAlchemy has): a store already at head is seen with one query, and an empty database is created from the ORM
metadata in one step and stamped at head (what replaying every migration gives; tests/state proves the two
identical, schema and rows). Only an older store is upgraded by Alembic, migration by migration.
"""

from __future__ import annotations

import ast
import threading
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

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
VERSION_TABLE = "alembic_version"
# Alembic's own version table, as its MigrationContext creates it (the stamp of a store created from the metadata).
_VERSION = Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def revisions() -> tuple[frozenset[str], str]:
    """(every known revision, the head), read from the migration files' ``revision`` and ``down_revision``
    assignments without loading Alembic. A test checks them against Alembic's own ScriptDirectory."""
    parents: dict[str, str | None] = {}
    for file in sorted((MIGRATIONS / "versions").glob("[0-9]*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
        revision, parent = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            raise RuntimeError(f"migration {file.name}: revision and down_revision must be literal strings")
        parents[revision] = parent
    heads = set(parents) - {p for p in parents.values() if p is not None}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must form one chain; heads: {sorted(heads)}")
    return frozenset(parents), heads.pop()


def head_revision() -> str:
    return revisions()[1]


def current_revision(connection: Connection) -> str | None:
    """The stamped revision (Alembic's version table), None for a database without one."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise NotAStore(f"{VERSION_TABLE} holds several revisions: {', '.join(sorted(map(str, versions)))}")
    return str(versions[0]) if versions else None


def _create_at_head(conn: Connection) -> None:
    """An empty database -> the store at head in one step: the ORM's tables, the store_meta row the first
    migration inserts, and the head stamped."""
    from cloudwatchdog.state.schema import Base

    Base.metadata.create_all(conn)
    conn.execute(Base.metadata.tables[STORE_TABLE].insert(), [{"id": 1, "created_at": datetime.now(UTC).replace(
        microsecond=0)}])
    _VERSION.create(conn)
    conn.execute(_VERSION.insert(), [{"version_num": head_revision()}])


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
    known, head = revisions()
    with _THREAD_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(conn)
        _check_is_a_store(conn, current, set(known), existing_file)
        if current is not None and current not in known:
            raise SchemaTooNew(f"the database schema is at revision {current}, which this cloudwatchdog does not "
                               f"know (newest known: {head}): upgrade cloudwatchdog")
        if current == head:
            return False
        if current is None:  # _check_is_a_store found no table at all
            _create_at_head(conn)
            return True
        from alembic import command

        command.upgrade(alembic_config(conn), "head")
        return True
