"""A new store is created from the ORM metadata in one step and stamped at head, instead of replaying every
migration: on both backends the result is what the migrations give (every table, column, key, index and row but
the creation time), Alembic itself agrees on the revisions, and opening a store loads Alembic only to upgrade an
older one."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, select, text

from cloudwatchdog.state import migrate
from cloudwatchdog.state.schema import Base


def _schema_and_rows(conn: Connection) -> dict[str, Any]:
    insp = inspect(conn)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        columns = [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("autoincrement"))
                   for c in insp.get_columns(table)]
        indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table))
        fks = sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]),
                      str(f.get("options"))) for f in insp.get_foreign_keys(table))
        uniques = sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table))
        pk = insp.get_pk_constraint(table)
        meta = MetaData()
        meta.reflect(conn, only=[table])
        rows = [dict(r._mapping) for r in conn.execute(select(meta.tables[table]))]
        if table == migrate.STORE_TABLE:
            rows = [{k: v for k, v in r.items() if k != "created_at"} for r in rows]
        out[table] = {"columns": columns, "indexes": indexes, "fks": fks, "uniques": uniques,
                      "pk": (pk.get("name"), tuple(pk["constrained_columns"])), "rows": rows}
    return out


def _drop_everything(engine: Engine) -> None:
    meta = MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        meta.drop_all(conn)


def test_created_at_head_equals_every_migration_replayed(state_url: str) -> None:
    engine = create_engine(state_url)
    try:
        with engine.begin() as conn:  # the migrations, one by one, as an upgrade from an empty database runs them
            command.upgrade(migrate.alembic_config(conn), "head")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
            migrated = _schema_and_rows(conn)
        _drop_everything(engine)
        assert migrate.upgrade(engine) is True  # an empty database: created from the metadata, stamped at head
        with engine.connect() as conn:
            created = _schema_and_rows(conn)
            assert conn.execute(text("SELECT count(*) FROM store_meta")).scalar() == 1
        assert set(created) == set(migrated) and "alembic_version" in created
        for table in migrated:
            assert created[table] == migrated[table], table
        assert migrate.upgrade(engine) is False  # at head: nothing to do
    finally:
        engine.dispose()


def test_the_revisions_read_without_alembic_are_alembics() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    known, head = migrate.revisions()
    assert known == {s.revision for s in script.walk_revisions()}
    assert head == script.get_current_head() == migrate.head_revision()


def test_opening_a_store_loads_alembic_only_to_upgrade(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    code = ("import sys; from cloudwatchdog.state.store import Store; Store.open(sys.argv[1]).close(); "
            "print(sorted(m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')))")
    for _ in ("created", "opened again"):
        done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
    engine = create_engine(url)
    with engine.begin() as conn:  # an older store: back to the first revision's stamp (its tables stay; the
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))  # upgrade must then migrate)
        for table in ("account_names", "targeted_coverage", "fleet_units"):  # what 0006 and later create
            conn.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "'alembic'" in done.stdout
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrate.head_revision()
        assert inspect(conn).has_table("account_names")
