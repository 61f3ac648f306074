"""The store on both backends (an SQLite file and a real PostgreSQL server): migrations, recording scans,
lifecycle, exposure windows, suppressions, the event hook's transaction, concurrent writers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from cloudwatchdog.model import CoverageStatus, FindingState, Level, Severity
from cloudwatchdog.state.diff import Event, EventType, Suppression
from cloudwatchdog.state.engine import mask_url, resolve_url
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.migrate import head_revision, upgrade
from cloudwatchdog.state.schema import Base, FindingEventRow, FindingIntervalRow, ResourceIntervalRow, ScanRow
from cloudwatchdog.state.store import Store
from state.helpers import ACCOUNT, at, bucket, public_finding, scan


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    with Store.open(state_url) as s:
        yield s


def _types(store: Store, fingerprint: str | None = None) -> list[str]:
    return [e.type.value for e in store.events(fingerprint)]


# --- schema and migrations -----------------------------------------------------------------------------------------

def test_upgrade_head_on_an_empty_database_equals_the_orm_metadata(state_url: str) -> None:
    engine = create_engine(state_url)
    try:
        assert upgrade(engine) is True
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == []
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
            assert conn.execute(text("SELECT count(*) FROM store_meta")).scalar() == 1
    finally:
        engine.dispose()


def test_opening_an_existing_store_at_head_is_a_no_op_that_keeps_data(state_url: str) -> None:
    with Store.open(state_url) as first:
        first.record_scan(scan([bucket("kept")], when=at(0)))
    engine = create_engine(state_url)
    try:
        assert upgrade(engine) is False
    finally:
        engine.dispose()
    with Store.open(state_url) as again:
        [view] = again.list_findings()
        assert view.finding.resource_name == "kept" and len(again.scans()) == 1


def test_a_schema_newer_than_the_code_is_refused(state_url: str) -> None:
    Store.open(state_url).close()
    engine = create_engine(state_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    with pytest.raises(StateError, match=r"state\.url .*9999_from_the_future.*upgrade cloudwatchdog"):
        Store.open(state_url)


def test_unreachable_postgres_is_a_clear_error_without_the_password() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://watchdog:s3cr3t-pw@127.0.0.1:{port}/state"
    with pytest.raises(StateError) as err:
        Store.open(url)
    message = str(err.value)
    assert message.startswith("state.url postgresql+psycopg://watchdog:***@127.0.0.1")
    assert "s3cr3t-pw" not in message and "cannot open the store" in message


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_bad_urls_are_state_errors(url: str) -> None:
    with pytest.raises(StateError, match=r"^state\.url"):
        Store.open(url)


def test_sqlite_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path}/nope/state.db")


def test_relative_sqlite_paths_resolve_against_the_config_directory(tmp_path: Path) -> None:
    assert resolve_url("sqlite:///cloudwatchdog.db", tmp_path).database == str(tmp_path / "cloudwatchdog.db")
    assert resolve_url("sqlite:////abs/x.db", tmp_path).database == "/abs/x.db"
    assert resolve_url("sqlite://", tmp_path).database is None
    pg = resolve_url("postgresql+psycopg://u:pw@h/db", tmp_path)
    assert pg.database == "db" and pg.password == "pw"
    assert mask_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
    with Store.open("sqlite:///rel.db", base_dir=tmp_path):
        assert (tmp_path / "rel.db").exists()


# --- the lifecycle ---------------------------------------------------------------------------------------------

def test_new_open_resolved_reopened_with_windows(store: Store) -> None:
    public, private = bucket("data"), bucket("data", Level.PRIVATE)
    fp = public_finding(public).id

    r1 = store.record_scan(scan([public], when=at(0)))
    assert [(f.state, f.first_seen, f.last_seen) for f in r1.findings] == [
        (FindingState.NEW, "2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z")]
    r2 = store.record_scan(scan([public], when=at(1)))
    assert [f.state for f in r2.findings] == [FindingState.OPEN]
    assert r2.findings[0].first_seen == "2026-03-01T08:00:00Z" and r2.findings[0].last_seen == "2026-03-01T09:00:00Z"
    r3 = store.record_scan(scan([private], when=at(3)))
    assert r3.findings == ()
    [resolved] = r3.resolved
    assert (resolved.id, resolved.state, resolved.resolved_at) == (fp, FindingState.RESOLVED, "2026-03-01T11:00:00Z")
    r4 = store.record_scan(scan([public], when=at(10)))
    assert [(f.state, f.first_seen, f.resolved_at) for f in r4.findings] == [
        (FindingState.REOPENED, "2026-03-01T08:00:00Z", None)]
    store.record_scan(scan([public], when=at(11)))

    assert _types(store, fp) == ["finding.new", "finding.resolved", "finding.reopened"]
    [view] = store.list_findings(at=at(12))
    assert view.finding.state is FindingState.OPEN
    assert [(i.start, i.end) for i in view.window.intervals] == [
        ("2026-03-01T08:00:00Z", "2026-03-01T11:00:00Z"), ("2026-03-01T18:00:00Z", None)]
    assert view.window.total_seconds == (3 + 2) * 3600
    window = store.resource_window(public.uid, at=at(12))
    assert window.total_seconds == (3 + 2) * 3600 and window.open_since == "2026-03-01T18:00:00Z"


def test_a_failed_scan_resolves_nothing_and_keeps_resources_public(store: Store) -> None:
    store.record_scan(scan([bucket("a"), bucket("b")], when=at(0)))
    failed = store.record_scan(scan([], when=at(1), status=CoverageStatus.ERROR, errors=["AccessDenied"]))
    assert failed.resolved == ()
    assert {v.finding.state for v in store.list_findings()} == {FindingState.OPEN}
    assert store.resource_window(bucket("a").uid, at=at(2)).open_since == "2026-03-01T08:00:00Z"
    partial = store.record_scan(scan([bucket("a", Level.UNKNOWN)], when=at(2), status=CoverageStatus.PARTIAL))
    assert partial.resolved == ()
    # A complete scan in which both are gone resolves them, and closes their public intervals.
    done = store.record_scan(scan([], when=at(3)))
    assert {f.resource_name for f in done.resolved} == {"a", "b"}
    assert store.resource_window(bucket("a").uid, at=at(5)).total_seconds == 3 * 3600


def test_unknown_verdict_keeps_the_public_finding_open(store: Store) -> None:
    public = bucket("maybe")
    store.record_scan(scan([public], when=at(0)))
    unknown = bucket("maybe", Level.UNKNOWN)
    unreadable = public_finding(unknown, Severity.HIGH, rule="aws-resource-unreadable")
    result = store.record_scan(scan([unknown], [unreadable], when=at(1), status=CoverageStatus.PARTIAL))
    assert result.resolved == ()
    states = {v.finding.rule_id: v.finding.state for v in store.list_findings()}
    assert states == {"aws-s3-bucket-public": FindingState.OPEN, "aws-resource-unreadable": FindingState.NEW}


def test_escalation_is_recorded_and_reported(store: Store) -> None:
    b = bucket("grows")
    store.record_scan(scan([b], [public_finding(b, Severity.HIGH)], when=at(0)))
    result = store.record_scan(scan([b], [public_finding(b, Severity.CRITICAL)], when=at(1)))
    [f] = result.findings
    assert (f.severity, f.previous_severity, f.state) == (Severity.CRITICAL, Severity.HIGH, FindingState.OPEN)
    [ev] = [e for e in store.events() if e.type is EventType.ESCALATED]
    assert (ev.old_severity, ev.severity, ev.scan_id) == (Severity.HIGH, Severity.CRITICAL, result.id)
    result = store.record_scan(scan([b], [public_finding(b, Severity.HIGH)], when=at(2)))
    assert result.findings[0].previous_severity is Severity.CRITICAL
    assert _types(store)[-1] == "finding.deescalated"


def test_config_suppression_and_its_expiry(store: Store) -> None:
    b = bucket("website")
    sup = Suppression(reason="static site", owner="web", expires=date(2026, 3, 2), source="config",
                      rule="aws-s3-bucket-public", resource="arn:aws:s3:::web*", label="suppressions[0]")
    r1 = store.record_scan(scan([b], when=at(0)), suppressions=[sup])
    [f] = r1.findings
    assert f.state is FindingState.SUPPRESSED and f.suppression is not None and f.suppression.owner == "web"
    r2 = store.record_scan(scan([b], when=at(30)), suppressions=[sup])  # 2026-03-02 14:00: last day in force
    assert r2.findings[0].state is FindingState.SUPPRESSED
    r3 = store.record_scan(scan([b], when=at(40)), suppressions=[sup])  # 2026-03-03: expired
    assert r3.findings[0].state is FindingState.REOPENED and r3.findings[0].suppression is None
    assert _types(store) == ["finding.suppressed", "finding.unsuppressed"]
    assert "expired on 2026-03-02" in store.events()[-1].detail
    [view] = store.list_findings(at=at(41))
    assert view.window.total_seconds == 41 * 3600, "suppressed time is exposed time: the bucket stayed public"
    assert [(i.start, i.end) for i in view.window.intervals] == [("2026-03-01T08:00:00Z", None)]


def test_cli_suppress_and_unsuppress(store: Store) -> None:
    b = bucket("muted")
    fp = public_finding(b).id
    store.record_scan(scan([b], when=at(0)))
    view = store.suppress(fp[:8], reason="accepted risk", owner="alice", expires=date(2026, 4, 1), now=at(1))
    assert view.finding.state is FindingState.SUPPRESSED
    assert view.finding.suppression is not None and view.finding.suppression.source == "cli"
    # The next scan keeps it suppressed without any config.
    r = store.record_scan(scan([b], when=at(2)))
    assert r.findings[0].state is FindingState.SUPPRESSED and r.findings_at_or_above(Severity.INFO) == []
    view = store.unsuppress(fp, now=at(3))
    assert view.finding.state is FindingState.REOPENED
    assert _types(store, fp) == ["finding.new", "finding.suppressed", "finding.unsuppressed"]
    assert [e.scan_id for e in store.events(fp)][1:] == [None, None]
    assert view.window.total_seconds == 3 * 3600  # public 0..3: suppressed or not
    assert [(i.start, i.end) for i in view.window.intervals] == [("2026-03-01T08:00:00Z", None)]
    with pytest.raises(LookupError, match="no suppression set from the CLI"):
        store.unsuppress(fp, now=at(4))
    with pytest.raises(LookupError, match="no finding"):
        store.suppress("abcdef12", reason="r", owner="o", expires=None)


def test_a_suppression_never_cuts_the_exposure_window(store: Store) -> None:
    """Suppressed while public, and fixed while suppressed: the window is the whole time the bucket was public, in
    `findings list` and in the report's suppressed section."""
    muted, fixed = bucket("muted"), bucket("muted", Level.PRIVATE)
    fp = public_finding(muted).id
    store.record_scan(scan([muted], when=at(0)))
    store.suppress(fp, reason="accepted risk", owner="alice", expires=None, now=at(1))
    store.record_scan(scan([muted], when=at(5)))
    [view] = store.list_findings(at=at(6))
    assert view.finding.state is FindingState.SUPPRESSED
    assert view.window.total_seconds == 6 * 3600 and view.window.open_since == "2026-03-01T08:00:00Z"
    [shown] = store.report_data(at=at(6)).suppressed
    assert shown.window == view.window
    store.record_scan(scan([fixed], when=at(8)))
    [view] = store.list_findings(at=at(10))
    assert view.finding.state is FindingState.RESOLVED
    assert [(i.start, i.end) for i in view.window.intervals] == [("2026-03-01T08:00:00Z", "2026-03-01T16:00:00Z")]


