"""Shared by the incident end-to-end tests: the store's history of one resource (public for nine days from T0,
then fixed at T1), and times relative to DAY0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from state.helpers import public_finding, scan

from cloudwatchdog.model import Level, Resource
from cloudwatchdog.state.store import Store

DAY0 = (datetime.now(UTC) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
T0 = DAY0 + timedelta(hours=6)  # the first scan that saw it public
T1 = T0 + timedelta(days=9)  # the scan that saw it fixed


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour, minutes=minute)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_history(state_url: str, public: Resource, fixed: Resource, *, private_before: bool = False) -> str:
    """Record the two scans (and, with ``private_before``, an earlier one that saw it private: then it was not
    public the first time a scan saw it); returns the finding's id."""
    finding = public_finding(public)
    with Store.open(state_url) as store:
        if private_before:
            store.record_scan(scan([fixed], [], when=T0 - timedelta(days=1), accounts=[public.account]),
                              now=T0 - timedelta(days=1))
        store.record_scan(scan([public], [finding], when=T0, accounts=[public.account]), now=T0)
        store.record_scan(scan([fixed], [], when=T1, accounts=[public.account]), now=T1)
    return finding.id


def private(r: Resource) -> Resource:
    from dataclasses import replace

    from cloudwatchdog.model import Exposure

    return replace(r, exposure=Exposure(level=Level.PRIVATE))
