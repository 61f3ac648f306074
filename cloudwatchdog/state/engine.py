"""Opening the store's database: the URL (a relative SQLite path taken from the config's directory, the password
masked in every message), the engine (SQLite's write lock taken up front), and the schema brought to head. Every
failure is a StateError naming ``state.url``. Something that is not a store (a 0-byte or corrupt file, another
application's database) is refused, never reset: the history in it, or in its backup, is what the user has."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.migrate import EmptyFile, NotAStore, SchemaTooNew, upgrade

ADVICE = "history is the product; restore it from a backup or point state.url elsewhere"
# SQLite's answers for a file that is not a database, or one whose pages are damaged.
_NOT_A_DATABASE = {"SQLITE_NOTADB": "not an SQLite database", "SQLITE_CORRUPT": "corrupt"}


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


def _what(url: URL) -> str:
    """The store as a person knows it: the SQLite file, or the database."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return f"database {url.database}"


def _not_a_database(exc: SQLAlchemyError, url: URL) -> str | None:
    """Why SQLite cannot read the file as a database at all (None: another error)."""
    reason = _NOT_A_DATABASE.get(str(getattr(getattr(exc, "orig", None), "sqlite_errorname", "")))
    return f"{reason}: {clean_message(exc, url)}" if reason == "corrupt" else reason


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
    existing_file: Path | None = None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:"):
        path = Path(u.database).expanduser()
        if not path.parent.is_dir():
            raise StateError(f"state.url {shown}: cannot open the store: directory {path.parent} does not exist")
        if not create and not path.exists():
            raise StateError(f"state.url {shown}: there is no state store there yet "
                             "(`cloudwatchdog scan` creates it)")
        if path.is_file():  # before SQLite creates it: a missing file becomes a new store
            existing_file = path
    try:
        engine = _engine(u)
    except NoSuchModuleError:
        raise StateError(f"state.url {shown}: unsupported database "
                         "(use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)") from None
    except ImportError as exc:
        raise StateError(f"state.url {shown}: the database driver is not installed ({exc.name}); "
                         "for PostgreSQL: pip install 'cloudwatchdog[postgres]'") from None
    try:
        try:
            upgrade(engine, existing_file=existing_file)
        except EmptyFile:
            # Another process may have created the file an instant ago and not yet taken the write lock to fill
            # it: once it has, the second look waits for it to finish. A file that is still empty was truncated.
            time.sleep(0.25)
            upgrade(engine, existing_file=existing_file)
    except SchemaTooNew as exc:
        engine.dispose()
        raise StateError(f"state.url {shown}: {exc}") from None
    except NotAStore as exc:
        engine.dispose()
        raise StateError(f"state.url {shown}: {_what(u)} is not a cloudwatchdog state store ({exc}): {ADVICE}") \
            from None
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = _not_a_database(exc, u)
        if reason is not None:
            raise StateError(f"state.url {shown}: {_what(u)} is not a cloudwatchdog state store ({reason}): "
                             f"{ADVICE}") from None
        raise StateError(f"state.url {shown}: cannot open the store: {clean_message(exc, u)}") from None
    return engine, u
