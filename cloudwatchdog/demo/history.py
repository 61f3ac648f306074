"""Forty-five days of history for the demo, so its report shows what a monitor remembers: exposure windows, a
trend, a finding resolved since the last report.

This is real, not made up: before the final scan, the demo changes the emulated AWS estate step by step (a guardrail
that was on and came off, a bucket that was public and got fixed) and scans it after each change, recording every
scan in the state store at a backdated time. The changes are undone step by step too, so the final scan sees the
estate exactly as seeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso

_FULL_BPA = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
_GUARDED = ("velora-dealer-upload-inbox", "velora-marketing-campaign-2019")  # latent until the guardrail came off
_FIXED = "velora-ci-artifacts"  # public for a while, then fixed


@dataclass(frozen=True)
class Step:
    days_ago: float
    change: str  # what happened just before this scan, for the demo's own output
    apply: Callable[[Any], None]  # (s3 client of the prod account) -> None


def _put_bpa(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_FULL_BPA)


def _public_policy(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "TemporaryShareWithVendor", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }))


def _start(s3: Any) -> None:
    _public_policy(s3, _FIXED)
    for bucket in _GUARDED:
        _put_bpa(s3, bucket)


def _steps() -> list[Step]:
    dealer, marketing = _GUARDED
    return [
        Step(45, f"{_FIXED} shared publicly with a vendor; {dealer} and {marketing} held back by Block Public Access",
             _start),
        Step(12, f"Block Public Access removed from {dealer}",
             lambda s3: s3.delete_public_access_block(Bucket=dealer)),
        Step(3, f"Block Public Access removed from {marketing}",
             lambda s3: s3.delete_public_access_block(Bucket=marketing)),
        Step(0.25, f"{_FIXED}: the vendor share was removed",
             lambda s3: s3.delete_bucket_policy(Bucket=_FIXED)),
    ]


def _check_untouched(s3: Any) -> None:
    """The history changes buckets the estate seeds without a bucket BPA and without a policy: make sure, so that
    undoing the changes restores the seeded estate exactly."""
    for bucket in _GUARDED:
        try:
            s3.get_public_access_block(Bucket=bucket)
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration":
                continue
            raise
        raise RuntimeError(f"demo history: {bucket} already has a Block Public Access configuration")
    try:
        s3.get_bucket_policy(Bucket=_FIXED)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return
        raise
    raise RuntimeError(f"demo history: {_FIXED} already has a policy")


def record_history(store: Store, config: Config, rules: Sequence[Rule], s3: Any, now: datetime,
                   say: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Scan the AWS part of ``config`` after each step, recording each scan at its backdated time. Returns one line
    per step for the demo's output. ``s3`` is a client of the account that holds the buckets (prod)."""
    aws_only = Config(providers=Providers.model_validate({"aws": config.providers.section("aws")}))
    _check_untouched(s3)
    lines = []
    for step in _steps():
        when = now - timedelta(days=step.days_ago)
        say(f"replaying history: {when.date()}: {step.change} ...")
        step.apply(s3)
        result = run_scan(aws_only, rules)
        result = replace(result, started_at=iso(when - timedelta(minutes=2)), finished_at=iso(when))
        store.record_scan(result, now=when)
        lines.append(f"{when.date()}  {step.change}")
    return lines
