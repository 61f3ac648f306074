"""Resources: which kinds of resource (bucket, objects) a Resource/NotResource pattern reaches, and whether a
Deny's resources cover an Allow's.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

import re

from cloudwatchdog.glob import glob_match, has_wildcard
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.reach import Context

_BUCKET_ARN = re.compile(r"^arn:[^:]*:s3:::(.*)$")
_ACCESS_POINT_RESOURCE = re.compile(r"^arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/(.*)$")


def resource_kinds(pattern: str, ctx: Context) -> frozenset[str]:
    """Which kinds of resource ('bucket', 'object') a Resource pattern can match for this policy."""
    if pattern == "*" or re.fullmatch(r"arn:\*(:\*)*", pattern):
        return frozenset({"bucket", "object"})
    match = (_BUCKET_ARN if ctx.resource == "bucket" else _ACCESS_POINT_RESOURCE).match(pattern)
    if match is None:
        return frozenset()
    rest = match.group(1)
    kinds: set[str] = set()
    object_marker = "/" if ctx.resource == "bucket" else "/object/"
    # A wildcard matches across "/", so "arn:aws:s3:::b*" reaches the bucket and its objects.
    if object_marker in rest or "*" in rest:
        kinds.add("object")
    if "/" not in rest:
        kinds.add("bucket")
    return frozenset(kinds)


def statement_kinds(statement: Statement, ctx: Context) -> frozenset[str]:
    if statement.not_resource:
        # Everything except the listed resources: conservatively, any kind.
        return frozenset({"bucket", "object"})
    kinds: frozenset[str] = frozenset()
    for pattern in statement.resource_patterns:
        kinds |= resource_kinds(pattern, ctx)
    return kinds


def _pattern_covers(general: str, specific: str) -> bool:
    """Does pattern ``general`` match everything ``specific`` matches? Conservative: False when unsure."""
    if general == specific or general == "*":
        return True
    if not has_wildcard(specific):
        return glob_match(general, specific)
    stem = general[:-1]
    return general.endswith("*") and not has_wildcard(stem) and specific.startswith(stem)


def _patterns_overlap(left: str, right: str) -> bool:
    """Could two resource patterns match a common resource? Conservative: True when unsure."""
    if not has_wildcard(left):
        return glob_match(right, left)
    if not has_wildcard(right):
        return glob_match(left, right)
    stem_left = re.split(r"[*?]", left, maxsplit=1)[0]
    stem_right = re.split(r"[*?]", right, maxsplit=1)[0]
    return stem_left.startswith(stem_right) or stem_right.startswith(stem_left)


# A policy only governs its own bucket (or access point): AWS refuses resources outside it. So "b/*" already
# covers every object the policy can grant, and "b" the bucket itself, whatever the Allow wrote ("*", "b*").
_WHOLE_KIND = {
    ("bucket", "object"): re.compile(r"arn:[^:]*:s3:::[^/*?]+/\*"),
    ("bucket", "bucket"): re.compile(r"arn:[^:]*:s3:::[^/*?]+\*?"),
    ("access-point", "object"): re.compile(r"arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/[^/*?]+/object/\*"),
    ("access-point", "bucket"): re.compile(r"arn:[^:]*:s3:[^:]*:[^:]*:accesspoint/[^/*?]+\*?"),
}


def _covers_whole_kind(pattern: str, kind: str | None, ctx: Context) -> bool:
    if pattern == "*":
        return True
    whole = _WHOLE_KIND.get((ctx.resource, kind)) if kind is not None else None
    return whole is not None and whole.fullmatch(pattern) is not None


def deny_covers_resources(deny: Statement, allow: Statement, kind: str | None, ctx: Context) -> bool:
    """Does the Deny cover every resource through which the Allow grants an action of this kind?"""
    if not deny.not_resource and any(_covers_whole_kind(p, kind, ctx) for p in deny.resource_patterns):
        return True
    if allow.not_resource:
        return False
    # Only the Allow's resources the action applies to matter: a Deny of GetObject on b/* covers an Allow of
    # GetObject on [b, b/*].
    patterns = [p for p in allow.resource_patterns if kind is None or kind in resource_kinds(p, ctx)]
    if deny.not_resource:
        return not any(
            _patterns_overlap(excluded, pattern)
            for excluded in deny.resource_patterns
            for pattern in patterns
        )
    return all(
        any(_pattern_covers(general, pattern) for general in deny.resource_patterns) for pattern in patterns
    )
