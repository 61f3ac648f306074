"""`cloudwatchdog findings list|suppress|unsuppress`: the findings in the state store."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from rich.console import Console
from rich.table import Table

from cloudwatchdog.commands.terminal import plural, safe
from cloudwatchdog.commands.terminal import severity as severity_style
from cloudwatchdog.commands.terminal import state as state_style
from cloudwatchdog.config import load_config
from cloudwatchdog.errors import UsageError
from cloudwatchdog.exitcodes import EXIT_OK
from cloudwatchdog.model import SEVERITIES, FindingState, Severity
from cloudwatchdog.report_model import ReportFinding
from cloudwatchdog.services.record import config_suppressions
from cloudwatchdog.services.store import open_store
from cloudwatchdog.state.store import Store

_ACTIVE = (FindingState.NEW, FindingState.OPEN, FindingState.REOPENED)
_DEFAULT_STATES = (*_ACTIVE, FindingState.SUPPRESSED)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_states(value: str | None) -> list[FindingState] | None:
    """``--state``: names, ``active`` (new+open+reopened) or ``all``; default: everything but resolved."""
    if value is None:
        return list(_DEFAULT_STATES)
    out: list[FindingState] = []
    for name in _csv(value.lower()):
        if name == "all":
            return None
        if name == "active":
            out.extend(_ACTIVE)
            continue
        try:
            out.append(FindingState(name))
        except ValueError:
            raise UsageError(f"--state: unknown state {name!r}; use new, open, reopened, resolved, suppressed, "
                             "active or all") from None
    if not out:
        raise UsageError("--state: give at least one state")
    return list(dict.fromkeys(out))


def parse_severities(value: str | None, minimum: str | None) -> list[Severity] | None:
    chosen: set[Severity] | None = None
    if value is not None:
        names = _csv(value.lower())
        unknown = [n for n in names if n not in SEVERITIES]
        if unknown or not names:
            raise UsageError(f"--severity: unknown severity {', '.join(unknown) or '(none)'}; "
                             f"use {', '.join(SEVERITIES)}")
        chosen = {Severity(n) for n in names}
    if minimum is not None:
        floor = Severity(minimum).rank
        at_least = {s for s in Severity if s.rank >= floor}
        chosen = at_least if chosen is None else chosen & at_least
    return None if chosen is None else sorted(chosen, key=lambda s: -s.rank)


def parse_until(value: str, today: date | None = None) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--until {value}: not a date (YYYY-MM-DD)") from None
    if day < (today or datetime.now(UTC).date()):
        raise UsageError(f"--until {value}: the date is in the past")
    return day


def duration(seconds: int) -> str:
    """A short human duration: 2d 3h, 5h 12m, 45m, <1m."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else "<1m"


def _print_table(views: Sequence[ReportFinding], console: Console) -> None:
    if not views:
        console.print("No findings match.")
        return
    table = Table(title=plural(len(views), "finding"), title_justify="left")
    for col in ("fingerprint", "state", "severity", "account", "resource", "rule", "first seen", "exposed"):
        table.add_column(col, overflow="fold")
    for v in views:
        f = v.finding
        state = state_style(f.state.value)
        if f.suppression is not None:
            until = f" until {f.suppression.expires}" if f.suppression.expires else ""
            state += f"\n[dim]{safe(f.suppression.owner)}{until}[/]"
        if f.state is FindingState.RESOLVED and f.resolved_at:
            state += f"\n[dim]{f.resolved_at}[/]"
        exposed = duration(v.window.total_seconds) + (" (open)" if v.window.open_since else "")
        # Names come from the cloud: escaped, they may hold markup.
        table.add_row(f.id, state, severity_style(f.severity.value),
                      safe(f.account) + (f" ({safe(f.account_name)})" if f.account_name else ""),
                      safe(f.resource_name), safe(f.rule_id), f.first_seen or "", exposed)
    console.print(table)


def _list(store: Store, args: argparse.Namespace) -> int:
    views = store.list_findings(
        states=parse_states(args.states),
        severities=parse_severities(args.severity, args.min_severity),
        providers=_csv(args.provider) or None,
        accounts=_csv(args.account) or None,
    )
    if args.json:
        from cloudwatchdog.render.report_json import finding_dict

        # The report's JSON shape of a finding: Finding.to_dict plus its exposure_window.
        sys.stdout.write(json.dumps({"schema_version": 1, "findings": [finding_dict(v) for v in views]},
                                    indent=2) + "\n")
        return EXIT_OK
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: a wide plain table rather than one folded into 80 columns
    _print_table(views, console)
    return EXIT_OK


def _describe(view: ReportFinding) -> str:
    f = view.finding
    return f"{f.id} ({f.rule_id} on {safe(f.resource_uid)})"


def cmd_findings(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    # Suppress / unsuppress check their arguments before touching the store.
    until = parse_until(args.until) if args.findings_command == "suppress" else None
    if args.findings_command == "suppress":
        reason, owner = args.reason.strip(), args.owner.strip()
        if not reason or not owner:
            raise UsageError("--reason and --owner must not be blank")
    console = Console(highlight=False)
    with open_store(cfg, args.state_url, create=False) as store:
        if args.findings_command == "list":
            return _list(store, args)
        if cfg.notifications:  # an unsuppressed finding that is still exposed alerts as reopened
            from cloudwatchdog.alerts.outbox.enqueue import outbox_hook

            store.add_hook(outbox_hook(cfg))
        try:
            if args.findings_command == "suppress":
                view = store.suppress(args.fingerprint, reason=reason, owner=owner, expires=until)
                console.print(f"Suppressed {_describe(view)} until {until}: {safe(reason)} ({safe(owner)})",
                              soft_wrap=True)
                if view.finding.state is FindingState.RESOLVED:
                    console.print("It is resolved now; the suppression applies if it comes back.")
                return EXIT_OK
            view = store.unsuppress(args.fingerprint, config_suppressions=config_suppressions(cfg))
        except LookupError as exc:
            raise UsageError(str(exc.args[0])) from None
        still = view.finding.suppression
        if view.finding.state is FindingState.SUPPRESSED and still is not None:
            console.print(f"Removed the CLI suppression of {_describe(view)}; it stays suppressed by the config "
                          f"({safe(still.owner)}: {safe(still.reason)})", soft_wrap=True)
        else:
            console.print(f"Unsuppressed {_describe(view)}: now {view.finding.state.value}", soft_wrap=True)
        return EXIT_OK
