"""Recording a scan: its raw snapshots saved (``--save-raw``), its lifecycle from the state store, or (without a
store) only what config suppressions mute. Nothing a finished scan read is lost to a failure after it: a store that
cannot record the scan gives it back as without a store, with the store's error, and a raw file that cannot be
written is reported too, both once the caller has written the scan's outputs (``Recording.raise_for_failure``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.errors import UsageError
from cloudwatchdog.model import ScanResult
from cloudwatchdog.state.errors import StateError

if TYPE_CHECKING:
    from cloudwatchdog.state.diff import Suppression
    from cloudwatchdog.state.store import Store


@dataclass(frozen=True)
class Recording:
    """A scan after recording: ``result`` with its lifecycle fields from the store; when the store could not
    record it (``error``: nothing of it is in the store), as without a store (config suppressions applied).
    ``raw_error``: the raw snapshots could not be saved."""

    result: ScanResult
    error: StateError | None = None
    raw_error: UsageError | None = None
    raw_saved: bool = False

    def raise_for_failure(self) -> None:
        """Once the scan's outputs are written: the store's error, saying what was kept (StateError, exit 2), else
        the raw file's (UsageError)."""
        if self.error is not None:
            kept = "its outputs and raw snapshots are written" if self.raw_saved else "its outputs are written"
            raise StateError(f"{self.error}: the scan is not recorded ({kept}; no alert is queued)")
        if self.raw_error is not None:
            raise self.raw_error


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


def record_scan(result: ScanResult, store: Store | None, suppressions: Sequence[Suppression], *,
                raw_error: UsageError | None = None, raw_saved: bool = False) -> Recording:
    """Record the scan in ``store`` (lifecycle fields, resolved findings; the store's hooks, such as the alert
    outbox, run in the same transaction, which a failure rolls back whole); without a store, only mark the findings
    a config suppression mutes. ``raw_saved``/``raw_error``: the raw file (``--save-raw``, written as the scan went,
    services.raw.RawFile) is in place, or why not. Never raises for the store or the raw file: their errors come
    back in the Recording."""
    saved = raw_saved and raw_error is None
    if store is None:
        return Recording(_without_store(result, suppressions), raw_error=raw_error, raw_saved=saved)
    try:
        return Recording(store.record_scan(result, suppressions=suppressions), raw_error=raw_error, raw_saved=saved)
    except StateError as exc:
        return Recording(_without_store(result, suppressions), exc, raw_error, saved)
