"""What a distributed scan takes from the shared store and the queue, on the PostgreSQL the suite starts: a unit
that ends after its scan timed out leaves nothing (no row, no job) and lands in no later scan; the scan lease is the
store's, whatever the queue; a result that is not its unit's answer is refused."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from daemon.harness import SlowProxy
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from cloudwatchdog.cli import main
from cloudwatchdog.config import Config
from cloudwatchdog.emulators.moto import MotoServer, account_session
from cloudwatchdog.model import CoverageStatus
from cloudwatchdog.services.fleet import assemble, plan_units
from cloudwatchdog.services.fleet_queue import PlannedUnit
from cloudwatchdog.state.fleet import (
    _LEASE_HELD,
    UnitOutcome,
    close_scan,
    finished_units,
    forget_scan,
    open_scan,
    record_unit,
    scan_is_open,
    scan_lease,
    store_identity,
    unit_outcome,
)
from cloudwatchdog.state.schema import FleetUnitRow
from cloudwatchdog.state.store import Store
from fleet.test_distributed_e2e import Workers

ACCOUNT = "100000000001"
OTHER = "100000000002"


def _conninfo(url: str) -> str:
    return str(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def _rows(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(FleetUnitRow)).scalar_one())
    finally:
        engine.dispose()


def _jobs(url: str, scan_id: str) -> list[tuple[str, bool]]:
    with psycopg.connect(_conninfo(url)) as conn:
        return [(str(s), bool(a)) for s, a in conn.execute(
            "SELECT status, abort_requested FROM procrastinate_jobs WHERE args->>'scan_id' = %s", (scan_id,))]


def _registered(url: str) -> bool:
    """Whether a worker has registered in the queue (it then takes jobs)."""
    with psycopg.connect(_conninfo(url)) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_workers')").fetchone() == (None,):
            return False
        return bool(conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone() != (0,))


def _wait(what: str, ready: Any, timeout: float = 60, workers: Workers | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"never: {what}" + (f"\n{workers.text(0)}" if workers else "")
        time.sleep(0.1)


def test_a_unit_that_ends_after_its_scan_timed_out_leaves_nothing_and_lands_in_no_later_scan(
        moto: MotoServer, postgres_url: str, tmp_path: Path) -> None:
    s3 = account_session(moto.endpoint, ACCOUNT).client("s3", endpoint_url=moto.endpoint)
    s3.create_bucket(Bucket="late-bucket")
    with SlowProxy(moto.endpoint, delay=0.0) as proxy:
        cfg: dict[str, Any] = {
            "state": {"url": postgres_url},
            "providers": {"aws": {"endpoint_url": proxy.endpoint, "credential": "emulator", "regions": ["us-east-1"],
                                  "sharing": False, "object_acl_sample": 0,
                                  "accounts": [{"id": ACCOUNT, "role_arn": f"arn:aws:iam::{ACCOUNT}:role/Audit"}]}},
            "fleet": {"heartbeat": 0.3, "stalled_after": 10, "poll_interval": 0.2, "max_attempts": 1,
                      "scan_timeout": 2.5},
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(cfg))
        Store.open(postgres_url).close()  # the store exists before the worker opens it
        workers = Workers(config, tmp_path, 1)
        try:
            _wait("the worker listens", lambda: _registered(postgres_url), 30, workers)
            proxy.delay = 1.0  # every request of the unit takes a second: it outlives the scan's 2.5 s
            assert main(["scan", "-c", str(config), "--output", str(tmp_path / "first"), "--no-progress",
                         "--distributed", "--format", "json"]) == 3
            assert "started" in workers.text(0), "the unit never started: nothing ran late"
            with Store.open(postgres_url) as store:
                [(first, _, complete)] = store.scans()
                [cov] = store.report_data().coverage
            assert not complete and cov.coverage.status is CoverageStatus.ERROR
            assert "timed out" in cov.coverage.errors[0]
            # The scan is over: its rows are gone, its running job is asked to abort (or has stopped already: its
            # request in flight ended), nothing waits in the queue.
            assert _rows(postgres_url) == 0
            assert _jobs(postgres_url, first) in ([("doing", True)], [])

            proxy.delay = 0.0
            late = r": stopped: |result dropped|: done \("  # stopped reading, or dropped what it read
            _wait("the late unit ends", lambda: re.search(late, workers.text(0)) is not None)
            _wait("its job leaves the queue", lambda: _jobs(postgres_url, first) == [])
            assert _rows(postgres_url) == 0 and re.search(r": stopped: |result dropped", workers.text(0))

            # The next scan takes its own unit's answer only.
            cfg["fleet"]["scan_timeout"] = 60
            config.write_text(yaml.safe_dump(cfg))
            assert main(["scan", "-c", str(config), "--output", str(tmp_path / "second"), "--no-progress",
                         "--distributed", "--format", "json"]) == 0
        finally:
            workers.stop()
    with Store.open(postgres_url) as store:
        scans = store.scans()
        [cov] = store.report_data().coverage
    assert len(scans) == 2 and cov.coverage.status is CoverageStatus.OK and cov.coverage.resources >= 1
    second = next(sid for sid, _, _ in scans if sid != first)
    assert _rows(postgres_url) == 0 and _jobs(postgres_url, first) == [] and _jobs(postgres_url, second) == []
    assert workers.text(0).count(f"of scan {second}: done") == 1


def test_a_closed_scan_takes_no_result(postgres_url: str) -> None:
    """The close waits for a result being written, and refuses every later one."""
    Store.open(postgres_url).close()
    engine = create_engine(postgres_url)
    try:
        open_scan(engine, "s1")
        assert record_unit(engine, "s1", UnitOutcome("aws/00000/1", "failed", 1, None, "x", None))
        close_scan(engine, "s1")
        assert not record_unit(engine, "s1", UnitOutcome("aws/00001/2", "failed", 1, None, "late", None))
        assert unit_outcome(engine, "s1", "aws/00001/2") is None
        assert not record_unit(engine, "never-opened", UnitOutcome("aws/00000/1", "ok", 1, None, None, {}))
    finally:
        engine.dispose()


def _schema_url(url: str, schema: str) -> str:
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return str(make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
               .render_as_string(hide_password=False))


def test_the_scan_lease_is_the_stores_whatever_the_queue(postgres_url: str) -> None:
    """Two stores in two schemas of one database do not wait for each other; one store waits for itself, whatever
    queue either scan uses (the lease names no queue)."""
    team_a, team_b = _schema_url(postgres_url, "team_a"), _schema_url(postgres_url, "team_b")
    for url in (team_a, team_b):
        Store.open(url).close()
    engines = {name: create_engine(url) for name, url in
               (("a", team_a), ("a_again", team_a), ("b", team_b))}
    try:
        with engines["a"].connect() as conn:  # the stores are apart: each has its own tables
            assert conn.execute(text("SELECT current_schema()")).scalar() == "team_a"
        with scan_lease(engines["a"]):
            assert _probe(engines["b"]), "a store in another schema waited for this one's scan"
            assert not _probe(engines["a_again"]), "a second scan of the same store did not wait"
        assert _probe(engines["a_again"])
    finally:
        for engine in engines.values():
            engine.dispose()


def _probe(engine: Engine, within: float = 1.0) -> bool:
    """Whether another process's scan_lease(engine) would be had within ``within`` seconds now (taken, released)."""
    got, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with scan_lease(engine):
            got.set()
            leave.wait(30)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    had = got.wait(within)
    leave.set()
    if not had:  # it waits in pg_advisory_lock: let it have the lease once ours is released, then end
        return False
    thread.join(10)
    return True


