"""Opening a state store that is not one: a 0-byte file, a file that is not SQLite, a corrupt one, a database of
another application. Each is refused with one clear error naming state.url, and left exactly as it was: the
history in it (or in its backup) is the product, never silently reset. A missing file is still created."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from cloudwatchdog.cli import main
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.migrate import upgrade
from cloudwatchdog.state.store import Store
from state.helpers import at, bucket, scan

ADVICE = "history is the product; restore it from a backup or point state.url elsewhere"


def _refused(path: Path, reason: str) -> None:
    before = path.read_bytes()
    for create in (True, False):  # `scan` creates a missing store; `report` and `findings` only read one
        with pytest.raises(StateError) as err:
            Store.open(f"sqlite:///{path}", create=create)
        message = str(err.value)
        assert message.startswith(f"state.url sqlite:///{path}: {path} is not a cloudwatchdog state store ({reason}")
        assert message.endswith(ADVICE) and "\n" not in message
    assert path.read_bytes() == before, "left as it was"


def test_a_0_byte_file_is_refused_not_reset(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    _refused(path, "0 bytes")
    assert path.stat().st_size == 0


def test_a_0_byte_file_another_process_is_creating_the_store_in_is_waited_for(tmp_path: Path) -> None:
    """SQLite creates the file when it connects and fills it under the write lock a moment later: a second opener
    that comes in between finds 0 bytes, and must wait for the store rather than refuse it."""
    path = tmp_path / "state.db"
    path.touch()  # the first process has connected ...

    def first_process() -> None:  # ... and takes the lock to create the store a moment later
        time.sleep(0.1)
        engine = create_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    creator = threading.Thread(target=first_process)
    creator.start()
    try:
        with Store.open(f"sqlite:///{path}") as store:
            assert store.scans() == []
    finally:
        creator.join()
    assert path.stat().st_size > 0


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_text("cloudwatchdog:\n  this is a YAML file copied over the store\n" * 50)
    _refused(path, "not an SQLite database")


def test_a_corrupt_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.record_scan(scan([bucket("a")], when=at(0)))
    data = bytearray(path.read_bytes())
    data[100:2000] = b"\xff" * 1900  # the schema page, overwritten
    path.write_bytes(bytes(data))
    _refused(path, "corrupt: database disk image is malformed")


def test_an_sqlite_file_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    _refused(path, "it holds other tables: customers, orders")
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")] == [
            "customers", "orders"]


def test_another_alembic_application_is_refused_rather_than_called_newer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('a1b2c3d4e5f6')")
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    _refused(path, "it holds other tables: alembic_version, invoices")


def test_a_missing_file_and_an_empty_sqlite_database_become_stores(tmp_path: Path) -> None:
    missing = tmp_path / "new.db"
    with Store.open(f"sqlite:///{missing}") as store:
        store.record_scan(scan([bucket("a")], when=at(0)))
    empty = tmp_path / "empty.db"
    with sqlite3.connect(empty) as conn:
        conn.execute("PRAGMA user_version = 0")
        conn.execute("VACUUM")  # a valid database file with no table in it
    with Store.open(f"sqlite:///{empty}") as store:
        assert store.scans() == []


def test_a_postgresql_database_of_another_application_is_refused(postgres_url: str) -> None:
    url = make_url(postgres_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id integer PRIMARY KEY)")
    with pytest.raises(StateError) as err:
        Store.open(postgres_url)
    message = str(err.value)
    assert f"database {url.database} is not a cloudwatchdog state store (it holds other tables: customers)" in message
    assert message.endswith(ADVICE)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == ["customers"]
            assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [["scan", "--no-progress", "--from-raw", "RAW"], ["findings", "list"],
                                     ["report", "--output", "OUT"]])
def test_the_cli_refuses_with_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 command: list[str]) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text('{"format": "cloudwatchdog-raw-snapshots", "snapshots": []}')
    path = tmp_path / "state.db"
    path.touch()
    args = [str(raw) if a == "RAW" else str(tmp_path / "out") if a == "OUT" else a for a in command]
    assert main([*args, "--state-url", f"sqlite:///{path}"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: state.url sqlite:///{path}: {path} is not a cloudwatchdog state store "
                                f"(0 bytes): {ADVICE}"]
    assert path.stat().st_size == 0
