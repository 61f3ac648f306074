"""Azurite (Microsoft's Azure Storage emulator, an npm package) as a subprocess, for tests and the demo.

Each emulated storage account is a real Azurite account (``AZURITE_ACCOUNTS``, one key each, derived from the name:
emulator-only keys, no secret). Azurite serves HTTPS on 127.0.0.1 with the emulators' certificate and basic OAuth,
so the collector reads it exactly as it reads Azure: a bearer token over TLS, path-style account URLs
(``https://127.0.0.1:PORT/<account>``). Azurite enforces container access levels for anonymous requests, which is
how tests prove that our verdicts agree with the storage service.

Where Azurite is found, in order: ``$AZURITE_BIN``, ``<repo>/.cache/azurite`` (``scripts/install-test-deps``),
``~/.cache/cloudwatchdog/azurite`` (``install_azurite``, used by the demo), then ``azurite-blob`` on PATH.
Tests never install it; the demo may, when npm is there.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from cloudwatchdog.emulators.process import log_tail, terminate, wait_ready
from cloudwatchdog.emulators.tls import TlsFiles

AZURITE_VERSION = "3.35.0"
_BIN = Path("node_modules") / ".bin" / "azurite-blob"
_ACCOUNT_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789")


class AzuriteUnavailable(RuntimeError):
    """Azurite (or Node.js, which runs it) is not installed; the message says what is missing and how to get it."""


class AzuriteError(RuntimeError):
    """Azurite is installed but could not be started or reached."""


def repo_install_dir() -> Path:
    """``<repo>/.cache/azurite``, where ``scripts/install-test-deps`` installs it in a source checkout."""
    return Path(__file__).resolve().parents[2] / ".cache" / "azurite"


def user_install_dir() -> Path:
    """``~/.cache/cloudwatchdog/azurite``, where ``install_azurite`` puts it for the demo."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cloudwatchdog" / "azurite"


def _candidates() -> list[tuple[str, Path | None]]:
    env = os.environ.get("AZURITE_BIN")
    on_path = shutil.which("azurite-blob")
    return [
        ("$AZURITE_BIN", Path(env) if env else None),
        ("the source checkout", repo_install_dir() / _BIN),
        ("the user cache", user_install_dir() / _BIN),
        ("PATH", Path(on_path) if on_path else None),
    ]


def find_azurite() -> Path:
    """The ``azurite-blob`` executable. Raises ``AzuriteUnavailable`` naming what is missing."""
    if shutil.which("node") is None:
        raise AzuriteUnavailable(
            "Node.js is not installed (no `node` on PATH); Azurite, the Azure Storage emulator, runs on it. "
            "Install Node.js 18 or newer and npm (scripts/install-test-deps does both on Debian)."
        )
    looked: list[str] = []
    for where, path in _candidates():
        if path is None:
            continue
        if path.is_file() and os.access(path, os.X_OK):
            return path
        looked.append(f"{path} ({where})")
    tried = "; ".join(looked) or "nowhere"
    raise AzuriteUnavailable(
        f"Azurite {AZURITE_VERSION} is not installed (looked in: {tried}). Run scripts/install-test-deps, "
        f"or `npm install --prefix {user_install_dir()} azurite@{AZURITE_VERSION}`, or set AZURITE_BIN."
    )


