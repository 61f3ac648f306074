"""Typed inputs of the Cloud Storage exposure analysis (the GCS part of the domain model).

Produced by ``normalize.py`` from raw snapshots, consumed by ``exposure.py``.
Frozen, free of any SDK. A setting is its value, ``None`` when it does not apply or was deliberately not read
(documented per field), or a ``ReadError`` when the call failed or answered in a shape we do not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cloudwatchdog.model import ReadError

ALL_USERS = "allUsers"
ALL_AUTHENTICATED_USERS = "allAuthenticatedUsers"
PAP_ENFORCED = "enforced"
PAP_INHERITED = "inherited"


@dataclass(frozen=True)
class IamCondition:
    title: str
    expression: str
    description: str = ""


@dataclass(frozen=True)
class IamBinding:
    role: str  # roles/storage.objectViewer, projects/p/roles/custom, organizations/1/roles/custom
    members: tuple[str, ...]  # allUsers, user:a@b.example, projectViewer:my-project, ...
    condition: IamCondition | None = None


@dataclass(frozen=True)
class IamPolicy:
    bindings: tuple[IamBinding, ...]
    version: int = 1


@dataclass(frozen=True)
class AclEntry:
    """One bucket or object ACL entry: ``entity`` as GCS spells it (allUsers, user-a@b.example, domain-x.example,
    project-viewers-123456, ...) and ``role`` READER | WRITER | OWNER."""

    entity: str
    role: str


@dataclass(frozen=True)
class ObjectAclSample:
    name: str
    acl: tuple[AclEntry, ...] | ReadError


@dataclass(frozen=True)
class TrustContext:
    """Who counts as "ours" when judging members: the organization's domains, and the projects (ids and numbers)
    of this scan. A member outside them is external."""

    domains: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    project_numbers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GcsBucket:
    """Everything the exposure analysis needs about one bucket.

    ``bucket_acl``, ``default_object_acl``: ``None`` when uniform bucket-level access is on (ACLs are not in force
    and GCS refuses to return them). ``object_acls``: a sample of objects with their ACLs (empty when none was
    taken); ``objects_listing`` is the ReadError of the sampling listing, if it failed. ``project_iam``: ``None``
    when project IAM was not read (``project_iam: false``).
    """

    project: str
    name: str
    location: str
    project_number: str | None
    uniform_access: bool | ReadError
    public_access_prevention: str | ReadError  # enforced | inherited
    iam_policy: IamPolicy | ReadError
    bucket_acl: tuple[AclEntry, ...] | ReadError | None
    default_object_acl: tuple[AclEntry, ...] | ReadError | None
    object_acls: tuple[ObjectAclSample, ...] = ()
    objects_listing: ReadError | None = None
    labels: Mapping[str, str] | ReadError = field(default_factory=dict)
    project_iam: IamPolicy | ReadError | None = None
    pap_reported: bool = True  # False: the API answer had no publicAccessPrevention field (read as inherited)
    other_errors: tuple[ReadError, ...] = ()  # e.g. the bucket vanished mid-scan
    trust: TrustContext = TrustContext()

    @property
    def resource_name(self) -> str:
        """The canonical full resource name (Cloud Asset Inventory, IAM)."""
        return f"//storage.googleapis.com/projects/_/buckets/{self.name}"
