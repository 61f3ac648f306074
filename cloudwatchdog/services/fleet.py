"""Distributed scans (``scan --distributed``, the daemon with ``fleet.distributed``, ``cloudwatchdog worker``).

The coordinator splits the scan into units (``Provider.units``: one per account, project or subscription, discovery
done here once), enqueues them on a procrastinate queue in PostgreSQL and waits; workers on any number of machines
run each unit's ``collect`` and write its raw snapshots to the shared state store (``fleet_units``). When every unit
has an outcome, the coordinator analyses the snapshots unit by unit, then samples data, evaluates the rules and
checks the exposures exactly as ``services.scan.run_scan`` does (``judge``), so the findings, alerts and reports
equal a single-process scan's; a failed unit is its account's coverage ``error`` (it resolves nothing). The caller
records the result the usual way (services.record: one transaction). A scan lease (a PostgreSQL advisory lock
keyed by the store's database and schema, state.fleet.store_identity) keeps two distributed scans of one store
apart, whatever their queues; a scan takes unit results only while it waits for them (state.fleet: open, close),
so a unit that ends after its scan timed out is dropped, and a result that is not its unit's answer (another scan,
unit, provider or account) is refused as the unit's failure.

Rate limits: a unit is one account, so no two workers ever read one account at once; inside a unit the provider's
own concurrency (``max_workers``) and retry mode (AWS: adaptive) apply, as in a single-process scan.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cloudwatchdog.config import Config
from cloudwatchdog.errors import UsageError
from cloudwatchdog.model import Coverage, CoverageStatus, Resource, ScanResult, Snapshot
from cloudwatchdog.providers.base import shared_trust
from cloudwatchdog.providers.registry import PROVIDERS
from cloudwatchdog.rules.loader import Rule
from cloudwatchdog.services.fleet_queue import PlannedUnit
from cloudwatchdog.services.scan import _start, analyse_snapshots, judge
from cloudwatchdog.text import scrub_value

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from cloudwatchdog.data.budget import ResultCache
    from cloudwatchdog.state.fleet import UnitOutcome
    from cloudwatchdog.state.store import Store


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def require_engine() -> None:
    """A clear error, before anything is read, when the queue library is not installed."""
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        raise UsageError("distributed scans need procrastinate: pip install 'cloudwatchdog[fleet]'") from None


def queue_conninfo(cfg: Config, store_url: URL) -> str:
    """The queue database as a libpq connection string: ``fleet.url``, else the state store's (PostgreSQL)."""
    from sqlalchemy.engine import make_url

    url = make_url(cfg.fleet.url) if cfg.fleet.url else store_url
    if url.get_backend_name() != "postgresql" or store_url.get_backend_name() != "postgresql":
        raise UsageError("distributed scans need PostgreSQL: the queue and the units' results live there "
                         "(set state.url to postgresql+psycopg://..., or fleet.url for the queue)")
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def plan_units(cfg: Config) -> list[PlannedUnit]:
    """Every enabled provider's units, in the order a single-process scan reads their accounts."""
    units: list[PlannedUnit] = []
    for name, section in cfg.providers.enabled().items():
        for i, unit in enumerate(PROVIDERS.get(name).units(section)):
            key = f"{name}/{i:05d}/{unit.account}"[:300]
            units.append(PlannedUnit(key, name, unit.account, unit.name, unit.settings.model_dump(mode="json")))
    return units


def _snapshots(outcome: UnitOutcome) -> list[Snapshot] | None:
    result = outcome.result
    found = result.get("snapshots") if isinstance(result, dict) else None
    if isinstance(found, list) and all(isinstance(s, dict) for s in found):
        return found
    return None


# Units that stand for a discovery (an organization, discovered projects or subscriptions): they may find nothing.
_SEVERAL = frozenset({"organization", "discovered"})
# Units whose accounts are not known before they run: a discovery, or AWS's default-chain account.
_UNNAMED = _SEVERAL | {"default"}


def _claimed(value: object) -> str:
    return repr(scrub_value(str(value))[:80])


