"""Typed inputs of the S3 exposure analysis (the AWS part of the domain model): what normalize.py produces from a
raw account snapshot and exposure.py judges. Frozen, free of any SDK."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.policy.document import PolicyDocument

# Resource types (Resource.type) of this provider.
ACCOUNT_TYPE = "aws.account"
BUCKET_TYPE = "aws.s3.bucket"
ACCESS_POINT_TYPE = "aws.s3.access_point"


@dataclass(frozen=True)
class NotRead:
    """A setting deliberately not read, and why: another setting already decides everything it could change (the
    bucket-level Block Public Access under all four account-level flags). Neither a value nor an absence."""

    reason: str


ACCOUNT_DECIDES = "not read: the account-level Block Public Access has all four flags on and decides"


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
BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"  # Object Ownership that disables ACLs
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
    acl: Acl | ReadError | NotRead  # NotRead under BucketOwnerEnforced (``moot``)
    policy: PolicyDocument | ReadError | None  # parsed once; ReadError MALFORMED_POLICY if unparsable
    policy_status_public: bool | ReadError | None  # GetBucketPolicyStatus.IsPublic, AWS's own answer
    bucket_pab: PublicAccessBlock | ReadError | NotRead | None
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
    policy: PolicyDocument | ReadError | None
    pab: PublicAccessBlock | ReadError | None
    account_pab: PublicAccessBlock | ReadError | None
    bucket_pab: PublicAccessBlock | ReadError | NotRead | None = None
    trusted_orgs: frozenset[str] = frozenset()

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:{self.region}:{self.account}:accesspoint/{self.name}"
