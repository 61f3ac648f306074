"""Suppressions no longer cut exposure windows: a finding's interval stays open while it is suppressed (its resource
stayed exposed) and closes only when the finding resolves. Before, suppressing a finding closed its interval and
ending the suppression opened a new one, and a finding suppressed from its first sighting had none. The intervals of
every finding that was ever suppressed are rebuilt from its lifecycle events (each holds the state after it: the
finding is present from an event that leaves it new, open, reopened or suppressed until one that leaves it
resolved), so the history recorded before says what the store now records. No schema change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

PRESENT = frozenset({"new", "open", "reopened", "suppressed"})
_CHUNK = 500

events = sa.table("finding_events", sa.column("id", sa.Integer()), sa.column("fingerprint", sa.String(64)),
                  sa.column("at", sa.DateTime(timezone=True)), sa.column("type", sa.String(32)),
                  sa.column("state", sa.String(16)))
intervals = sa.table("finding_intervals", sa.column("fingerprint", sa.String(64)),
                     sa.column("started_at", sa.DateTime(timezone=True)),
                     sa.column("ended_at", sa.DateTime(timezone=True)))


def _spans(history: list[tuple[datetime, str]]) -> list[tuple[datetime, datetime | None]]:
    spans: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for at, state in history:
        if state in PRESENT and start is None:
            start = at
        elif state not in PRESENT and start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


def upgrade() -> None:
    conn = op.get_bind()
    muted = sorted(conn.execute(sa.select(events.c.fingerprint).where(events.c.type == "finding.suppressed")
                                .distinct()).scalars())
    for i in range(0, len(muted), _CHUNK):
        chunk = muted[i:i + _CHUNK]
        history: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for fingerprint, at, state in conn.execute(
                sa.select(events.c.fingerprint, events.c.at, events.c.state)
                .where(events.c.fingerprint.in_(chunk)).order_by(events.c.id)):
            history[fingerprint].append((at, state))
        rows: list[dict[str, Any]] = [{"fingerprint": fp, "started_at": start, "ended_at": end}
                                      for fp in chunk for start, end in _spans(history[fp])]
        conn.execute(sa.delete(intervals).where(intervals.c.fingerprint.in_(chunk)))
        if rows:
            conn.execute(sa.insert(intervals), rows)


def downgrade() -> None:
    """Nothing to undo: the schema is unchanged, and the rebuilt intervals are what older versions read too."""
