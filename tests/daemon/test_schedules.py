"""Schedule parsing: intervals and cron expressions, with crontab's own meaning (0 and 7 are Sunday; day-of-month
and day-of-week restricted together fire on either), checked on the fire times APScheduler actually computes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cloudwatchdog.daemon.scheduler import longest_gap
from cloudwatchdog.settings.schedules import Cron, Every, build_trigger, parse_schedule

UTC = ZoneInfo("UTC")
SATURDAY_NOON = datetime(2025, 1, 4, 12, 0, tzinfo=UTC)  # a Saturday


def _fires(text: str, n: int, *, start: datetime = SATURDAY_NOON, tz: str = "UTC") -> list[datetime]:
    trigger: Any = build_trigger(parse_schedule(text), tz)
    out: list[datetime] = []
    previous, now = None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        out.append(nxt)
        previous = now = nxt
    return out


@pytest.mark.parametrize(("text", "seconds"), [
    ("every 30s", 30),
    ("every 15m", 900),
    ("every 6h", 21600),
    ("every 1d", 86400),
    ("every 1h30m", 5400),
    ("EVERY 2M", 120),
    ("every  1h 30m ", 5400),
    ("every 1s", 1),
])
def test_intervals(text: str, seconds: int) -> None:
    assert parse_schedule(text) == Every(seconds)


@pytest.mark.parametrize(("text", "message"), [
    ("every 0s", "at least 1 second"),
    ("every 0m0s", "at least 1 second"),
    ("every", "is not an interval"),
    ("every 5x", "is not an interval"),
    ("every -5m", "is not an interval"),
    ("every 1.5h", "is not an interval"),
    ("every 400d", "at most 366 days"),
    ("", "must be a cron expression"),
    ("* * * *", "has 5 fields"),
    ("0 * * * * *", "has 5 fields"),
    ("61 * * * *", "higher than the maximum value (59)"),
    ("0 24 * * *", "higher than the maximum value (23)"),
    ("0 0 32 * *", "higher than the maximum value (31)"),
    ("0 0 * 13 *", "higher than the maximum value (12)"),
    ("0 0 * * 8", "is not a day"),
    ("0 0 * * 5-1", "runs backwards"),
    ("0 0 * * funday", "is not a day"),
    ("*/0 * * * *", "not a valid cron expression"),
    ("@fortnightly", "unknown cron macro"),
    ("hourly", "has 5 fields"),
])
def test_bad_schedules(text: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_schedule(text)
    assert message in str(exc.value)


def test_hourly_cron() -> None:
    assert _fires("0 * * * *", 3) == [SATURDAY_NOON, SATURDAY_NOON + timedelta(hours=1),
                                      SATURDAY_NOON + timedelta(hours=2)]


def test_weekday_numbers_mean_what_crontab_means() -> None:
    # APScheduler 3's from_crontab would read 1-5 as Tuesday to Saturday; crontab means Monday to Friday.
    days = [d.strftime("%a") for d in _fires("0 8 * * 1-5", 6)]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]
    assert [d.strftime("%a") for d in _fires("0 8 * * 0", 2)] == ["Sun", "Sun"]
    assert [d.strftime("%a") for d in _fires("0 8 * * 7", 2)] == ["Sun", "Sun"]
    assert [d.strftime("%a") for d in _fires("0 8 * * 5-7", 4)] == ["Sun", "Fri", "Sat", "Sun"]
    assert [d.strftime("%a") for d in _fires("0 8 * * */2", 4)] == ["Sun", "Tue", "Thu", "Sat"]
    assert [d.strftime("%a") for d in _fires("0 8 * * MON,wed", 3)] == ["Mon", "Wed", "Mon"]


def test_day_of_month_or_day_of_week() -> None:
    # crontab: "0 0 1 * 1" runs on the 1st of the month AND on every Monday (either matches).
    fires = _fires("0 0 1 * 1", 6)
    assert [d.strftime("%a %d") for d in fires] == ["Mon 06", "Mon 13", "Mon 20", "Mon 27", "Sat 01", "Mon 03"]
    spec = parse_schedule("0 0 1 * 1")
    assert isinstance(spec, Cron) and spec.either_day


@pytest.mark.parametrize(("macro", "first"), [
    ("@hourly", datetime(2025, 1, 4, 12, 0, tzinfo=UTC)),
    ("@daily", datetime(2025, 1, 5, 0, 0, tzinfo=UTC)),
    ("@weekly", datetime(2025, 1, 5, 0, 0, tzinfo=UTC)),  # Sunday midnight
    ("@monthly", datetime(2025, 2, 1, 0, 0, tzinfo=UTC)),
    ("@yearly", datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
])
def test_macros(macro: str, first: datetime) -> None:
    assert _fires(macro, 1) == [first]


def test_cron_in_a_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    (fire,) = _fires("0 7 * * *", 1, tz="Europe/Paris")
    assert fire.astimezone(paris).hour == 7 and fire.astimezone(UTC).hour == 6  # winter: UTC+1


def test_jitter_only_delays() -> None:
    trigger: Any = build_trigger(parse_schedule("every 60s"), "UTC", 10)
    start = SATURDAY_NOON
    base: Any = build_trigger(parse_schedule("every 60s"), "UTC")
    for _ in range(20):
        exact = base.get_next_fire_time(start, start)
        jittered = trigger.get_next_fire_time(start, start)
        assert exact <= jittered <= exact + timedelta(seconds=10)


@pytest.mark.parametrize(("text", "gap"), [
    ("every 90s", 90),
    ("*/15 * * * *", 900),
    ("0 * * * *", 3600),
    ("0 7 * * *", 86400),
    ("0 8 * * 1-5", 3 * 86400),  # Friday to Monday
])
def test_longest_gap(text: str, gap: float) -> None:
    assert longest_gap(parse_schedule(text), "UTC", now=SATURDAY_NOON) == gap