def _foreign(unit: PlannedUnit, scan_id: str, result: object, owned: set[tuple[str, str]],
             resources: Sequence[Resource], coverage: Sequence[Coverage]) -> str | None:
    """Why a unit's result is not this unit's answer (None: it is): it must name this scan, this unit, its provider
    and account, and say nothing of another provider or account (of an account another unit reads, for a unit
    that discovers its accounts)."""
    claims = {"scan_id": scan_id, "unit": unit.key, "provider": unit.provider, "account": unit.account}
    for name, expected in claims.items():
        got = result.get(name) if isinstance(result, dict) else None
        if got != expected:
            return f"its result claims {name} {_claimed(got)}, not {expected!r}"
    for provider, account in [*((r.provider, r.account) for r in resources), *((c.provider, c.account)
                                                                                for c in coverage)]:
        if provider != unit.provider:
            return f"its result holds provider {_claimed(provider)}'s answers, not {unit.provider!r}'s"
        if (account.casefold() != unit.account.casefold() if unit.account not in _UNNAMED
                else (provider, account) in owned):
            return f"its result holds account {_claimed(account)}, not {unit.account!r}"
    return None


def _united_trust(units: Sequence[PlannedUnit], outcome_of: Callable[[str], UnitOutcome | None],
                  scan_id: str) -> dict[str, dict[str, set[str]]]:
    """Per provider that judges an account with the whole scan's trust (``providers.base.SharedTrust``), what its
    units' snapshots trust, united: one pass over the results before any is analysed. Only a result that answers
    for its own unit of this scan counts (a refused one adds nothing); what each unit's settings name counts
    whether it was read or not (``plan_trust``), as one process trusts every account it targets."""
    out: dict[str, dict[str, set[str]]] = {}
    for unit in units:
        sharing = shared_trust(PROVIDERS.get(unit.provider))
        if sharing is None:
            continue
        for key, values in sharing.plan_trust(unit.settings).items():
            out.setdefault(unit.provider, {}).setdefault(key, set()).update(values)
        outcome = outcome_of(unit.key)
        found = _snapshots(outcome) if outcome is not None and outcome.status == "ok" else None
        result = outcome.result if outcome is not None else None
        claims = {"scan_id": scan_id, "unit": unit.key, "provider": unit.provider, "account": unit.account}
        if not found or not isinstance(result, dict) or any(result.get(k) != v for k, v in claims.items()):
            continue
        united = out.setdefault(unit.provider, {})
        for snapshot in found:
            if snapshot.get("provider") not in (None, unit.provider) or (
                    unit.account not in _UNNAMED and snapshot.get("account") != unit.account):
                continue
            for key, values in sharing.scan_trust(scrub_value(snapshot)).items():
                united.setdefault(key, set()).update(values)
    return out


def assemble(units: Sequence[PlannedUnit], outcome_of: Callable[[str], UnitOutcome | None], *, scan_id: str,
             keep_raw: bool = True, raw_sink: Callable[[Snapshot], None] | None = None,
             ) -> tuple[list[Resource], list[Coverage], list[Coverage], list[Snapshot]]:
    """The units' results in plan order, read and analysed one unit at a time (a unit's raw answers are let go
    once analysed unless ``keep_raw``; ``raw_sink`` is given those of each unit whose result is used): (resources,
    coverage, an ``error`` coverage entry for each unit without a result of its own, the raw snapshots kept). A
    result that is not the unit's answer to ``scan_id`` (another scan, unit, provider or account) is refused: the
    unit failed, nothing of it is used."""
    resources: list[Resource] = []
    coverage: list[Coverage] = []
    failed: list[Coverage] = []
    kept: list[Snapshot] = []
    owned = {(u.provider, u.account) for u in units if u.account not in _UNNAMED}
    trust = _united_trust(units, outcome_of, scan_id)
    for unit in units:
        outcome = outcome_of(unit.key)
        found = _snapshots(outcome) if outcome is not None and outcome.status == "ok" else None
        why = (outcome.error if outcome is not None and outcome.error else "no result was recorded")
        if found == [] and unit.account not in _SEVERAL:
            found = None  # one account's collect always says something of it, if only why it cannot be read
        if found is not None and outcome is not None:
            found = [scrub_value(s) for s in found]
            sharing = shared_trust(PROVIDERS.get(unit.provider))
            if sharing is not None and unit.provider in trust:
                found = [sharing.with_trust(s, trust[unit.provider]) for s in found]
            more, cov = analyse_snapshots(found)
            refused = _foreign(unit, scan_id, outcome.result, owned, more, cov)
            if refused is None:
                resources.extend(more)
                coverage.extend(cov)
                if keep_raw:
                    kept.extend(found)
                if raw_sink is not None:
                    for snapshot in found:
                        raw_sink(snapshot)
                continue
            why = f"refused: {refused}"
        failed.append(Coverage(unit.provider, unit.account, CoverageStatus.ERROR, 0,
                               (f"distributed scan: the unit failed: {why}",), name=unit.name))
    return resources, coverage, failed, kept


