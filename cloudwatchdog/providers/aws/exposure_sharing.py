"""Exposure of shared EBS snapshots, AMIs and RDS (cluster) snapshots (shared/EXPOSURE.md, "Snapshots and
images"), and the typed input of that analysis.

- An EBS snapshot whose createVolumePermission names the group ``all``, an AMI whose launch permission names
  ``all``, an RDS snapshot whose ``restore`` attribute holds ``all`` are public: any AWS account can copy it, or
  create a volume, launch an instance or restore a database from it, and so read its data.
- Named account ids are cross-account (the owner itself excepted). An AMI may also be shared with an
  organization or organizational unit: one of a trusted organization is internal, any other is external.
- EBS snapshot Block Public Access (per region) ``block-all-sharing`` neutralises a public snapshot (latent);
  ``block-new-sharing`` only refuses new public sharing, so an already public snapshot stays public. It applies to
  EBS snapshots only. Image Block Public Access (``block-new-sharing``) only refuses new public sharing of AMIs:
  an already public AMI stays public, so it never changes a verdict. RDS snapshots have no such guardrail.
- A public snapshot whose region's snapshot Block Public Access state cannot be read is ``unknown``: the
  guardrail decides between public and latent, and nobody can say which. An endpoint that does not implement the
  guardrail at all (InvalidAction) has none in force.
- AWS refuses to share encrypted snapshots or AMIs with encrypted volumes publicly, and using an encrypted one
  needs its KMS key; a permission that nevertheless names ``all`` is still reported as public (the permission
  says so), with a note.

Pure: no SDK, no network, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from cloudwatchdog.model import Evidence, Exposure, Level, ReadError

PUBLIC_GROUP = "all"


class ShareKind(StrEnum):
    """The kinds of shareable resource; the value is the resource type of DESIGN.md (``aws.rds.snapshot`` holds
    DB snapshots and DB cluster snapshots alike)."""

    EBS_SNAPSHOT = "ebs-snapshot"
    IMAGE = "image"
    DB_SNAPSHOT = "db-snapshot"
    DB_CLUSTER_SNAPSHOT = "db-cluster-snapshot"

    @property
    def resource_type(self) -> str:
        return _TYPES[self]

    @property
    def noun(self) -> str:
        return _NOUNS[self]

    @property
    def permission(self) -> str:
        """The attribute that shares it."""
        return _PERMISSIONS[self]


_TYPES = {
    ShareKind.EBS_SNAPSHOT: "aws.ec2.snapshot",
    ShareKind.IMAGE: "aws.ec2.image",
    ShareKind.DB_SNAPSHOT: "aws.rds.snapshot",
    ShareKind.DB_CLUSTER_SNAPSHOT: "aws.rds.snapshot",
}
_NOUNS = {
    ShareKind.EBS_SNAPSHOT: "EBS snapshot",
    ShareKind.IMAGE: "AMI",
    ShareKind.DB_SNAPSHOT: "RDS DB snapshot",
    ShareKind.DB_CLUSTER_SNAPSHOT: "RDS DB cluster snapshot",
}
_PERMISSIONS = {
    ShareKind.EBS_SNAPSHOT: "createVolumePermission",
    ShareKind.IMAGE: "launchPermission",
    ShareKind.DB_SNAPSHOT: "restore attribute",
    ShareKind.DB_CLUSTER_SNAPSHOT: "restore attribute",
}
_USE = {
    ShareKind.EBS_SNAPSHOT: "create a volume from it (or copy it) and read its data",
    ShareKind.IMAGE: "launch an instance from it and read its volumes",
    ShareKind.DB_SNAPSHOT: "copy it or restore a database from it",
    ShareKind.DB_CLUSTER_SNAPSHOT: "copy it or restore a database cluster from it",
}

GranteeKind = Literal["group", "account", "organization", "organizational-unit"]


@dataclass(frozen=True)
class Grantee:
    """One entry of the sharing attribute: the group ``all``, an account id, an organization ARN or an OU ARN."""

    kind: GranteeKind
    value: str

    def organization_id(self) -> str | None:
        """``o-...`` of an organization or OU ARN (``...:organization/o-x``, ``...:ou/o-x/ou-y``)."""
        if self.kind not in ("organization", "organizational-unit"):
            return None
        path = self.value.split(":", 5)[-1].split("/")
        return path[1] if len(path) > 1 and path[1].startswith("o-") else None


@dataclass(frozen=True)
class BlockPublicAccess:
    """A region's snapshot or image Block Public Access state (``block-all-sharing``, ``block-new-sharing``,
    ``unblocked``). ``state`` None: the endpoint does not implement the feature (``unavailable`` holds its
    answer), so no such guardrail can be in force there."""

    state: str | None
    managed_by: str | None = None  # account | declarative-policy
    unavailable: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"state": self.state, "managed_by": self.managed_by, "unavailable": self.unavailable}


@dataclass(frozen=True)
class SharedResource:
    """Everything the analysis needs about one shareable resource, each setting read or failed."""

    kind: ShareKind
    account: str
    region: str
    id: str
    arn: str
    grantees: tuple[Grantee, ...] | ReadError
    # The region's snapshot BPA (EBS snapshots) or image BPA (AMIs); None for RDS, which has no such guardrail.
    block_public_access: BlockPublicAccess | ReadError | None = None
    encrypted: bool | None = None
    kms_key_id: str | None = None
    aws_public_flag: bool | None = None  # DescribeImages Public: AWS's own answer for an AMI
    backing_snapshots: tuple[str, ...] = ()  # an AMI's block device snapshots
    trusted_orgs: frozenset[str] = frozenset()
    other_errors: tuple[ReadError, ...] = ()  # anything else that makes the resource unjudgeable
    tags: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, object] = field(default_factory=dict)  # plain descriptive values for rules and reports


@dataclass
class _Findings:
    evidence: list[Evidence] = field(default_factory=list)  # decisive
    notes: list[Evidence] = field(default_factory=list)  # context
    external: list[str] = field(default_factory=list)

    def add(self, source: str, detail: str) -> None:
        self.evidence.append(Evidence(source, detail))

    def note(self, source: str, detail: str) -> None:
        self.notes.append(Evidence(source, detail))


def _source(kind: ShareKind) -> str:
    return {
        ShareKind.EBS_SNAPSHOT: "snapshot-permission",
        ShareKind.IMAGE: "launch-permission",
    }.get(kind, "restore-attribute")


def _grantees(res: SharedResource, grantees: tuple[Grantee, ...], out: _Findings) -> bool:
    """Sort the grantees into evidence and external principals; True when the group ``all`` is among them."""
    public = False
    where = f"{res.kind.permission} of {res.kind.noun} {res.id}"
    for g in grantees:
        if g.kind == "group":
            public = True
            out.add(_source(res.kind), f"{where} grants the group {g.value}: any AWS account can {_USE[res.kind]}")
        elif g.kind == "account":
            if g.value == res.account:
                out.note(_source(res.kind), f"{where} names the owning account {g.value} itself (no effect)")
                continue
            out.add(_source(res.kind), f"{where} grants account {g.value} (another account)")
            out.external.append(g.value)
        else:
            org = g.organization_id()
            what = "organization" if g.kind == "organization" else "organizational unit"
            if org is not None and org in res.trusted_orgs:
                out.note(_source(res.kind), f"{where} grants {what} {g.value}, inside the trusted organization {org}")
                continue
            principal = f"org:{org}" if g.kind == "organization" and org else f"ou:{g.value.split('/', 1)[-1]}"
            out.add(_source(res.kind), f"{where} grants {what} {g.value} (outside the trusted organizations)")
            out.external.append(principal)
    if not grantees:
        out.note(_source(res.kind), f"{where} is empty: not shared with anyone")
    return public


_Route = Literal["public", "latent", "unknown"]


def _guardrail_route(res: SharedResource, out: _Findings) -> _Route:
    """How a public permission stands against the region's guardrail."""
    bpa = res.block_public_access
    region = res.region
    if res.kind in (ShareKind.DB_SNAPSHOT, ShareKind.DB_CLUSTER_SNAPSHOT):
        out.note("block-public-access", "RDS has no Block Public Access setting for snapshots: nothing neutralises "
                 "a public restore attribute")
        return "public"
    name = "snapshot Block Public Access" if res.kind is ShareKind.EBS_SNAPSHOT else "image Block Public Access"
    if res.kind is ShareKind.IMAGE:
        # It only refuses new public sharing: an AMI that is already public stays public, whatever its state.
        if isinstance(bpa, ReadError):
            out.note("read-error", bpa.describe())
            out.note("block-public-access", f"{name} of {region} could not be read; not needed: it never makes an "
                     "already public AMI private")
        elif isinstance(bpa, BlockPublicAccess) and bpa.state == "block-new-sharing":
            out.add("block-public-access", f"{name} is block-new-sharing in {region}{_managed(bpa)}: it only "
                    "refuses new public sharing; this AMI, already public, stays public")
        elif isinstance(bpa, BlockPublicAccess):
            out.note("block-public-access", _state_text(name, region, bpa) + ": nothing refuses public sharing")
        return "public"
    if isinstance(bpa, ReadError):
        out.add("read-error", bpa.describe())
        out.add("block-public-access", f"{name} of {region} could not be read: block-all-sharing would neutralise "
                "the public permission, so public and latent cannot be told apart")
        return "unknown"
    if bpa is None or bpa.state is None:
        answer = f" ({bpa.unavailable})" if bpa is not None and bpa.unavailable else ""
        out.add("block-public-access", f"{name} is not available at this endpoint{answer}: nothing neutralises the "
                "public permission")
        return "public"
    if bpa.state == "block-all-sharing":
        out.add("block-public-access", f"{name} is block-all-sharing in {region}{_managed(bpa)}: the public "
                "permission is neutralised (latent); block-new-sharing or unblocked would make it public again")
        return "latent"
    if bpa.state == "block-new-sharing":
        out.add("block-public-access", f"{name} is block-new-sharing in {region}{_managed(bpa)}: it only refuses "
                "new public sharing; this snapshot, already public, stays public")
        return "public"
    out.add("block-public-access", _state_text(name, region, bpa) + ": nothing neutralises the public permission")
    return "public"


