"""The store's tables (SQLAlchemy 2 typed ORM). Alembic migrations in ``migrations/`` create exactly these; a test
checks that ``upgrade head`` on an empty database equals this metadata.

Times are stored as UTC (``timestamp with time zone`` on PostgreSQL; naive UTC text on SQLite) and always read back
as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cloudwatchdog.state.timefmt import utc

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        # SQLite has no time zones: keep naive UTC there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


class ExactUtcDateTime(UtcDateTime):
    """UtcDateTime to the microsecond (what both backends keep): a scan's start, which orders scans."""

    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class StoreMeta(Base):
    """One row (id 1): the row every writer locks first, so that writes to the store are serialized."""

    __tablename__ = "store_meta"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]


class ScanRow(Base):
    __tablename__ = "scans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(ExactUtcDateTime())  # to the microsecond: orders scans
    finished_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(index=True)  # the time the state changes are dated
    complete: Mapped[bool] = mapped_column(Boolean)
    resources: Mapped[int]
    findings: Mapped[int]


class CoverageRow(Base):
    __tablename__ = "coverage"
    __table_args__ = (Index("ix_coverage_provider_account", "provider", "account"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(64), ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    resources: Mapped[int]
    api_calls: Mapped[int]
    errors: Mapped[list[str]]


class TargetedCoverageRow(Base):
    """A targeted rescan's coverage of one account (a change event's partial scan): the resources it read
    (model.Coverage.targets, ``type:name``). A coverage row without one is a scan of the whole account."""

    __tablename__ = "targeted_coverage"
    __table_args__ = (Index("ix_targeted_coverage_scan", "scan_id", "provider", "account"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(64), ForeignKey("scans.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(200))
    targets: Mapped[list[str]]


class AccountNameRow(Base):
    """The latest configured or discovered name of an account, project or subscription (reports show it beside the
    id)."""

    __tablename__ = "account_names"
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class FindingRow(Base):
    """The current state of one finding (by fingerprint) and its last observed content (``data``)."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_provider_account", "provider", "account"),)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    resource_uid: Mapped[str] = mapped_column(Text, index=True)
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    last_scan_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]  # model.Finding.to_dict() of the last sighting


class FindingEventRow(Base):
    """The lifecycle history: one row per event, written in the same transaction as the state change."""

    __tablename__ = "finding_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), ForeignKey("findings.fingerprint"), index=True)
    scan_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("scans.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    old_state: Mapped[str | None] = mapped_column(String(16))
    old_severity: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)


class FindingIntervalRow(Base):
    """A period during which a finding was open (new / open / reopened); ``ended_at`` None while it still is."""

    __tablename__ = "finding_intervals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), ForeignKey("findings.fingerprint"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ResourceStateRow(Base):
    """The latest known verdict of one resource."""

    __tablename__ = "resource_state"
    __table_args__ = (Index("ix_resource_state_provider_account", "provider", "account"),)
    uid: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))  # last known verdict; unknown only when never known
    latent: Mapped[bool] = mapped_column(Boolean)
    public: Mapped[bool] = mapped_column(Boolean, index=True)
    unknown: Mapped[bool] = mapped_column(Boolean)  # the latest scan could not reach a verdict
    gone: Mapped[bool] = mapped_column(Boolean)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    last_scan_id: Mapped[str | None] = mapped_column(String(64))


class ResourceIntervalRow(Base):
    """A period during which a resource was public (level public, not latent)."""

    __tablename__ = "resource_intervals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(Text, ForeignKey("resource_state.uid"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class SuppressionRow(Base):
    """A suppression set from the CLI (config suppressions are read from the config at every scan)."""

    __tablename__ = "suppressions"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    expires: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class ReportRow(Base):
    """A report generated from the store: the next one covers the time since."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generated_at: Mapped[datetime] = mapped_column(index=True)
    period_start: Mapped[datetime]
    formats: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(Text)


class AlertOutboxRow(Base):
    """One alert delivery to one notification target (cloudwatchdog.alerts.outbox): written in the transaction that
    records the state change, delivered afterwards with retries.

    ``status``: ``pending`` (waiting for ``next_attempt_at``; NULL: a digest target's event held for its next
    digest), ``sending`` (claimed by ``lease_owner`` until ``lease_until``; an expired lease is claimable again),
    ``sent``, ``dead`` (given up; `alerts retry` sends it again), ``digested`` (sent as part of the digest row
    ``digest_id``). ``kind``: the event (new, reopened, escalated, resolved) or ``digest``."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_alert_outbox_target_fingerprint", "target", "fingerprint"),
        Index("ix_alert_outbox_fingerprint", "fingerprint"),  # a finding's rows, whatever the target (tags)
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(255), unique=True)  # "<target>:<event key>": stable per retry
    target: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))  # immediate | digest
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # the finding; None for a digest message
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]  # the give-up age counts from here (reset by `alerts retry`)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_status: Mapped[int | None]  # HTTP status or SMTP reply code of the last attempt
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted by the channel: never a secret
    event: Mapped[dict[str, Any] | None]  # the alert event (outbox codec); None for a digest message
    payload: Mapped[dict[str, Any] | None]  # the channel payload (no secret in it); built later when None
    digest_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ObjectSampleRow(Base):
    """What data sampling found in one object version (cloudwatchdog.data): counts per class and masked examples
    only, never content. ``key`` = resource scope, object key, version or ETag and bytes read; an object whose
    version is unchanged is not read again."""

    __tablename__ = "object_samples"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    result: Mapped[dict[str, Any]]
    seen_at: Mapped[datetime] = mapped_column(index=True)


class FleetUnitRow(Base):
    """One finished unit of a distributed scan (services.fleet): what one worker read for one account, written in
    one statement when the unit ends, so a worker killed mid-unit leaves no row. ``status``: ok (``result`` holds
    the unit's raw snapshots) or failed (``error`` says why: raised, worker lost, timed out; no result)."""

    __tablename__ = "fleet_units"
    scan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(300), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    worker: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    finished_at: Mapped[datetime]
