"""A live scan reads, analyses and lets go one account at a time (services.scan.run_scan, keep_raw=False, over the
collectors' streams): an account is analysed before the accounts far behind it are even entered, so a scan holds
a few accounts' raw answers, not the estate's; and the result is the same as holding them all.

Against the real moto server: eight accounts entered by assume-role, read one at a time (``max_accounts: 1``)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.emulators.moto import MotoServer, account_session, emulator_client
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules import load_rules
from cloudwatchdog.services.scan import run_scan

ACCOUNTS = [f"{700000000000 + i}" for i in range(8)]


def _config(moto: MotoServer) -> Config:
    for account in ACCOUNTS:
        s3 = emulator_client(account_session(moto.endpoint, account), "s3", moto.endpoint)
        for n in range(3):
            s3.create_bucket(Bucket=f"b{account}-{n}")
    return Config(providers=Providers(aws=AwsProvider(
        endpoint_url=moto.endpoint, credential="emulator", sharing=False, regions=["us-east-1"], max_accounts=1,
        accounts=[AwsAccount(id=a, role_arn=f"arn:aws:iam::{a}:role/Audit") for a in ACCOUNTS])))


def _table(result: Any) -> list[Any]:
    return sorted((r.uid, r.exposure.level.value) for r in result.resources) + [
        (c.account, c.status.value) for c in result.coverage]


def test_each_account_is_analysed_before_the_accounts_far_behind_it_are_entered(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(moto)
    events: list[tuple[str, str]] = []
    aws = PROVIDERS.get("aws")
    analyse = aws.analyse

    def watched(snapshot: dict[str, Any]) -> Any:
        events.append(("analysed", snapshot["account"]))
        return analyse(snapshot)

    def progress(label: str, advance: int) -> None:
        if advance == 0:
            events.append(("entered", label.rsplit(" ", 1)[-1]))

    monkeypatch.setattr(aws, "analyse", watched)
    streamed = run_scan(cfg, load_rules(), progress, keep_raw=False)
    entered = [a for e, a in events if e == "entered"]
    analysed = [a for e, a in events if e == "analysed"]
    assert entered == analysed == ACCOUNTS
    # The first account is analysed before the fifth is entered: with one account read at a time, at most two
    # more are read ahead of the one being analysed.
    assert events.index(("analysed", ACCOUNTS[0])) < events.index(("entered", ACCOUNTS[4]))
    assert streamed.raw == ()

    events.clear()
    held = run_scan(cfg, load_rules(), progress, keep_raw=True)  # --save-raw: every account kept, then analysed
    assert events.index(("entered", ACCOUNTS[-1])) < events.index(("analysed", ACCOUNTS[0]))
    assert [s["account"] for s in held.raw] == ACCOUNTS
    assert _table(streamed) == _table(held) and len(streamed.resources) == 8 * 4  # 3 buckets + the account
