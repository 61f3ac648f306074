"""Replays the demo's history (``estate/history.yaml``) into the state store, so that its report shows what a monitor
remembers: exposure windows, a trend, a finding resolved since the last report.

This is real, not made up: before the final scan, each step changes the emulated AWS estate and the AWS part of the
config is scanned, the scan recorded at the step's backdated time. Every change is undone by a later step (the file
is checked for that), so the final scan sees the estate exactly as seeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from cloudwatchdog.config import Config, Providers
from cloudwatchdog.demo.estate_file import ESTATE_DIR, load_estate
from cloudwatchdog.demo.seed_aws import BlockPublicAccess, Statement
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.scan import run_scan
from cloudwatchdog.settings.base import StrictModel
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso
from cloudwatchdog.yamlsource import KeyPath

HISTORY_FILE = ESTATE_DIR / "history.yaml"


class PutBucketPolicy(StrictModel):
    action: Literal["put_bucket_policy"]
    bucket: str
    statements: list[Statement]


class DeleteBucketPolicy(StrictModel):
    action: Literal["delete_bucket_policy"]
    bucket: str


class PutPublicAccessBlock(StrictModel):
    action: Literal["put_public_access_block"]
    bucket: str
    configuration: BlockPublicAccess


class DeletePublicAccessBlock(StrictModel):
    action: Literal["delete_public_access_block"]
    bucket: str


Action = Annotated[PutBucketPolicy | DeleteBucketPolicy | PutPublicAccessBlock | DeletePublicAccessBlock,
                   Field(discriminator="action")]
# Which setting an action changes, and the answer that says a bucket does not have it.
_SETTING = {"bucket_policy": "NoSuchBucketPolicy", "public_access_block": "NoSuchPublicAccessBlockConfiguration"}


def _setting(action: Action) -> tuple[str, str]:
    """(bucket, setting) an action puts or deletes."""
    return action.bucket, action.action.removeprefix("put_").removeprefix("delete_")


class Step(StrictModel):
    days_ago: Annotated[float, Field(ge=0)]
    change: str  # what happened just before this scan, for the demo's own output
    actions: list[Action]


class History(StrictModel):
    steps: list[Step]


def _check(history: History) -> list[tuple[KeyPath, str]]:
    problems: list[tuple[KeyPath, str]] = []
    put: dict[tuple[str, str], KeyPath] = {}  # settings put and not yet deleted -> where
    previous = float("inf")
    for i, step in enumerate(history.steps):
        if step.days_ago >= previous:
            problems.append((("steps", i, "days_ago"), "steps must go forward in time (days_ago decreasing)"))
        previous = step.days_ago
        for j, action in enumerate(step.actions):
            where: KeyPath = ("steps", i, "actions", j)
            key = _setting(action)
            if action.action.startswith("put_"):
                if key in put:
                    problems.append((where, f"puts the {key[1]} of {key[0]} again before a step deletes it"))
                put[key] = where
            elif put.pop(key, None) is None:
                problems.append((where, f"deletes the {key[1]} of {key[0]}, which no earlier step put: the final "
                                        "scan would not see the estate as seeded"))
    problems += [(where, f"no later step deletes the {setting} of {bucket}: the final scan would not see the "
                         "estate as seeded") for (bucket, setting), where in put.items()]
    return problems


@cache
def demo_history(path: Path = HISTORY_FILE) -> History:
    """The history file, validated."""
    return load_estate(History, path, _check)


def _apply(s3: Any, action: Action) -> None:
    if isinstance(action, PutBucketPolicy):
        document = {"Version": "2012-10-17", "Statement": action.statements}
        s3.put_bucket_policy(Bucket=action.bucket, Policy=json.dumps(document))
    elif isinstance(action, PutPublicAccessBlock):
        s3.put_public_access_block(Bucket=action.bucket,
                                   PublicAccessBlockConfiguration=action.configuration.model_dump())
    elif isinstance(action, DeleteBucketPolicy):
        s3.delete_bucket_policy(Bucket=action.bucket)
    else:
        s3.delete_public_access_block(Bucket=action.bucket)


def _check_untouched(s3: Any, history: History) -> None:
    """Every setting the history puts on a bucket must be absent from the seeded bucket, so that deleting it again
    restores the estate exactly."""
    for bucket, setting in sorted({_setting(a) for s in history.steps for a in s.actions}):
        try:
            getattr(s3, f"get_{setting}")(Bucket=bucket)
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == _SETTING[setting]:
                continue
            raise
        raise RuntimeError(f"demo history: {bucket} already has a {setting.replace('_', ' ')}")


def record_history(store: Store, config: Config, rules: Sequence[Rule], s3: Any, now: datetime,
                   say: Callable[[str], None] = lambda _m: None, history: History | None = None) -> list[str]:
    """Scan the AWS part of ``config`` after each step, recording each scan at its backdated time. Returns one line
    per step for the demo's output. ``s3`` is a client of the account that holds the buckets (prod)."""
    history = history or demo_history()
    aws_only = Config(providers=Providers.model_validate({"aws": config.providers.section("aws")}))
    _check_untouched(s3, history)
    lines = []
    for step in history.steps:
        when = now - timedelta(days=step.days_ago)
        say(f"replaying history: {when.date()}: {step.change} ...")
        for action in step.actions:
            _apply(s3, action)
        result = run_scan(aws_only, rules)
        result = replace(result, started_at=iso(when - timedelta(minutes=2)), finished_at=iso(when))
        store.record_scan(result, now=when)
        lines.append(f"{when.date()}  {step.change}")
    return lines