def test_a_finding_suppressed_from_its_first_sighting_has_its_exposure_window(store: Store) -> None:
    b = bucket("site")
    mute = Suppression(reason="site", owner="web", expires=None, source="config", fingerprint=public_finding(b).id)
    store.record_scan(scan([b], when=at(0)), suppressions=[mute])
    store.record_scan(scan([b], when=at(2)), suppressions=[mute])
    [view] = store.list_findings(at=at(2))
    assert view.finding.state is FindingState.SUPPRESSED and view.window.total_seconds == 2 * 3600
    assert store.resource_window(b.uid, at=at(2)).total_seconds == view.window.total_seconds


def test_cli_suppression_expires_at_the_next_scan(store: Store) -> None:
    b = bucket("short")
    fp = public_finding(b).id
    store.record_scan(scan([b], when=at(0)))
    store.suppress(fp, reason="for a day", owner="bob", expires=date(2026, 3, 1), now=at(1))
    result = store.record_scan(scan([b], when=at(24)))
    assert result.findings[0].state is FindingState.REOPENED
    assert _types(store, fp)[-1] == "finding.unsuppressed"


def test_unsuppress_while_the_config_still_suppresses(store: Store) -> None:
    b = bucket("both")
    fp = public_finding(b).id
    config = Suppression(reason="site", owner="web", expires=date(2027, 1, 1), source="config", fingerprint=fp,
                         label="suppressions[3]")
    store.record_scan(scan([b], when=at(0)), suppressions=[config])
    with pytest.raises(LookupError, match=r"by the config \(suppressions\[3\]\)"):
        store.unsuppress(fp, config_suppressions=[config], now=at(1))
    store.suppress(fp, reason="cli too", owner="me", expires=date(2026, 6, 1), now=at(1))
    view = store.unsuppress(fp, config_suppressions=[config], now=at(2))
    assert view.finding.state is FindingState.SUPPRESSED
    assert view.finding.suppression is not None and view.finding.suppression.source == "config"


