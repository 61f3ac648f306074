"""Shared fixtures. The moto server is a real subprocess, started once per session only when a test asks for
it, and reset before every test that uses it; tests talk to it with real boto3 clients over HTTP on
127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_session

OTHER_ACCOUNT = "210987654321"

# One plugin per emulator or server, each owning its fixtures.
pytest_plugins = ["support.gcs", "support.azure", "support.postgres"]


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may reach real AWS with a developer's credentials: fake keys, no profiles, no ambient
    endpoint."""
    empty = tmp_path_factory.getbasetemp() / "aws-empty-config"
    empty.touch()
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(Path(empty)))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(Path(empty)))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The session's moto server, emptied for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def aws_sessions(moto: MotoServer) -> dict[str, Any]:
    """boto3 sessions acting as two accounts in moto: the default 123456789012, and 210987654321 entered by
    sts:AssumeRole (moto hands out credentials of whatever account the role ARN names)."""
    return {
        DEFAULT_ACCOUNT: account_session(moto.endpoint, DEFAULT_ACCOUNT),
        OTHER_ACCOUNT: account_session(moto.endpoint, OTHER_ACCOUNT),
    }
