"""Alerts around a scan: the outbox hooked into the store before recording, the settings that need the file
system checked before scanning, and what is due delivered after recording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.yamlsource import SourceErrors

if TYPE_CHECKING:
    from cloudwatchdog.alerts.outbox.rows import DeliveryStats
    from cloudwatchdog.state.store import Store


def check_alert_settings(cfg: Config) -> None:
    """Notification settings that need the file system (templates, CA files) are usable; raises SourceErrors."""
    from cloudwatchdog.alerts.checks import check_notifications

    errors = check_notifications(cfg)
    if errors:
        raise SourceErrors(errors)


def attach_outbox(store: Store, cfg: Config) -> None:
    """Queue alerts in the transaction that records each change (when targets are configured)."""
    if cfg.notifications:
        from cloudwatchdog.alerts.outbox.enqueue import outbox_hook

        store.add_hook(outbox_hook(cfg))


@dataclass(frozen=True)
class DeliveryOutcome:
    stats: DeliveryStats | None
    error: str | None = None  # delivery could not run at all (the alerts stay in the outbox)


def deliver_after_scan(store: Store, cfg: Config) -> DeliveryOutcome:
    """Deliver what is due in the outbox (this scan's alerts, and retries left from before), for at most
    `alerts.scan_delivery_seconds`: a cron-driven `cloudwatchdog scan` alerts without a daemon. Never raises: a
    scan that is recorded must not fail over its alerts."""
    from cloudwatchdog.alerts.outbox.deliver import deliver_due
    from cloudwatchdog.alerts.outbox.rows import alert_settings

    try:
        return DeliveryOutcome(deliver_due(store, cfg, time_budget=alert_settings(cfg).scan_delivery_seconds))
    except Exception as exc:  # never fail a finished scan over its alerts
        return DeliveryOutcome(None, str(exc))
