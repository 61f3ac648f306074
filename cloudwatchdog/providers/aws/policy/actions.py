"""Actions: the S3 action names a statement covers, whether each applies to objects or the bucket, and what
they let a principal do (read, list, write).

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cloudwatchdog.glob import Glob, compile_glob, has_wildcard
from cloudwatchdog.model import Capabilities
from cloudwatchdog.providers.aws.policy.document import Statement
from cloudwatchdog.providers.aws.policy.quote import clip, show_list

_S3_ACTIONS = tuple(
    [
        "AbortMultipartUpload",
        "BypassGovernanceRetention",
        "CreateBucket",
        "DeleteBucket",
        "DeleteBucketOwnershipControls",
        "DeleteBucketPolicy",
        "DeleteBucketWebsite",
        "DeleteObject",
        "DeleteObjectTagging",
        "DeleteObjectVersion",
        "DeleteObjectVersionTagging",
        "GetAccelerateConfiguration",
        "GetAnalyticsConfiguration",
        "GetBucketAcl",
        "GetBucketCORS",
        "GetBucketLocation",
        "GetBucketLogging",
        "GetBucketNotification",
        "GetBucketObjectLockConfiguration",
        "GetBucketOwnershipControls",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketPublicAccessBlock",
        "GetBucketRequestPayment",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetBucketWebsite",
        "GetEncryptionConfiguration",
        "GetIntelligentTieringConfiguration",
        "GetInventoryConfiguration",
        "GetLifecycleConfiguration",
        "GetMetricsConfiguration",
        "GetObject",
        "GetObjectAcl",
        "GetObjectAttributes",
        "GetObjectLegalHold",
        "GetObjectRetention",
        "GetObjectTagging",
        "GetObjectTorrent",
        "GetObjectVersion",
        "GetObjectVersionAcl",
        "GetObjectVersionAttributes",
        "GetObjectVersionForReplication",
        "GetObjectVersionTagging",
        "GetObjectVersionTorrent",
        "GetReplicationConfiguration",
        "InitiateReplication",
        "ListBucket",
        "ListBucketMultipartUploads",
        "ListBucketVersions",
        "ListMultipartUploadParts",
        "ObjectOwnerOverrideToBucketOwner",
        "PutAccelerateConfiguration",
        "PutAnalyticsConfiguration",
        "PutBucketAcl",
        "PutBucketCORS",
        "PutBucketLogging",
        "PutBucketNotification",
        "PutBucketObjectLockConfiguration",
        "PutBucketOwnershipControls",
        "PutBucketPolicy",
        "PutBucketPublicAccessBlock",
        "PutBucketRequestPayment",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutBucketWebsite",
        "PutEncryptionConfiguration",
        "PutIntelligentTieringConfiguration",
        "PutInventoryConfiguration",
        "PutLifecycleConfiguration",
        "PutMetricsConfiguration",
        "PutObject",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "PutObjectRetention",
        "PutObjectTagging",
        "PutObjectVersionAcl",
        "PutObjectVersionTagging",
        "PutReplicationConfiguration",
        "ReplicateDelete",
        "ReplicateObject",
        "ReplicateTags",
        "RestoreObject",
    ]
)
KNOWN_ACTIONS = {f"s3:{name}".lower(): f"s3:{name}" for name in _S3_ACTIONS}
# NotAction also allows actions this list does not know (new ones); one placeholder stands for them.
OTHER_ACTIONS = "s3:<other actions>"

_READ_ACTIONS = frozenset(
    f"s3:{p}".lower()
    for p in [
        "GetObject",
        "GetObjectVersion",
        "GetObjectTorrent",
        "GetObjectVersionTorrent",
        "GetObjectVersionForReplication",
    ]
)
_LIST_ACTIONS = frozenset(
    a.lower() for a in ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
)
_WRITE_PREFIXES = tuple(
    f"s3:{p}".lower()
    for p in [
        "Put",
        "Delete",
        "Restore",
        "Replicate",
        "AbortMultipartUpload",
        "BypassGovernanceRetention",
        "CreateBucket",
        "ObjectOwnerOverride",
        "InitiateReplication",
    ]
)
_OBJECT_ACTION_PREFIXES = tuple(
    f"s3:{p}".lower()
    for p in [
        "GetObject",
        "PutObject",
        "DeleteObject",
        "RestoreObject",
        "ReplicateObject",
        "ReplicateDelete",
        "ReplicateTags",
        "AbortMultipartUpload",
        "ListMultipartUploadParts",
        "BypassGovernanceRetention",
        "InitiateReplication",
        "ObjectOwnerOverrideToBucketOwner",
    ]
)


@dataclass(frozen=True)
class ActionPatterns:
    """A statement's Action/NotAction patterns, lower-cased (actions match case-insensitively), ready to be
    asked about many action names: plain names by set lookup, wildcard patterns by glob."""

    names: frozenset[str]
    wildcards: tuple[tuple[str, Glob], ...]

    @classmethod
    def of(cls, patterns: Iterable[str]) -> ActionPatterns:
        lowered = [p.lower() for p in patterns]
        wild = tuple((p, compile_glob(p)) for p in dict.fromkeys(p for p in lowered if has_wildcard(p)))
        return cls(frozenset(p for p in lowered if not has_wildcard(p)), wild)

    def match(self, action: str) -> bool:
        """Does a lower-cased action name match one of the patterns?"""
        if action in self.names:
            return True
        for _, glob in self.wildcards:  # noqa: SIM110 (a loop: any() and its generator cost 2x on this hot path)
            if glob.match(action):
                return True
        return False


def allowed_actions(statement: Statement) -> frozenset[str]:
    """Lower-cased action names a statement covers: known S3 actions, plus unknown names or patterns."""
    patterns = ActionPatterns.of(statement.action_patterns)
    if statement.not_action:
        names = {name for name in KNOWN_ACTIONS if not patterns.match(name)}
        if not patterns.match(OTHER_ACTIONS):
            names.add(OTHER_ACTIONS)
        return frozenset(names)
    names = {name for name in KNOWN_ACTIONS if patterns.match(name)}
    # An action this list does not know still counts as allowed.
    names.update(name for name in patterns.names if name not in KNOWN_ACTIONS)
    names.update(p for p, glob in patterns.wildcards if not any(glob.match(name) for name in KNOWN_ACTIONS))
    return frozenset(names)


def action_kind(action: str) -> str | None:
    """'object' or 'bucket' for a known action; None when unknown (assumed to apply to any resource)."""
    if action not in KNOWN_ACTIONS:
        return None
    return "object" if action.startswith(_OBJECT_ACTION_PREFIXES) else "bucket"


def effective_actions(actions: Iterable[str], kinds: frozenset[str]) -> frozenset[str]:
    """Actions that apply to some resource the statement names (GetObject needs an object resource)."""
    return frozenset(a for a in actions if (kind := action_kind(a)) is None or kind in kinds)


def capabilities(actions: Iterable[str]) -> Capabilities:
    names = set(actions)
    return Capabilities(
        read=bool(names & _READ_ACTIONS),
        list=bool(names & _LIST_ACTIONS),
        write=any(name.startswith(_WRITE_PREFIXES) for name in names),
    )


def describe_actions(statement: Statement) -> str:
    listed = show_list(statement.action_patterns)
    return f"every action except {listed}" if statement.not_action else listed


def summarise(actions: Iterable[str]) -> str:
    names = sorted(clip(KNOWN_ACTIONS.get(a, a)) for a in actions)
    if len(names) > 4:
        return ", ".join(names[:4]) + f" and {len(names) - 4} more"
    return ", ".join(names)