def _managed(bpa: BlockPublicAccess) -> str:
    return f" (managed by {bpa.managed_by})" if bpa.managed_by else ""


def _state_text(name: str, region: str, bpa: BlockPublicAccess) -> str:
    if bpa.state is None:
        return f"{name} is not available at this endpoint"
    return f"{name} is {bpa.state} in {region}{_managed(bpa)}"


def _encryption(res: SharedResource, public: bool, external: bool, out: _Findings) -> None:
    if not res.encrypted or not (public or external):
        return
    key = f" with KMS key {res.kms_key_id}" if res.kms_key_id else ""
    what = f"{res.kind.noun} {res.id} is encrypted{key}"
    if public:
        refuses = "AMIs with encrypted volumes" if res.kind is ShareKind.IMAGE else "encrypted snapshots"
        out.note("encryption", f"{what}: AWS refuses to share {refuses} publicly, and using it needs permission "
                 f"to use the key; reported as public because its {res.kind.permission} says so")
    else:
        out.note("encryption", f"{what}: the other accounts also need permission to use the key (one encrypted with "
                 "the AWS managed key cannot be shared at all)")


def _backing(res: SharedResource, public: bool, external: bool, out: _Findings) -> None:
    if res.kind is ShareKind.IMAGE and res.backing_snapshots and (public or external):
        whom = "anyone" if public else "every account it is shared with"
        out.note("block-device-mapping", f"{whom} can launch the AMI and read the volumes created from its snapshots "
                 f"{', '.join(res.backing_snapshots)}, whatever those snapshots' own permissions")


