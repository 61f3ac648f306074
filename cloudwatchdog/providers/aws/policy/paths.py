"""Grant paths: every principal an Allow statement names becomes one path, with who it reaches (everyone, a
fixed principal, or everyone narrowed by conditions on trusted keys) and the actions that apply to its
resources.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudwatchdog.model import Evidence
from cloudwatchdog.providers.aws.policy.actions import allowed_actions, describe_actions, effective_actions
from cloudwatchdog.providers.aws.policy.conditions import POSITIVE_OPERATORS, restriction
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.principals import Principal
from cloudwatchdog.providers.aws.policy.reach import Context, Reach, principal_reach, reach_text
from cloudwatchdog.providers.aws.policy.resources import statement_kinds


@dataclass(frozen=True)
class Path:
    """One way an Allow statement grants access: a principal, who it reaches, and what it may do."""

    statement: Statement
    principal: Principal
    reach: Reach
    actions: frozenset[str]  # lower-cased, already limited to the statement's resources


def allow_paths(statement: Statement, ctx: Context) -> tuple[list[Path], list[Evidence]]:
    actions = effective_actions(allowed_actions(statement), statement_kinds(statement, ctx))
    what = describe_actions(statement)
    if not actions:
        detail = f"{statement.label} allows {what}, but no S3 action it allows applies to its resources"
        return [], [Evidence(ctx.source, detail)]
    paths: list[Path] = []
    evidence: list[Evidence] = []
    for principal in _grantees(statement):
        path, detail = _grant_path(statement, principal, actions, what, ctx)
        if path is not None:
            paths.append(path)
        evidence.append(Evidence(ctx.source, detail))
    return paths, evidence


def _grantees(statement: Statement) -> tuple[Principal, ...]:
    if not statement.not_principal:
        return statement.principals
    if any(p.anyone for p in statement.principals):
        return ()  # NotPrincipal "*" excludes everyone
    excluded = ", ".join(p.value for p in statement.principals)
    return (Principal("everyone", "*", None, f"NotPrincipal (everyone except {excluded})"),)


def _grant_path(
    statement: Statement, principal: Principal, actions: frozenset[str], what: str, ctx: Context
) -> tuple[Path | None, str]:
    head = f"{statement.label} allows {what} to {principal.label}"
    if not principal.is_everyone:
        reach = principal_reach(principal, ctx)
        fixed = None if reach.nobody else Path(statement, principal, reach, actions)
        return fixed, head + _fixed_note(statement, principal, reach)
    reach, restricting, ignored = restriction(statement.conditions, ctx)
    notes = f" ({'; '.join(ignored)})" if ignored else ""
    path = Path(statement, principal, reach, actions)
    if reach.everyone:
        return path, f"{head} with no restricting condition{notes}"
    return path, f"{head} but only when {' and '.join(restricting)}: {reach_text(reach)}{notes}"


def _fixed_note(statement: Statement, principal: Principal, reach: Reach) -> str:
    if principal.kind == "deleted":
        return ": a deleted IAM principal (unique id), matches nobody"
    if principal.kind == "service":
        keys = {c.key.lower() for c in statement.conditions if c.base in POSITIVE_OPERATORS}
        if keys & {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"}:
            return ": a service principal, not public and not external"
        return (
            ": a service principal, not public and not external; no aws:SourceArn/aws:SourceAccount "
            "condition, so the service may act on behalf of any account (confused-deputy risk)"
        )
    return ": " + reach_text(reach)
