"""Fixtures: a real PostgreSQL server for the state store tests.

``postgres_server`` (session): a throwaway cluster made with the Debian PostgreSQL binaries (initdb + pg_ctl) in a
temporary directory, listening on 127.0.0.1 on a free port, removed at the end. initdb refuses to run as root, so
as root (CI) the cluster belongs to the ``postgres`` user and the binaries run through ``runuser -u postgres --``.
With CLOUDWATCHDOG_TEST_PG_URL set (a SQLAlchemy URL of a server whose user may create databases, e.g.
``postgresql+psycopg://postgres:secret@127.0.0.1:5432/postgres``) that server is used instead.

``postgres_url``: a fresh, empty database on it for each test (dropped afterwards).
``state_url``: parametrized over SQLite (a file in the test's tmp dir) and PostgreSQL: store tests run on both.

Missing PostgreSQL binaries are a failure naming scripts/install-test-deps, never a skip.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "CLOUDWATCHDOG_TEST_PG_URL"
_INSTALL_HINT = "run scripts/install-test-deps (it installs the Debian postgresql package)"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail(f"PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on "
                f"PATH: {_INSTALL_HINT}", pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """A temporary cluster: ``start()``, ``admin_url``, ``stop()``."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="cloudwatchdog-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail(f"running as root, and there is no 'postgres' user to own the test cluster: "
                            f"{_INSTALL_HINT}", pytrace=False)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=self.root)

    def start(self) -> PostgresCluster:
        proc = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C", "--no-sync")
        if proc.returncode != 0:
            self.cleanup()
            pytest.fail(f"initdb failed ({proc.returncode}): {proc.stdout}{proc.stderr}", pytrace=False)
        # A test server: no durability needed, sockets only inside the temp dir, TCP on loopback only.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        proc = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "-o", options, "start")
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            self.cleanup()
            pytest.fail(f"pg_ctl start failed ({proc.returncode}): {proc.stdout}{proc.stderr}\n{log}", pytrace=False)
        return self

    @property
    def admin_url(self) -> URL:
        return URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=self.port,
                          database="postgres")

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        self.cleanup()

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[URL]:
    """The admin URL of a PostgreSQL server that tests may create databases on."""
    external = os.environ.get(ENV_URL)
    if external:
        yield make_url(external)
        return
    cluster = PostgresCluster().start()
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


_counter = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: URL) -> Iterator[str]:
    """A fresh empty database for this test, as a SQLAlchemy URL string (password included)."""
    name = f"cloudwatchdog_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_conninfo(postgres_server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(postgres_server), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
