"""Coalescing, pure: one batch per account and window, each resource once, account-wide wins."""

from __future__ import annotations

from cloudwatchdog.events.batch import Batcher
from cloudwatchdog.events.model import ChangeTarget, Message


def _m(i: int) -> Message:
    return Message("test", f"m{i}", "{}", None)


def _bucket(name: str, account: str = "111111111111") -> ChangeTarget:
    return ChangeTarget("aws", account, "aws.s3.bucket", name, None, "PutBucketPolicy")


def test_a_burst_is_one_batch_per_account_with_each_resource_once() -> None:
    b = Batcher(2.0)
    for i in range(300):
        b.add(_m(i), (_bucket(f"b{i % 30}"),), now=100.0 + i / 300)
    b.add(_m(999), (_bucket("x", "222222222222"),), now=100.5)
    assert b.due(101.9) == [] and b.next_due() == 102.5, "the second account's batch is quiet first"
    assert [x.account for x in b.due(102.6)] == ["222222222222"]
    assert b.next_due() is not None and abs(b.next_due() - (101.0 - 1 / 300 + 2.0)) < 1e-6
    (first,) = b.due(103.0)
    assert (first.account, len(first.targets), len(first.messages)) == ("111111111111", 30, 300)
    scope = first.scope()
    assert scope is not None and [t.name for t in scope] == sorted(f"b{i}" for i in range(30))
    assert len(b) == 0 and b.next_due() is None


def test_a_steady_stream_is_rescanned_after_hold_windows() -> None:
    b = Batcher(1.0)
    t = 0.0
    rescans = 0
    while t < 20:
        b.add(_m(int(t * 10)), (_bucket("busy"),), now=t)
        rescans += len(b.due(t))
        t += 0.5
    assert rescans == 3, "never quiet for a window: one rescan each HOLD (5) windows"


def test_an_account_wide_change_makes_the_batch_the_whole_account() -> None:
    b = Batcher(1.0)
    b.add(_m(1), (_bucket("a"),), now=0)
    b.add(_m(2), (ChangeTarget("aws", "111111111111", event="PutAccountPublicAccessBlock"),), now=0.5)
    (batch,) = b.due(1.5)
    assert batch.scope() is None and "account-wide" in batch.describe()


def test_after_the_window_a_new_batch_starts_and_all_flushes_everything() -> None:
    b = Batcher(1.0)
    b.add(_m(1), (_bucket("a"),), now=0)
    assert len(b.due(1.0)) == 1
    b.add(_m(2), (_bucket("a"),), now=1.1)
    assert b.next_due() == 2.1
    assert b.due(1.2) == []
    assert len(b.due(1.2, all_=True)) == 1
