"""Window arithmetic for the dossier: the span to analyse, and which days of it the logs cover."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from cloudwatchdog.forensics.model import Gap, TimeSpan


def hull(windows: Sequence[TimeSpan]) -> TimeSpan:
    return TimeSpan(min(w.start for w in windows), max(w.end for w in windows))


def days(span: TimeSpan) -> list[date]:
    """Every UTC day the span touches, oldest first."""
    out, day = [], span.start.date()
    while day <= span.end.date():
        out.append(day)
        day += timedelta(days=1)
    return out


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_coverage(span: TimeSpan, covered: Collection[date], failed: Mapping[date, str] | None = None,
                 reason: str = "no log objects for {days}") -> tuple[list[TimeSpan], list[Gap]]:
    """Split ``span`` into runs of days that have logs (coverage) and runs that have none (gaps, with ``reason``
    where ``{days}`` is the run: "2024-03-01..2024-03-09", or one day). A day in ``failed`` is a gap with its own
    reason (its logs could not be read), whether or not it also has logs that could."""
    failed = failed or {}
    coverage: list[TimeSpan] = []
    gaps: list[Gap] = []
    run: list[date] = []
    run_covered: str | None = None

    def close() -> None:
        if not run:
            return
        start = max(span.start, _day_start(run[0]))
        end = min(span.end, _day_start(run[-1] + timedelta(days=1)))
        if run_covered == "":
            coverage.append(TimeSpan(start, end))
        else:
            text = run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"
            gaps.append(Gap(start, end, (run_covered or reason).replace("{days}", text)))

    for day in days(span):
        here = failed.get(day, "" if day in covered else reason)
        if here != run_covered and run:
            close()
            run = []
        run_covered = here
        run.append(day)
    close()
    return coverage, gaps


def months(span: TimeSpan) -> list[tuple[int, int]]:
    """Every (year, month) the span touches, oldest first: log objects under YYYY/MM/ prefixes are listed a
    month at a time (one call, paged, instead of one per day)."""
    out: list[tuple[int, int]] = []
    year, month = span.start.year, span.start.month
    while (year, month) <= (span.end.year, span.end.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def day_in(span: TimeSpan, year: str, month: str, day: str) -> date | None:
    """The day of a log object's YYYY/MM/DD path parts, when it is a valid date the span touches."""
    try:
        found = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return found if span.start.date() <= found <= span.end.date() else None


def parse_utc(text: str) -> datetime:
    """An ISO 8601 / RFC 3339 time as a log writes it (``Z`` or an offset, up to nine fractional digits; no zone is
    taken as UTC) -> aware UTC, whole seconds. Raises ValueError."""
    found = datetime.fromisoformat(text)
    found = found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    return found.replace(microsecond=0)
