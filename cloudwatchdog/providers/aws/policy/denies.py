"""Deny statements: a Deny that covers a grant path's actions and resources removes the path, or narrows it to
those who escape the Deny (the negation of its conditions, the principals a NotPrincipal lists).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from cloudwatchdog.providers.aws.policy.actions import ActionPatterns, action_kind, summarise
from cloudwatchdog.providers.aws.policy.conditions import condition_verdict, negate
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.paths import Path
from cloudwatchdog.providers.aws.policy.principals import PrincipalSet
from cloudwatchdog.providers.aws.policy.quote import Notes
from cloudwatchdog.providers.aws.policy.reach import NOBODY, Context, Reach, principal_reach, reach_text, union_all
from cloudwatchdog.providers.aws.policy.resources import deny_covers_resources


def deny_all(deny: Statement, paths: list[Path], ctx: Context, notes: Notes) -> list[Path]:
    """The paths left after ``deny``; what it did to them goes to ``notes``."""
    prepared = _Deny(deny, ctx)
    survivors: list[Path] = []
    for path in paths:
        survivors.extend(prepared.apply(path, notes))
    return survivors


class _Deny:
    """One Deny, with what does not depend on the path worked out once: many paths meet the same Deny."""

    def __init__(self, deny: Statement, ctx: Context) -> None:
        self.deny = deny
        self.ctx = ctx
        self.actions = ActionPatterns.of(deny.action_patterns)
        self.principals = PrincipalSet.of(deny.principals)
        self.listed = union_all(principal_reach(p, ctx) for p in deny.principals) if deny.not_principal else NOBODY
        self.escape_conditions = self._escape_conditions()
        self._resources: dict[tuple[int, str | None], bool] = {}
        self._covered: dict[tuple[int, frozenset[str]], frozenset[str]] = {}

    def _escape_conditions(self) -> list[Reach] | str:
        """Who escapes each condition (a Reach a condition), or why one of them does not restrict."""
        branches: list[Reach] = []
        for condition in self.deny.conditions:
            negated = negate(condition)
            verdict = negated if isinstance(negated, str) else condition_verdict(negated, self.ctx)
            if isinstance(verdict, str):
                return f"{condition.text}: {verdict}"
            branches.append(verdict)
        return branches

    def covers_action(self, action: str) -> bool:
        matched = self.actions.match(action)
        return not matched if self.deny.not_action else matched

    def covers_resources(self, allow: Statement, kind: str | None) -> bool:
        key = (id(allow), kind)  # the statements outlive the analysis' caches
        if key not in self._resources:
            self._resources[key] = deny_covers_resources(self.deny, allow, kind, self.ctx)
        return self._resources[key]

    def escape(self, path: Path) -> Reach | str | None:
        """Who escapes the Deny on this path: NOBODY when it removes the path, a Reach when it narrows it to
        those, a str when it does not restrict (why), None when it does not apply to the path's principal."""
        branches: list[Reach] = []
        if self.deny.not_principal:
            if self.principals.contains(path.principal, loose=True):
                return None
            if path.principal.is_everyone:
                # Everyone except the listed principals is denied: the listed ones escape.
                branches.append(self.listed)
        elif not self.principals.contains(path.principal):
            # A Deny to some principals (even a class such as a web identity provider or any account's root)
            # leaves everyone else, anonymous callers included, allowed.
            return "it denies only some principals" if path.principal.is_everyone else None
        if isinstance(self.escape_conditions, str):
            return self.escape_conditions
        # The Deny's conditions are ANDed, so escaping it needs only one of them false: an OR of the branches.
        return union_all([*branches, *self.escape_conditions])

    def covered(self, path: Path) -> frozenset[str]:
        """The path's actions this Deny covers on the path's resources (the same for every principal of a
        statement, so worked out once)."""
        key = (id(path.statement), path.actions)
        if key not in self._covered:
            self._covered[key] = frozenset(
                a
                for a in path.actions
                if self.covers_action(a) and self.covers_resources(path.statement, action_kind(a))
            )
        return self._covered[key]

    def apply(self, path: Path, notes: Notes) -> list[Path]:
        covered = self.covered(path)
        if not covered:
            return [path]
        escape = self.escape(path)
        if escape is None:
            return [path]
        head = f"{self.deny.label} (Deny)"
        target = f"{path.statement.label} ({path.principal.label})"
        if isinstance(escape, str):
            if path.reach.everyone:
                notes.add(lambda: f"{head} does not neutralise {target}: {escape}")
            return [path]
        if not path.principal.is_everyone and not escape.nobody:
            return [path]  # a named principal stays named: the Deny's restriction does not change who it is
        narrowed = path.reach.narrow(escape)
        kept = path.actions - covered
        paths = [replace(path, actions=kept)] if kept else []
        if not narrowed.nobody:
            paths.append(replace(path, reach=narrowed, actions=covered))

        def detail() -> str:
            scope = "" if not kept else f" for {summarise(covered)} (not for {summarise(kept)})"
            if escape.nobody:
                return f"{head} neutralises {target}{scope}"
            return f"{head} restricts {target}{scope} to {reach_text(narrowed)}"

        notes.add(detail)
        return paths