def test_list_filters(store: Store) -> None:
    other = "222222222222"
    a, b = bucket("a"), bucket("b", account=other)
    store.record_scan(scan([a, b], [public_finding(a, Severity.CRITICAL), public_finding(b, Severity.HIGH)],
                           when=at(0), accounts=[ACCOUNT, other]))
    store.record_scan(scan([a, bucket("b", Level.PRIVATE, account=other)], [public_finding(a)], when=at(1),
                           accounts=[ACCOUNT, other]))

    def names(**kw: Any) -> list[str]:
        return [v.finding.resource_name for v in store.list_findings(**kw)]

    assert names() == ["a", "b"]
    assert names(states=[FindingState.RESOLVED]) == ["b"]
    assert names(states=[FindingState.OPEN, FindingState.NEW]) == ["a"]
    assert names(severities=[Severity.HIGH]) == ["b"]
    assert names(accounts=[other]) == ["b"]
    assert names(providers=["gcp"]) == []


def test_now_never_goes_back(store: Store) -> None:
    # Another account: an older-started scan of the *same* account would be stale (tests/state/test_stale_scans.py).
    other = "222222222222"
    store.record_scan(scan([bucket("x")], when=at(5)))
    late = store.record_scan(scan([bucket("y", account=other)], when=at(1), accounts=[other]))
    assert {f.first_seen for f in late.findings} == {"2026-03-01T13:00:00Z"}


