"""The report from the state store: for a past day, or the daily report (since the previous day's report, however
often the day's report is rendered; recorded, so that the next day's starts where the day's first one ended)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from cloudwatchdog.errors import UsageError
from cloudwatchdog.render.registry import FORMATS
from cloudwatchdog.report_model import ReportData
from cloudwatchdog.services.outputs import REPORT_PREFIX, write_atomically
from cloudwatchdog.state.errors import StateError

if TYPE_CHECKING:
    from cloudwatchdog.state.store import Store


@dataclass(frozen=True)
class Period:
    """What a report covers: ``start`` up to ``end``; ``since``: the previous report, shown as the period start
    (None: there was none); ``record``: remember this report (the next day's period starts at the day's first)."""

    end: datetime
    start: datetime
    since: datetime | None
    record: bool


def report_period(day: str | None, now: datetime) -> tuple[datetime, datetime] | None:
    """``--date D``: (end of D or now if D is today, start of D); None without --date."""
    if day is None:
        return None
    try:
        d = date.fromisoformat(day)
    except ValueError:
        raise UsageError(f"--date {day}: not a date (YYYY-MM-DD)") from None
    if d > now.date():
        raise UsageError(f"--date {day}: the day has not come yet")
    end = min(datetime.combine(d, time(23, 59, 59), tzinfo=UTC), now)
    return end, datetime.combine(d, time(0, 0, 0), tzinfo=UTC)


def report_data(store: Store, day: str | None, now: datetime) -> tuple[ReportData, Period]:
    """The report for ``--date day``, or (None) the daily report up to ``now``: since the previous day's report,
    the same period for every render of the day (``Store.daily_period``)."""
    period = report_period(day, now)
    if period is not None:
        end, start = period
        return (store.report_data(at=end, since=start, title=f"cloudwatchdog report {end.date()}"),
                Period(end, start, start, record=False))
    start, since = store.daily_period(now)
    return (store.report_data(at=now, since=since, start=start, title=f"cloudwatchdog report {now.date()}"),
            Period(now, start, since, record=True))


def record_report(store: Store, period: Period, formats: Sequence[str], location: str) -> None:
    """Remember a report rendered for ``period`` (only the daily report is recorded, not one for ``--date``), once
    it is written. Raises StateError when the store cannot record it, saying the report is written all the same."""
    if period.record:
        try:
            store.record_report(generated_at=period.end, period_start=period.start, formats=list(formats),
                                location=location)
        except StateError as exc:
            raise StateError(f"{exc}: the report is written but not recorded (the next day's report does not "
                             "start from it)") from None


def report_stem(period: Period) -> str:
    return f"{REPORT_PREFIX}{period.end.date().isoformat()}"


def write_daily_html(store: Store, out_dir: Path, now: datetime) -> Path:
    """The daemon's report job: the HTML report since the previous one, written atomically and recorded."""
    data, period = report_data(store, None, now)
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS.get("html")
    path = out_dir / f"{report_stem(period)}.{fmt.extension}"
    write_atomically(path, lambda out: fmt.write_report(data, out))  # streamed; never served half-written
    record_report(store, period, ["html"], str(out_dir))
    return path
