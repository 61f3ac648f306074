"""Exposure windows in words: "public since 2026-11-03, 18 days". Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudwatchdog.report_model import ExposureWindow

_DAY = 86400


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (``Z`` or offset; a bare date is midnight UTC) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def window_days(window: ExposureWindow) -> int:
    """Whole days exposed (total over every interval), rounded down."""
    return max(window.total_seconds, 0) // _DAY


def describe_window(window: ExposureWindow, *, verb: str = "public") -> str:
    """One line for a person: ``public since 2026-11-03, 18 days`` while open; else the closed periods."""
    days = window_days(window)
    span = _days_text(days, window.total_seconds)
    since = window.open_since
    if since is not None:
        text = f"{verb} since {since[:10]}, {span}"
        if len(window.intervals) > 1:
            text += f" in total over {len(window.intervals)} periods"
        return text
    if not window.intervals:
        return "no exposure recorded"
    first, last = window.intervals[0], window.intervals[-1]
    end = (last.end or "")[:10]
    return f"{verb} {first.start[:10]} to {end}, {span}"


def _days_text(days: int, seconds: int) -> str:
    if days >= 1:
        return f"{days} day" + ("" if days == 1 else "s")
    hours = max(seconds, 0) // 3600
    if hours >= 1:
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return "less than an hour"
