"""Times in the store and in documents: aware UTC datetimes inside, ISO 8601 ``...Z`` strings (seconds) outside.
One exception: a scan's start is kept to the microsecond (schema.ExactUtcDateTime), to order scans exactly."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is taken as UTC), truncated to whole seconds."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(microsecond=0)


def iso(value: datetime) -> str:
    return utc(value).isoformat().replace("+00:00", "Z")


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` or an offset; naive means UTC)."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def scan_start(started_at: str, exact: str | None) -> datetime:
    """A scan's start to the microsecond (``ScanResult.started_at_exact``) when known and it agrees with
    ``started_at`` (which a replay or the demo may have set alone), else to the second: the store orders scans by
    it."""
    coarse = parse_iso(started_at)
    if exact:
        parsed = datetime.fromisoformat(exact.replace("Z", "+00:00"))
        precise = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if utc(precise) == coarse:
            return precise
    return coarse


def now_utc() -> datetime:
    return utc(datetime.now(UTC))
