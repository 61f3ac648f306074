"""The daily report's data, read from the store as it stood at a given time.

A finding's state at the report time is the state after its last lifecycle event up to then (``new`` and
``reopened`` only when that happened within the period; ``open`` after that). Resources public at a time are those
with a public interval covering it.

The daily report's period (``daily_period``) is the same for every render of one day: a render to add a format, or
the daemon's scheduled one after a render by hand, covers the day again instead of the seconds since the last render.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from cloudwatchdog.model import Coverage, CoverageStatus, FindingState, Severity
from cloudwatchdog.report_model import (
    CoverageRow,
    Headline,
    ReportData,
    ReportFinding,
    ScanInfo,
    TrendPoint,
)
from cloudwatchdog.state.codec import finding_from_dict
from cloudwatchdog.state.diff import ACTIVE_STATES, EventType
from cloudwatchdog.state.schema import (
    AccountNameRow,
    FindingEventRow,
    FindingIntervalRow,
    FindingRow,
    ReportRow,
    ResourceIntervalRow,
    ScanRow,
    TargetedCoverageRow,
)
from cloudwatchdog.state.schema import CoverageRow as CoverageTable
from cloudwatchdog.state.timefmt import iso, iso_or_none, utc
from cloudwatchdog.state.windows import Span, active_at, exposure_window

TREND_DAYS = 30
_ARRIVALS = {EventType.NEW.value, EventType.REOPENED.value, EventType.UNSUPPRESSED.value}
_SEVERITY_ONLY = {EventType.ESCALATED.value, EventType.DEESCALATED.value}


def _in(t: datetime, start: datetime, end: datetime) -> bool:
    return start <= utc(t) <= end


def daily_period(s: Session, at: datetime) -> tuple[datetime, datetime | None]:
    """(start, since) of the daily report rendered at ``at``; every render of one day (UTC) has the same.

    ``since``: the previous day's report, that is the *first* report recorded on the latest earlier day that has
    one. The first, not the latest: the next day's report then starts where that day's scheduled report ended, and
    what happened after it is never left out because someone rendered the report again later that day (a change
    may show in two reports; it never shows in none). None when no earlier day has a report: then the period is
    the 24 hours before the day's first report (``at``, when this is the first)."""
    end = utc(at)
    day = datetime.combine(end.date(), time(0), tzinfo=UTC)
    previous = s.execute(select(func.max(ReportRow.generated_at)).where(ReportRow.generated_at < day)).scalar()
    if previous is not None:
        previous_day = datetime.combine(utc(previous).date(), time(0), tzinfo=UTC)
        first = s.execute(select(func.min(ReportRow.generated_at)).where(
            ReportRow.generated_at >= previous_day, ReportRow.generated_at < day)).scalar_one()
        return utc(first), utc(first)
    today = s.execute(select(func.min(ReportRow.generated_at)).where(
        ReportRow.generated_at >= day, ReportRow.generated_at <= end)).scalar()
    return (utc(today) if today is not None else end) - timedelta(days=1), None


def build_report(s: Session, *, generated_at: datetime, period_start: datetime, since: datetime | None,
                 title: str) -> ReportData:
    end, start = utc(generated_at), utc(period_start)
    findings = _findings(s, end, start)
    new = tuple(f for f, arrived, _ in findings if f.finding.state in ACTIVE_STATES and arrived)
    open_ = tuple(f for f, arrived, _ in findings if f.finding.state in ACTIVE_STATES and not arrived)
    resolved = tuple(f for f, _, closed in findings if f.finding.state is FindingState.RESOLVED and closed)
    suppressed = tuple(f for f, _, _ in findings if f.finding.state is FindingState.SUPPRESSED)

    spans = _resource_spans(s, end - timedelta(days=TREND_DAYS + 1), end)
    public_now = sum(1 for sp in spans.values() if active_at(sp, end))
    became_public = sum(1 for sp in spans.values() if any(_in(a, start, end) for a, _ in sp))
    closed = sum(1 for _, _, c in findings if c)

    return ReportData(
        title=title,
        generated_at=iso(end),
        since=iso_or_none(since),
        last_scan=_last_scan(s, end),
        headline=Headline(public_now=public_now, became_public=became_public, closed=closed),
        new=_by_severity(new),
        resolved=_by_severity(resolved),
        open=_by_severity(open_),
        suppressed=_by_severity(suppressed),
        coverage=_coverage(s, end),
        trend=_trend(spans, end),
    )


def _by_severity(items: tuple[ReportFinding, ...]) -> tuple[ReportFinding, ...]:
    """A resource's findings together (one exposed bucket may raise several: the exposure and its hygiene
    findings), most severe first; resources by their most severe finding, then the longest exposed first."""
    groups: dict[str, list[ReportFinding]] = {}
    for f in items:
        groups.setdefault(f.finding.resource_uid, []).append(f)
    ordered = sorted(groups.values(), key=lambda g: (
        -max(f.finding.severity.rank for f in g), -max(f.window.total_seconds for f in g), g[0].finding.account,
        g[0].finding.resource_name))
    return tuple(f for g in ordered for f in sorted(g, key=lambda f: (-f.finding.severity.rank, f.finding.rule_id)))


