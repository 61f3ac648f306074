"""What one scan changes in the state store. Pure: previous states + this scan + suppressions + now -> new states,
lifecycle events and exposure interval changes. The store (I/O) applies the result in one transaction.

The rules (the heart of "unknown is not safe" over time):

- A finding the scan produced is present: ``new`` the first time, ``reopened`` after it was resolved (or when its
  suppression ended), ``open`` otherwise; ``suppressed`` while an active suppression matches it.
- A finding the scan did not produce is ``resolved`` only when the scan *knows* it is gone: its resource was read
  and got a known verdict (not ``unknown``), or its resource is absent from a scan whose coverage of the resource's
  account is ``ok``. Otherwise (account failed or partial, resource unreadable, account not scanned) the finding
  keeps its last known state: a failed scan never resolves anything.
- A severity change of a present, active finding is an escalation or de-escalation event (a suppressed finding
  takes the new severity without one).
- A resource is public (an exposure interval is open) while its last known verdict is ``public`` and not latent;
  an ``unknown`` verdict keeps the last known one; a resource absent from a complete scan of its account is gone.
- A finding's interval (its exposure window) is open while the finding is present, suppressed or not: it opens when
  the finding is first seen or comes back, and closes only when it resolves. A suppression changes alerting and
  triage, never the record of how long the resource was exposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from cloudwatchdog.glob import glob_match
from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Finding,
    FindingState,
    Level,
    Resource,
    Severity,
    SuppressionInfo,
    counts_as_exposed,
)
from cloudwatchdog.state.timefmt import iso, iso_or_none

ACTIVE_STATES = frozenset({FindingState.NEW, FindingState.OPEN, FindingState.REOPENED})
# Present: the finding holds (its resource is exposed), whether it alerts or is muted; its interval is open.
PRESENT_STATES = ACTIVE_STATES | {FindingState.SUPPRESSED}


class EventType(StrEnum):
    NEW = "finding.new"
    REOPENED = "finding.reopened"
    ESCALATED = "finding.escalated"
    DEESCALATED = "finding.deescalated"
    RESOLVED = "finding.resolved"
    SUPPRESSED = "finding.suppressed"
    UNSUPPRESSED = "finding.unsuppressed"


@dataclass(frozen=True)
class Event:
    """One lifecycle event, as persisted in ``finding_events`` (and, later, as an alert's cause)."""

    type: EventType
    fingerprint: str
    at: datetime
    scan_id: str | None  # None for events outside a scan (suppress / unsuppress from the CLI)
    state: FindingState  # the finding's state after the event
    severity: Severity  # its severity after the event
    old_state: FindingState | None = None  # None: first seen
    old_severity: Severity | None = None  # set on escalation and de-escalation
    detail: str = ""
    finding: Finding | None = None  # the finding as of the event, lifecycle fields filled (for alert messages)
    # Its resource's tags as this scan read them (alert targets filter on them); None when the scan did not see the
    # resource (a deleted bucket whose finding resolves, an event outside a scan).
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Suppression:
    """An active-until-``expires`` mute: of one ``fingerprint``, or of ``rule`` on resources whose uid matches the
    ``resource`` glob (``*`` and ``?``; cloudwatchdog.glob, linear time). ``source`` is ``config`` or ``cli``;
    ``label`` says where (``suppressions[2]``)."""

    reason: str
    owner: str
    expires: date | None
    source: str
    fingerprint: str | None = None
    rule: str | None = None
    resource: str | None = None
    label: str = ""

    def matches(self, finding: Finding) -> bool:
        if self.fingerprint is not None:
            return finding.id == self.fingerprint
        return (self.rule is not None and self.resource is not None
                and glob_match(self.rule, finding.rule_id)
                and glob_match(self.resource, finding.resource_uid))

    def active(self, now: datetime) -> bool:
        """In force through the whole ``expires`` day (UTC)."""
        return self.expires is None or now.date() <= self.expires

    def info(self) -> SuppressionInfo:
        return SuppressionInfo(reason=self.reason, owner=self.owner,
                               expires=self.expires.isoformat() if self.expires else None, source=self.source)

    def describe(self) -> str:
        where = f" ({self.label})" if self.label else ""
        until = f" until {self.expires.isoformat()}" if self.expires else ""
        return f"suppressed by {self.owner}{until}{where}: {self.reason}"


def find_suppression(finding: Finding, suppressions: Iterable[Suppression], now: datetime) -> Suppression | None:
    """The first active suppression that matches ``finding``."""
    return next((s for s in suppressions if s.active(now) and s.matches(finding)), None)


def lapsed_suppression(finding: Finding, suppressions: Iterable[Suppression], now: datetime) -> Suppression | None:
    """A matching suppression that has expired (to say why a finding came back)."""
    return next((s for s in suppressions if not s.active(now) and s.matches(finding)), None)


@dataclass(frozen=True)
class StoredFinding:
    """A finding's row in the store: its last observed content and its lifecycle."""

    finding: Finding
    state: FindingState
    severity: Severity
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None

    @property
    def fingerprint(self) -> str:
        return self.finding.id


@dataclass(frozen=True)
class StoredResource:
    """A resource's row: its last *known* verdict (``unknown`` only when never known) and whether it is public."""

    uid: str
    provider: str
    account: str
    region: str
    type: str
    name: str
    level: Level
    latent: bool
    public: bool  # an exposure interval is open
    unknown: bool  # the latest scan that saw it could not reach a verdict
    gone: bool  # absent from a complete scan of its account
    first_seen: datetime
    last_seen: datetime


class IntervalOp(StrEnum):
    NONE = "none"
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class FindingChange:
    """A finding row to write. ``finding`` carries the lifecycle fields as they now stand."""

    finding: Finding
    state: FindingState
    severity: Severity
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    observed: bool  # produced by this scan (its content is fresh)
    interval: IntervalOp  # the finding's exposure interval starts (present again) or ends (resolved) now


@dataclass(frozen=True)
class ResourceChange:
    resource: StoredResource
    interval: IntervalOp  # the resource's public interval starts or ends now


@dataclass(frozen=True)
class Diff:
    current: tuple[Finding, ...]  # this scan's findings, same order, lifecycle fields filled
    resolved: tuple[Finding, ...]  # findings this scan resolved (state resolved)
    findings: tuple[FindingChange, ...]  # every finding row to write
    resources: tuple[ResourceChange, ...]  # every resource row to write
    events: tuple[Event, ...]


def _interval(before: FindingState | None, after: FindingState) -> IntervalOp:
    was, now = before in PRESENT_STATES, after in PRESENT_STATES
    if now and not was:
        return IntervalOp.OPEN
    if was and not now:
        return IntervalOp.CLOSE
    return IntervalOp.NONE


def _lifecycle(finding: Finding, state: FindingState, first_seen: datetime, last_seen: datetime,
               resolved_at: datetime | None, previous_severity: Severity | None,
               suppression: Suppression | None) -> Finding:
    return replace(finding, state=state, first_seen=iso(first_seen), last_seen=iso(last_seen),
                   resolved_at=iso_or_none(resolved_at), previous_severity=previous_severity,
                   suppression=suppression.info() if suppression else None)


def _unsuppressed_detail(finding: Finding, suppressions: Sequence[Suppression], now: datetime) -> str:
    lapsed = lapsed_suppression(finding, suppressions, now)
    if lapsed is not None and lapsed.expires is not None:
        return f"suppression expired on {lapsed.expires.isoformat()} ({lapsed.owner}: {lapsed.reason})"
    return "suppression removed"


def diff_scan(
    *,
    scan_id: str,
    now: datetime,
    findings: Sequence[Finding],
    resources: Sequence[Resource],
    coverage: Sequence[Coverage],
    previous: Mapping[str, StoredFinding],
    previous_resources: Mapping[str, StoredResource],
    suppressions: Sequence[Suppression] = (),
) -> Diff:
    """Everything this scan changes. ``previous`` must hold every stored finding of the scanned accounts (any
    state) and every suppressed one; ``previous_resources`` every stored resource of the scanned accounts."""
    events: list[Event] = []
    changes: list[FindingChange] = []
    current: list[Finding] = []
    tags = {r.uid: r.tags for r in resources}

    def event(kind: EventType, f: Finding, state: FindingState, old: FindingState | None, *,
              old_severity: Severity | None = None, detail: str = "") -> None:
        events.append(Event(type=kind, fingerprint=f.id, at=now, scan_id=scan_id, state=state, severity=f.severity,
                            old_state=old, old_severity=old_severity, detail=detail, finding=f,
                            tags=tags.get(f.resource_uid)))

    # 1. Findings this scan produced.
    seen: set[str] = set()
    for f in findings:
        seen.add(f.id)
        prev = previous.get(f.id)
        before = prev.state if prev else None
        sup = find_suppression(f, suppressions, now)
        kind: EventType | None = None
        detail = ""
        if sup is not None:
            state = FindingState.SUPPRESSED
            if before is not FindingState.SUPPRESSED:
                kind, detail = EventType.SUPPRESSED, sup.describe()
        elif prev is None:
            state, kind = FindingState.NEW, EventType.NEW
        elif before is FindingState.RESOLVED:
            state, kind = FindingState.REOPENED, EventType.REOPENED
        elif before is FindingState.SUPPRESSED:
            state, kind = FindingState.REOPENED, EventType.UNSUPPRESSED
            detail = _unsuppressed_detail(f, suppressions, now)
        else:
            state = FindingState.OPEN
        # A severity change while present is an escalation (or de-escalation); coming back with another
        # severity than at resolution is just a reopening at that severity.
        previous_severity = None
        if prev is not None and before is not FindingState.RESOLVED and prev.severity is not f.severity:
            previous_severity = prev.severity
        first_seen = prev.first_seen if prev else now
        out = _lifecycle(f, state, first_seen, now, None, previous_severity, sup)
        if kind is not None:
            event(kind, out, state, before, detail=detail)
        # Only an active finding escalates: a suppressed one keeps its new severity in its row, silently (the
        # event would page on-call about a muted finding); when the suppression ends, the reopening carries it.
        if previous_severity is not None and state in ACTIVE_STATES:
            up = f.severity.rank > previous_severity.rank
            event(EventType.ESCALATED if up else EventType.DEESCALATED, out, state, before,
                  old_severity=previous_severity,
                  detail=f"severity {previous_severity.value} -> {f.severity.value}")
        current.append(out)
        changes.append(FindingChange(out, state, f.severity, first_seen, now, None, True, _interval(before, state)))

    # 2. Stored findings this scan did not produce: resolved only when the scan knows.
    verdicts = {r.uid: r.exposure.level for r in resources}
    unreadable = {r.uid for r in resources if r.properties.get("read_errors")}
    status = coverage_status(coverage)
    scopes = {(c.provider, c.account): c for c in coverage}
    resolved: list[Finding] = []
    for fp in sorted(previous):
        prev = previous[fp]
        if fp in seen or prev.state is FindingState.RESOLVED:
            continue
        old = prev.finding
        level = verdicts.get(old.resource_uid)
        cov = scopes.get((old.provider, old.account))
        if level is not None:
            # A known verdict is not enough when some setting of the resource could not be read: the rule may
            # have needed exactly that setting (shared key access, uniform access ...).
            knows = level is not Level.UNKNOWN and old.resource_uid not in unreadable
            why = "the resource no longer matches the rule"
        else:
            knows = (status.get((old.provider, old.account)) is CoverageStatus.OK and cov is not None
                     and cov.covers(old.resource_type, old.region, old.resource_name))
            why = f"the resource is gone (absent from a complete scan of {old.provider} account {old.account})"
        if knows:
            out = _lifecycle(old, FindingState.RESOLVED, prev.first_seen, prev.last_seen, now, None, None)
            event(EventType.RESOLVED, out, FindingState.RESOLVED, prev.state, detail=why)
            resolved.append(out)
            changes.append(FindingChange(out, FindingState.RESOLVED, prev.severity, prev.first_seen, prev.last_seen,
                                         now, False, _interval(prev.state, FindingState.RESOLVED)))
            continue
        # Carried over: last known state, except that suppressions may have started or ended.
        sup = find_suppression(old, suppressions, now)
        state = prev.state
        kind = None
        detail = ""
        if prev.state is FindingState.SUPPRESSED and sup is None:
            state, kind = FindingState.REOPENED, EventType.UNSUPPRESSED
            detail = _unsuppressed_detail(old, suppressions, now)
        elif prev.state is not FindingState.SUPPRESSED and sup is not None:
            state, kind, detail = FindingState.SUPPRESSED, EventType.SUPPRESSED, sup.describe()
        elif prev.state in (FindingState.NEW, FindingState.REOPENED) and (level is not None or (
                cov is not None and cov.covers(old.resource_type, old.region, old.resource_name))):
            state = FindingState.OPEN  # new/reopened mark the scan it happened in (one that looked at its resource)
        if state is prev.state and (sup.info() if sup else None) == old.suppression:
            continue
        out = _lifecycle(old, state, prev.first_seen, prev.last_seen, None, None, sup)
        if kind is not None:
            event(kind, out, state, prev.state, detail=detail)
        changes.append(FindingChange(out, state, prev.severity, prev.first_seen, prev.last_seen, None, False,
                                     _interval(prev.state, state)))

    resolved.sort(key=lambda f: (f.rule_id, f.resource_uid))
    return Diff(current=tuple(current), resolved=tuple(resolved), findings=tuple(changes),
                resources=tuple(diff_resources(now, resources, coverage, previous_resources)), events=tuple(events))


def coverage_status(coverage: Sequence[Coverage]) -> dict[tuple[str, str], CoverageStatus]:
    """Per (provider, account): ``ok`` only when every coverage entry of that account is ``ok``."""
    out: dict[tuple[str, str], CoverageStatus] = {}
    for c in coverage:
        key = (c.provider, c.account)
        out[key] = c.status if out.get(key, CoverageStatus.OK) is CoverageStatus.OK else out[key]
    return out


def is_public(level: Level, latent: bool) -> bool:
    return level is Level.PUBLIC and not latent


def diff_resources(now: datetime, resources: Sequence[Resource], coverage: Sequence[Coverage],
                   previous: Mapping[str, StoredResource]) -> list[ResourceChange]:
    """Resource rows to write, and their public intervals."""
    out: list[ResourceChange] = []
    seen: set[str] = set()
    for r in resources:
        seen.add(r.uid)
        prev = previous.get(r.uid)
        unknown = r.exposure.level is Level.UNKNOWN
        if unknown and prev is not None and not prev.gone:
            level, latent, public = prev.level, prev.latent, prev.public  # the last known state stands
        elif unknown:
            level, latent, public = Level.UNKNOWN, False, False
        else:
            level, latent = r.exposure.level, r.exposure.latent
            public = is_public(level, latent) and counts_as_exposed(r)
        was_public = prev.public if prev is not None else False
        op = IntervalOp.OPEN if public and not was_public else IntervalOp.CLOSE if was_public and not public \
            else IntervalOp.NONE
        row = StoredResource(uid=r.uid, provider=r.provider, account=r.account, region=r.region, type=r.type,
                             name=r.name, level=level, latent=latent, public=public, unknown=unknown, gone=False,
                             first_seen=prev.first_seen if prev else now, last_seen=now)
        out.append(ResourceChange(row, op))
    status = coverage_status(coverage)
    scopes = {(c.provider, c.account): c for c in coverage}
    for uid in sorted(previous):
        prev = previous[uid]
        if uid in seen or prev.gone or status.get((prev.provider, prev.account)) is not CoverageStatus.OK:
            continue
        if not scopes[(prev.provider, prev.account)].covers(prev.type, prev.region, prev.name):
            continue  # not enumerated this time (a feature turned off, a region dropped): its last state stands
        out.append(ResourceChange(replace(prev, public=False, gone=True),
                                  IntervalOp.CLOSE if prev.public else IntervalOp.NONE))
    return out


def suppress_change(prev: StoredFinding, suppression: Suppression, now: datetime) -> tuple[FindingChange, Event]:
    """A suppression set outside a scan (``findings suppress``) on a stored finding."""
    state = FindingState.RESOLVED if prev.state is FindingState.RESOLVED else FindingState.SUPPRESSED
    out = _lifecycle(prev.finding, state, prev.first_seen, prev.last_seen, prev.resolved_at, None,
                     suppression if state is FindingState.SUPPRESSED else None)
    change = FindingChange(out, state, prev.severity, prev.first_seen, prev.last_seen, prev.resolved_at, False,
                           _interval(prev.state, state))
    return change, Event(EventType.SUPPRESSED, prev.fingerprint, now, None, state, prev.severity, prev.state,
                         detail=suppression.describe(), finding=out)


def unsuppress_change(prev: StoredFinding, now: datetime,
                      detail: str = "suppression removed") -> tuple[FindingChange, Event] | None:
    """The suppression of a stored finding was removed outside a scan: present again, so ``reopened``."""
    if prev.state is not FindingState.SUPPRESSED:
        return None
    state = FindingState.REOPENED
    out = _lifecycle(prev.finding, state, prev.first_seen, prev.last_seen, None, None, None)
    change = FindingChange(out, state, prev.severity, prev.first_seen, prev.last_seen, None, False,
                           _interval(prev.state, state))
    return change, Event(EventType.UNSUPPRESSED, prev.fingerprint, now, None, state, prev.severity, prev.state,
                         detail=detail, finding=out)
