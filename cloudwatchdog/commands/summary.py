"""The human summary printed after a scan: coverage, exposure counts, findings by severity."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cloudwatchdog.model import CoverageStatus, FindingState, ScanResult, Severity

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_STATE_STYLE = {
    FindingState.NEW: "bold magenta",
    FindingState.REOPENED: "bold magenta",
    FindingState.OPEN: "default",
    FindingState.SUPPRESSED: "dim",
    FindingState.RESOLVED: "green",
}
_STATUS_STYLE = {CoverageStatus.OK: "green", CoverageStatus.PARTIAL: "yellow", CoverageStatus.ERROR: "bold red"}


def print_summary(result: ScanResult, console: Console, *, max_findings: int = 50) -> None:
    cov = Table(title="Coverage", title_justify="left")
    for col in ("provider", "account", "status", "resources", "api calls", "errors"):
        cov.add_column(col)
    for c in result.coverage:
        first = escape(c.errors[0]) if c.errors else ""
        more = f" (+{len(c.errors) - 1} more)" if len(c.errors) > 1 else ""
        cov.add_row(c.provider, c.account, f"[{_STATUS_STYLE[c.status]}]{c.status.value}[/]",
                    str(c.resources), str(c.api_calls), first + more)
    console.print(cov)

    counts = result.count_by_level()
    console.print(
        f"Exposure: [bold red]{counts['public']} public[/], [yellow]{counts['cross-account']} cross-account[/], "
        f"[cyan]{counts['latent']} latent[/], [magenta]{counts['unknown']} unknown[/], "
        f"{counts['private']} private ({len(result.resources)} resources)"
    )

    # Suppressed findings last: they are known and accepted.
    findings = sorted(result.findings, key=lambda f: (f.state is FindingState.SUPPRESSED, -f.severity.rank,
                                                      f.account, f.resource_name, f.rule_id))
    by_sev = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    console.print("Findings: " + ", ".join(
        f"[{_SEVERITY_STYLE[s]}]{n} {s.value}[/]" for s, n in by_sev.items() if n) if findings else "Findings: none")
    # Lifecycle columns only when the scan was recorded in the state store (or suppressions applied).
    tracked = any(f.first_seen for f in findings) or bool(result.resolved)
    if tracked:
        by_state = {s: sum(1 for f in findings if f.state is s) for s in FindingState if s is not FindingState.RESOLVED}
        parts = [f"[{_STATE_STYLE[s]}]{n} {s.value}[/]" for s, n in by_state.items() if n]
        parts.append(f"[green]{len(result.resolved)} resolved by this scan[/]")
        console.print("Lifecycle: " + ", ".join(parts))
    if not findings:
        return
    table = Table(show_lines=False)
    for col in ("severity", *(("state",) if tracked else ()), "account", "resource", "finding"):
        table.add_column(col, overflow="fold")
    for f in findings[:max_findings]:
        # Everything that comes from a cloud is escaped: names and tags can hold markup.
        why = f"\n[dim]{escape(_shorten(f.evidence[0].detail))}[/]" if f.evidence else ""
        severity = f"[{_SEVERITY_STYLE[f.severity]}]{f.severity.value}[/]"
        if f.previous_severity is not None:
            severity += f"\n[dim](was {f.previous_severity.value})[/]"
        state = (f"[{_STATE_STYLE[f.state]}]{f.state.value}[/]",) if tracked else ()
        table.add_row(severity, *state, f.account, escape(f.resource_name), escape(f.title) + why)
    console.print(table)
    if len(findings) > max_findings:
        console.print(f"... and {len(findings) - max_findings} more findings (see the JSON output)")


def _shorten(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
