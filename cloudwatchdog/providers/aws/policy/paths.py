"""Grant paths: every principal an Allow statement names becomes one path, with who it reaches (everyone, a
fixed principal, or everyone narrowed by conditions on trusted keys) and the actions that apply to its
resources.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudwatchdog.providers.aws.policy.actions import allowed_actions, describe_actions, effective_actions
from cloudwatchdog.providers.aws.policy.conditions import POSITIVE_OPERATORS, restriction
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.principals import Principal
from cloudwatchdog.providers.aws.policy.quote import Notes, show_list
from cloudwatchdog.providers.aws.policy.reach import Context, Reach, principal_reach, reach_text
from cloudwatchdog.providers.aws.policy.resources import statement_kinds


@dataclass(frozen=True)
class Path:
    """One way an Allow statement grants access: a principal, who it reaches, and what it may do."""

    statement: Statement
    principal: Principal
    reach: Reach
    actions: frozenset[str]  # lower-cased, already limited to the statement's resources


def allow_paths(statement: Statement, ctx: Context, notes: Notes) -> list[Path]:
    actions = effective_actions(allowed_actions(statement), statement_kinds(statement, ctx))
    what = describe_actions(statement)
    if not actions:
        notes.add(f"{statement.label} allows {what}, but no S3 action it allows applies to its resources")
        return []
    grant = _Grant(statement, actions, what, ctx)
    paths: list[Path] = []
    for principal in _grantees(statement):
        path, detail = grant.path(principal)
        if path is not None:
            paths.append(path)
        notes.add(detail)
    return paths


def _grantees(statement: Statement) -> tuple[Principal, ...]:
    if not statement.not_principal:
        return statement.principals
    if any(p.anyone for p in statement.principals):
        return ()  # NotPrincipal "*" excludes everyone
    excluded = show_list([p.value for p in statement.principals])
    return (Principal("everyone", "*", None, f"NotPrincipal (everyone except {excluded})"),)


class _Grant:
    """One Allow statement; its conditions are judged once, however many principals it names."""

    def __init__(self, statement: Statement, actions: frozenset[str], what: str, ctx: Context) -> None:
        self.statement = statement
        self.actions = actions
        self.what = what
        self.ctx = ctx
        self._restriction: tuple[Reach, str] | None = None

    def path(self, principal: Principal) -> tuple[Path | None, str]:
        head = f"{self.statement.label} allows {self.what} to {principal.label}"
        if not principal.is_everyone:
            reach = principal_reach(principal, self.ctx)
            fixed = None if reach.nobody else Path(self.statement, principal, reach, self.actions)
            return fixed, head + self._fixed_note(principal, reach)
        reach, how = self.restriction()
        return Path(self.statement, principal, reach, self.actions), head + how

    def restriction(self) -> tuple[Reach, str]:
        """Who the conditions let in, and how the evidence says it."""
        if self._restriction is None:
            reach, restricting, ignored = restriction(self.statement.conditions, self.ctx)
            notes = f" ({show_list(ignored, '; ', 2000)})" if ignored else ""
            if reach.everyone:
                how = f" with no restricting condition{notes}"
            else:
                how = f" but only when {show_list(restricting, ' and ', 2000)}: {reach_text(reach)}{notes}"
            self._restriction = reach, how
        return self._restriction

    def _fixed_note(self, principal: Principal, reach: Reach) -> str:
        if principal.kind == "deleted":
            return ": a deleted IAM principal (unique id), matches nobody"
        if principal.kind == "service":
            keys = {c.key.lower() for c in self.statement.conditions if c.base in POSITIVE_OPERATORS}
            if keys & {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"}:
                return ": a service principal, not public and not external"
            return (
                ": a service principal, not public and not external; no aws:SourceArn/aws:SourceAccount "
                "condition, so the service may act on behalf of any account (confused-deputy risk)"
            )
        return ": " + reach_text(reach)
