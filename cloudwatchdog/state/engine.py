"""Opening the store's database: the URL (a relative SQLite path taken from the config's directory, the password
masked in every message), the engine (SQLite's write lock taken up front), and the schema brought to head. Every
failure is a StateError naming ``state.url``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.migrate import SchemaTooNew, upgrade


def mask_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def resolve_url(url: str, base_dir: Path) -> URL:
    """The store URL with a relative SQLite path taken relative to ``base_dir`` (the config file's directory)."""
    try:
        u = make_url(url)
    except ArgumentError:
        raise StateError(f"state.url: not a database URL: {mask_url(url)} "
                         "(e.g. sqlite:///cloudwatchdog.db or postgresql+psycopg://user@host/db)") from None
    db = u.database
    if u.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:") \
            and not Path(db).expanduser().is_absolute():
        u = u.set(database=str(base_dir / Path(db).expanduser()))
    return u


def clean_message(exc: BaseException, url: URL) -> str:
    """The first line of a database error, without the URL's password."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def _engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # SQLAlchemy, not the sqlite3 module, begins transactions; and FOREIGN KEYs are enforced.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Take the write lock up front: a read-then-write transaction never fails halfway on "database locked".
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    return create_engine(url, pool_pre_ping=True)


def open_engine(url: str | URL, *, base_dir: Path | None = None, create: bool = True) -> tuple[Engine, URL]:
    """The engine of the store at ``url``, its schema created or upgraded as needed. Raises StateError naming
    ``state.url``. ``create=False``: a missing SQLite file is an error (commands that only read the store)."""
    u = url if isinstance(url, URL) else resolve_url(url, base_dir or Path("."))
    shown = mask_url(u)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:"):
        path = Path(u.database).expanduser()
        if not path.parent.is_dir():
            raise StateError(f"state.url {shown}: cannot open the store: directory {path.parent} does not exist")
        if not create and not path.exists():
            raise StateError(f"state.url {shown}: there is no state store there yet "
                             "(`cloudwatchdog scan` creates it)")
    try:
        engine = _engine(u)
    except NoSuchModuleError:
        raise StateError(f"state.url {shown}: unsupported database "
                         "(use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)") from None
    except ImportError as exc:
        raise StateError(f"state.url {shown}: the database driver is not installed ({exc.name}); "
                         "for PostgreSQL: pip install 'cloudwatchdog[postgres]'") from None
    try:
        upgrade(engine)
    except SchemaTooNew as exc:
        engine.dispose()
        raise StateError(f"state.url {shown}: {exc}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StateError(f"state.url {shown}: cannot open the store: {clean_message(exc, u)}") from None
    return engine, u
