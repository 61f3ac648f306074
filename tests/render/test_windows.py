"""Exposure windows in words."""

from __future__ import annotations

from cloudwatchdog.render.windows import describe_window, parse_time, window_days
from cloudwatchdog.report_model import ExposureWindow, Interval


def test_open_window() -> None:
    w = ExposureWindow((Interval("2026-11-03T07:00:00Z", None),), 18 * 86400 + 3600)
    assert describe_window(w) == "public since 2026-11-03, 18 days"
    assert window_days(w) == 18


def test_reopened_window_counts_every_period() -> None:
    w = ExposureWindow((Interval("2026-10-01T00:00:00Z", "2026-10-05T00:00:00Z"),
                        Interval("2026-11-20T00:00:00Z", None)), 5 * 86400)
    assert describe_window(w, verb="exposed") == "exposed since 2026-11-20, 5 days in total over 2 periods"


def test_closed_and_short_windows() -> None:
    closed = ExposureWindow((Interval("2026-11-09T07:00:00Z", "2026-11-20T21:24:00Z"),), 11 * 86400)
    assert describe_window(closed) == "public 2026-11-09 to 2026-11-20, 11 days"
    assert describe_window(ExposureWindow((Interval("2026-11-21T01:00:00Z", None),), 1)) == (
        "public since 2026-11-21, less than an hour")
    assert describe_window(ExposureWindow((Interval("2026-11-21T01:00:00Z", None),), 7200)).endswith("2 hours")
    assert describe_window(ExposureWindow((), 0)) == "no exposure recorded"


def test_parse_time() -> None:
    assert parse_time("2026-11-21T07:00:00Z") == parse_time("2026-11-21T08:00:00+01:00")
    assert parse_time("2026-11-21").isoformat() == "2026-11-21T00:00:00+00:00"
