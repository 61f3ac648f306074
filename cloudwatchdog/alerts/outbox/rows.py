"""Outbox rows: their statuses, the results the outbox reports, and the transaction every outbox operation runs in.

The underscored names are the package's own, shared by its modules (not for callers outside it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloudwatchdog.settings.alerts import AlertsConfig
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.timefmt import utc

if TYPE_CHECKING:
    from cloudwatchdog.config import Config
    from cloudwatchdog.state.store import Store

log = logging.getLogger("cloudwatchdog.alerts.outbox")

PENDING, SENDING, SENT, DEAD, DIGESTED = "pending", "sending", "sent", "dead", "digested"
STATUSES = (PENDING, SENDING, SENT, DEAD, DIGESTED)
# Outcomes of one attempt that are no row status: the lease was lost meanwhile; the target is not configured.
LOST, SKIPPED = "lost", "skipped"
DIGEST_KIND = "digest"
_ERROR_MAX = 1000


# --- results ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStats:
    """One delivery run: rows sent, rescheduled after a failure, given up; ``pending``: rows still waiting for a
    delivery afterwards (due later or now, including those of targets this run's config does not name; digest
    events held for their schedule are not counted)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    pending: int = 0

    @property
    def failed(self) -> int:
        return self.retried + self.dead


@dataclass(frozen=True)
class OutboxStats:
    """For metrics. ``pending``: rows not delivered yet (waiting, in flight, or held for a digest); ``dead``: rows
    given up; ``oldest_pending_age_seconds``: age of the oldest row waiting for delivery (not counting digest events
    held for their schedule), None when there is none; ``held``: digest events waiting for their schedule."""

    pending: int
    dead: int
    oldest_pending_age_seconds: float | None
    held: int = 0


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row, for `cloudwatchdog alerts list`."""

    delivery_id: str
    target: str
    kind: str
    mode: str
    status: str
    attempts: int
    severity: str
    fingerprint: str | None
    resource_name: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_status: int | None
    last_error: str | None
    digest_of: int  # events bundled in this digest message (0 for a single event)

    def to_dict(self) -> dict[str, Any]:
        def t(v: datetime | None) -> str | None:
            return None if v is None else utc(v).isoformat().replace("+00:00", "Z")

        return {"delivery_id": self.delivery_id, "target": self.target, "kind": self.kind, "mode": self.mode,
                "status": self.status, "attempts": self.attempts, "severity": self.severity,
                "fingerprint": self.fingerprint, "resource_name": self.resource_name,
                "created_at": t(self.created_at), "next_attempt_at": t(self.next_attempt_at),
                "sent_at": t(self.sent_at), "last_status": self.last_status, "last_error": self.last_error,
                "digest_of": self.digest_of}


def alert_settings(cfg: Config) -> AlertsConfig:
    """The `alerts:` section (retry policy), or its defaults when the config has none."""
    value = getattr(cfg, "alerts", None)
    return value if isinstance(value, AlertsConfig) else AlertsConfig()


# --- transactions ----------------------------------------------------------------------------------------------------


@contextmanager
def _transaction(store: Store) -> Iterator[Session]:
    # The store's own engine: on SQLite it begins every transaction with BEGIN IMMEDIATE (the write lock).
    engine = store.engine
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except SQLAlchemyError as exc:
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        message = text[0] if text else type(exc).__name__
        if store.url.password:
            message = message.replace(str(store.url.password), "***")
        raise StateError(f"state.url {store.display_url}: {message}") from None


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_MAX else text[:_ERROR_MAX - 3] + "..."
