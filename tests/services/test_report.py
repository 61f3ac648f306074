"""The daily report from the store, as `cloudwatchdog report` and the daemon's report job render it, on both
backends: the period a day's report covers, however often that day's report is rendered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from state.helpers import bucket, scan

from cloudwatchdog.model import Level
from cloudwatchdog.report_model import ReportData, ReportFinding
from cloudwatchdog.services.report import record_report, report_data, write_daily_html
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso

DAY = date(2026, 3, 10)


def t(days: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` UTC on DAY + ``days``."""
    return datetime.combine(DAY + timedelta(days=days), datetime.min.time(), tzinfo=UTC) + \
        timedelta(hours=hour, minutes=minute)


def render(store: Store, now: datetime, fmt: str = "json") -> ReportData:
    """`cloudwatchdog report --format fmt` at ``now``: the report since the previous day's, recorded."""
    data, period = report_data(store, None, now)
    record_report(store, period, [fmt], "/reports")
    return data


def names(findings: tuple[ReportFinding, ...]) -> list[str]:
    return [f.finding.resource_name for f in findings]


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    """Yesterday's report at 07:00; "gone" public at 09:00 yesterday, fixed at 03:00 today, when "fresh" became
    public."""
    with Store.open(state_url) as s:
        s.record_scan(scan([bucket("old")], when=t(-2, 9)))
        render(s, t(-1, 7), "html")
        s.record_scan(scan([bucket("old"), bucket("gone")], when=t(-1, 9)))
        s.record_scan(scan([bucket("old"), bucket("gone", Level.PRIVATE), bucket("fresh")], when=t(0, 3)))
        yield s


def test_rendering_the_days_report_again_covers_the_same_day(store: Store) -> None:
    first = render(store, t(0, 7), "html")
    again = render(store, t(0, 7, 5), "json")  # the same report, to add --format json
    for data in (first, again):
        assert data.since == iso(t(-1, 7)), "since the previous day's report"
        assert names(data.new) == ["fresh"] and names(data.resolved) == ["gone"] and names(data.open) == ["old"]
        assert data.headline.became_public == 2 and data.headline.closed == 1
    assert again.generated_at == iso(t(0, 7, 5))


def test_the_daemons_report_job_covers_the_day_after_a_render_by_hand(store: Store, tmp_path: Path) -> None:
    render(store, t(0, 6), "json")
    page = write_daily_html(store, tmp_path, t(0, 7)).read_text(encoding="utf-8")
    assert "fresh" in page and "gone" in page, "new and resolved since yesterday's report, not since 06:00"


def test_the_next_day_starts_at_the_first_report_of_the_day_before(store: Store) -> None:
    """Whichever of a day's renders was read, the next day's report misses nothing that happened after it: it
    covers the time since that day's first report."""
    render(store, t(0, 7), "html")  # the daemon's daily report
    store.record_scan(scan([bucket("old"), bucket("fresh"), bucket("late")], when=t(0, 7, 30)))
    render(store, t(0, 10), "json")  # by hand, later that day
    tomorrow = render(store, t(1, 7), "html")
    assert tomorrow.since == iso(t(0, 7))
    assert names(tomorrow.new) == ["late"], "public at 07:30: after the daily report, before the render by hand"


def test_without_a_previous_days_report_every_render_covers_the_24_hours_before_the_days_first(
        state_url: str) -> None:
    with Store.open(state_url) as s:
        s.record_scan(scan([bucket("x")], when=t(-1, 9)))
        first = render(s, t(0, 7))
        later = render(s, t(0, 12))
        for data in (first, later):
            assert data.since is None, "no earlier report to compare with"
            assert names(data.new) == ["x"]
        # The next day: since that first report.
        assert render(s, t(1, 7)).since == iso(t(0, 7))
