"""Table tests of the pure state diff: every lifecycle transition, and the cases where a scan must NOT resolve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cloudwatchdog.model import (
    Coverage,
    CoverageStatus,
    Exposure,
    Finding,
    FindingState,
    Level,
    Remediation,
    Resource,
    Severity,
)
from cloudwatchdog.rules.engine import fingerprint
from cloudwatchdog.state.diff import (
    Diff,
    EventType,
    IntervalOp,
    StoredFinding,
    StoredResource,
    Suppression,
    diff_scan,
    suppress_change,
    unsuppress_change,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
ACCOUNT = "111111111111"
BUCKET = "arn:aws:s3:::data"
OTHER = "arn:aws:s3:::other"


def finding(uid: str = BUCKET, rule: str = "aws-s3-bucket-public", severity: Severity = Severity.HIGH,
            account: str = ACCOUNT) -> Finding:
    return Finding(id=fingerprint(rule, uid), rule_id=rule, title="t", severity=severity, resource_uid=uid,
                   provider="aws", account=account, region="us-east-1", resource_type="aws.s3.bucket",
                   resource_name=uid.rsplit(":", 1)[-1], message="m", evidence=(), remediation=Remediation("fix"))


def resource(uid: str = BUCKET, level: Level = Level.PUBLIC, latent: bool = False,
             account: str = ACCOUNT) -> Resource:
    return Resource(uid=uid, provider="aws", account=account, region="us-east-1", type="aws.s3.bucket",
                    name=uid.rsplit(":", 1)[-1], exposure=Exposure(level=level, latent=latent))


def coverage(status: CoverageStatus = CoverageStatus.OK, account: str = ACCOUNT) -> Coverage:
    return Coverage("aws", account, status, 1)


def stored(f: Finding, state: FindingState, severity: Severity | None = None,
           resolved_at: datetime | None = None) -> StoredFinding:
    return StoredFinding(finding=f, state=state, severity=severity or f.severity, first_seen=T0, last_seen=T0,
                         resolved_at=resolved_at)


def stored_resource(uid: str = BUCKET, level: Level = Level.PUBLIC, public: bool = True,
                    gone: bool = False, latent: bool = False) -> StoredResource:
    return StoredResource(uid=uid, provider="aws", account=ACCOUNT, region="us-east-1", type="aws.s3.bucket",
                          name="data", level=level, latent=latent, public=public, unknown=False, gone=gone,
                          first_seen=T0, last_seen=T0)


def run(findings: Sequence[Finding] = (), resources: Sequence[Resource] = (),
        cov: Sequence[Coverage] = (coverage(),), previous: Sequence[StoredFinding] = (),
        previous_resources: Sequence[StoredResource] = (), suppressions: Sequence[Suppression] = (),
        now: datetime = NOW) -> Diff:
    return diff_scan(scan_id="scan-2", now=now, findings=findings, resources=resources, coverage=cov,
                     previous={p.fingerprint: p for p in previous},
                     previous_resources={r.uid: r for r in previous_resources}, suppressions=suppressions)


def sup(**kw: object) -> Suppression:
    base: dict[str, object] = {"reason": "public website", "owner": "web-team", "expires": date(2026, 3, 31),
                               "source": "config", "label": "suppressions[0]"}
    base.update(kw)
    return Suppression(**base)  # type: ignore[arg-type]


@dataclass
class Case:
    name: str
    findings: list[Finding] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    cov: list[Coverage] = field(default_factory=lambda: [coverage()])
    previous: list[StoredFinding] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    now: datetime = NOW
    # expected
    state: FindingState | None = None  # the written state of finding() (None: no row written)
    events: list[EventType] = field(default_factory=list)
    interval: IntervalOp = IntervalOp.NONE
    resolved: bool = False


F = finding()
CASES = [
    Case("first seen is new", [F], [resource()], state=FindingState.NEW, events=[EventType.NEW],
         interval=IntervalOp.OPEN),
    Case("seen again after new is open", [F], [resource()], previous=[stored(F, FindingState.NEW)],
         state=FindingState.OPEN),
    Case("seen again while open stays open", [F], [resource()], previous=[stored(F, FindingState.OPEN)],
         state=FindingState.OPEN),
    Case("seen again after reopened is open", [F], [resource()], previous=[stored(F, FindingState.REOPENED)],
         state=FindingState.OPEN),
    Case("back after resolved is reopened", [F], [resource()],
         previous=[stored(F, FindingState.RESOLVED, resolved_at=T0)], state=FindingState.REOPENED,
         events=[EventType.REOPENED], interval=IntervalOp.OPEN),
    Case("resource fixed (known verdict) resolves", [], [resource(level=Level.PRIVATE)],
         previous=[stored(F, FindingState.OPEN)], state=FindingState.RESOLVED, events=[EventType.RESOLVED],
         interval=IntervalOp.CLOSE, resolved=True),
    Case("latent verdict is known: the public finding resolves", [], [resource(latent=True)],
         previous=[stored(F, FindingState.OPEN)], state=FindingState.RESOLVED, events=[EventType.RESOLVED],
         interval=IntervalOp.CLOSE, resolved=True),
    Case("resource gone from a complete scan resolves", [], [], previous=[stored(F, FindingState.OPEN)],
         state=FindingState.RESOLVED, events=[EventType.RESOLVED], interval=IntervalOp.CLOSE, resolved=True),
    # Unknown is not safe: none of these may resolve.
    Case("unknown verdict keeps the public finding open", [], [resource(level=Level.UNKNOWN)],
         cov=[coverage(CoverageStatus.PARTIAL)], previous=[stored(F, FindingState.OPEN)]),
    Case("unknown verdict even with ok coverage keeps it", [], [resource(level=Level.UNKNOWN)],
         previous=[stored(F, FindingState.OPEN)]),
    Case("resource absent from a partial scan keeps it", [], [], cov=[coverage(CoverageStatus.PARTIAL)],
         previous=[stored(F, FindingState.OPEN)]),
    Case("resource absent from a failed account keeps it", [], [], cov=[coverage(CoverageStatus.ERROR)],
         previous=[stored(F, FindingState.OPEN)]),
    Case("account not scanned at all keeps it", [], [], cov=[coverage(account="222222222222")],
         previous=[stored(F, FindingState.OPEN)]),
    Case("a new finding carried over unseen becomes open", [], [], cov=[coverage(CoverageStatus.ERROR)],
         previous=[stored(F, FindingState.NEW)], state=FindingState.OPEN),
    Case("a reopened finding carried over unseen becomes open", [], [resource(level=Level.UNKNOWN)],
         previous=[stored(F, FindingState.REOPENED)], state=FindingState.OPEN),
    Case("resolved and still absent: nothing to write", [], [], previous=[stored(F, FindingState.RESOLVED)]),
    # Suppressions.
    # A suppression mutes alerts and moves the finding aside for triage; the record of how long the resource was
    # exposed is not its to change: the finding's interval opens when it is present, suppressed or not, and
    # closes only when it resolves.
    Case("suppressed from the first sighting", [F], [resource()], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED, events=[EventType.SUPPRESSED], interval=IntervalOp.OPEN),
    Case("open finding gets suppressed", [F], [resource()], previous=[stored(F, FindingState.OPEN)],
         suppressions=[sup(rule="aws-s3-bucket-*", resource="arn:aws:s3:::da*")],
         state=FindingState.SUPPRESSED, events=[EventType.SUPPRESSED]),
    Case("stays suppressed without an event", [F], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
         suppressions=[sup(fingerprint=F.id)], state=FindingState.SUPPRESSED),
    Case("suppression of another rule does not apply", [F], [resource()],
         suppressions=[sup(rule="aws-s3-bucket-cross-account", resource="*")], state=FindingState.NEW,
         events=[EventType.NEW], interval=IntervalOp.OPEN),
    Case("suppression of another resource does not apply", [F], [resource()],
         suppressions=[sup(rule="*", resource="arn:aws:s3:::other*")], state=FindingState.NEW,
         events=[EventType.NEW], interval=IntervalOp.OPEN),
    Case("expired suppression reopens", [F], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
         suppressions=[sup(fingerprint=F.id, expires=date(2026, 2, 28))], state=FindingState.REOPENED,
         events=[EventType.UNSUPPRESSED]),
    Case("suppression is in force through its expiry day", [F], [resource()],
         previous=[stored(F, FindingState.SUPPRESSED)], suppressions=[sup(fingerprint=F.id, expires=NOW.date())],
         now=NOW.replace(hour=23, minute=59, second=59), state=FindingState.SUPPRESSED),
    Case("suppression ends at midnight UTC after its expiry day", [F], [resource()],
         previous=[stored(F, FindingState.SUPPRESSED)],
         suppressions=[sup(fingerprint=F.id, expires=(NOW - timedelta(days=1)).date())],
         now=NOW.replace(hour=0, minute=0, second=0), state=FindingState.REOPENED,
         events=[EventType.UNSUPPRESSED]),
    Case("removed suppression reopens", [F], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
         state=FindingState.REOPENED, events=[EventType.UNSUPPRESSED]),
    Case("expiry reopens even when the account could not be scanned", [], [],
         cov=[coverage(CoverageStatus.ERROR)], previous=[stored(F, FindingState.SUPPRESSED)],
         suppressions=[sup(fingerprint=F.id, expires=date(2026, 2, 1))], state=FindingState.REOPENED,
         events=[EventType.UNSUPPRESSED]),
    Case("suppression set in config applies to a carried-over finding", [], [], cov=[coverage(CoverageStatus.ERROR)],
         previous=[stored(F, FindingState.OPEN)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED, events=[EventType.SUPPRESSED]),
    Case("a suppressed finding whose resource is fixed resolves", [], [resource(level=Level.PRIVATE)],
         previous=[stored(F, FindingState.SUPPRESSED)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.RESOLVED, events=[EventType.RESOLVED], interval=IntervalOp.CLOSE, resolved=True),
    Case("back while still suppressed is suppressed", [F], [resource()],
         previous=[stored(F, FindingState.RESOLVED, resolved_at=T0)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED, events=[EventType.SUPPRESSED], interval=IntervalOp.OPEN),
    Case("suppressed and carried with the same suppression: nothing to write", [], [],
         cov=[coverage(CoverageStatus.ERROR)],
         previous=[stored(replace(F, suppression=sup(fingerprint=F.id).info()), FindingState.SUPPRESSED)],
         suppressions=[sup(fingerprint=F.id)]),
    # Severity.
    Case("escalation while open", [replace(F, severity=Severity.CRITICAL)], [resource()],
         previous=[stored(F, FindingState.OPEN)], state=FindingState.OPEN, events=[EventType.ESCALATED]),
    Case("de-escalation while open", [F], [resource()], previous=[stored(F, FindingState.OPEN, Severity.CRITICAL)],
         state=FindingState.OPEN, events=[EventType.DEESCALATED]),
    Case("reopened at another severity is a reopening only", [F], [resource()],
         previous=[stored(F, FindingState.RESOLVED, Severity.CRITICAL, resolved_at=T0)],
         state=FindingState.REOPENED, events=[EventType.REOPENED], interval=IntervalOp.OPEN),
    # A muted finding must not page: its severity changes silently (the row keeps the new one, see below).
    Case("escalation of a suppressed finding has no event", [replace(F, severity=Severity.CRITICAL)], [resource()],
         previous=[stored(F, FindingState.SUPPRESSED)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED),
    Case("de-escalation of a suppressed finding has no event", [F], [resource()],
         previous=[stored(F, FindingState.SUPPRESSED, Severity.CRITICAL)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED),
    Case("escalated in the scan that suppresses it: suppressed only", [replace(F, severity=Severity.CRITICAL)],
         [resource()], previous=[stored(F, FindingState.OPEN)], suppressions=[sup(fingerprint=F.id)],
         state=FindingState.SUPPRESSED, events=[EventType.SUPPRESSED]),
    Case("escalated in the scan whose suppression ended: active again, so it escalates",
         [replace(F, severity=Severity.CRITICAL)], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
         state=FindingState.REOPENED, events=[EventType.UNSUPPRESSED, EventType.ESCALATED]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    d = run(case.findings, case.resources, case.cov, case.previous, suppressions=case.suppressions, now=case.now)
    rows = [c for c in d.findings if c.finding.id == F.id]
    if case.state is None:
        assert rows == [], f"no row expected, got {[r.state for r in rows]}"
    else:
        [row] = rows
        assert row.state is case.state
        assert row.finding.state is case.state
        assert row.interval is case.interval
    assert [e.type for e in d.events] == case.events
    for e in d.events:
        assert e.fingerprint == F.id and e.at == case.now and e.scan_id == "scan-2"
        assert e.state is case.state and e.finding is not None and e.finding.state is case.state
    assert [f.id for f in d.resolved] == ([F.id] if case.resolved else [])
    assert [f.id for f in d.current] == [f.id for f in case.findings]


def test_lifecycle_fields_of_a_present_finding() -> None:
    d = run([F], [resource()], previous=[stored(F, FindingState.OPEN)])
    [f] = d.current
    assert (f.state, f.first_seen, f.last_seen, f.resolved_at) == (FindingState.OPEN, "2026-03-01T12:00:00Z",
                                                                   "2026-03-01T13:00:00Z", None)
    assert f.previous_severity is None and f.suppression is None


def test_new_finding_times() -> None:
    [f] = run([F], [resource()]).current
    assert f.first_seen == f.last_seen == "2026-03-01T13:00:00Z"


def test_resolved_finding_fields_and_detail() -> None:
    d = run([], [], previous=[stored(F, FindingState.OPEN)])
    [f] = d.resolved
    assert f.state is FindingState.RESOLVED and f.resolved_at == "2026-03-01T13:00:00Z"
    assert f.last_seen == "2026-03-01T12:00:00Z", "last seen stays the last sighting"
    [e] = d.events
    assert "gone" in e.detail and e.old_state is FindingState.OPEN
    d = run([], [resource(level=Level.PRIVATE)], previous=[stored(F, FindingState.OPEN)])
    assert "no longer matches" in d.events[0].detail


def test_reopened_clears_resolved_at_and_keeps_first_seen() -> None:
    [f] = run([F], [resource()], previous=[stored(F, FindingState.RESOLVED, resolved_at=T0)]).current
    assert f.resolved_at is None and f.first_seen == "2026-03-01T12:00:00Z"


def test_escalation_carries_old_and_new_severity() -> None:
    critical = replace(F, severity=Severity.CRITICAL)
    d = run([critical], [resource()], previous=[stored(F, FindingState.OPEN)])
    [f] = d.current
    assert f.previous_severity is Severity.HIGH and f.severity is Severity.CRITICAL
    [e] = d.events
    assert (e.old_severity, e.severity) == (Severity.HIGH, Severity.CRITICAL)
    [row] = d.findings
    assert row.severity is Severity.CRITICAL


def test_suppressed_finding_takes_the_new_severity_without_an_event() -> None:
    critical = replace(F, severity=Severity.CRITICAL)
    d = run([critical], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
            suppressions=[sup(fingerprint=F.id)])
    assert d.events == ()
    [row] = d.findings
    assert row.state is FindingState.SUPPRESSED and row.severity is Severity.CRITICAL
    assert row.finding.severity is Severity.CRITICAL
    # Once the suppression ends, the reopening carries the current severity.
    stored_row = StoredFinding(row.finding, row.state, row.severity, row.first_seen, row.last_seen)
    d = run([critical], [resource()], previous=[stored_row])
    [e] = d.events
    assert (e.type, e.state, e.severity) == (EventType.UNSUPPRESSED, FindingState.REOPENED, Severity.CRITICAL)


def test_unchanged_severity_has_no_previous_severity() -> None:
    [f] = run([F], [resource()], previous=[stored(F, FindingState.OPEN)]).current
    assert f.previous_severity is None


def test_suppressed_finding_carries_the_suppression() -> None:
    s = sup(fingerprint=F.id)
    [f] = run([F], [resource()], suppressions=[s]).current
    assert f.suppression is not None
    assert f.suppression.to_dict() == {"reason": "public website", "owner": "web-team", "expires": "2026-03-31",
                                       "source": "config"}


def test_expired_suppression_event_says_when() -> None:
    d = run([F], [resource()], previous=[stored(F, FindingState.SUPPRESSED)],
            suppressions=[sup(fingerprint=F.id, expires=date(2026, 2, 28))])
    assert "expired on 2026-02-28" in d.events[0].detail
    assert d.current[0].suppression is None


def test_unknown_public_bucket_raises_unreadable_but_keeps_public_open() -> None:
    """The crux: last scan public, this scan unknown -> the public finding stays open, the unreadable one is new."""
    public = F
    unreadable = finding(rule="aws-resource-unreadable")
    d = run([unreadable], [resource(level=Level.UNKNOWN)], [coverage(CoverageStatus.PARTIAL)],
            previous=[stored(public, FindingState.OPEN)], previous_resources=[stored_resource()])
    assert d.resolved == ()
    assert [e.type for e in d.events] == [EventType.NEW]
    [res] = d.resources
    assert res.resource.public and res.resource.level is Level.PUBLIC and res.resource.unknown
    assert res.interval is IntervalOp.NONE


def test_only_the_findings_of_the_failed_account_are_kept() -> None:
    a = finding(uid="arn:aws:s3:::a", account="111111111111")
    b = finding(uid="arn:aws:s3:::b", account="222222222222")
    d = run([], [], [coverage(CoverageStatus.ERROR, "111111111111"), coverage(CoverageStatus.OK, "222222222222")],
            previous=[stored(a, FindingState.OPEN), stored(b, FindingState.OPEN)])
    assert [f.id for f in d.resolved] == [b.id]


def test_an_account_with_one_failed_coverage_entry_of_several_is_not_complete() -> None:
    for entries in ([coverage(CoverageStatus.OK), coverage(CoverageStatus.ERROR)],
                    [coverage(CoverageStatus.PARTIAL), coverage(CoverageStatus.OK)]):
        d = run([], [], entries, previous=[stored(F, FindingState.OPEN)], previous_resources=[stored_resource()])
        assert d.resolved == () and d.resources == ()


def test_a_failed_scan_resolves_nothing_whatever_it_held() -> None:
    prev = [stored(finding(uid=f"arn:aws:s3:::b{i}"), s) for i, s in
            enumerate([FindingState.NEW, FindingState.OPEN, FindingState.REOPENED, FindingState.SUPPRESSED])]
    d = run([], [], [coverage(CoverageStatus.ERROR)], previous=prev,
            suppressions=[sup(fingerprint=prev[3].fingerprint)])
    assert d.resolved == () and all(e.type is not EventType.RESOLVED for e in d.events)
    assert all(c.state is not FindingState.RESOLVED for c in d.findings)


# --- resources and their public intervals ------------------------------------------------------------------------

RESOURCE_CASES = [
    # name, resources, coverage, previous, expected (public, gone, level) or None, interval
    ("first seen public opens", [resource()], CoverageStatus.OK, None, (True, False, Level.PUBLIC), IntervalOp.OPEN),
    ("first seen private", [resource(level=Level.PRIVATE)], CoverageStatus.OK, None,
     (False, False, Level.PRIVATE), IntervalOp.NONE),
    ("latent is not public", [resource(latent=True)], CoverageStatus.OK, None, (False, False, Level.PUBLIC),
     IntervalOp.NONE),
    ("cross-account is not public", [resource(level=Level.CROSS_ACCOUNT)], CoverageStatus.OK, None,
     (False, False, Level.CROSS_ACCOUNT), IntervalOp.NONE),
    ("still public", [resource()], CoverageStatus.OK, stored_resource(), (True, False, Level.PUBLIC),
     IntervalOp.NONE),
    ("fixed closes", [resource(level=Level.PRIVATE)], CoverageStatus.OK, stored_resource(),
     (False, False, Level.PRIVATE), IntervalOp.CLOSE),
    ("made latent closes", [resource(latent=True)], CoverageStatus.OK, stored_resource(),
     (False, False, Level.PUBLIC), IntervalOp.CLOSE),
    ("unknown keeps public", [resource(level=Level.UNKNOWN)], CoverageStatus.PARTIAL, stored_resource(),
     (True, False, Level.PUBLIC), IntervalOp.NONE),
    ("unknown keeps private", [resource(level=Level.UNKNOWN)], CoverageStatus.PARTIAL,
     stored_resource(level=Level.PRIVATE, public=False), (False, False, Level.PRIVATE), IntervalOp.NONE),
    ("unknown first seen is not public", [resource(level=Level.UNKNOWN)], CoverageStatus.PARTIAL, None,
     (False, False, Level.UNKNOWN), IntervalOp.NONE),
    ("gone from a complete scan closes", [], CoverageStatus.OK, stored_resource(), (False, True, Level.PUBLIC),
     IntervalOp.CLOSE),
    ("absent from a partial scan keeps", [], CoverageStatus.PARTIAL, stored_resource(), None, IntervalOp.NONE),
    ("absent from a failed scan keeps", [], CoverageStatus.ERROR, stored_resource(), None, IntervalOp.NONE),
    ("already gone stays untouched", [], CoverageStatus.OK, stored_resource(public=False, gone=True), None,
     IntervalOp.NONE),
    ("back after gone, public, opens", [resource()], CoverageStatus.OK, stored_resource(public=False, gone=True),
     (True, False, Level.PUBLIC), IntervalOp.OPEN),
]


@pytest.mark.parametrize(("name", "resources", "status", "prev", "expected", "interval"), RESOURCE_CASES,
                         ids=[c[0] for c in RESOURCE_CASES])
def test_resource_transition(name: str, resources: list[Resource], status: CoverageStatus,
                             prev: StoredResource | None, expected: tuple[bool, bool, Level] | None,
                             interval: IntervalOp) -> None:
    d = run([], resources, [coverage(status)], previous_resources=[prev] if prev else [])
    if expected is None:
        assert d.resources == ()
        return
    [change] = d.resources
    r = change.resource
    assert (r.public, r.gone, r.level) == expected
    assert change.interval is interval
    if resources:
        assert r.last_seen == NOW and r.first_seen == (prev.first_seen if prev else NOW)


def test_unknown_verdict_is_recorded_as_unknown_but_keeps_level() -> None:
    [change] = run([], [resource(level=Level.UNKNOWN)], previous_resources=[stored_resource()]).resources
    assert change.resource.unknown and change.resource.level is Level.PUBLIC


# --- suppress / unsuppress outside a scan --------------------------------------------------------------------------

def test_cli_suppress_of_an_open_finding_keeps_its_interval_open() -> None:
    change, event = suppress_change(stored(F, FindingState.OPEN), sup(fingerprint=F.id, source="cli"), NOW)
    assert change.state is FindingState.SUPPRESSED and change.interval is IntervalOp.NONE, "still exposed"
    assert event.type is EventType.SUPPRESSED and event.scan_id is None
    assert change.finding.suppression is not None and change.finding.suppression.source == "cli"


def test_cli_suppress_of_a_resolved_finding_keeps_it_resolved() -> None:
    change, _ = suppress_change(stored(F, FindingState.RESOLVED, resolved_at=T0), sup(fingerprint=F.id), NOW)
    assert change.state is FindingState.RESOLVED and change.resolved_at == T0


def test_cli_unsuppress() -> None:
    out = unsuppress_change(stored(F, FindingState.SUPPRESSED), NOW)
    assert out is not None
    change, event = out
    assert change.state is FindingState.REOPENED and change.interval is IntervalOp.NONE, "it never closed"
    assert event.type is EventType.UNSUPPRESSED
    assert unsuppress_change(stored(F, FindingState.RESOLVED), NOW) is None


@pytest.mark.parametrize(("rule", "resource_glob", "uid", "expected"), [
    ("aws-s3-*", "arn:aws:s3:::public-*", "arn:aws:s3:::public-site", True),
    ("aws-s3-bucket-publi?", "arn:aws:s3:::dat?", BUCKET, True),
    ("aws-s3-*", "arn:aws:s3:::public-*", BUCKET, False),
    # `*` and `?` only: a bracket is itself, not a character class (shell globs would match "data" here).
    ("aws-s3-*", "arn:aws:s3:::[d]ata", BUCKET, False),
    ("aws-s3-*", "arn:aws:s3:::[d]ata", "arn:aws:s3:::[d]ata", True),
])
def test_suppression_globs(rule: str, resource_glob: str, uid: str, expected: bool) -> None:
    assert sup(rule=rule, resource=resource_glob).matches(finding(uid)) is expected


def test_suppression_glob_is_linear() -> None:
    glob = "arn:aws:s3:::" + "a*" * 2000 + "b"
    started = datetime.now(UTC)
    assert not sup(rule="*", resource=glob).matches(finding("arn:aws:s3:::" + "a" * 50_000))
    assert datetime.now(UTC) - started < timedelta(seconds=2)
