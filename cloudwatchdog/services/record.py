"""Recording a scan: lifecycle from the state store, or (without a store) only what config suppressions mute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.model import ScanResult

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.store import Store


def config_suppressions(cfg: Config) -> list[Suppression]:
    from cloudwatchdog.state.suppressions import from_config

    return from_config(cfg.suppressions)


def expired_suppressions(result: ScanResult, suppressions: Sequence[Suppression]) -> list[Suppression]:
    """The suppressions that had expired when ``result`` finished (they mute nothing: the front end warns)."""
    from cloudwatchdog.state.suppressions import expired
    from cloudwatchdog.state.timefmt import parse_iso

    return list(expired(suppressions, parse_iso(result.finished_at)))


def record_scan(result: ScanResult, store: Store | None, suppressions: Sequence[Suppression]) -> ScanResult:
    """Record the scan in ``store`` (lifecycle fields, resolved findings; the store's hooks, such as the alert
    outbox, run in the same transaction); without a store, only mark the findings a config suppression mutes."""
    from cloudwatchdog.state.suppressions import apply_without_store
    from cloudwatchdog.state.timefmt import parse_iso

    if store is None:
        return replace(result, findings=apply_without_store(result.findings, suppressions,
                                                            parse_iso(result.finished_at)))
    return store.record_scan(result, suppressions=suppressions)
