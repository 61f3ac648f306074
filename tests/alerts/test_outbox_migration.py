"""Migrations 0002 (the alert outbox), 0003 (its fingerprint index) and 0004 (exposure windows of suppressed
findings, tests/state/test_migrations.py) on both backends: a store created at 0001 with data upgrades to the head
keeping every row, and the new table works afterwards."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from state.helpers import at, bucket, scan
from support.receivers import HttpReceiver

from cloudwatchdog.alerts.outbox.deliver import deliver_due
from cloudwatchdog.alerts.outbox.enqueue import outbox_hook
from cloudwatchdog.config import Config
from cloudwatchdog.model import FindingState, Level
from cloudwatchdog.state import engine as state_engine
from cloudwatchdog.state.migrate import alembic_config, current_revision, head_revision
from cloudwatchdog.state.store import Store


def test_a_store_at_0001_with_data_upgrades_to_the_head_keeping_everything(state_url: str,
                                                                           receiver: HttpReceiver) -> None:
    assert head_revision() == "0008"
    url = make_url(state_url)
    engine = state_engine._engine(url)  # the store's engine (SQLite: BEGIN IMMEDIATE, foreign keys on)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
        with engine.connect() as conn:
            assert current_revision(conn) == "0001"
            assert "alert_outbox" not in inspect(conn).get_table_names()
        old = Store(engine, url)  # the 0001 code path: no migration on open
        old.record_scan(scan([bucket("kept"), bucket("fixed")], when=at(0)))
        old.record_scan(scan([bucket("kept"), bucket("fixed", Level.PRIVATE)], when=at(1)))
        with engine.connect() as conn:
            before = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("scans", "coverage", "findings", "finding_events", "finding_intervals",
                                "resource_state", "resource_intervals")}
    finally:
        engine.dispose()
    assert before["scans"] == 2 and before["finding_events"] == 3

    cfg = Config.model_validate({"notifications": [{"type": "webhook", "name": "w", "url": receiver.url()}]})
    with Store.open(state_url, hooks=[outbox_hook(cfg)]) as upgraded:
        with upgraded._engine.connect() as conn:
            assert current_revision(conn) == "0008"
            indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("alert_outbox")}
            assert indexes["ix_alert_outbox_fingerprint"] == ["fingerprint"]
            after = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in before}
            assert after == before
            assert conn.execute(text("SELECT count(*) FROM alert_outbox")).scalar_one() == 0
        states = {v.finding.resource_name: v.finding.state for v in upgraded.list_findings(states=None)}
        assert states == {"kept": FindingState.OPEN, "fixed": FindingState.RESOLVED}
        assert [e.type.value for e in upgraded.events()] == ["finding.new", "finding.new", "finding.resolved"]
        # The history stands: a still-open finding does not alert again; a change does.
        upgraded.record_scan(scan([bucket("kept"), bucket("fixed")], when=at(2)))
        assert deliver_due(upgraded, cfg).sent == 1
        assert [r.json()["event"] for r in receiver.requests] == ["finding.reopened"]