def run_distributed_scan(cfg: Config, rules: Sequence[Rule], store: Store, *,
                         progress: Callable[[int, int], None] | None = None,
                         sample_cache: ResultCache | None = None, keep_raw: bool = True,
                         raw_sink: Callable[[Snapshot], None] | None = None) -> ScanResult:
    """Scan through the queue and the workers; the result is recorded by the caller (services.record).
    ``keep_raw=False``: the units' raw answers are not kept beyond their analysis (``ScanResult.raw`` is empty).
    ``raw_sink``: given each used unit's raw answers as they are analysed (``--save-raw``)."""
    from cloudwatchdog.services.fleet_queue import coordinate
    from cloudwatchdog.state.fleet import (
        close_scan,
        forget_other_scans,
        forget_scan,
        open_scan,
        scan_lease,
        unit_outcome,
    )

    require_engine()
    conninfo = queue_conninfo(cfg, store.url)
    scan_id = str(uuid.uuid4())
    started, exact = _start()
    with _fleet_errors(conninfo, store), scan_lease(store.engine):
        units = plan_units(cfg)
        forget_other_scans(store.engine, scan_id)  # rows of scans whose coordinator died: nobody reads them
        open_scan(store.engine, scan_id)
        try:
            coordinate(cfg, conninfo, store.engine, scan_id, units, progress)
            close_scan(store.engine, scan_id)  # the rows are final: a unit that ends now writes nothing
            resources, coverage, failed, kept = assemble(
                units, lambda key: unit_outcome(store.engine, scan_id, key), scan_id=scan_id, keep_raw=keep_raw,
                raw_sink=raw_sink)
        finally:
            forget_scan(store.engine, scan_id)
    resources, findings = judge(cfg, rules, resources, sample_cache)
    return ScanResult(id=scan_id, started_at=started, finished_at=_now(), coverage=(*coverage, *failed),
                      resources=tuple(resources), findings=tuple(findings), raw=tuple(kept),
                      started_at_exact=exact)


def run_worker(cfg: Config, store: Store) -> None:
    """``cloudwatchdog worker``: run units from the queue until SIGINT/SIGTERM."""
    from cloudwatchdog.services.fleet_queue import run_worker as run

    require_engine()
    conninfo = queue_conninfo(cfg, store.url)
    with _fleet_errors(conninfo, store):
        run(cfg, conninfo, store.engine)


@contextmanager
def _fleet_errors(conninfo: str, store: Store) -> Iterator[None]:
    """A state store or queue database that cannot be reached or used (at the start or later) is a state error:
    one line naming which, without its password, exit 2; never an unexpected error with a traceback."""
    import psycopg
    from procrastinate.exceptions import ConnectorException
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from cloudwatchdog.state.engine import clean_message
    from cloudwatchdog.state.errors import StateError

    try:
        yield
    except SQLAlchemyError as exc:
        raise StateError(f"distributed scan: the state store {store.display_url} cannot be used: "
                         f"{clean_message(exc, store.url)}") from None
    except (psycopg.Error, ConnectorException) as exc:
        url = make_url(conninfo)
        cause = exc.__cause__ if isinstance(exc, ConnectorException) and exc.__cause__ is not None else exc
        raise StateError(f"distributed scan: the queue database {url.render_as_string(hide_password=True)} "
                         f"cannot be used: {clean_message(cause, url)}") from None
