"""The summary printed after a scan: a few lines by default (coverage problems, exposure counts, findings by
severity, the critical and high ones by resource), every finding with ``--details``.

A resource's findings are shown together (one exposed bucket may raise several: the exposure and its hygiene
findings), resources ordered by their most severe finding, then by how long they have been exposed. Everything
from a cloud is shown as visible, escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from cloudwatchdog.commands.terminal import plural, safe, severity, state
from cloudwatchdog.model import CoverageStatus, Finding, FindingState, ScanResult, Severity

_STATUS_STYLE = {CoverageStatus.OK: "green", CoverageStatus.PARTIAL: "yellow", CoverageStatus.ERROR: "bold red"}
_HEADLINE = (Severity.CRITICAL, Severity.HIGH)  # what the short summary lists
SHORT_LIMIT = 10  # resources listed by the short summary


@dataclass(frozen=True)
class ResourceFindings:
    """The findings of one resource, most severe first."""

    findings: tuple[Finding, ...]

    @property
    def top(self) -> Finding:
        return self.findings[0]

    @property
    def active(self) -> bool:
        return any(f.state is not FindingState.SUPPRESSED for f in self.findings)


def by_resource(findings: Sequence[Finding]) -> list[ResourceFindings]:
    """Findings grouped by resource; groups ordered by: active before suppressed, most severe first, longest
    exposed first (earliest first seen), then account and name."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.resource_uid, []).append(f)
    out = [ResourceFindings(tuple(sorted(fs, key=lambda f: (f.state is FindingState.SUPPRESSED, -f.severity.rank,
                                                               f.rule_id))))
           for fs in groups.values()]
    return sorted(out, key=lambda g: (not g.active, -g.top.severity.rank,
                                      min((f.first_seen or "~") for f in g.findings), g.top.account,
                                      g.top.resource_name))


def print_summary(result: ScanResult, console: Console, *, details: bool = False) -> None:
    _coverage(result, console, details)
    counts = result.count_by_level()
    console.print(
        f"Exposure: [bold red]{counts['public']} public[/], [yellow]{counts['cross-account']} cross-account[/], "
        f"[cyan]{counts['latent']} latent[/], [magenta]{counts['unknown']} unknown[/], "
        f"{counts['private']} private ({plural(len(result.resources), 'resource')})", highlight=False)
    findings = list(result.findings)
    if not findings:
        console.print("Findings: none", highlight=False)
    else:
        by_sev = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
        console.print(f"Findings: {plural(len(findings), 'finding')}: " + ", ".join(
            f"{severity(s.value)} {n}" for s, n in by_sev.items() if n), highlight=False)
    tracked = any(f.first_seen for f in findings) or bool(result.resolved)
    if tracked:
        by_state = {s: sum(1 for f in findings if f.state is s) for s in FindingState if s is not FindingState.RESOLVED}
        parts = [f"{state(s.value)} {n}" for s, n in by_state.items() if n]
        parts.append(f"[green]{len(result.resolved)} resolved by this scan[/]")
        console.print("Lifecycle: " + ", ".join(parts), highlight=False)
    groups = by_resource(findings)
    if details:
        _table(groups, console, tracked)
        return
    headline = [g for g in groups if g.active and g.top.severity in _HEADLINE]
    if headline:
        console.print("Critical and high, by resource:", highlight=False)
        for g in headline[:SHORT_LIMIT]:
            _short(g, console, tracked)
    rest = len(groups) - min(len(headline), SHORT_LIMIT)
    if rest > 0:
        console.print(f"... and {plural(rest, 'more resource')} with findings (--details lists every finding; "
                      "the JSON output has them all)", highlight=False)


def _coverage(result: ScanResult, console: Console, details: bool) -> None:
    by_status = {s: sum(1 for c in result.coverage if c.status is s) for s in CoverageStatus}
    console.print(f"Coverage: {plural(len(result.coverage), 'account')}: " + ", ".join(
        f"[{_STATUS_STYLE[s]}]{n} {s.value}[/]" for s, n in by_status.items() if n), highlight=False)
    rows = [c for c in result.coverage if details or c.status is not CoverageStatus.OK]
    if not rows:
        return
    cov = Table(title_justify="left", show_edge=False)
    for col in ("provider", "account", "status", "resources", "api calls", "errors"):
        cov.add_column(col, overflow="fold")
    for c in rows:
        first = safe(c.errors[0]) if c.errors else ""
        more = f" (+{len(c.errors) - 1} more)" if len(c.errors) > 1 else ""
        account = safe(c.account) + (f" ({safe(c.name)})" if c.name else "")
        cov.add_row(safe(c.provider), account, f"[{_STATUS_STYLE[c.status]}]{c.status.value}[/]",
                    str(c.resources), str(c.api_calls), first + more)
    console.print(cov)


def _short(group: ResourceFindings, console: Console, tracked: bool) -> None:
    f = group.top
    where = f"{safe(f.provider)} {_account(f)} {safe(f.resource_name)}"
    lifecycle = f" {state(f.state.value)}" if tracked else ""
    was = f" [dim](was {f.previous_severity.value})[/]" if f.previous_severity is not None else ""
    console.print(f"  {severity(f.severity.value)}{was}{lifecycle}  {where}", highlight=False, soft_wrap=True)
    console.print(f"      {safe(f.title)}" + (f": [dim]{safe(_shorten(f.evidence[0].detail))}[/]" if f.evidence
                                                else ""), highlight=False, soft_wrap=True)
    others = group.findings[1:]
    if others:
        console.print("      [dim]also: " + "; ".join(f"{o.severity.value} {safe(o.title)}" for o in others) + "[/]",
                      highlight=False, soft_wrap=True)


def _table(groups: Sequence[ResourceFindings], console: Console, tracked: bool) -> None:
    if not groups:
        return
    table = Table()
    for col in ("severity", *(("state",) if tracked else ()), "account", "resource", "finding"):
        table.add_column(col, overflow="fold")
    for g in groups:
        for i, f in enumerate(g.findings):
            sev = severity(f.severity.value) + (f"\n[dim](was {f.previous_severity.value})[/]"
                                                if f.previous_severity is not None else "")
            states = (state(f.state.value),) if tracked else ()
            # Each finding with its own evidence: a hygiene finding shows what it is about, not the exposure's.
            what = safe(f.title) + (f"\n[dim]{safe(_shorten(f.evidence[0].detail))}[/]" if f.evidence else "")
            first = i == 0
            table.add_row(sev, *states, _account(f) if first else "", safe(f.resource_name) if first else "",
                          what, end_section=i == len(g.findings) - 1)
    console.print(table)


def _account(f: Finding) -> str:
    """The account id, and its name when it has one: ``123456789012 (prod)``."""
    return safe(f.account) + (f" ({safe(f.account_name)})" if f.account_name else "")


def _shorten(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
