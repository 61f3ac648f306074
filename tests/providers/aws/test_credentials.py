"""AWS credentials against a real moto server: ``credential: emulator`` in a process whose environment points
everywhere else (a missing profile, a broken config file, other keys, another endpoint and region, a proxy); and the
default chain when it cannot be used (a missing or broken profile, an unreachable endpoint, expired or invalid
keys): one clear line per account, naming it and the credentials tried, never a traceback."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from cloudwatchdog.emulators.moto import DEFAULT_ACCOUNT, MotoServer, account_core
from cloudwatchdog.providers.aws.collect import collect_aws
from cloudwatchdog.providers.aws.credentials import EmulatorOnlyError, isolated_session, refuse_non_loopback
from cloudwatchdog.providers.aws.session import make_client
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from tests.conftest import OTHER_ACCOUNT
from tests.providers.aws.test_collect import _error_response


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
    assert session.get_config_variable("region") == "eu-west-1" and session.profile is None  # (boto3's "default")
    client = session.create_client("s3")
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


# --- The first hour: credentials that cannot be used are one clear line per account, never a traceback ----------


@pytest.fixture
def aws_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The user's AWS config file: a good profile, and one that cannot give credentials (a role without a source)."""
    config = tmp_path / "config"
    config.write_text("[profile good]\naws_access_key_id = AKIAGOOD\naws_secret_access_key = good\n\n"
                      "[profile broken]\nrole_arn = arn:aws:iam::123456789012:role/Audit\n")
    (tmp_path / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    return config


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_missing_aws_profile_is_an_error_of_each_account_that_needs_it(
    moto: MotoServer, aws_files: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    cfg = AwsProvider(endpoint_url=moto.endpoint, max_attempts=1, sharing=False, accounts=[
        AwsAccount(id=DEFAULT_ACCOUNT, name="prod"),
        AwsAccount(id=OTHER_ACCOUNT, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit"),
        AwsAccount(id="111111111111", profile="broken"),
        AwsAccount(id=DEFAULT_ACCOUNT, name="by-profile", profile="good"),
    ])
    snapshots = collect_aws(cfg)  # boto3's default session cannot even be made with AWS_PROFILE=nosuch
    status = [(s["account"], s["status"], s["error"]) for s in snapshots]
    files = "the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name"
    assert status == [
        (DEFAULT_ACCOUNT, "error", "cannot enter the account with the default credentials (profile 'nosuch' from "
                                   f"AWS_PROFILE): no profile 'nosuch' in {files}"),
        (OTHER_ACCOUNT, "error", f"cannot enter the account with role arn:aws:iam::{OTHER_ACCOUNT}:role/Audit "
                                 "(assumed with the default credentials (profile 'nosuch' from AWS_PROFILE)): no "
                                 f"profile 'nosuch' in {files}"),
        ("111111111111", "error", "cannot enter the account with profile 'broken': its credentials cannot be "
                                  "loaded: Partial credentials found in assume-role, missing: source_profile or "
                                  "credential_source (PartialCredentialsError)"),
        (DEFAULT_ACCOUNT, "ok", None),  # its own profile does not need the default chain
    ]
    failures = _failures(caplog)
    assert failures == [f"aws account {s[0]}: {s[2]}" for s in status if s[2]], "one line per account"
    assert not any(r.exc_info for r in caplog.records)


def test_without_accounts_a_missing_aws_profile_is_one_error_entry(
    moto: MotoServer, aws_files: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    (snapshot,) = collect_aws(AwsProvider(endpoint_url=moto.endpoint, max_attempts=1))
    assert (snapshot["account"], snapshot["status"]) == ("unknown", "error")
    assert "default credentials (profile 'nosuch' from AWS_PROFILE): no profile 'nosuch'" in snapshot["error"]
    assert len(_failures(caplog)) == 1


def test_an_unreachable_endpoint_is_a_network_problem_not_a_credentials_one(caplog: pytest.LogCaptureFixture
                                                                            ) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"  # nothing listens once the socket is closed
    cfg = AwsProvider(endpoint_url=endpoint, credential="emulator", max_attempts=1,
                      accounts=[AwsAccount(id=DEFAULT_ACCOUNT, name="prod")])
    (snapshot,) = collect_aws(cfg)
    assert snapshot["status"] == "error"
    assert snapshot["error"].startswith(f"cannot reach {endpoint} to enter the account (EndpointConnectionError: ")
    assert snapshot["error"].endswith("): a network problem, not a credentials one")
    (line,) = _failures(caplog)  # (URLs in log lines may be cut to scheme and host by the log redaction)
    assert line.startswith(f"aws account {DEFAULT_ACCOUNT}: cannot reach {endpoint} to enter the account")
    assert line.endswith("a network problem, not a credentials one")


def test_expired_and_invalid_credentials_say_so(moto: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    """AWS's answers for credentials past their expiry and for keys it does not know, injected in-process (moto
    accepts any key): the request never leaves the process and botocore raises the ClientError AWS would cause."""
    base = account_core(moto.endpoint)
    base.register("before-call.sts.GetCallerIdentity", lambda **_: _error_response(
        "ExpiredToken", "The security token included in the request is expired"))
    base.register("before-call.sts.AssumeRole", lambda **_: _error_response(
        "InvalidClientTokenId", "The security token included in the request is invalid."))
    cfg = AwsProvider(endpoint_url=moto.endpoint, max_attempts=1, accounts=[
        AwsAccount(id=DEFAULT_ACCOUNT, name="prod"),
        AwsAccount(id=OTHER_ACCOUNT, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Audit")])
    errors = [s["error"] for s in collect_aws(cfg, session=base)]
    assert errors == [
        "cannot enter the account with the default credentials: the credentials have expired: The security token "
        "included in the request is expired (ExpiredToken); renew them and scan again",
        f"cannot enter the account with role arn:aws:iam::{OTHER_ACCOUNT}:role/Audit (assumed with the default "
        "credentials): the credentials are not valid: The security token included in the request is invalid. "
        "(InvalidClientTokenId)",
    ]
    assert len(_failures(caplog)) == 2


def test_sessions_on_the_shared_loader_do_not_grow_its_search_paths() -> None:
    """Each account entered (every scan and rescan of a daemon's life) makes a session on the process's one model
    loader; its search paths must not pile up (boto3 appended its data directory at every session)."""
    from cloudwatchdog.providers.aws.credentials import new_core, shared_session
    from cloudwatchdog.providers.aws.settings import AwsProvider

    cfg = AwsProvider(endpoint_url="http://127.0.0.1:1", credential="emulator")
    first = shared_session(new_core(cfg, "eu-west-1"), "eu-west-1")
    paths = list(first.get_component("data_loader").search_paths)
    for _ in range(20):
        later = shared_session(new_core(cfg, "eu-west-1"), "eu-west-1")
    loader = later.get_component("data_loader")
    assert loader is first.get_component("data_loader"), "one loader per process"
    assert loader.search_paths == paths and len(paths) == len(set(paths))


@pytest.mark.parametrize("value", [
    "2026-12-07T04:00:00.000Z", "2026-12-07T04:00:00Z", "2026-12-07T04:00:00.123456Z", "2026-12-07T04:00:00+01:00",
    "2026-12-07T04:00:00.5-05:30", "2026-12-07T04:00:00.1234567Z", "2026-12-07T04:00:00", "1700000000", 1700000000,
    "Thu, 07 Dec 2026 04:00:00 GMT",
])
def test_the_fast_timestamp_parser_gives_what_the_sdk_parser_gives(value: object) -> None:
    from botocore.utils import parse_timestamp as sdk_parse_timestamp

    from cloudwatchdog.providers.aws.credentials import parse_timestamp

    ours, theirs = parse_timestamp(value), sdk_parse_timestamp(value)
    assert ours == theirs and ours.isoformat() == theirs.isoformat() and ours.utcoffset() == theirs.utcoffset()


def test_a_timestamp_the_sdk_cannot_parse_is_its_error() -> None:
    from cloudwatchdog.providers.aws.credentials import parse_timestamp

    with pytest.raises(ValueError, match="Invalid timestamp"):
        parse_timestamp("not a time")
