"""Concluding a provider's reading of the logs into ``AccessEvidence``, by the honesty rules: no log source is
``no_logs``; logs that could not be read are ``unknown``; days without logs are gaps (``partial``); only logs that
cover every day of the analysed span make it ``analysed``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.model import AccessEvidence, AccessStatus, AccessTarget, Gap, StartEvidence, TimeSpan
from cloudwatchdog.forensics.spans import day_coverage, hull

# Log objects are named by delivery time: those up to a day after the span may still hold its requests.
DELIVERY_MARGIN = timedelta(days=1)
# Logs are also read this long before the analysed span: an external read there is evidence of an earlier start.
LOOKBACK = timedelta(days=7)


@dataclass
class Reading:
    """What a provider's reader found, filled as it goes."""

    analysis: TimeSpan  # the span whose coverage is judged (the windows, extended back to a known start)
    aggregator: Aggregator
    sources: list[str] = field(default_factory=list)
    covered: set[date] = field(default_factory=set)
    failed: dict[date, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    start_evidence: list[StartEvidence] = field(default_factory=list)
    off: list[str] = field(default_factory=list)  # why a source is off ("server access logging is off")
    unreadable: list[str] = field(default_factory=list)  # a source that could not be read at all, and why

    @property
    def read_from(self) -> TimeSpan:
        """The span of log objects to read: the analysis span, a look-back before it, a delivery margin after."""
        return TimeSpan(self.analysis.start - LOOKBACK, self.analysis.end + DELIVERY_MARGIN)


def analysis_span(windows: Sequence[TimeSpan], starts: Collection[StartEvidence]) -> TimeSpan:
    span = hull(windows)
    earliest = min((s.at for s in starts), default=span.start)
    return TimeSpan(min(earliest, span.start), span.end)


def conclude(reading: Reading) -> AccessEvidence:
    counts = reading.aggregator.result()
    span = reading.analysis
    notes = list(reading.notes)
    if counts.skipped_lines:
        notes.append(f"{counts.skipped_lines} malformed log line(s) were skipped")
    if not counts.distinct_ips_exact:
        notes.append("distinct IPs and objects are estimates (HyperLogLog): there were too many to count exactly")
    if not counts.ranking_exact:
        notes.append("the top clients and objects are approximate: rare entries were dropped to bound memory")

    def make(status: AccessStatus, coverage: Sequence[TimeSpan], gaps: Sequence[Gap]) -> AccessEvidence:
        return AccessEvidence(status, sources=tuple(reading.sources), coverage=tuple(coverage), gaps=tuple(gaps),
                              counts=counts, notes=tuple(notes), start_evidence=tuple(reading.start_evidence))

    if not reading.sources and not reading.unreadable:
        reason = "; ".join(reading.off) or "no access log source is configured"
        return make(AccessStatus.NO_LOGS, (), (Gap(span.start, span.end, reason),))
    failed = reading.failed
    if reading.unreadable and not reading.covered:
        reason = "; ".join([*reading.unreadable, *reading.off])
        return make(AccessStatus.UNKNOWN, (), (Gap(span.start, span.end, reason),))
    covered = reading.covered - set(failed)
    # A day without logs says why the other sources could not speak for it (off, unreadable: a listing that failed
    # half-way leaves days that may have logs).
    why = "".join(f"; {r}" for r in [*reading.unreadable, *reading.off])
    coverage, gaps = day_coverage(span, covered, failed, reason="no log objects for {days}" + why)
    if not coverage:
        status = AccessStatus.UNKNOWN if failed or reading.unreadable else AccessStatus.NO_LOGS
    else:
        status = AccessStatus.PARTIAL if gaps else AccessStatus.ANALYSED
    return make(status, coverage, gaps)


def unsupported(windows: Sequence[TimeSpan], what: str) -> AccessEvidence:
    """The answer of a provider (or resource type) whose access logs are not analysed: unknown, never "no access"."""
    span = hull(windows)
    return AccessEvidence(AccessStatus.UNKNOWN, gaps=(Gap(span.start, span.end, what),))


# A scan that first saw the resource within this of its window's start saw it exposed from its first sighting.
FIRST_SIGHT = timedelta(hours=1)


def exposed_since_first_sight(target: AccessTarget, span: TimeSpan) -> bool:
    """Whether the first scan that ever saw the resource saw it exposed already (then a creation or change date
    before that is evidence of an earlier start)."""
    return target.first_seen >= span.start - FIRST_SIGHT