def test_a_result_that_is_not_its_units_answer_is_refused(postgres_url: str) -> None:
    """Rows written to the shared store by whoever can write there: one that claims another account, scan or
    provider than the unit it answers is the unit's failure, and nothing of it is used."""
    cfg = Config.model_validate({"providers": {"aws": {"accounts": [
        {"id": ACCOUNT, "name": "mine"}, {"id": OTHER}, {"id": "100000000003"}, {"id": "100000000004"},
        {"id": "100000000005"}]}}})
    units = plan_units(cfg)

    def snapshot(account: str, provider: str = "aws") -> dict[str, Any]:
        return {"schema_version": 1, "provider": provider, "account": account, "status": "ok", "calls": {},
                "buckets": [], "access_points": [], "access_point_listings": {}}

    def answer(i: int, snapshots: list[dict[str, Any]], **claims: str) -> UnitOutcome:
        u = units[i]
        result = {"scan_id": "s", "unit": u.key, "provider": u.provider, "account": u.account, **claims,
                  "snapshots": snapshots}
        return UnitOutcome(u.key, "ok", 1, "w", None, result)

    Store.open(postgres_url).close()
    engine = create_engine(postgres_url)
    try:
        open_scan(engine, "s")
        for outcome in (
            answer(0, [snapshot(OTHER)]),  # the unit of ACCOUNT answers with another account's snapshot
            answer(1, [snapshot(OTHER)], scan_id="an-earlier-scan"),  # another scan's answer
            answer(2, [snapshot(units[2].account)], provider="gcp"),  # claims another provider
            answer(3, [snapshot(units[3].account, provider="elsewhere")]),  # holds another provider's answer
            answer(4, [snapshot(units[4].account)]),  # its own
        ):
            assert record_unit(engine, "s", outcome)
        close_scan(engine, "s")
        resources, coverage, failed, kept = assemble(units, lambda key: unit_outcome(engine, "s", key), scan_id="s")
    finally:
        engine.dispose()
    assert [c.account for c in coverage] == [units[4].account] and kept == [snapshot(units[4].account)]
    assert [(c.account, c.status) for c in failed] == [(u.account, CoverageStatus.ERROR) for u in units[:4]]
    assert failed[0].name == "mine"
    assert all("refused" in c.errors[0] for c in failed)
    assert f"account '{OTHER}'" in failed[0].errors[0]
    assert "scan_id 'an-earlier-scan'" in failed[1].errors[0]
    assert "provider 'gcp'" in failed[2].errors[0] and "'elsewhere'" in failed[3].errors[0]
    assert {r.account for r in resources} == {units[4].account}  # nothing of the refused results