def install_azurite(prefix: Path | None = None, *, timeout: float = 600) -> Path:
    """Install azurite@AZURITE_VERSION with npm into ``prefix`` (default: the user cache). For the demo only;
    tests never call this. Raises ``AzuriteUnavailable`` when npm is missing or the install fails."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise AzuriteUnavailable(
            "Azurite is not installed and cannot be installed here: Node.js and npm are needed "
            "(on Debian: apt-get install nodejs npm, or run scripts/install-test-deps)."
        )
    target = prefix or user_install_dir()
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error",
         f"azurite@{AZURITE_VERSION}"],
        capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )
    binary = target / _BIN
    if proc.returncode != 0 or not binary.is_file():
        raise AzuriteUnavailable(
            f"npm could not install azurite@{AZURITE_VERSION} into {target}: {(proc.stderr or proc.stdout)[-800:]}"
        )
    return binary


def account_key(name: str) -> str:
    """The emulator key of account ``name`` (base64, like a real key; derived from the name, not a secret)."""
    return base64.b64encode(hashlib.sha512(f"cloudwatchdog-emulator:{name}".encode()).digest()).decode()


def check_account_name(name: str) -> str:
    if not (3 <= len(name) <= 24) or not set(name) <= _ACCOUNT_NAME_CHARS:
        raise ValueError(f"invalid storage account name {name!r}: 3 to 24 lowercase letters and digits")
    return name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AzuriteServer:
    """``with AzuriteServer(["acct1", "acct2"], tls) as azurite: ... azurite.account_url("acct1") ...``

    Data lives in memory; ``reset()`` deletes every container and turns static websites off."""

    def __init__(
        self,
        accounts: Sequence[str],
        tls: TlsFiles,
        *,
        binary: Path | None = None,
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if not accounts:
            raise ValueError("Azurite needs at least one account")
        self.accounts = tuple(dict.fromkeys(check_account_name(a) for a in accounts))
        self.tls = tls
        self._binary = binary
        self._port = port
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self._process is None or self._port is None:
            raise AzuriteError("Azurite is not running")
        return f"https://127.0.0.1:{self._port}"

    def account_url(self, name: str) -> str:
        """The blob endpoint of account ``name`` (path-style, as Azurite serves several accounts on one host)."""
        if name not in self.accounts:
            raise KeyError(f"{name!r} is not an Azurite account here (accounts: {', '.join(self.accounts)})")
        return f"{self.endpoint}/{name}"

    def start(self) -> AzuriteServer:
        if self._process is not None:
            return self
        binary = self._binary or find_azurite()
        self._port = self._port or _free_port()
        env = dict(os.environ)
        env["AZURITE_ACCOUNTS"] = ";".join(f"{a}:{account_key(a)}" for a in self.accounts)
        self._log = tempfile.TemporaryFile(prefix="azurite-")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [
                str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(self._port),
                "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                "--oauth", "basic", "--cert", str(self.tls.cert_file), "--key", str(self.tls.key_file),
            ],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        self._wait_ready()
        return self

    def _output(self) -> str:
        return log_tail(self._log)
    def _wait_ready(self) -> None:
        assert self._process is not None
        context = self.tls.client_context()
        url = f"https://127.0.0.1:{self._port}/{self.accounts[0]}?comp=list"
        problem = wait_ready(self._process, lambda: _answers(url, context), timeout=self._startup_timeout,
                             name="Azurite", where=url)
        if problem is not None:
            output = self._output()
            self.stop()
            raise AzuriteError(f"{problem}:\n{output}")
    def service_client(self, name: str) -> Any:
        """A BlobServiceClient of account ``name`` authorised with its shared key (for seeding; typed ``Any`` so
        that importing this module needs no Azure SDK)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            self.account_url(name),
            credential={"account_name": name, "account_key": account_key(name)},
            connection_verify=str(self.tls.ca_file),
            retry_total=0,
        )

    def reset(self) -> None:
        """Delete every container of every account and turn static websites off."""
        from azure.storage.blob import StaticWebsite

        for name in self.accounts:
            client = self.service_client(name)
            for container in client.list_containers():
                client.delete_container(container.name)
            client.set_service_properties(static_website=StaticWebsite(enabled=False))

    def stop(self) -> None:
        """Terminate Azurite (kill it if it does not exit within 5 s). Idempotent."""
        process, self._process = self._process, None
        log, self._log = self._log, None
        terminate(process, log)

    def __enter__(self) -> AzuriteServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _answers(url: str, context: ssl.SSLContext) -> bool:
    """Whether an HTTPS server answers ``url`` at all (an HTTP error status is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=context):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


__all__ = [
    "AZURITE_VERSION",
    "AzuriteError",
    "AzuriteServer",
    "AzuriteUnavailable",
    "account_key",
    "find_azurite",
    "install_azurite",
    "repo_install_dir",
    "user_install_dir",
]