def _findings(s: Session, end: datetime, start: datetime) -> list[tuple[ReportFinding, bool, bool]]:
    """(finding as of ``end``, arrived within the period, resolved within the period) for every finding that
    existed by ``end``."""
    events: dict[str, list[FindingEventRow]] = defaultdict(list)
    for e in s.scalars(select(FindingEventRow).where(FindingEventRow.at <= end).order_by(FindingEventRow.id)):
        events[e.fingerprint].append(e)
    spans: dict[str, list[Span]] = defaultdict(list)
    for iv in s.scalars(select(FindingIntervalRow).where(FindingIntervalRow.started_at <= end)):
        spans[iv.fingerprint].append((iv.started_at, iv.ended_at))
    out: list[tuple[ReportFinding, bool, bool]] = []
    for row in s.scalars(select(FindingRow).where(FindingRow.first_seen <= end)):
        history = events.get(row.fingerprint)
        if not history:
            continue
        last = history[-1]
        # Escalations keep the state; the last other event sets it.
        setting = next((e for e in reversed(history) if e.type not in _SEVERITY_ONLY), last)
        state = FindingState(setting.state)
        arrival = next((e for e in reversed(history) if e.type in _ARRIVALS), None)
        arrived = arrival is not None and _in(arrival.at, start, end)
        if state in (FindingState.NEW, FindingState.REOPENED) and not arrived:
            state = FindingState.OPEN  # new / reopened mark the period it happened in
        resolution = next((e for e in reversed(history) if e.type == EventType.RESOLVED.value), None)
        closed = state is FindingState.RESOLVED and resolution is not None and _in(resolution.at, start, end)
        escalation = next((e for e in reversed(history)
                           if e.type in (EventType.ESCALATED.value, EventType.DEESCALATED.value)), None)
        previous = Severity(escalation.old_severity) if escalation is not None and escalation.old_severity \
            and _in(escalation.at, start, end) else None
        data = finding_from_dict(row.data)
        finding = replace(
            data,
            state=state,
            severity=Severity(last.severity),
            first_seen=iso(row.first_seen),
            last_seen=iso(min(utc(row.last_seen), end)),
            resolved_at=iso(resolution.at) if state is FindingState.RESOLVED and resolution is not None else None,
            previous_severity=previous,
            suppression=data.suppression if state is FindingState.SUPPRESSED else None,
        )
        out.append((ReportFinding(finding, exposure_window(spans.get(row.fingerprint, []), end)), arrived, closed))
    return out


def _resource_spans(s: Session, window_start: datetime, end: datetime) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = defaultdict(list)
    q = select(ResourceIntervalRow).where(
        ResourceIntervalRow.started_at <= end,
        or_(ResourceIntervalRow.ended_at.is_(None), ResourceIntervalRow.ended_at > window_start))
    for iv in s.scalars(q):
        spans[iv.uid].append((iv.started_at, iv.ended_at if iv.ended_at is None or iv.ended_at <= end else None))
    return spans


def _trend(spans: dict[str, list[Span]], end: datetime) -> tuple[TrendPoint, ...]:
    points = []
    last_day = end.date()
    for back in range(TREND_DAYS - 1, -1, -1):
        day = last_day - timedelta(days=back)
        at = end if back == 0 else datetime.combine(day, time(23, 59, 59), tzinfo=end.tzinfo)
        points.append(TrendPoint(day=day.isoformat(), open_public=sum(1 for sp in spans.values() if active_at(sp, at))))
    return tuple(points)


def _last_scan(s: Session, end: datetime) -> ScanInfo | None:
    row = s.scalars(select(ScanRow).where(ScanRow.recorded_at <= end, ~exists().where(  # not a targeted rescan
        TargetedCoverageRow.scan_id == ScanRow.id)).order_by(ScanRow.recorded_at.desc(), ScanRow.finished_at.desc())
        .limit(1)).first()
    if row is None:
        return None
    return ScanInfo(id=row.id, started_at=iso(row.started_at), finished_at=iso(row.finished_at),
                    complete=row.complete)


def _coverage(s: Session, end: datetime) -> tuple[CoverageRow, ...]:
    """The latest coverage of every account, failed ones included (with their errors). Latest by when the scan
    started: a stale scan recorded after a newer one (see Store.record_scan) does not replace it."""
    latest: dict[tuple[str, str], CoverageRow] = {}
    names = {(r.provider, r.account): r.name for r in s.scalars(select(AccountNameRow))}
    q = (select(CoverageTable, ScanRow).join(ScanRow, CoverageTable.scan_id == ScanRow.id)
         .where(ScanRow.recorded_at <= end, ~exists().where(  # a targeted rescan read a few resources only
             TargetedCoverageRow.scan_id == CoverageTable.scan_id,
             TargetedCoverageRow.provider == CoverageTable.provider,
             TargetedCoverageRow.account == CoverageTable.account))
         .order_by(ScanRow.started_at, ScanRow.recorded_at, CoverageTable.id))
    for cov, scan in s.execute(q):
        latest[(cov.provider, cov.account)] = CoverageRow(
            coverage=Coverage(cov.provider, cov.account, CoverageStatus(cov.status), cov.resources,
                              tuple(cov.errors), cov.api_calls, name=names.get((cov.provider, cov.account))),
            scan_id=scan.id, scanned_at=iso(scan.finished_at))
    order = {CoverageStatus.ERROR: 0, CoverageStatus.PARTIAL: 1, CoverageStatus.OK: 2}
    return tuple(sorted(latest.values(), key=lambda r: (order[r.coverage.status], r.coverage.provider,
                                                        r.coverage.account)))
