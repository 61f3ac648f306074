"""The state store (I/O): SQLite by default, PostgreSQL by URL. Every write is one transaction that first locks the
store's meta row, so two processes recording scans into one PostgreSQL store (or one SQLite file) are serialized
instead of interleaved. Lifecycle events are persisted in the same transaction, and event hooks (the future alert
outbox) run inside it too, receiving the session and the events.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, func, insert, or_, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cloudwatchdog.model import FindingState, ScanResult, Severity, target_key
from cloudwatchdog.report_model import ExposureWindow, ReportData, ReportFinding
from cloudwatchdog.state.diff import (
    Event,
    FindingChange,
    IntervalOp,
    ResourceChange,
    Suppression,
    diff_scan,
    find_suppression,
    suppress_change,
    unsuppress_change,
)
from cloudwatchdog.state.engine import clean_message, mask_url, open_engine
from cloudwatchdog.state.errors import StateError
from cloudwatchdog.state.rows import event_from_row, row_finding, stored_finding, stored_resource
from cloudwatchdog.state.schema import (
    AccountNameRow,
    CoverageRow,
    FindingEventRow,
    FindingIntervalRow,
    FindingRow,
    ReportRow,
    ResourceIntervalRow,
    ResourceStateRow,
    ScanRow,
    StoreMeta,
    SuppressionRow,
    TargetedCoverageRow,
)
from cloudwatchdog.state.timefmt import now_utc, parse_iso, scan_start, utc
from cloudwatchdog.state.windows import Span, exposure_window

# Receives the open session and the events of one write, inside its transaction (e.g. to fill an alert outbox).
EventHook = Callable[[Session, Sequence[Event]], None]

_CHUNK = 500
Key3 = tuple[str, str, str]  # (provider, account, type:name)

log = logging.getLogger(__name__)
_T = TypeVar("_T")


def _chunks(items: Collection[_T]) -> Iterator[list[_T]]:
    seq = list(items)
    for i in range(0, len(seq), _CHUNK):
        yield seq[i:i + _CHUNK]


class Store:
    """``with Store.open(url) as store: store.record_scan(result)``."""

    def __init__(self, engine: Engine, url: URL, hooks: Sequence[EventHook] = ()) -> None:
        self._engine = engine
        self.url = url
        self._hooks = list(hooks)

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @property
    def engine(self) -> Engine:
        """For modules that keep their own tables in the store (the alert outbox); use it with the store's locking
        in mind (SQLite writes take BEGIN IMMEDIATE)."""
        return self._engine

    @classmethod
    def open(cls, url: str | URL, *, base_dir: Path | None = None, hooks: Sequence[EventHook] = (),
             create: bool = True) -> Store:
        """Open (creating or upgrading the schema as needed). Raises StateError naming ``state.url``.
        ``create=False``: a missing SQLite file is an error (commands that only read the store)."""
        engine, u = open_engine(url, base_dir=base_dir, create=create)
        return cls(engine, u, hooks)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add_hook(self, hook: EventHook) -> None:
        self._hooks.append(hook)

    # --- transactions -------------------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StateError(f"state.url {self.display_url}: {clean_message(exc, self.url)}") from None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One transaction, serialized with every other writer by a lock on the meta row."""
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                session.execute(select(StoreMeta).where(StoreMeta.id == 1).with_for_update()).scalar_one()
                yield session
        except SQLAlchemyError as exc:
            raise StateError(f"state.url {self.display_url}: {clean_message(exc, self.url)}") from None

    # Public for the store's companions (state/sample_cache.py): one read, or one serialized write transaction.
    read_session = _read
    write_session = _write

    def _emit(self, session: Session, events: Sequence[Event], extra: EventHook | None) -> None:
        for chunk in _chunks(events):  # bulk, a batch at a time
            session.execute(insert(FindingEventRow), [{
                "fingerprint": e.fingerprint, "scan_id": e.scan_id, "at": e.at, "type": e.type.value,
                "state": e.state.value, "severity": e.severity.value,
                "old_state": e.old_state.value if e.old_state else None,
                "old_severity": e.old_severity.value if e.old_severity else None, "detail": e.detail}
                for e in chunk])
        for hook in (*self._hooks, *([extra] if extra else [])):
            hook(session, events)

    # --- recording a scan ---------------------------------------------------------------------------------------

    def record_scan(self, result: ScanResult, *, suppressions: Sequence[Suppression] = (),
                    now: datetime | None = None, on_events: EventHook | None = None) -> ScanResult:
        """Record ``result``: the scan, its coverage, every finding's new state, events and exposure intervals,
        all in one transaction. Returns the result with lifecycle fields filled and ``resolved`` set.

        ``now`` dates the changes (default: the scan's end). It never goes back before an already recorded scan,
        so intervals stay ordered even when two scans finish out of order.

        A scan is stale for an account when a scan of that account that *started* later is already recorded (a
        replica, or a shorter scan that overtook a long one): its observations there are older than what the store
        knows, so the scan and its coverage are recorded but its findings and resources of that account are not
        applied (they would reopen fixed findings and invent exposure). Suppressions still start and end as usual."""
        when = utc(now) if now is not None else parse_iso(result.finished_at)
        with self._write() as s:
            if s.get(ScanRow, result.id) is not None:
                raise StateError(f"state.url {self.display_url}: scan {result.id} is already recorded")
            latest = s.execute(select(func.max(ScanRow.recorded_at))).scalar()
            if latest is not None and utc(latest) > when:
                when = utc(latest)
            scanned = {(c.provider, c.account) for c in result.coverage} | \
                {(r.provider, r.account) for r in result.resources}
            started = scan_start(result.started_at, result.started_at_exact)
            stale, later = self._newer(s, scanned, started)
            for (provider, account), newer in sorted(stale.items()):
                log.warning("scan %s (started %s) is older than scan %s of %s account %s: its observations of "
                            "that account are not applied", result.id, result.started_at, newer, provider, account,
                            extra={"event": "scan_superseded", "scan_id": result.id, "superseded_by": newer,
                                   "provider": provider, "account": account})
            fresh_findings = [f for f in result.findings if (f.provider, f.account) not in stale
                              and (f.provider, f.account, target_key(f.resource_type, f.resource_name)) not in later]
            fresh_resources = [r for r in result.resources if (r.provider, r.account) not in stale
                               and (r.provider, r.account, target_key(r.type, r.name)) not in later]
            fresh_coverage = [c for c in result.coverage if (c.provider, c.account) not in stale]
            finding_rows = self._load_findings(s, scanned - stale.keys(), {f.id for f in fresh_findings})
            resource_rows = self._load_resources(s, scanned - stale.keys(), {r.uid for r in fresh_resources})
            # The stored rows as plain values (a resource a later targeted rescan saw is left to it): their ORM
            # objects are dropped (memory), only the keys are kept.
            previous = {fp: stored_finding(row) for fp, row in finding_rows.items()
                        if (row.provider, row.account, target_key(str(row.data.get("resource_type")),
                                                                  str(row.data.get("resource_name")))) not in later}
            previous_resources = {uid: stored_resource(row) for uid, row in resource_rows.items()
                                  if (row.provider, row.account, target_key(row.type, row.name)) not in later}
            del finding_rows, resource_rows
            s.expunge_all()
            all_suppressions = [*self._cli_suppressions(s), *suppressions]
            d = diff_scan(scan_id=result.id, now=when, findings=fresh_findings, resources=fresh_resources,
                          coverage=fresh_coverage, previous=previous, previous_resources=previous_resources,
                          suppressions=all_suppressions)
            s.add(ScanRow(id=result.id, started_at=started,
                          finished_at=parse_iso(result.finished_at), recorded_at=when, complete=result.complete,
                          resources=len(result.resources), findings=len(result.findings)))
            s.flush()  # rows of different tables without ORM relationships: insert in FK order explicitly
            s.add_all(CoverageRow(scan_id=result.id, provider=c.provider, account=c.account, status=c.status.value,
                                  resources=c.resources, api_calls=c.api_calls, errors=list(c.errors))
                      for c in result.coverage)
            s.add_all(TargetedCoverageRow(scan_id=result.id, provider=c.provider, account=c.account,
                                          targets=list(c.targets)) for c in result.coverage if c.targets is not None)
            s.flush()
            for c in result.coverage:  # names as the config or discovery gives them now
                if c.name:
                    s.merge(AccountNameRow(provider=c.provider, account=c.account, name=c.name[:200]))
            self._apply_findings(s, d.findings, when, result.id, previous.keys())
            self._apply_resources(s, d.resources, when, result.id, previous_resources.keys())
            self._emit(s, d.events, on_events)
            current = {f.id: f for f in d.current}
            # A stale account's findings are returned as the store knows them (the newer scan's view); one the
            # store does not hold is returned as observed.
            for f in result.findings:
                if f.id not in current:
                    row = s.get(FindingRow, f.id)
                    current[f.id] = row_finding(row) if row is not None else f
        return replace(result, findings=tuple(current[f.id] for f in result.findings), resolved=d.resolved)

    def _newer(self, s: Session, scanned: set[tuple[str, str]],
               started: datetime) -> tuple[dict[tuple[str, str], str], set[Key3]]:
        """What scans that started after ``started`` already recorded of the scanned accounts: the accounts a full
        scan covered (each with the id of the latest such scan), and the resources (provider, account, ``type:name``)
        a targeted rescan read (it supersedes an older scan for those only)."""
        rows: list[tuple[str, str, str]] = []
        read_ok: set[tuple[str, str, str]] = set()  # (scan, provider, account) whose coverage is ok
        for chunk in _chunks(sorted({a for _, a in scanned})):
            q = (select(CoverageRow.provider, CoverageRow.account, ScanRow.id, CoverageRow.status)
                 .join(ScanRow, CoverageRow.scan_id == ScanRow.id)
                 .where(CoverageRow.account.in_(chunk), ScanRow.started_at > started).order_by(ScanRow.started_at))
            for p, a, i, status in s.execute(q):
                if (p, a) in scanned:
                    rows.append((p, a, i))
                    if status == "ok":
                        read_ok.add((i, p, a))
        targeted: dict[tuple[str, str, str], list[str]] = {}
        for chunk in _chunks(sorted({i for _, _, i in rows})):  # no query at all in the usual case: no newer scan
            q2 = select(TargetedCoverageRow).where(TargetedCoverageRow.scan_id.in_(chunk))
            targeted.update(((t.scan_id, t.provider, t.account), list(t.targets)) for t in s.scalars(q2))
        stale: dict[tuple[str, str], str] = {}
        later: set[Key3] = set()
        for provider, account, scan_id in rows:
            names = targeted.get((scan_id, provider, account))
            if names is None:
                stale[(provider, account)] = scan_id  # the latest-started wins
            elif (scan_id, provider, account) in read_ok:  # a rescan that failed supersedes nothing
                later.update((provider, account, str(n)) for n in names)
        return stale, later

    def _load_findings(self, s: Session, scanned: set[tuple[str, str]], current: set[str]) -> dict[str, FindingRow]:
        accounts = sorted({a for _, a in scanned})
        conds: list[ColumnElement[bool]] = [FindingRow.state == FindingState.SUPPRESSED.value]
        rows: dict[str, FindingRow] = {}
        for chunk in _chunks(accounts):
            conds.append(FindingRow.account.in_(chunk))
        for row in s.scalars(select(FindingRow).where(or_(*conds))):
            if row.state == FindingState.SUPPRESSED.value or (row.provider, row.account) in scanned:
                rows[row.fingerprint] = row
        missing = current - rows.keys()
        for chunk in _chunks(missing):
            for row in s.scalars(select(FindingRow).where(FindingRow.fingerprint.in_(chunk))):
                rows[row.fingerprint] = row
        return rows

    def _load_resources(self, s: Session, scanned: set[tuple[str, str]],
                        current: set[str]) -> dict[str, ResourceStateRow]:
        rows: dict[str, ResourceStateRow] = {}
        for chunk in _chunks(sorted({a for _, a in scanned})):
            for row in s.scalars(select(ResourceStateRow).where(ResourceStateRow.account.in_(chunk))):
                if (row.provider, row.account) in scanned:
                    rows[row.uid] = row
        for chunk in _chunks(current - rows.keys()):
            for row in s.scalars(select(ResourceStateRow).where(ResourceStateRow.uid.in_(chunk))):
                rows[row.uid] = row
        return rows

    def _cli_suppressions(self, s: Session) -> list[Suppression]:
        return [Suppression(reason=r.reason, owner=r.owner, expires=r.expires, source="cli",
                            fingerprint=r.fingerprint, label="set with `cloudwatchdog findings suppress`")
                for r in s.scalars(select(SuppressionRow).order_by(SuppressionRow.fingerprint))]

    def _apply_findings(self, s: Session, changes: Sequence[FindingChange], when: datetime, scan_id: str | None,
                        existing: Collection[str]) -> None:
        """Write the finding rows (``existing``: the fingerprints already stored) and open or close their
        intervals, a batch at a time, as bulk statements (no ORM object per row: memory follows the batch)."""
        for chunk in _chunks(changes):
            batches: dict[tuple[bool, bool], list[dict[str, Any]]] = {}
            for c in chunk:
                f = c.finding
                values: dict[str, Any] = {"fingerprint": f.id, "rule_id": f.rule_id, "resource_uid": f.resource_uid,
                          "provider": f.provider, "account": f.account, "severity": c.severity.value,
                          "state": c.state.value, "first_seen": c.first_seen, "last_seen": c.last_seen,
                          "resolved_at": c.resolved_at, "updated_at": when, "data": f.to_dict()}
                if c.observed or f.id not in existing:
                    values["last_scan_id"] = scan_id if c.observed else None
                batches.setdefault((f.id in existing, "last_scan_id" in values), []).append(values)
            for (update_, _), rows in batches.items():
                s.execute(update(FindingRow) if update_ else insert(FindingRow), rows)
            self._intervals(s, FindingIntervalRow, FindingIntervalRow.fingerprint, "fingerprint", when,
                            [(c.finding.id, c.interval) for c in chunk])
        s.expire_all()  # rows loaded earlier in this session are stale now

    def _apply_resources(self, s: Session, changes: Sequence[ResourceChange], when: datetime, scan_id: str,
                         existing: Collection[str]) -> None:
        for chunk in _chunks(changes):
            batches: dict[tuple[bool, bool], list[dict[str, Any]]] = {}
            for c in chunk:
                r = c.resource
                values: dict[str, Any] = {
                    "uid": r.uid, "provider": r.provider, "account": r.account, "region": r.region, "type": r.type,
                    "name": r.name, "level": r.level.value, "latent": r.latent, "public": r.public,
                    "unknown": r.unknown, "gone": r.gone, "first_seen": r.first_seen, "last_seen": r.last_seen}
                if not r.gone or r.uid not in existing:
                    values["last_scan_id"] = None if r.gone else scan_id
                batches.setdefault((r.uid in existing, "last_scan_id" in values), []).append(values)
            for (update_, _), rows in batches.items():
                s.execute(update(ResourceStateRow) if update_ else insert(ResourceStateRow), rows)
            self._intervals(s, ResourceIntervalRow, ResourceIntervalRow.uid, "uid", when,
                            [(c.resource.uid, c.interval) for c in chunk])
        s.expire_all()

    @staticmethod
    def _intervals(s: Session, table: type[FindingIntervalRow] | type[ResourceIntervalRow], key: Any, name: str,
                   when: datetime, ops: Sequence[tuple[str, IntervalOp | None]]) -> None:
        """Open an interval (a new row) or close the open one, for each (key, op) of one batch."""
        opened = [{name: k, "started_at": when, "ended_at": None} for k, op in ops if op is IntervalOp.OPEN]
        if opened:
            s.execute(insert(table), opened)
        closed = [k for k, op in ops if op is IntervalOp.CLOSE]
        if closed:
            s.execute(update(table).where(key.in_(closed), table.ended_at.is_(None)).values(ended_at=when),
                      execution_options={"synchronize_session": False})

    # --- suppressions from the CLI ------------------------------------------------------------------------------

    def _resolve_fingerprint(self, s: Session, fingerprint: str) -> FindingRow:
        fp = fingerprint.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{4,64}", fp):
            raise LookupError(f"{fingerprint!r} is not a finding fingerprint (hex, as `findings list` shows)")
        rows = list(s.scalars(select(FindingRow).where(FindingRow.fingerprint.startswith(fp)).limit(2)))
        if not rows:
            raise LookupError(f"no finding with fingerprint {fp} in the store")
        if len(rows) > 1:
            raise LookupError(f"fingerprint prefix {fp} is ambiguous: give more characters")
        return rows[0]

    def suppress(self, fingerprint: str, *, reason: str, owner: str, expires: date | None,
                 now: datetime | None = None, on_events: EventHook | None = None) -> ReportFinding:
        """Suppress one stored finding (a unique fingerprint prefix is enough). Raises LookupError."""
        when = utc(now) if now is not None else now_utc()
        with self._write() as s:
            row = self._resolve_fingerprint(s, fingerprint)
            existing = s.get(SuppressionRow, row.fingerprint)
            if existing is None:
                existing = SuppressionRow(fingerprint=row.fingerprint, created_at=when)
                s.add(existing)
            existing.reason, existing.owner, existing.expires = reason, owner, expires
            sup = Suppression(reason=reason, owner=owner, expires=expires, source="cli", fingerprint=row.fingerprint,
                              label="set with `cloudwatchdog findings suppress`")
            change, ev = suppress_change(stored_finding(row), sup, when)
            self._apply_findings(s, [change], when, None, {row.fingerprint: row})
            self._emit(s, [ev], on_events)
            return self._view(s, row.fingerprint, when)

    def unsuppress(self, fingerprint: str, *, config_suppressions: Sequence[Suppression] = (),
                   now: datetime | None = None, on_events: EventHook | None = None) -> ReportFinding:
        """Remove the CLI suppression of a finding. Raises LookupError when there is none (a suppression from the
        config file is removed by editing the file)."""
        when = utc(now) if now is not None else now_utc()
        with self._write() as s:
            row = self._resolve_fingerprint(s, fingerprint)
            existing = s.get(SuppressionRow, row.fingerprint)
            stored = stored_finding(row)
            from_config = find_suppression(stored.finding, config_suppressions, when)
            if existing is None:
                where = f" by the config ({from_config.label}): remove it there" if from_config else ""
                raise LookupError(f"finding {row.fingerprint} has no suppression set from the CLI{where}")
            s.delete(existing)
            s.flush()
            if from_config is not None:
                change, ev = suppress_change(stored, from_config, when)
                if stored.finding.suppression != change.finding.suppression:
                    self._apply_findings(s, [change], when, None, {row.fingerprint: row})
            else:
                out = unsuppress_change(stored, when, "suppression removed with `cloudwatchdog findings unsuppress`")
                if out is not None:
                    change, ev = out
                    self._apply_findings(s, [change], when, None, {row.fingerprint: row})
                    self._emit(s, [ev], on_events)
            return self._view(s, row.fingerprint, when)

    # --- reading --------------------------------------------------------------------------------------------------

    def _view(self, s: Session, fingerprint: str, at: datetime) -> ReportFinding:
        row = s.get(FindingRow, fingerprint)
        assert row is not None
        return ReportFinding(finding=row_finding(row), window=self._windows(s, [fingerprint], at)[fingerprint])

    def _windows(self, s: Session, fingerprints: Collection[str], at: datetime) -> dict[str, ExposureWindow]:
        spans: dict[str, list[Span]] = {fp: [] for fp in fingerprints}
        for chunk in _chunks(fingerprints):
            for iv in s.scalars(select(FindingIntervalRow).where(FindingIntervalRow.fingerprint.in_(chunk))):
                spans[iv.fingerprint].append((iv.started_at, iv.ended_at))
        return {fp: exposure_window(sp, at) for fp, sp in spans.items()}

    def list_findings(self, *, states: Collection[FindingState] | None = None,
                      severities: Collection[Severity] | None = None, providers: Collection[str] | None = None,
                      accounts: Collection[str] | None = None, at: datetime | None = None) -> list[ReportFinding]:
        """Stored findings with their open intervals, most severe first. ``None`` filters nothing."""
        when = utc(at) if at is not None else now_utc()
        q = select(FindingRow)
        if states is not None:
            q = q.where(FindingRow.state.in_([st.value for st in states]))
        if severities is not None:
            q = q.where(FindingRow.severity.in_([sv.value for sv in severities]))
        if providers is not None:
            q = q.where(FindingRow.provider.in_(list(providers)))
        if accounts is not None:
            q = q.where(FindingRow.account.in_(list(accounts)))
        with self._read() as s:
            rows = list(s.scalars(q))
            windows = self._windows(s, [r.fingerprint for r in rows], when)
            out = [ReportFinding(row_finding(r), windows[r.fingerprint]) for r in rows]
        out.sort(key=lambda v: (-v.finding.severity.rank, v.finding.account, v.finding.resource_name,
                                v.finding.rule_id))
        return out

    def find(self, fingerprint: str, at: datetime | None = None) -> ReportFinding:
        """One stored finding by its id or a unique prefix, with its exposure window. Raises LookupError."""
        with self._read() as s:
            return self._view(s, self._resolve_fingerprint(s, fingerprint).fingerprint,
                              utc(at) if at is not None else now_utc())

    def events(self, fingerprint: str | None = None) -> list[Event]:
        """The recorded lifecycle events, oldest first (the ``finding`` field is not stored: None)."""
        q = select(FindingEventRow).order_by(FindingEventRow.id)
        if fingerprint is not None:
            q = q.where(FindingEventRow.fingerprint == fingerprint)
        with self._read() as s:
            return [event_from_row(r) for r in s.scalars(q)]

    def resource_window(self, uid: str, at: datetime | None = None) -> ExposureWindow:
        """Every interval during which the resource was public, and the total, as of ``at`` (default now)."""
        with self._read() as s:
            spans: list[Span] = [(iv.started_at, iv.ended_at) for iv in
                                 s.scalars(select(ResourceIntervalRow).where(ResourceIntervalRow.uid == uid))]
        return exposure_window(spans, utc(at) if at is not None else now_utc())

    def scans(self) -> list[tuple[str, datetime, bool]]:
        """(scan id, recorded at, complete), oldest first."""
        with self._read() as s:
            return [(r.id, r.recorded_at, r.complete) for r in s.scalars(select(ScanRow).order_by(ScanRow.recorded_at))]

    # --- reports --------------------------------------------------------------------------------------------------

    def last_report_time(self, at: datetime | None = None) -> datetime | None:
        """When the latest report (at or before ``at``) was generated."""
        q = select(func.max(ReportRow.generated_at))
        if at is not None:
            q = q.where(ReportRow.generated_at <= utc(at))
        with self._read() as s:
            value = s.execute(q).scalar()
        return utc(value) if value is not None else None

    def daily_period(self, at: datetime) -> tuple[datetime, datetime | None]:
        """(start, since) of the daily report rendered at ``at``: the same for every render of one day (UTC), since
        the previous day's first report (``report_data.daily_period`` says why)."""
        from cloudwatchdog.state.report_data import daily_period

        with self._read() as s:
            return daily_period(s, at)

    def report_data(self, *, at: datetime | None = None, since: datetime | None = None,
                    start: datetime | None = None, title: str = "cloudwatchdog report") -> ReportData:
        """The report as it stood at ``at`` (default now), covering ``start`` .. ``at`` (default ``since``, else the
        24 hours before ``at``); ``since`` is shown as the period start (the previous report) only when given."""
        from cloudwatchdog.state.report_data import build_report

        end = utc(at) if at is not None else now_utc()
        first = utc(start) if start is not None else utc(since) if since is not None else end - timedelta(days=1)
        with self._read() as s:
            return build_report(s, generated_at=end, period_start=first, since=since, title=title)

    def record_report(self, *, generated_at: datetime, period_start: datetime, formats: Sequence[str],
                      location: str) -> None:
        with self._write() as s:
            s.add(ReportRow(generated_at=utc(generated_at), period_start=utc(period_start),
                            formats=",".join(formats)[:200], location=location))

