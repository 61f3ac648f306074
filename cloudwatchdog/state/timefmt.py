"""Times in the store and in documents: aware UTC datetimes inside, ISO 8601 ``...Z`` strings (seconds) outside."""

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


def now_utc() -> datetime:
    return utc(datetime.now(UTC))
