"""Data migrations on both backends: 0004 rebuilds the exposure windows that suppressions cut before, from the
findings' lifecycle events, and leaves every other finding's intervals as they were."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cloudwatchdog.model import Level
from cloudwatchdog.state import engine as state_engine
from cloudwatchdog.state.diff import Suppression
from cloudwatchdog.state.migrate import alembic_config
from cloudwatchdog.state.schema import FindingIntervalRow
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso
from state.helpers import at, bucket, public_finding, scan

Spans = list[tuple[datetime, datetime | None]]


def _fp(name: str) -> str:
    return public_finding(bucket(name)).id


def test_0004_gives_suppressed_findings_back_their_exposure_windows(state_url: str) -> None:
    url = make_url(state_url)
    engine = state_engine._engine(url)
    born_muted = Suppression(reason="site", owner="web", expires=None, source="config", fingerprint=_fp("born"))
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0003")
        old = Store(engine, url)  # no migration on open
        names = ["kept", "was", "fixed", "plain"]
        old.record_scan(scan([bucket(n) for n in names] + [bucket("born")], when=at(0)), suppressions=[born_muted])
        for name in ("kept", "was", "fixed"):
            old.suppress(_fp(name), reason="accepted", owner="o", expires=None, now=at(1))
        old.record_scan(scan([bucket("kept"), bucket("was"), bucket("fixed"), bucket("plain", Level.PRIVATE),
                              bucket("born")], when=at(2)), suppressions=[born_muted])
        old.unsuppress(_fp("was"), now=at(3))
        old.record_scan(scan([bucket("kept"), bucket("was"), bucket("fixed", Level.PRIVATE), bucket("plain"),
                              bucket("born")], when=at(4)), suppressions=[born_muted])
        # What the code before 0004 recorded: a suppression closed the interval, its end opened a new one.
        written: dict[str, Spans] = {
            "kept": [(at(0), at(1))], "was": [(at(0), at(1)), (at(3), None)], "fixed": [(at(0), at(1))],
            "born": [], "plain": [(at(0), at(2)), (at(4), None)]}
        with Session(engine) as s, s.begin():
            s.execute(delete(FindingIntervalRow))
            s.add_all(FindingIntervalRow(fingerprint=_fp(n), started_at=a, ended_at=b)
                      for n, spans in written.items() for a, b in spans)
    finally:
        engine.dispose()

    with Store.open(state_url) as upgraded:
        windows = {v.finding.resource_name: [(i.start, i.end) for i in v.window.intervals]
                   for v in upgraded.list_findings(at=at(5))}
    assert windows == {
        "kept": [(iso(at(0)), None)],  # still suppressed, still public
        "was": [(iso(at(0)), None)],  # suppressed, then unsuppressed: exposed throughout
        "fixed": [(iso(at(0)), iso(at(4)))],  # suppressed, then fixed: exposed until the fix
        "born": [(iso(at(0)), None)],  # suppressed from its first sighting: it had no window at all
        "plain": [(iso(at(0)), iso(at(2))), (iso(at(4)), None)],  # never suppressed: as it was
    }
