"""Recording a scan: lifecycle from the state store, or (without a store) only what config suppressions mute. A
store that cannot record the scan does not lose it: the scan comes back as without a store, with the store's error,
so that its outputs are still written before the command fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.model import ScanResult
from cloudwatchdog.state.errors import StateError

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.store import Store


@dataclass(frozen=True)
class Recording:
    """A scan after recording: ``result`` with its lifecycle fields from the store; when the store could not
    record it (``error``: nothing of it is in the store), as without a store (config suppressions applied)."""

    result: ScanResult
    error: StateError | None = None


def config_suppressions(cfg: Config) -> list[Suppression]:
    from cloudwatchdog.state.suppressions import from_config

    return from_config(cfg.suppressions)


def expired_suppressions(result: ScanResult, suppressions: Sequence[Suppression]) -> list[Suppression]:
    """The suppressions that had expired when ``result`` finished (they mute nothing: the front end warns)."""
    from cloudwatchdog.state.suppressions import expired
    from cloudwatchdog.state.timefmt import parse_iso

    return list(expired(suppressions, parse_iso(result.finished_at)))


def _without_store(result: ScanResult, suppressions: Sequence[Suppression]) -> ScanResult:
    from cloudwatchdog.state.suppressions import apply_without_store
    from cloudwatchdog.state.timefmt import parse_iso

    return replace(result, findings=apply_without_store(result.findings, suppressions, parse_iso(result.finished_at)))


def record_scan(result: ScanResult, store: Store | None, suppressions: Sequence[Suppression]) -> Recording:
    """Record the scan in ``store`` (lifecycle fields, resolved findings; the store's hooks, such as the alert
    outbox, run in the same transaction, which a failure rolls back whole); without a store, only mark the findings
    a config suppression mutes. Never raises for the store: its error comes back in the Recording."""
    if store is None:
        return Recording(_without_store(result, suppressions))
    try:
        return Recording(store.record_scan(result, suppressions=suppressions))
    except StateError as exc:
        return Recording(_without_store(result, suppressions), exc)
