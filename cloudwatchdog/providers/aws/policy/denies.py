"""Deny statements: a Deny that covers a grant path's actions and resources removes the path, or narrows it to
those who escape the Deny (the negation of its conditions, the principals a NotPrincipal lists).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cloudwatchdog.model import Evidence
from cloudwatchdog.providers.aws.policy.actions import action_kind, action_matches, summarise
from cloudwatchdog.providers.aws.policy.conditions import condition_verdict, negate
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.paths import Path
from cloudwatchdog.providers.aws.policy.principals import Principal, principal_in
from cloudwatchdog.providers.aws.policy.reach import NOBODY, Context, Reach, principal_reach, reach_text
from cloudwatchdog.providers.aws.policy.resources import deny_covers_resources


def deny_all(deny: Statement, paths: list[Path], ctx: Context) -> tuple[list[Path], list[Evidence]]:
    """The paths left after ``deny``, and what it did to them."""
    survivors: list[Path] = []
    evidence: list[Evidence] = []
    for path in paths:
        kept, note = _apply_deny(deny, path, ctx)
        survivors.extend(kept)
        if note is not None:
            evidence.append(note)
    return survivors, evidence


def _deny_covers_action(deny: Statement, action: str) -> bool:
    matched = action_matches(deny.action_patterns, action)
    return not matched if deny.not_action else matched


def _deny_escape(deny: Statement, path: Path, ctx: Context) -> Reach | str | None:
    """Who escapes ``deny`` on this path: NOBODY when it removes the path, a Reach when it narrows it to
    those, a str when it does not restrict (why), None when it does not apply to the path's principal."""
    branches: list[Reach] = []
    if deny.not_principal:
        if principal_in(path.principal, deny.principals, loose=True):
            return None
        if path.principal.is_everyone:
            # Everyone except the listed principals is denied: the listed ones escape.
            branches.append(_listed_reach(deny.principals, ctx))
    elif not principal_in(path.principal, deny.principals):
        # A Deny to some principals (even a class such as a web identity provider or any account's root) leaves
        # everyone else, anonymous callers included, allowed.
        return "it denies only some principals" if path.principal.is_everyone else None
    for condition in deny.conditions:
        negated = negate(condition)
        verdict = negated if isinstance(negated, str) else condition_verdict(negated, ctx)
        if isinstance(verdict, str):
            return f"{condition.text}: {verdict}"
        branches.append(verdict)
    # The Deny's conditions are ANDed, so escaping it needs only one of them false: an OR of the branches.
    escape = NOBODY
    for branch in branches:
        escape = escape.union(branch)
    return escape


def _listed_reach(principals: Sequence[Principal], ctx: Context) -> Reach:
    reach = NOBODY
    for principal in principals:
        reach = reach.union(principal_reach(principal, ctx))
    return reach


def _apply_deny(deny: Statement, path: Path, ctx: Context) -> tuple[list[Path], Evidence | None]:
    covered = frozenset(
        a
        for a in path.actions
        if _deny_covers_action(deny, a) and deny_covers_resources(deny, path.statement, action_kind(a), ctx)
    )
    if not covered:
        return [path], None
    escape = _deny_escape(deny, path, ctx)
    if escape is None:
        return [path], None
    head = f"{deny.label} (Deny)"
    target = f"{path.statement.label} ({path.principal.label})"
    if isinstance(escape, str):
        if not path.reach.everyone:
            return [path], None
        return [path], Evidence(ctx.source, f"{head} does not neutralise {target}: {escape}")
    if not path.principal.is_everyone and not escape.nobody:
        return [path], None  # a named principal stays named: the Deny's restriction does not change who it is
    narrowed = path.reach.narrow(escape)
    kept = path.actions - covered
    paths = [replace(path, actions=kept)] if kept else []
    if not narrowed.nobody:
        paths.append(replace(path, reach=narrowed, actions=covered))
    scope = "" if not kept else f" for {summarise(covered)} (not for {summarise(kept)})"
    if escape.nobody:
        detail = f"{head} neutralises {target}{scope}"
    else:
        detail = f"{head} restricts {target}{scope} to {reach_text(narrowed)}"
    return paths, Evidence(ctx.source, detail)
