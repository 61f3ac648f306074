"""A scan enters each account (AssumeRole) when it reads it and lets the account's session go once it is read:
memory does not grow with the number of accounts (a session with its STS client is some 400 KiB; entering a
thousand accounts up front held 400 MiB), and the verdicts are those of entering them all first."""

from __future__ import annotations

import gc
from typing import Any

import botocore.session

from cloudwatchdog.emulators.moto import MotoServer, account_core, account_session
from cloudwatchdog.providers.aws.collect import stream_aws
from cloudwatchdog.providers.aws.session import discover_accounts
from cloudwatchdog.providers.aws.settings import AwsProvider

ACCOUNTS = [f"{710000000000 + i}" for i in range(12)]


def _settings(endpoint: str, **extra: Any) -> AwsProvider:
    return AwsProvider.model_validate({
        "endpoint_url": endpoint, "credential": "emulator", "regions": ["us-east-1"], "sharing": False,
        "object_acl_sample": 0, "max_accounts": 2,
        "accounts": [{"id": a, "role_arn": f"arn:aws:iam::{a}:role/Audit"} for a in ACCOUNTS], **extra})


def _sessions() -> int:
    gc.collect()
    return sum(isinstance(o, botocore.session.Session) for o in gc.get_objects())


def test_accounts_are_entered_as_they_are_read_and_let_go_after(moto: MotoServer) -> None:
    for a in ACCOUNTS:
        account_session(moto.endpoint, a).client("s3", endpoint_url=moto.endpoint).create_bucket(Bucket=f"e{a}")
    base = account_core(moto.endpoint)
    assumed: list[str] = []
    base.register("before-send.sts.AssumeRole", lambda request, **_: assumed.append(str(request.body)))
    before = _sessions()

    stream = stream_aws(_settings(moto.endpoint), session=base)
    first = next(stream)
    entered_at_first = len(assumed)
    rest = list(stream)
    sessions_after = _sessions()

    # Two accounts read side by side and at most four ahead: the twelfth was not entered for the first.
    assert entered_at_first <= 2 + 4, entered_at_first
    assert len(assumed) == len(ACCOUNTS)
    assert [s["account"] for s in [first, *rest]] == ACCOUNTS
    assert all(s["status"] == "ok" and [b["name"] for b in s["buckets"]] == [f"e{s['account']}"]
               for s in [first, *rest])
    assert sessions_after <= before  # no account's session outlives its read


def test_an_account_that_cannot_be_entered_when_read_is_its_error(moto: MotoServer) -> None:
    """Entering late changes nothing of what a failure says: a role acting as another account is refused."""
    settings = AwsProvider.model_validate({
        "endpoint_url": moto.endpoint, "credential": "emulator", "regions": ["us-east-1"], "sharing": False,
        "accounts": [{"id": ACCOUNTS[0], "role_arn": f"arn:aws:iam::{ACCOUNTS[1]}:role/Audit"}]})
    (lazy,) = discover_accounts(settings, account_core(moto.endpoint), lazy=True)
    assert lazy.session is None and lazy.error is None and lazy.counter.value == 0  # not entered yet
    lazy.enter()
    (eager,) = discover_accounts(settings, account_core(moto.endpoint))
    assert lazy.session is None and lazy.error == eager.error and eager.error is not None
    assert f"act as account {ACCOUNTS[1]}, not {ACCOUNTS[0]}" in lazy.error
    (snapshot,) = stream_aws(settings, session=account_core(moto.endpoint))
    assert snapshot["status"] == "error" and snapshot["error"] == eager.error
