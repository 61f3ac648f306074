"""Interval math of exposure windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloudwatchdog.report_model import Interval
from cloudwatchdog.state.windows import active_at, clip, exposure_window, overlap_seconds, total_seconds

T = datetime(2026, 3, 1, tzinfo=UTC)


def h(n: float) -> datetime:
    return T + timedelta(hours=n)


def test_closed_and_open_intervals_add_up_to_the_report_time() -> None:
    spans = [(h(0), h(2)), (h(5), None)]
    w = exposure_window(spans, h(8))
    assert w.intervals == (Interval("2026-03-01T00:00:00Z", "2026-03-01T02:00:00Z"),
                           Interval("2026-03-01T05:00:00Z", None))
    assert w.total_seconds == 5 * 3600
    assert w.open_since == "2026-03-01T05:00:00Z"


def test_as_of_an_earlier_time() -> None:
    spans = [(h(0), h(2)), (h(5), h(7)), (h(9), None)]
    # At h(6): the second span was still open, the third had not started.
    assert clip(spans, h(6)) == [(h(0), h(2)), (h(5), None)]
    assert total_seconds(spans, h(6)) == 3 * 3600
    assert exposure_window(spans, h(1)).total_seconds == 3600
    assert exposure_window(spans, h(-1)).intervals == ()


def test_overlapping_and_touching_spans_merge_and_order_does_not_matter() -> None:
    spans = [(h(3), h(4)), (h(0), h(2)), (h(1), h(3))]
    assert clip(spans, h(10)) == [(h(0), h(4))]
    assert total_seconds(spans, h(10)) == 4 * 3600
    assert clip([(h(0), None), (h(2), h(3))], h(10)) == [(h(0), None)]


def test_naive_times_are_utc() -> None:
    assert total_seconds([(h(0).replace(tzinfo=None), h(1).replace(tzinfo=None))], h(5)) == 3600


def test_overlap_with_a_period() -> None:
    spans = [(h(0), h(2)), (h(5), None)]
    assert overlap_seconds(spans, h(1), h(6)) == 2 * 3600
    assert overlap_seconds(spans, h(2), h(5)) == 0


def test_active_at_is_start_inclusive_end_exclusive() -> None:
    spans = [(h(0), h(2))]
    assert active_at(spans, h(0)) and active_at(spans, h(1.5))
    assert not active_at(spans, h(2)) and not active_at(spans, h(-0.1))
    assert active_at([(h(0), None)], h(100))
