"""The moto harness: a real server subprocess, reset, multi-account sessions, clear start-up errors."""

from __future__ import annotations

import urllib.request

import pytest

from cloudwatchdog.emulators.moto import (
    DEFAULT_ACCOUNT,
    MotoServer,
    MotoServerError,
    account_session,
    emulator_client,
)
from tests.conftest import OTHER_ACCOUNT


def test_server_answers_on_loopback(moto: MotoServer) -> None:
    assert moto.endpoint.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{moto.endpoint}/moto-api/", timeout=5) as response:
        assert response.status == 200


def test_reset_forgets_resources(moto: MotoServer) -> None:
    s3 = emulator_client(account_session(moto.endpoint), "s3", moto.endpoint)
    s3.create_bucket(Bucket="reset-me")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["reset-me"]
    moto.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_assume_role_acts_as_the_other_account(aws_sessions: dict[str, object], moto: MotoServer) -> None:
    for account, session in aws_sessions.items():
        sts = emulator_client(session, "sts", moto.endpoint)
        assert sts.get_caller_identity()["Account"] == account
    prod = emulator_client(aws_sessions[DEFAULT_ACCOUNT], "s3", moto.endpoint)
    other = emulator_client(aws_sessions[OTHER_ACCOUNT], "s3", moto.endpoint)
    other.create_bucket(Bucket="only-in-the-other-account")
    assert prod.list_buckets()["Buckets"] == []
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == ["only-in-the-other-account"]


def test_s3control_reaches_the_emulator(moto: MotoServer) -> None:
    """botocore addresses S3 Control at <account>.<host>; the harness strips that for 127.0.0.1."""
    control = emulator_client(account_session(moto.endpoint), "s3control", moto.endpoint)
    control.put_public_access_block(
        AccountId=DEFAULT_ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    conf = control.get_public_access_block(AccountId=DEFAULT_ACCOUNT)["PublicAccessBlockConfiguration"]
    assert conf["BlockPublicAcls"] is True and conf["IgnorePublicAcls"] is False


def test_a_taken_port_is_refused(moto_server: MotoServer) -> None:
    port = int(moto_server.endpoint.rsplit(":", 1)[1])  # already taken by the session server
    with pytest.raises(MotoServerError) as info, MotoServer(port=port, startup_timeout=20):
        pass
    assert f"port {port}" in str(info.value)


def test_a_server_that_dies_is_reported_with_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cloudwatchdog.emulators.moto.sys.executable", "/bin/false")
    with pytest.raises(MotoServerError, match="exited with code 1"), MotoServer(startup_timeout=10):
        pass


def test_stop_ends_the_process() -> None:
    server = MotoServer()
    with server:
        endpoint = server.endpoint
        process = server._process
        assert process is not None and process.poll() is None
    assert process.poll() is not None
    with pytest.raises(MotoServerError):
        _ = server.endpoint
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