def test_recording_the_same_scan_twice_is_refused(store: Store) -> None:
    result = scan([bucket("x")], when=at(0))
    store.record_scan(result)
    with pytest.raises(StateError, match="already recorded"):
        store.record_scan(result)


# --- the outbox hook: inside the transaction ------------------------------------------------------------------

def test_event_hook_runs_inside_the_recording_transaction(store: Store) -> None:
    seen: list[tuple[str, int | None]] = []

    def hook(session: Session, events: Any) -> None:
        # The scan and its events are visible in this very transaction.
        count = session.execute(select(func.count()).select_from(FindingEventRow)).scalar()
        seen.extend((e.type.value, count) for e in events)
        assert all(isinstance(e, Event) and e.finding is not None for e in events)

    store.add_hook(hook)
    store.record_scan(scan([bucket("h")], when=at(0)))
    assert seen == [("finding.new", 1)]


def test_a_failing_hook_rolls_everything_back(store: Store) -> None:
    store.record_scan(scan([bucket("before")], when=at(0)))

    def broken(session: Session, events: Any) -> None:
        raise RuntimeError("outbox down")

    with pytest.raises(RuntimeError, match="outbox down"):
        store.record_scan(scan([bucket("before"), bucket("after")], when=at(1)), on_events=broken)
    assert len(store.scans()) == 1
    assert [v.finding.resource_name for v in store.list_findings()] == ["before"]
    assert _types(store) == ["finding.new"]


# --- concurrency -------------------------------------------------------------------------------------------------

def test_two_processes_creating_the_same_store_at_once(state_url: str) -> None:
    """Three processes open an empty database at the same moment: one migrates, the others wait and find it done."""
    code = ("import sys, time; from cloudwatchdog.state.store import Store; "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Store.open(sys.argv[1]).close()")
    start = time.time() + 1.5  # all three are running by then
    procs = [subprocess.Popen([sys.executable, "-c", code, state_url, str(start)], stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    failures = [err for p in procs for err in [p.communicate(timeout=120)[1]] if p.returncode != 0]
    assert not failures, failures
    engine = create_engine(state_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
            assert conn.execute(text("SELECT count(*) FROM store_meta")).scalar() == 1
    finally:
        engine.dispose()


def test_two_writers_recording_at_once_do_not_corrupt_the_store(state_url: str) -> None:
    """Two independent Store objects (separate engines and connections, as two processes would have) record scans
    of the same estate at the same time: the writes serialize, so exactly one 'new' and one open interval."""
    Store.open(state_url).close()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(offset: int) -> None:
        try:
            with Store.open(state_url) as s:
                barrier.wait()
                for i in range(6):
                    s.record_scan(scan([bucket("shared"), bucket(f"own-{offset}")], when=at(i)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    # Each writer's scan sees only its own bucket besides the shared one: the other's bucket is absent from a
    # complete scan of the account, so it resolves and reopens as the writers alternate. What must hold whatever the
    # interleaving: every scan recorded, the shared finding new exactly once, never two open intervals at once.
    engine = create_engine(state_url)
    try:
        with Session(engine) as s:
            assert s.execute(select(func.count()).select_from(ScanRow)).scalar() == 12
            shared = public_finding(bucket("shared")).id
            new = s.execute(select(func.count()).select_from(FindingEventRow).where(
                FindingEventRow.fingerprint == shared)).scalar()
            assert new == 1
            for fp in (shared, public_finding(bucket("own-0")).id, public_finding(bucket("own-1")).id):
                open_ = s.execute(select(func.count()).select_from(FindingIntervalRow).where(
                    FindingIntervalRow.fingerprint == fp, FindingIntervalRow.ended_at.is_(None))).scalar()
                assert open_ is not None and open_ <= 1
            open_public = s.execute(select(func.count()).select_from(ResourceIntervalRow).where(
                ResourceIntervalRow.uid == bucket("shared").uid, ResourceIntervalRow.ended_at.is_(None))).scalar()
            assert open_public == 1
    finally:
        engine.dispose()
