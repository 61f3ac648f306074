"""Is an S3 bucket or access-point policy public? (shared/EXPOSURE.md, "AWS S3").

The policy is evaluated as a whole. Every Allow statement becomes one grant path a principal (paths.py); Deny
statements that cover a path's actions and resources then narrow or remove it (denies.py). A policy is public
when some path still reaches everyone.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cloudwatchdog.model import Capabilities, Evidence, Level
from cloudwatchdog.providers.aws.policy.actions import capabilities
from cloudwatchdog.providers.aws.policy.denies import deny_all
from cloudwatchdog.providers.aws.policy.document import PolicyDocument, PolicyError, Statement, parse_policy
from cloudwatchdog.providers.aws.policy.paths import Path, allow_paths
from cloudwatchdog.providers.aws.policy.principals import everyone
from cloudwatchdog.providers.aws.policy.quote import Notes, show_list
from cloudwatchdog.providers.aws.policy.reach import EVERYONE, Context, ResourceKind

__all__ = ["PolicyAnalysis", "PolicyDocument", "PolicyError", "ResourceKind", "analyze_policy"]


@dataclass(frozen=True)
class PolicyAnalysis:
    public: bool
    public_access: Capabilities
    external_principals: tuple[str, ...]
    external_access: Capabilities
    evidence: tuple[Evidence, ...]
    level: Level
    # A Deny removes every untrusted path to the objects, so no object ACL can take effect (bucket policies only).
    objects_closed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``check-policy --json`` shape (DESIGN.md)."""
        access = self.public_access if self.public else self.external_access
        return {
            "level": self.level.value,
            "read": access.read,
            "list": access.list,
            "write": access.write,
            "external_principals": list(self.external_principals),
            "evidence": [e.to_dict() for e in self.evidence],
        }


def analyze_policy(
    document: PolicyDocument | str | Mapping[str, Any],
    *,
    account_id: str,
    resource: ResourceKind = "bucket",
    trusted_orgs: frozenset[str] = frozenset(),
) -> PolicyAnalysis:
    """Judge a bucket or access-point policy owned by ``account_id``. A text or mapping is parsed first and
    raises PolicyError when malformed; a parsed ``PolicyDocument`` never raises."""
    policy = document if isinstance(document, PolicyDocument) else parse_policy(document)
    ctx = Context(account_id, resource, frozenset(trusted_orgs), policy.variables)
    notes = Notes(ctx.source)
    paths: list[Path] = []
    for statement in policy.statements:
        if statement.effect == "Allow":
            paths.extend(allow_paths(statement, ctx, notes))
    denies = [s for s in policy.statements if s.effect == "Deny"]
    for deny in denies:
        paths = deny_all(deny, paths, ctx, notes)
    return replace(_result(paths, notes.evidence(), ctx), objects_closed=_objects_closed(denies, ctx))


# What an object ACL can grant anyone (READ, READ_ACP, WRITE_ACP, FULL_CONTROL), as the actions it allows.
_OBJECT_ACL_ACTIONS = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectAcl", "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
)  # fmt: skip
_OBJECT_ACL = Statement(
    label="an object ACL grant",
    effect="Allow",
    principals=(everyone("Principal"),),
    not_principal=False,
    action_patterns=_OBJECT_ACL_ACTIONS,
    not_action=False,
    resource_patterns=("*",),
    not_resource=False,
    conditions=(),
)


def _objects_closed(denies: list[Statement], ctx: Context) -> bool:
    """Would the Deny statements leave an object ACL grant to everyone reaching only trusted principals? Judged
    as a grant path like any Allow's: a Deny that removes it, or narrows it to private paths (a fixed VPC
    endpoint, the owner account), closes the objects."""
    if ctx.resource != "bucket" or not denies:
        return False
    actions = frozenset(a.lower() for a in _OBJECT_ACL_ACTIONS)
    paths = [Path(_OBJECT_ACL, _OBJECT_ACL.principals[0], EVERYONE, actions)]
    for deny in denies:
        paths = deny_all(deny, paths, ctx, Notes(ctx.source, limit=0))
    return all(not (path.reach.everyone or path.reach.external) for path in paths)


def _result(paths: list[Path], evidence: list[Evidence], ctx: Context) -> PolicyAnalysis:
    public_paths = [p for p in paths if p.reach.everyone]
    external_paths = [p for p in paths if not p.reach.everyone and p.reach.external]
    public_access = _union_capabilities(public_paths)
    external = tuple(sorted({name for p in external_paths for name in p.reach.external}))
    if public_paths:
        level = Level.PUBLIC
        labels = show_list(list(dict.fromkeys(p.statement.label for p in public_paths)))
        evidence.append(Evidence(ctx.source, f"policy is public through {labels}"))
    elif external:
        level = Level.CROSS_ACCOUNT
        detail = f"policy is not public; it grants external principals {show_list(external)}"
        evidence.append(Evidence(ctx.source, detail))
    else:
        level = Level.PRIVATE
        evidence.append(Evidence(ctx.source, "policy is not public and grants no external principal"))
    return PolicyAnalysis(
        public=bool(public_paths),
        public_access=public_access,
        external_principals=external,
        external_access=_union_capabilities(external_paths),
        evidence=tuple(evidence),
        level=level,
    )


def _union_capabilities(paths: Iterable[Path]) -> Capabilities:
    result = Capabilities()
    for path in paths:
        result = result | capabilities(path.actions)
    return result