def test_a_discovering_unit_may_not_answer_for_an_account_another_unit_reads() -> None:
    cfg = Config.model_validate({"providers": {"aws": {"accounts": [{"id": ACCOUNT}]}}})
    [mine] = plan_units(cfg)
    unit_account = "organization"
    org = PlannedUnit("aws/00001/organization", "aws", unit_account, "organization", {})
    snapshots = [{"schema_version": 1, "provider": "aws", "account": a, "status": "ok", "calls": {}, "buckets": [],
                  "access_points": [], "access_point_listings": {}} for a in (OTHER, ACCOUNT)]
    result = {"scan_id": "s", "unit": org.key, "provider": "aws", "account": unit_account, "snapshots": snapshots}
    outcomes = {org.key: UnitOutcome(org.key, "ok", 1, "w", None, result)}
    _, coverage, failed, _ = assemble([mine, org], outcomes.get, scan_id="s")
    assert coverage == [] and [c.account for c in failed] == [ACCOUNT, "organization"]
    assert f"account '{ACCOUNT}'" in failed[1].errors[0]
    result["snapshots"] = snapshots[:1]  # members the listed units do not read: its own
    assert [c.account for c in assemble([mine, org], outcomes.get, scan_id="s")[1]] == [OTHER]


def test_a_worker_runs_only_its_own_stores_units_of_open_scans(postgres_url: str,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """Two stores sharing a queue: a worker refuses a unit of the other store's scan; a unit of a scan that is
    closed (timed out), or whose coordinator is gone (no one holds the store's scan lease), is a no-op. None of them
    reads anything or writes to the store."""
    from procrastinate.job_context import JobContext
    from procrastinate.jobs import Job

    from cloudwatchdog.services.fleet_queue import TASK, ForeignUnit, make_app
    from cloudwatchdog.state.fleet import store_identity

    Store.open(postgres_url).close()
    cfg = Config.model_validate({"fleet": {"max_attempts": 1}})
    engine = create_engine(postgres_url)
    try:
        ours = store_identity(engine)
        app = make_app(cfg, _conninfo(postgres_url), engine, ours)
        run = app.tasks[TASK].func
        # Were it read, the unit would only reach a closed port on this machine.
        settings = {"endpoint_url": "http://127.0.0.1:1", "credential": "emulator", "accounts": [{"id": ACCOUNT}]}

        def call(scan_id: str, store: str) -> None:
            kwargs = {"scan_id": scan_id, "unit": f"aws/00000/{ACCOUNT}", "provider": "aws", "account": ACCOUNT,
                      "store_of_scan": store, "settings": settings}
            job = Job(id=1, queue=cfg.fleet.queue, lock=None, queueing_lock=None, task_name=TASK, task_kwargs=kwargs)
            run(JobContext(app=app, job=job, start_timestamp=time.time(), abort_reason=lambda: None), **kwargs)

        open_scan(engine, "s")
        with pytest.raises(ForeignUnit):
            call("s", ours.replace("@", "@another-"))
        with caplog.at_level(logging.INFO, logger="cloudwatchdog.fleet"):
            call("s", ours)  # open, but its coordinator is gone: returns at once
        assert "coordinator is gone" in caplog.text and "started" not in caplog.text
        assert finished_units(engine, "s") == set()
        with scan_lease(engine):  # a coordinator waits for it: the unit runs (and fails to reach the port)
            call("s", ours)
        assert finished_units(engine, "s") == {f"aws/00000/{ACCOUNT}"}
        close_scan(engine, "s")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="cloudwatchdog.fleet"):
            call("s2", ours)  # closed, or never open: returns at once
        assert "the scan is closed" in caplog.text and "started" not in caplog.text
        assert finished_units(engine, "s2") == set()
    finally:
        engine.dispose()


