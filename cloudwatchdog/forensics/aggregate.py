"""Streaming aggregation of parsed access records into the dossier's counts, in bounded memory.

Counted: successful (HTTP 2xx) reads and lists. External requests (anonymous, external or unknown principals) count
during the exposure windows and before the first one (from the earliest one the logs show: the logs prove the
exposure began by then); the owner's and the organisation's requests count during the windows only, apart. A
request whose principal the log cannot name (``unknown``: every request in a GCS usage log, the owner's own
included) proves nothing about an earlier start: before the first window it counts only from ``extended_from`` (the
start the provider's evidence extends the window back to), and it is never the first external access.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cloudwatchdog.forensics.model import (
    AccessCounts,
    AccessRecord,
    ClientCount,
    ObjectCount,
    Operation,
    Principal,
    TimeSpan,
)
from cloudwatchdog.forensics.sketch import Distinct, Tally

TOP = 10
_COUNTED_OPS = (Operation.READ, Operation.LIST)


class Aggregator:
    def __init__(self, windows: Sequence[TimeSpan], *, top: int = TOP, distinct_cap: int = 100_000,
                 tally_cap: int = 50_000, extended_from: datetime | None = None) -> None:
        if not windows:
            raise ValueError("no exposure window to analyse")
        self._windows = sorted(((w.start, w.end) for w in windows), key=lambda w: w[0])
        self._first_start = self._windows[0][0]
        self._extended_from = min(extended_from or self._first_start, self._first_start)
        self._end = max(e for _, e in self._windows)
        self._top = top
        self.lines = 0
        self.skipped = 0
        self._requests = self._external = self._anonymous = self._owner = self._org = self._bytes = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._first_external: datetime | None = None
        self._ips = Distinct(distinct_cap)
        self._objects = Distinct(distinct_cap)
        self._clients: Tally[tuple[str, str]] = Tally(tally_cap)
        self._reads: Tally[str] = Tally(tally_cap)

    def _in_window(self, t: datetime) -> bool:
        return any(s <= t <= e for s, e in self._windows)

    def add(self, r: AccessRecord) -> None:
        if r.operation not in _COUNTED_OPS or not 200 <= r.status < 300:
            return
        t = r.time
        external = r.principal.external
        if r.principal is Principal.UNKNOWN and t < self._first_start:
            if t < self._extended_from:
                return  # it may be the owner's own: no evidence of an earlier exposure
        elif external and (self._first_external is None or t < self._first_external):
            self._first_external = t
        if t > self._end:
            return
        if not external:
            if t >= self._first_start and self._in_window(t):
                self._requests += 1
                if r.principal is Principal.OWNER:
                    self._owner += 1
                else:
                    self._org += 1
            return
        if t >= self._first_start and not self._in_window(t):
            return  # between two windows: the store saw it closed then
        self._requests += 1
        self._external += 1
        if r.principal is Principal.ANONYMOUS:
            self._anonymous += 1
        self._bytes += r.bytes_sent
        if self._first is None or t < self._first:
            self._first = t
        if self._last is None or t > self._last:
            self._last = t
        self._ips.add(r.ip)
        self._clients.add((r.ip, r.requester), r.bytes_sent)
        if r.operation is Operation.READ and r.key:
            self._objects.add(r.key)
            self._reads.add(r.key, r.bytes_sent)

    def result(self) -> AccessCounts:
        return AccessCounts(
            requests=self._requests, external_requests=self._external, anonymous_requests=self._anonymous,
            owner_requests=self._owner, organisation_requests=self._org,
            distinct_ips=len(self._ips), distinct_ips_exact=self._ips.exact and self._objects.exact,
            objects=len(self._objects), bytes_sent=self._bytes, first=self._first, last=self._last,
            top_clients=tuple(ClientCount(ip, who, n, b) for (ip, who), n, b in self._clients.top(self._top)),
            objects_read=tuple(ObjectCount(k, n, b) for k, n, b in self._reads.top(self._top)),
            ranking_exact=self._clients.exact and self._reads.exact,
            lines=self.lines, skipped_lines=self.skipped, first_external=self._first_external,
        )
