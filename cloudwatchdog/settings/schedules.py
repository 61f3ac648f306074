"""`schedules:` when the daemon scans, reports and delivers alerts.

Every schedule is a cron expression (5 fields, minute hour day-of-month month day-of-week, with the usual crontab
meaning; also @hourly, @daily, @weekly, @monthly, @yearly) or an interval: ``every 30s``, ``every 15m``,
``every 6h``, ``every 1d``, ``every 1h30m``. Times are in ``timezone``.

Two crontab meanings are kept that APScheduler 3's ``CronTrigger.from_crontab`` does not: day-of-week 0 (and 7) is
Sunday, not Monday (APScheduler issue 286), and when both day-of-month and day-of-week are restricted a day matching
*either* fires (``0 0 1 * 1``: the 1st of the month and every Monday). ``parse_schedule`` translates the expression
so that APScheduler, which parses it in the end (and so validates it), computes exactly that.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from cloudwatchdog.settings.base import StrictModel

# A provider name; config.py checks it against the provider registry (settings are below the providers).
ProviderName = str

_EVERY = re.compile(r"^every\s+((?:\d+\s*[smhd]\s*)+)$", re.IGNORECASE)
_EVERY_PART = re.compile(r"(\d+)\s*([smhd])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_INTERVAL_SECONDS = 366 * 86400

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Crontab day-of-week: 0 and 7 are Sunday. Written out as APScheduler's names, which mean the same to both.
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_NUMBER = {name: i for i, name in enumerate(_DOW_NAMES)}
_DOW_ITEM = re.compile(r"^(\*|[0-7a-z]+)(?:-([0-7a-z]+))?(?:/(\d+))?$")


@dataclass(frozen=True)
class Every:
    """An interval schedule: every ``seconds`` seconds."""

    seconds: int

    def __str__(self) -> str:
        return f"every {self.seconds}s"


@dataclass(frozen=True)
class Cron:
    """A cron schedule. ``fields`` are the five fields as APScheduler reads them (day-of-week as names);
    ``either_day`` is set when day-of-month and day-of-week are both restricted (crontab: either one fires)."""

    expression: str
    fields: tuple[str, str, str, str, str]
    either_day: bool

    def __str__(self) -> str:
        return self.expression


Schedule = Every | Cron


def parse_schedule(text: str) -> Schedule:
    """``every 15m`` or a cron expression. Raises ValueError with a message fit for a config error."""
    value = " ".join(str(text).split())
    if not value:
        raise ValueError("must be a cron expression such as '0 * * * *' or an interval such as 'every 15m'")
    if value.lower().startswith("every"):
        return _parse_every(value)
    return _parse_cron(value)


def _parse_every(value: str) -> Every:
    m = _EVERY.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not an interval: write 'every' then a number and a unit s, m, h or d, "
                         "e.g. 'every 30s', 'every 15m', 'every 1h30m'")
    seconds = sum(int(n) * _UNIT_SECONDS[unit.lower()] for n, unit in _EVERY_PART.findall(m.group(1)))
    if seconds <= 0:
        raise ValueError(f"{value!r}: the interval must be at least 1 second")
    if seconds > MAX_INTERVAL_SECONDS:
        raise ValueError(f"{value!r}: the interval must be at most 366 days (use a cron expression for rarer runs)")
    return Every(seconds)


def _parse_cron(value: str) -> Cron:
    expression = _MACROS.get(value.lower(), value)
    if expression.startswith("@"):
        raise ValueError(f"unknown cron macro {value!r}: use one of {', '.join(_MACROS)}")
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{value!r} is neither an interval ('every 15m') nor a cron expression: a cron expression "
                         f"has 5 fields (minute hour day-of-month month day-of-week), this one has {len(fields)}")
    minute, hour, dom, month, dow = fields
    cron = Cron(value, (minute, hour, dom, month, _day_of_week(dow)), either_day=dom != "*" and dow != "*")
    # APScheduler parses every field (ranges, steps, names, bounds); its message names the bad field.
    try:
        build_trigger(cron, "UTC")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid cron expression: {exc}") from None
    return cron


def _day_of_week(field: str) -> str:
    """The crontab day-of-week field (0 or 7 = Sunday, names, ranges, steps, lists) as a list of day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        m = _DOW_ITEM.match(item)
        if m is None:
            raise ValueError(f"day-of-week {field!r}: {item!r} is not a day (0-7 or sun-sat), range or step")
        first, last, step = m.group(1), m.group(2), m.group(3)
        if first == "*":
            if last is not None:
                raise ValueError(f"day-of-week {field!r}: '*' cannot start a range")
            lo, hi = 0, 6
        else:
            lo = _day_number(first, field)
            hi = _day_number(last, field) if last is not None else (6 if step is not None else lo)
        if hi < lo:
            raise ValueError(f"day-of-week {field!r}: the range {item!r} runs backwards")
        stride = int(step) if step is not None else 1
        if stride < 1:
            raise ValueError(f"day-of-week {field!r}: the step must be at least 1")
        days.update(d % 7 for d in range(lo, hi + 1, stride))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def _day_number(token: str, field: str) -> int:
    if token.isdigit():
        n = int(token)
        if n > 7:
            raise ValueError(f"day-of-week {field!r}: {token} is out of range (0-7, 0 and 7 are Sunday)")
        return n
    if token[:3] in _DOW_NUMBER and len(token) == 3:
        return _DOW_NUMBER[token]
    raise ValueError(f"day-of-week {field!r}: {token!r} is not a day (0-7 or sun, mon, tue, wed, thu, fri, sat)")


