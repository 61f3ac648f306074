"""Data sampling's results per object version, kept in the store (``object_samples``): what an earlier scan found
in an object whose version or ETag is unchanged is not read again. Only counts and masked examples are kept."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.schema import ObjectSampleRow
from cloudwatchdog.state.timefmt import now_utc

if TYPE_CHECKING:
    from cloudwatchdog.state.store import Store

log = logging.getLogger(__name__)


class StoreResultCache:
    """``get`` reads the store; ``put`` collects, ``flush`` writes what a scan found in one transaction (a scan
    that fails before flushing leaves the store as it was)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._new: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> Mapping[str, Any] | None:
        if key in self._new:
            return self._new[key]
        try:
            with self._store.read_session() as s:
                row = s.get(ObjectSampleRow, key)
                return dict(row.result) if row is not None and isinstance(row.result, dict) else None
        except StateError as exc:  # only a cache: an unreadable store means the object is read again
            log.warning("data sampling's earlier results could not be read (the object is read again): %s", exc)
            return None

    def put(self, key: str, result: Mapping[str, Any]) -> None:
        self._new[key] = dict(result)

    def flush(self) -> int:
        """Write the results collected since the last flush; returns how many (0, logged, when the store cannot be
        written: the results are only a cache, the scan is recorded or refused on its own)."""
        if not self._new:
            return 0
        try:
            return self._write()
        except StateError as exc:
            log.warning("data sampling's results were not kept (the next scan reads the objects again): %s", exc)
            return 0

    def _write(self) -> int:
        now = now_utc()
        with self._store.write_session() as s:
            have = set(s.scalars(select(ObjectSampleRow.key).where(ObjectSampleRow.key.in_(list(self._new)))))
            for key, result in self._new.items():
                if key in have:
                    row = s.get(ObjectSampleRow, key)
                    if row is not None:
                        row.result, row.seen_at = result, now
                else:
                    s.add(ObjectSampleRow(key=key, result=result, seen_at=now))
        written = len(self._new)
        self._new.clear()
        return written
