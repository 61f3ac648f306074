"""Aggregate resources (an Azure storage account rolls up its containers' verdicts) are not counted as exposed things
of their own: "resources public now" counts the container once, not the container and its account."""

from __future__ import annotations

from dataclasses import replace

from cloudwatchdog.model import Level, Resource
from cloudwatchdog.render.from_scan import report_from_scan
from cloudwatchdog.state.diff import IntervalOp, diff_resources
from tests.state.helpers import T0, bucket, scan


def _account_rollup() -> tuple[Resource, Resource]:
    container = replace(bucket("velora/brochures"), uid="/subscriptions/s/.../containers/brochures",
                        type="azure.storage.container", provider="aws")
    # As the provider's inventory builds it: an aggregate (Resource.aggregate).
    account = replace(bucket("velorabrochures"), uid="/subscriptions/s/.../storageAccounts/velorabrochures",
                      type="azure.storage.account", provider="aws", aggregate=True)
    return container, account


def test_a_public_rollup_opens_no_exposure_interval() -> None:
    container, account = _account_rollup()
    result = scan([container, account])
    changes = {c.resource.uid: c for c in diff_resources(T0, result.resources, result.coverage, {})}
    assert changes[container.uid].interval is IntervalOp.OPEN and changes[container.uid].resource.public
    assert changes[account.uid].interval is IntervalOp.NONE and not changes[account.uid].resource.public
    assert changes[account.uid].resource.level is Level.PUBLIC  # the verdict itself is kept


def test_scan_counts_and_report_headline_count_each_exposed_thing_once() -> None:
    container, account = _account_rollup()
    result = scan([container, account], findings=[])
    assert result.count_by_level()["public"] == 1
    assert report_from_scan(result).headline.public_now == 1


def test_an_unknown_aggregate_is_still_counted_as_unknown() -> None:
    _, account = _account_rollup()
    unknown = replace(account, exposure=replace(account.exposure, level=Level.UNKNOWN))
    assert scan([unknown], findings=[]).count_by_level()["unknown"] == 1
