"""The pure core of access forensics: counting in bounded memory, which requests count, coverage and gaps, the
honesty rules of the conclusion, and streaming log objects (gzip, overlong lines)."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, date, datetime, timedelta

from cloudwatchdog.forensics.aggregate import Aggregator
from cloudwatchdog.forensics.evidence import Reading, conclude
from cloudwatchdog.forensics.model import AccessRecord, AccessStatus, Operation, Principal, TimeSpan
from cloudwatchdog.forensics.sketch import Distinct, Tally
from cloudwatchdog.forensics.spans import day_coverage
from cloudwatchdog.forensics.stream import MAX_LINE, lines

D = datetime(2024, 3, 1, tzinfo=UTC)


def _t(day: float) -> datetime:
    return D + timedelta(days=day)


def _rec(day: float, who: Principal = Principal.ANONYMOUS, op: Operation = Operation.READ, status: int = 200,
         ip: str = "198.51.100.1", key: str = "k", sent: int = 10) -> AccessRecord:
    return AccessRecord(_t(day), ip, "-", who, op, key, status, sent)


def test_distinct_is_exact_up_to_the_cap_then_an_estimate() -> None:
    d = Distinct(cap=1000)
    for i in range(1000):
        d.add(f"10.0.{i // 256}.{i % 256}")
    assert d.exact and len(d) == 1000
    for i in range(1000, 50_000):
        d.add(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert not d.exact and abs(len(d) - 50_000) < 50_000 * 0.03


def test_tally_keeps_the_top_when_it_prunes() -> None:
    t: Tally[str] = Tally(cap=100)
    for _ in range(50):
        t.add("heavy", 5)
    for i in range(1000):
        t.add(f"rare-{i}", 1)
    assert not t.exact and len(t.counts) <= 100
    assert t.top(1) == [("heavy", 50, 250)]


def test_what_counts_windows_extension_and_principals() -> None:
    agg = Aggregator([TimeSpan(_t(0), _t(3)), TimeSpan(_t(5), _t(6))])
    for record in (
        _rec(-1, ip="203.0.113.1"),  # before the first window: counts (evidence of an earlier start)
        _rec(1), _rec(1.5, op=Operation.LIST, key=""), _rec(2, status=403), _rec(2, op=Operation.OTHER),
        _rec(2, op=Operation.WRITE), _rec(4, ip="203.0.113.4"),  # between windows: not counted
        _rec(5.5, Principal.EXTERNAL, ip="192.0.2.1", key="x"), _rec(5.5, Principal.UNKNOWN, ip="192.0.2.2"),
        _rec(1, Principal.OWNER), _rec(-1, Principal.OWNER), _rec(2, Principal.ORGANISATION),
        _rec(7),  # after the last window
    ):
        agg.add(record)
    c = agg.result()
    assert (c.requests, c.external_requests, c.anonymous_requests) == (7, 5, 3)
    assert (c.owner_requests, c.organisation_requests) == (1, 1)
    assert (c.distinct_ips, c.objects, c.bytes_sent) == (4, 2, 50)
    assert (c.first, c.last, c.first_external) == (_t(-1), _t(5.5), _t(-1))
    assert [(o.key, o.requests) for o in c.objects_read] == [("k", 3), ("x", 1)]


def test_day_coverage_runs_and_reasons() -> None:
    span = TimeSpan(_t(0.25), _t(6.5))
    covered = {date(2024, 3, d) for d in (1, 2, 5, 7)}
    coverage, gaps = day_coverage(span, covered, {date(2024, 3, 6): "log objects unreadable ({days})"})
    assert [(c.start, c.end) for c in coverage] == [(_t(0.25), _t(2)), (_t(4), _t(5)), (_t(6), _t(6.5))]
    assert [(g.start, g.end, g.reason) for g in gaps] == [
        (_t(2), _t(4), "no log objects for 2024-03-03..2024-03-04"),
        (_t(5), _t(6), "log objects unreadable (2024-03-06)")]


def _reading() -> Reading:
    return Reading(TimeSpan(_t(0), _t(2)), Aggregator([TimeSpan(_t(0), _t(2))]))


def test_conclusions_follow_the_honesty_rules() -> None:
    off = _reading()
    off.off.append("server access logging is off")
    e = conclude(off)
    assert e.status is AccessStatus.NO_LOGS and e.gaps[0].reason == "server access logging is off"
    unreadable = _reading()
    unreadable.sources.append("s3-server-access-log")
    unreadable.unreadable.append("the log bucket logs is unreadable: AccessDenied")
    e = conclude(unreadable)
    assert e.status is AccessStatus.UNKNOWN and "AccessDenied" in e.gaps[0].reason and not e.coverage
    empty = _reading()
    empty.sources.append("s3-server-access-log")
    assert conclude(empty).status is AccessStatus.NO_LOGS
    part = _reading()
    part.sources.append("s3-server-access-log")
    part.covered.update({date(2024, 3, 1), date(2024, 3, 3)})
    assert conclude(part).status is AccessStatus.PARTIAL
    full = _reading()
    full.sources.append("s3-server-access-log")
    full.covered.update({date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)})
    e = conclude(full)
    assert e.status is AccessStatus.ANALYSED and not e.gaps
    failed = _reading()
    failed.sources.append("s3-server-access-log")
    failed.covered.update({date(2024, 3, 1), date(2024, 3, 2)})
    failed.failed.update({date(2024, 3, 1): "x", date(2024, 3, 2): "x", date(2024, 3, 3): "x"})
    assert conclude(failed).status is AccessStatus.UNKNOWN


def test_stream_gunzips_and_cuts_overlong_lines() -> None:
    text = b"".join(b"line %d\n" % i for i in range(200_000))
    two_members = gzip.compress(text[:700_000]) + gzip.compress(text[700_000:])
    assert list(lines(io.BytesIO(two_members))) == text.split(b"\n")[:-1]
    assert list(lines(io.BytesIO(b"a\nb"))) == [b"a", b"b"]
    long = list(lines(io.BytesIO(b"x" * (3 * MAX_LINE) + b"\nend\n")))
    assert max(len(x) for x in long) <= 2 * MAX_LINE and long[-1] == b"end"