def test_whether_a_scan_is_open_is_looked_up_without_taking_its_lease(postgres_url: str) -> None:
    """A worker asks at every heartbeat whether its scan is open (its marker, and a coordinator holding the store's
    lease). It looks in pg_locks rather than trying the lock: a coordinator starting meanwhile never waits for it,
    and no pooled connection can keep the lease. Keys of either sign (the lease's is a hash) are found."""
    store = Store.open(postgres_url)
    engine = store.engine
    identity = store_identity(engine)
    scan_id = "lease-probe"
    try:
        open_scan(engine, scan_id)
        assert not scan_is_open(engine, scan_id, identity)  # the marker, but nobody holds the lease
        with scan_lease(engine):
            assert scan_is_open(engine, scan_id, identity)
            with engine.connect() as conn:  # nothing of it is held by the asking side
                held = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                                         "pg_backend_pid()")).scalar()
            assert held == 0
        assert not scan_is_open(engine, scan_id, identity)
        other = create_engine(make_url(postgres_url))
        try:
            for key in (-(2**63), -12345678901, -1, 1, 2**40 + 7, 2**63 - 1):
                with other.connect() as holder, engine.connect() as conn:
                    assert not conn.execute(_LEASE_HELD, {"k": key}).scalar()
                    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                    assert conn.execute(_LEASE_HELD, {"k": key}).scalar(), key
                    assert not conn.execute(_LEASE_HELD, {"k": key ^ 1}).scalar(), key
                    holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            other.dispose()
    finally:
        forget_scan(engine, scan_id)
        store.close()
