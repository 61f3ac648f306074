"""A local moto server (``python -m moto.server``) as a subprocess, for tests, demo and benchmarks.

Everything talks to it over real HTTP on 127.0.0.1 through boto3, exactly like the collector talks to AWS.

Multi-account: moto acts as account 123456789012 for any static credentials; ``sts:AssumeRole`` into
``arn:aws:iam::<id>:role/<any>`` returns credentials that act as account ``<id>`` (moto does not check that
the role exists, nor any trust policy). ``account_core`` (a botocore session, what the product takes) and
``account_session`` (a boto3 one, for seeding) wrap that.

The server is moto's own (``serve`` below runs it exactly as ``python -m moto.server`` does), with one fix of
fidelity: an EC2 or RDS action moto does not implement (snapshot and image Block Public Access, for example)
is answered the way an AWS endpoint answers an action it does not know, HTTP 400 ``InvalidAction``, instead of
moto's HTML "500 Internal Server Error" page that no SDK can parse.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import IO, Any
from xml.sax.saxutils import escape

from cloudwatchdog.emulators.process import http_ok, log_tail, terminate, wait_ready

DEFAULT_ACCOUNT = "123456789012"
STATIC_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class MotoServerError(RuntimeError):
    """The moto server could not be started or reached."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class MotoServer:
    """``with MotoServer() as moto: ... moto.endpoint ...``; ``reset()`` forgets every resource.

    ``plain=True`` runs moto's server exactly as a user would (``moto_server``): its ~1,300 built-in public AMIs
    (and their snapshots) loaded, and an action moto does not implement answered with its HTML "500 Internal Server
    Error" page. For tests of what a user trying cloudwatchdog against moto meets."""

    def __init__(self, *, port: int | None = None, startup_timeout: float = 30.0, plain: bool = False) -> None:
        self._port = port
        self._startup_timeout = startup_timeout
        self._plain = plain
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self._port is None or self._process is None:
            raise MotoServerError("the moto server is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int:
        """The server's process id (benchmarks read its CPU time)."""
        if self._process is None:
            raise MotoServerError("the moto server is not running")
        return self._process.pid

    def start(self) -> MotoServer:
        if self._process is not None:
            return self
        self._port = self._port or _free_port()
        if _port_in_use(self._port):
            # Otherwise the readiness probe would be answered by whatever already listens there.
            raise MotoServerError(f"port {self._port} on 127.0.0.1 is already in use")
        # The server's own environment: none of the user's AWS settings (moto reads them through boto3, and a
        # missing AWS_PROFILE or a broken AWS_CONFIG_FILE would fail its requests), the fixed test keys.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if not self._plain:
            env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        env["MOTO_PORT"] = str(self._port)  # moto writes it into the URLs it returns (SQS queue URLs, ...)
        env["AWS_ACCESS_KEY_ID"] = STATIC_CREDENTIALS["aws_access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = STATIC_CREDENTIALS["aws_secret_access_key"]
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        # A file, not a pipe: a chatty server must never block on a full pipe buffer.
        self._log = tempfile.TemporaryFile(prefix="moto-server-")  # noqa: SIM115 (closed in stop)
        # This module's ``serve``: moto's own server, answering unimplemented EC2/RDS actions as AWS does.
        server = "moto.server" if self._plain else "cloudwatchdog.emulators.moto"
        self._process = subprocess.Popen(
            [sys.executable, "-m", server, "-H", "127.0.0.1", "-p", str(self._port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        self._wait_ready()
        return self

    def _output(self) -> str:
        return log_tail(self._log)
    def _wait_ready(self) -> None:
        assert self._process is not None
        url = f"http://127.0.0.1:{self._port}/moto-api/"
        problem = wait_ready(self._process, lambda: http_ok(url), timeout=self._startup_timeout,
                             name="moto server", where=url)
        if problem is not None:
            output = self._output()
            self.stop()
            raise MotoServerError(f"{problem}:\n{output}")
    def reset(self) -> None:
        """Forget every resource of every account (moto's ``/moto-api/reset``)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise MotoServerError(f"moto reset failed: HTTP {response.status}")

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 5 s). Idempotent."""
        process, self._process = self._process, None
        log, self._log = self._log, None
        terminate(process, log)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def account_core(endpoint: str, account_id: str = DEFAULT_ACCOUNT, *, region: str = "us-east-1") -> Any:
    """A botocore session acting as ``account_id`` in the moto server at ``endpoint``: what the product's AWS code
    takes (``collect_aws(cfg, session=...)``, ...). Typed ``Any`` so importing this module needs no SDK (the
    harness itself only starts a process). Built from the fixed test keys alone: nothing of the process
    environment (AWS_PROFILE, AWS_CONFIG_FILE, ...) is read."""
    from cloudwatchdog.providers.aws.credentials import isolated_session

    base = isolated_session(
        region,
        access_key=STATIC_CREDENTIALS["aws_access_key_id"],
        secret_key=STATIC_CREDENTIALS["aws_secret_access_key"],
    )
    if account_id == DEFAULT_ACCOUNT:
        return base
    sts: Any = base.create_client("sts", endpoint_url=endpoint)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/cloudwatchdog-emulator", RoleSessionName="cloudwatchdog"
    )["Credentials"]
    return isolated_session(
        region,
        access_key=creds["AccessKeyId"],
        secret_key=creds["SecretAccessKey"],
        token=creds["SessionToken"],
    )


def account_session(endpoint: str, account_id: str = DEFAULT_ACCOUNT, *, region: str = "us-east-1") -> Any:
    """A boto3 session on ``account_core``'s session, for seeding an estate (``.client("s3", ...)``). The product
    itself takes botocore sessions and never imports boto3; only this harness does."""
    import boto3

    return boto3.Session(botocore_session=account_core(endpoint, account_id, region=region), region_name=region)


# --- The server process ---------------------------------------------------------------------------------------

# Query-protocol services whose SDK error parser reads <Response><Errors><Error> (EC2) or <ErrorResponse><Error>.
_QUERY_ERROR_BODIES = {
    "ec2": "<Response><Errors><Error><Code>InvalidAction</Code><Message>{message}</Message></Error></Errors>"
    "<RequestID>{request_id}</RequestID></Response>",
    "rds": "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{message}</Message>"
    "</Error><RequestId>{request_id}</RequestId></ErrorResponse>",
}
_SIGNED_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")


class UnimplementedAsInvalidAction:
    """WSGI middleware around moto's application: an EC2/RDS action moto raises ``NotImplementedError`` for is
    answered ``400 InvalidAction`` (what AWS says for an action an endpoint does not have), saying that the
    emulator lacks it. Every other request, and any other failure, is moto's own answer."""

    def __init__(self, app: Callable[[dict[str, Any], Any], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except NotImplementedError as exc:
            match = _SIGNED_SERVICE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            template = _QUERY_ERROR_BODIES.get(match.group(1) if match else "")
            if template is None:
                raise
            message = f"{exc} by the moto emulator (answered as AWS answers an action it does not know)"
            body = template.format(message=escape(message), request_id="cloudwatchdog-emulator").encode()
            start_response(
                "400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
            )
            return [body]


def serve(argv: list[str] | None = None) -> None:
    """Run moto's server (as ``python -m moto.server -H HOST -p PORT`` does) behind
    ``UnimplementedAsInvalidAction``. The process entry point of ``MotoServer``."""
    import argparse
    import signal

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    class Dispatcher(DomainDispatcherApplication):
        """moto's dispatcher, remembering which backend serves a host. moto matches every request's host (after
        inferring it from the signature) against each backend's URL patterns in turn, hundreds of regular
        expressions under one lock: about half the server's CPU per request. The answer for a host never changes."""

        def __init__(self, create_app: Any) -> None:
            super().__init__(create_app)
            self.backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self.backends:
                self.backends[host] = super().get_backend_for_host(host)
            return self.backends[host]

    class Handler(MotoRequestHandler):
        """moto's request handler without a log line per request (errors are still logged)."""

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    parser = argparse.ArgumentParser(description="moto server for cloudwatchdog tests and the demo")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = Dispatcher(create_backend_app)
    # moto's backend apps run in debug mode, so an unimplemented action propagates up to the middleware.
    app.debug = True  # type: ignore[attr-defined]
    run_simple(
        args.host,
        args.port,
        UnimplementedAsInvalidAction(app),
        threaded=True,
        request_handler=Handler,
    )


def emulator_client(session: Any, service: str, endpoint: str, *, region: str | None = None) -> Any:
    """A client of ``session`` for the emulator: path-style S3, S3 Control without the account host prefix."""
    from botocore.config import Config
    from botocore.session import Session

    from cloudwatchdog.providers.aws.session import strip_account_host_prefix

    # A botocore session (``account_core``) or a boto3 one (``account_session``, whose ``client`` is botocore's
    # ``create_client``).
    if isinstance(session, Session):
        make, default_region = session.create_client, session.get_config_variable("region")
    else:
        make, default_region = session.client, session.region_name
    client = make(
        service,
        endpoint_url=endpoint,
        region_name=region or default_region or "us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    if service == "s3control":
        client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    return client


if __name__ == "__main__":
    serve()
