"""The domain model: typed, frozen, free of any SDK, database or network import.

Collectors produce raw snapshots (plain JSON-able dicts); normalizers turn them into the typed inputs below
(``S3Bucket``, ``S3AccessPoint``); the exposure analysis turns those into an ``Exposure``; the rule engine turns
``Resource`` objects into ``Finding`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    PUBLIC = "public"
    CROSS_ACCOUNT = "cross-account"
    PRIVATE = "private"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True)
class Evidence:
    """One fact behind a verdict: where it comes from (``bucket-policy``, ``bucket-acl``, ``block-public-access``,
    ``object-ownership``, ``access-point``, ``read-error``, ...) and what it says, precisely enough to act on
    (the statement Sid or index, the grant, the setting)."""

    source: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "detail": self.detail}


@dataclass(frozen=True)
class Capabilities:
    """What a grant allows: read objects, list keys, write (put/delete objects, or change ACLs/policy)."""

    read: bool = False
    list: bool = False
    write: bool = False

    def __or__(self, other: Capabilities) -> Capabilities:
        return Capabilities(self.read or other.read, self.list or other.list, self.write or other.write)

    @property
    def any(self) -> bool:
        return self.read or self.list or self.write


NO_CAPABILITIES = Capabilities()


@dataclass(frozen=True)
class Exposure:
    """The effective verdict for one resource (see shared/EXPOSURE.md).

    ``read``/``list``/``write`` describe the access that makes the verdict: for ``public`` what anyone can do, for
    ``cross-account`` what the external principals can do. For a ``latent`` verdict they describe what would be
    public if the neutralising guardrail were removed.
    """

    level: Level
    latent: bool = False
    read: bool = False
    list: bool = False
    write: bool = False
    external_principals: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "latent": self.latent,
            "read": self.read,
            "list": self.list,
            "write": self.write,
            "external_principals": list(self.external_principals),
            "evidence": [e.to_dict() for e in self.evidence],
        }


# --- Typed inputs of the S3 exposure analysis -------------------------------------------------------------------


@dataclass(frozen=True)
class ReadError:
    """A setting that could not be read. Its presence makes a verdict ``unknown`` unless the verdict does not
    depend on it."""

    operation: str  # the API call, e.g. "GetBucketAcl"
    code: str  # the error code, e.g. "AccessDenied", "Throttling", "NoSuchBucket", "InvalidResponse"
    message: str

    def describe(self) -> str:
        return f"{self.operation} failed: {self.code}: {self.message}"


@dataclass(frozen=True)
class PublicAccessBlock:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @property
    def fully_on(self) -> bool:
        return (
            self.block_public_acls
            and self.ignore_public_acls
            and self.block_public_policy
            and self.restrict_public_buckets
        )

    def __or__(self, other: PublicAccessBlock) -> PublicAccessBlock:
        """Levels combine by OR: the most restrictive wins."""
        return PublicAccessBlock(
            self.block_public_acls or other.block_public_acls,
            self.ignore_public_acls or other.ignore_public_acls,
            self.block_public_policy or other.block_public_policy,
            self.restrict_public_buckets or other.restrict_public_buckets,
        )

    def to_dict(self) -> dict[str, bool]:
        return {
            "block_public_acls": self.block_public_acls,
            "ignore_public_acls": self.ignore_public_acls,
            "block_public_policy": self.block_public_policy,
            "restrict_public_buckets": self.restrict_public_buckets,
        }


class GranteeType(StrEnum):
    GROUP = "Group"
    CANONICAL_USER = "CanonicalUser"
    EMAIL = "AmazonCustomerByEmail"


ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY_URI = "http://acs.amazonaws.com/groups/s3/LogDelivery"


@dataclass(frozen=True)
class Grant:
    """One ACL grant. ``grantee`` is the group URI, the canonical user id or the email address."""

    grantee_type: GranteeType
    grantee: str
    permission: str  # READ | WRITE | READ_ACP | WRITE_ACP | FULL_CONTROL


@dataclass(frozen=True)
class Acl:
    owner_id: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class ObjectAcl:
    key: str
    acl: Acl | ReadError


@dataclass(frozen=True)
class S3Bucket:
    """Everything the exposure analysis needs about one bucket, each setting read or failed.

    ``None`` means the setting is absent (no policy, no Block Public Access configuration, no ownership controls),
    which is different from a ``ReadError``.
    """

    account: str
    name: str
    region: str
    acl: Acl | ReadError
    policy: str | ReadError | None  # the policy document as returned by the API (JSON text)
    policy_status_public: bool | ReadError | None  # GetBucketPolicyStatus.IsPublic, AWS's own answer
    bucket_pab: PublicAccessBlock | ReadError | None
    account_pab: PublicAccessBlock | ReadError | None
    object_ownership: str | ReadError | None  # BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
    tags: Mapping[str, str] | ReadError = field(default_factory=dict)
    object_acls: tuple[ObjectAcl, ...] = ()  # a sample of object ACLs, when the collector read some
    other_errors: tuple[ReadError, ...] = ()  # e.g. the bucket vanished mid-scan (NoSuchBucket)
    # Organizations whose principals are "ours" (aws:PrincipalOrgID restricted to one of them is not external).
    trusted_orgs: frozenset[str] = frozenset()

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass(frozen=True)
class S3AccessPoint:
    account: str
    name: str
    region: str
    bucket: str
    network_origin: str | ReadError  # "Internet" | "VPC"
    vpc_id: str | None
    policy: str | ReadError | None
    pab: PublicAccessBlock | ReadError | None
    account_pab: PublicAccessBlock | ReadError | None
    bucket_pab: PublicAccessBlock | ReadError | None = None
    trusted_orgs: frozenset[str] = frozenset()

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:{self.region}:{self.account}:accesspoint/{self.name}"


# --- What rules match on and what scans produce -----------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One scanned resource with its exposure verdict. ``properties`` holds the normalized settings that rules may
    match on (plain JSON-able values, e.g. ``public_access_block.account.block_public_acls``)."""

    uid: str
    provider: str  # aws | gcp | azure
    account: str
    region: str
    type: str  # aws.s3.bucket, aws.s3.access_point, aws.account, ...
    name: str
    exposure: Exposure
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract shape (DESIGN.md), plus ``tags`` and ``properties``."""
        return {
            "uid": self.uid,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "type": self.type,
            "name": self.name,
            "tags": dict(self.tags),
            "exposure": self.exposure.to_dict(),
            "properties": dict(self.properties),
        }


# Resource types whose exposure only summarises other resources (an Azure storage account rolls up its containers)
# or that carry account-level settings: they are not counted as exposed resources of their own (the containers,
# buckets and snapshots are), so "resources public now" counts each exposed thing once.
AGGREGATE_TYPES = frozenset({"aws.account", "azure.storage.account"})


def counts_as_exposed(resource: Resource) -> bool:
    """Whether this resource is counted in public/latent tallies and exposure windows (see AGGREGATE_TYPES)."""
    return resource.type not in AGGREGATE_TYPES


class FindingState(StrEnum):
    NEW = "new"
    OPEN = "open"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Remediation:
    summary: str
    cli: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "cli": self.cli}


@dataclass(frozen=True)
class SuppressionInfo:
    """Why a finding is muted, by whom, until when (``expires`` ISO date or None), and where it was set
    (``config`` or ``cli``)."""

    reason: str
    owner: str
    expires: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "owner": self.owner, "expires": self.expires, "source": self.source}


@dataclass(frozen=True)
class Finding:
    id: str  # stable fingerprint of (rule_id, resource_uid)
    rule_id: str
    title: str
    severity: Severity
    resource_uid: str
    provider: str
    account: str
    region: str
    resource_type: str
    resource_name: str
    message: str
    evidence: tuple[Evidence, ...]
    remediation: Remediation
    state: FindingState = FindingState.NEW
    first_seen: str | None = None
    last_seen: str | None = None
    compliance: tuple[str, ...] = ()
    # Lifecycle, filled from the state store: when it was resolved (state resolved), the severity it had before
    # this scan escalated it, and the suppression that mutes it (state suppressed).
    resolved_at: str | None = None
    previous_severity: Severity | None = None
    suppression: SuppressionInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity.value,
            "resource_uid": self.resource_uid,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "resource_type": self.resource_type,
            "resource_name": self.resource_name,
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation.to_dict(),
            "compliance": list(self.compliance),
            "state": self.state.value,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "previous_severity": self.previous_severity.value if self.previous_severity else None,
            "suppression": self.suppression.to_dict() if self.suppression else None,
        }


class CoverageStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    ERROR = "error"


@dataclass(frozen=True)
class Coverage:
    provider: str
    account: str
    status: CoverageStatus
    resources: int
    errors: tuple[str, ...] = ()
    api_calls: int = 0
    # What this scan enumerated for the account: resource types, or ``type@region`` for regional listings. A
    # resource absent from a complete scan is gone only if its type (and region) was in scope: turning a feature
    # off or dropping a region from the config must not look like a fix. None: not stated (everything).
    scope: tuple[str, ...] | None = None

    def covers(self, resource_type: str, region: str) -> bool:
        return self.scope is None or resource_type in self.scope or f"{resource_type}@{region}" in self.scope

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "status": self.status.value,
            "resources": self.resources,
            "errors": list(self.errors),
            "api_calls": self.api_calls,
            "scope": list(self.scope) if self.scope is not None else None,
        }
