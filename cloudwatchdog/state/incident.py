"""What the store knows of one finding's resource, for `cloudwatchdog incident`: its last recorded state, and the
accounts of the organisation (every account the store has seen for that provider)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cloudwatchdog.state.schema import AccountNameRow, ResourceStateRow
from cloudwatchdog.state.store import Store
from cloudwatchdog.state.timefmt import iso, utc


@dataclass(frozen=True)
class StoredResourceFacts:
    resource: dict[str, Any]  # the dossier's "resource"
    first_seen: datetime | None
    known_accounts: frozenset[str]


def resource_facts(store: Store, uid: str, provider: str) -> StoredResourceFacts:
    with store.read_session() as s:
        row = s.get(ResourceStateRow, uid)
        accounts = set(s.scalars(select(ResourceStateRow.account).where(ResourceStateRow.provider == provider)
                                 .distinct()))
        accounts |= set(s.scalars(select(AccountNameRow.account).where(AccountNameRow.provider == provider)))
        if row is None:
            return StoredResourceFacts({"uid": uid, "provider": provider}, None, frozenset(accounts))
        doc = {"uid": row.uid, "provider": row.provider, "account": row.account, "region": row.region,
               "type": row.type, "name": row.name, "level": row.level, "latent": row.latent, "public": row.public,
               "gone": row.gone, "first_seen": iso(row.first_seen), "last_seen": iso(row.last_seen)}
        return StoredResourceFacts(doc, utc(row.first_seen), frozenset(accounts))
