"""Exposure windows: pure interval math over (start, end-or-None) pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from cloudwatchdog.report_model import ExposureWindow, Interval
from cloudwatchdog.state.timefmt import iso, utc

Span = tuple[datetime, datetime | None]  # end None: still open


def clip(spans: Iterable[Span], at: datetime) -> list[Span]:
    """The spans as they stood at ``at``: those that started later are dropped, those that ended later are open.
    Overlapping or touching spans are merged; the result is sorted oldest first."""
    at = utc(at)
    kept: list[Span] = []
    for start, end in sorted(((utc(s), utc(e) if e is not None else None) for s, e in spans), key=lambda x: x[0]):
        if start > at:
            continue
        end = None if end is None or end > at else end
        if kept:
            last_start, last_end = kept[-1]
            if last_end is None:
                continue  # an open span swallows everything after it
            if start <= last_end:
                kept[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        kept.append((start, end))
    return kept


def total_seconds(spans: Sequence[Span], at: datetime) -> int:
    """Total length of the spans up to ``at`` (open spans count until ``at``)."""
    at = utc(at)
    return sum(int(((end or at) - start).total_seconds()) for start, end in clip(spans, at))


def overlap_seconds(spans: Sequence[Span], start: datetime, end: datetime) -> int:
    """How long the spans cover of [start, end]."""
    start, end = utc(start), utc(end)
    covered = 0
    for s, e in clip(spans, end):
        lo, hi = max(s, start), min(e or end, end)
        if hi > lo:
            covered += int((hi - lo).total_seconds())
    return covered


def active_at(spans: Iterable[Span], at: datetime) -> bool:
    """Was some span open at ``at`` (start inclusive, end exclusive)?"""
    at = utc(at)
    return any(utc(s) <= at and (e is None or utc(e) > at) for s, e in spans)


def exposure_window(spans: Iterable[Span], at: datetime) -> ExposureWindow:
    """The report model's window: the spans as of ``at`` and their total length up to ``at``."""
    kept = clip(spans, at)
    return ExposureWindow(
        intervals=tuple(Interval(iso(s), iso(e) if e is not None else None) for s, e in kept),
        total_seconds=total_seconds(kept, at),
    )