def build_trigger(schedule: Schedule, timezone: str, jitter: int | None = None) -> object:
    """The APScheduler trigger for ``schedule`` in ``timezone`` (an IANA name), delayed by up to ``jitter``
    seconds. Typed ``object``: APScheduler 3 has no type information; the scheduler module passes it on."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jit = jitter or None
    if isinstance(schedule, Every):
        return IntervalTrigger(seconds=schedule.seconds, timezone=timezone, jitter=jit)
    minute, hour, dom, month, dow = schedule.fields
    if not schedule.either_day:
        return CronTrigger(minute=minute, hour=hour, day=dom, month=month, day_of_week=dow, timezone=timezone,
                           jitter=jit)
    from apscheduler.triggers.combining import OrTrigger

    by_date = CronTrigger(minute=minute, hour=hour, day=dom, month=month, timezone=timezone)
    by_weekday = CronTrigger(minute=minute, hour=hour, month=month, day_of_week=dow, timezone=timezone)
    return OrTrigger([by_date, by_weekday], jitter=jit)


def _check_schedule(value: str) -> str:
    parse_schedule(value)
    return value


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as UTC or Europe/Paris") from None
    return value


# A schedule as written in the file (kept as text; `parse_schedule` gives its meaning).
ScheduleText = Annotated[str, AfterValidator(_check_schedule)]


class Schedules(StrictModel):
    """When each daemon job runs. ``report: null`` turns the daily report off."""

    scan: ScheduleText = "0 * * * *"
    # Providers listed here get their own scan job on their own schedule; `scan` covers the others.
    scan_providers: dict[ProviderName, ScheduleText] = {}
    report: ScheduleText | None = "0 7 * * *"
    deliver: ScheduleText = "every 30s"  # the alert outbox; also run right after each scan
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    # Each scan, report and digest starts up to this many seconds late (random), so that many daemons sharing an
    # account or a receiver do not all call at once. Not applied to `deliver`.
    jitter: Annotated[int, Field(ge=0, le=86400)] = 0

    @field_validator("scan", "deliver", "report", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        # YAML reads `every 30s` as text but a bare number as int: name what went wrong.
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError("must be a cron expression in quotes ('0 * * * *') or an interval ('every 15m')")
        return v