def _public_flag(res: SharedResource, public: bool, out: _Findings) -> bool:
    """Compare AWS's own DescribeImages ``Public`` with the launch permission; either saying public is public."""
    flag = res.aws_public_flag
    if flag is None or flag == public:
        return public
    if flag:
        out.add("aws-image-public", f"DescribeImages says AMI {res.id} is public (Public=true), but its launch "
                "permission does not name the group all: treated as public")
    else:
        out.add("aws-image-public", f"DescribeImages says AMI {res.id} is not public (Public=false), but its launch "
                "permission names the group all: treated as public")
    return True


def shared_exposure(res: SharedResource) -> Exposure:
    """The effective exposure of one snapshot or image, with its evidence."""
    out = _Findings()
    for error in res.other_errors:
        out.add("read-error", error.describe())
    if isinstance(res.grantees, ReadError):
        out.add("read-error", res.grantees.describe())
        if res.kind is ShareKind.IMAGE and res.aws_public_flag:
            # The AMI is public by AWS's own answer, and no guardrail can change that; the accounts it may also be
            # shared with are what remains unknown.
            out.add("aws-image-public", f"DescribeImages says AMI {res.id} is public (Public=true)")
            if not res.other_errors:
                _guardrail_route(res, out)
                return _exposure(Level.PUBLIC, False, out)
        return _exposure(Level.UNKNOWN, False, out)
    public = _grantees(res, res.grantees, out)
    if res.kind is ShareKind.IMAGE:
        public = _public_flag(res, public, out)
    external = bool(out.external)
    _encryption(res, public, external, out)
    _backing(res, public, external, out)
    if res.other_errors:
        return _exposure(Level.UNKNOWN, False, out)
    if not public:
        return _exposure(Level.CROSS_ACCOUNT if external else Level.PRIVATE, False, out)
    route = _guardrail_route(res, out)
    if route == "public":
        return _exposure(Level.PUBLIC, False, out)
    if route == "latent":
        return _exposure(Level.CROSS_ACCOUNT if external else Level.PRIVATE, True, out)
    return _exposure(Level.UNKNOWN, False, out)


def _exposure(level: Level, latent: bool, out: _Findings) -> Exposure:
    # Reading the data is what any grant of these gives (a copy, a volume, an instance, a restored database).
    granted = level in (Level.PUBLIC, Level.CROSS_ACCOUNT) or latent
    return Exposure(
        level=level,
        latent=latent,
        read=granted,
        external_principals=tuple(sorted(set(out.external))),
        evidence=tuple(dict.fromkeys(out.evidence + out.notes)),
    )


def grants_public(res: SharedResource) -> bool | None:
    """Would it be public with every guardrail off? None when the sharing attribute could not be read (and
    AWS's own answer, for an AMI, does not say public)."""
    if isinstance(res.grantees, ReadError):
        return True if res.kind is ShareKind.IMAGE and res.aws_public_flag else None
    public = any(g.kind == "group" for g in res.grantees)
    return public or (res.kind is ShareKind.IMAGE and bool(res.aws_public_flag))


__all__ = [
    "PUBLIC_GROUP",
    "BlockPublicAccess",
    "Grantee",
    "ShareKind",
    "SharedResource",
    "grants_public",
    "shared_exposure",
]
