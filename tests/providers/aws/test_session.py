"""AWS sessions: ``credential: emulator`` against a real moto server, in a process whose environment points
everywhere else (a missing profile, a broken config file, other keys, another endpoint and region, a proxy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer
from cloudwatchdog.providers.aws.collect import collect_aws
from cloudwatchdog.providers.aws.session import (
    EmulatorOnlyError,
    isolated_session,
    make_client,
    refuse_non_loopback,
)
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from tests.conftest import OTHER_ACCOUNT


@pytest.fixture
def hostile_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The user's environment as it may be on a developer's machine: none of it may reach an emulator scan."""
    broken = tmp_path / "aws-config"
    broken.write_text("[[[ this is not an ini file\n")
    env = {
        "AWS_PROFILE": "nosuch",
        "AWS_CONFIG_FILE": str(broken),
        "AWS_SHARED_CREDENTIALS_FILE": str(broken),
        "AWS_ACCESS_KEY_ID": "AKIAUSERSOWNKEY00000",
        "AWS_SECRET_ACCESS_KEY": "users-own-secret",
        "AWS_SESSION_TOKEN": "users-own-token",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_MAX_ATTEMPTS": "17",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_emulator_credential_reads_nothing_of_the_environment(moto: MotoServer, hostile_env: dict[str, str]) -> None:
    before = dict(os.environ)
    cfg = AwsProvider(
        endpoint_url=moto.endpoint, credential="emulator", regions=["us-east-1"], max_attempts=1,
        accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod"),
                  AwsAccount(id=OTHER_ACCOUNT, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit")],
    )
    snapshots = collect_aws(cfg)  # no session given: the collector builds it from the config alone
    assert [(s["account"], s["status"], s["error"]) for s in snapshots] == [
        (DEFAULT_ACCOUNT, "ok", None), (OTHER_ACCOUNT, "ok", None)]
    assert all(s["endpoint_url"] == moto.endpoint for s in snapshots)
    assert dict(os.environ) == before, "nothing sets the process environment"


def test_isolated_session_has_exactly_the_given_keys_and_region(hostile_env: dict[str, str]) -> None:
    session = isolated_session("eu-west-1", access_key="AKIAGIVEN", secret_key="given", token="t")
    credentials = session.get_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("AKIAGIVEN", "given", "t")
    assert session.region_name == "eu-west-1" and session.profile_name == "default"
    client = session.client("s3")
    assert client.meta.region_name == "eu-west-1"
    assert "total_max_attempts" not in client.meta.config.retries  # AWS_MAX_ATTEMPTS (17) is not read
    assert isolated_session().get_credentials().access_key == "testing"


def test_the_emulator_credential_is_never_sent_off_loopback(moto: MotoServer) -> None:
    cfg = AwsProvider(endpoint_url=moto.endpoint, credential="emulator", max_attempts=1)
    s3 = make_client(isolated_session(), "s3", cfg)

    def redirect(request: Any, **_: Any) -> None:  # as a redirect or a misconfiguration would
        request.url = "https://s3.amazonaws.com/"

    s3.meta.events.register_first("before-sign.s3.ListBuckets", redirect)
    with pytest.raises(EmulatorOnlyError, match="not a loopback address"):
        s3.list_buckets()
    # Without the detour the same client setup reaches the emulator.
    assert make_client(isolated_session(), "s3", cfg).list_buckets()["Buckets"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/", "http://localhost:4566/x", "http://[::1]:5000/"])
def test_loopback_requests_go_out(url: str) -> None:
    class Request:
        pass

    request = Request()
    request.url = url  # type: ignore[attr-defined]
    refuse_non_loopback(request)  # no exception


def test_default_credential_still_honours_the_environment(moto: MotoServer, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """``credential: default`` is the AWS default chain: AWS_ENDPOINT_URL and the environment's keys count."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    (snapshot,) = collect_aws(AwsProvider(regions=["us-east-1"], max_attempts=1, sharing=False))
    assert (snapshot["account"], snapshot["status"], snapshot["endpoint_url"]) == (DEFAULT_ACCOUNT, "ok", moto.endpoint)
