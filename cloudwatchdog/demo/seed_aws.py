"""Seeds the AWS part of the demo estate (``estate/aws.yaml``) into a moto server, and describes what it seeded.

The estate file says what exists; this module knows how each kind of resource is made through the AWS APIs (in
which order, with which calls), so that every resource is built the way a real account would have reached that
state. Deterministic: the same estate every time (the emulator generates snapshot and image ids; the estate names
them by their ``Name`` tag).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from cloudwatchdog.demo.content import Content, render
from cloudwatchdog.demo.estate_file import ESTATE_DIR, duplicates, load_estate
from cloudwatchdog.emulators.moto import account_core, account_session, emulator_client
from cloudwatchdog.providers.aws.model import ALL_USERS_URI, AUTHENTICATED_USERS_URI, LOG_DELIVERY_URI
from cloudwatchdog.providers.aws.settings import AwsAccount, AwsProvider
from cloudwatchdog.settings.base import StrictModel
from cloudwatchdog.yamlsource import KeyPath

ESTATE_FILE = ESTATE_DIR / "aws.yaml"

# --- The estate file ----------------------------------------------------------------------------------------

Expected = Literal["public", "cross-account", "private"]
Statement = dict[str, Any]  # an IAM policy statement, as AWS documents it
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
_GROUPS = {"AllUsers": ALL_USERS_URI, "AuthenticatedUsers": AUTHENTICATED_USERS_URI, "LogDelivery": LOG_DELIVERY_URI}


class BlockPublicAccess(StrictModel):
    BlockPublicAcls: bool
    IgnorePublicAcls: bool
    BlockPublicPolicy: bool
    RestrictPublicBuckets: bool


class AclGrant(StrictModel):
    group: Literal["AllUsers", "AuthenticatedUsers", "LogDelivery"]
    permission: Literal["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"]


class Bucket(StrictModel):
    name: str
    region: str = "us-east-1"
    expected: Expected = "private"
    latent: bool = False
    issue: str | None = None
    tags: dict[str, str] = {}
    objects: dict[str, Content] = {}
    object_acl: Literal["private", "public-read", "public-read-write", "authenticated-read"] | None = None
    acl_grants: list[AclGrant] = []  # besides the owner's FULL_CONTROL
    policy: list[Statement] | None = None
    ownership: Literal["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"] | None = None
    block_public_access: BlockPublicAccess | None = None


class AccessPoint(StrictModel):
    name: str
    bucket: str
    region: str
    expected: Expected = "private"
    issue: str | None = None
    vpc_id: str | None = None  # None: an Internet-origin access point
    policy: list[Statement] | None = None
    block_public_access: BlockPublicAccess | None = None  # None: the service's default (all on)


class CreateVolumePermission(StrictModel):
    groups: list[Literal["all"]] = []
    accounts: list[AccountId] = []


class EbsSnapshot(StrictModel):
    name: str  # its Name tag
    region: str = "us-east-1"
    description: str
    size_gib: Annotated[int, Field(ge=1)] = 50
    create_volume_permission: CreateVolumePermission = CreateVolumePermission()
    expected: Expected = "private"
    issue: str | None = None
    tags: dict[str, str] = {}


class Image(StrictModel):
    name: str  # its name and Name tag; its root volume snapshot is <name>-root
    region: str = "us-east-1"
    description: str
    root_volume_gib: Annotated[int, Field(ge=1)] = 16
    launch_permission: list[dict[str, str]] = []  # LaunchPermission entries: {UserId | Group | OrganizationArn ...}
    expected: Expected = "private"
    issue: str | None = None
    tags: dict[str, str] = {}


class DbSnapshot(StrictModel):
    identifier: str  # its identifier and Name tag
    region: str = "us-east-1"
    db_instance: str | None = None  # a snapshot of a (new) DB instance ...
    db_cluster: str | None = None  # ... or of an Aurora cluster
    engine: str
    instance_class: str = "db.t3.medium"
    allocated_storage_gib: Annotated[int, Field(ge=20)] = 100
    restore: list[str] = []  # the restore attribute: "all" or account ids
    expected: Expected = "private"
    issue: str | None = None
    tags: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_source(self) -> DbSnapshot:
        if (self.db_instance is None) == (self.db_cluster is None):
            raise ValueError("give exactly one of db_instance and db_cluster")
        return self


class Account(StrictModel):
    id: AccountId
    name: str
    audit_role: str | None = None  # scanned by assuming this role; None: through the default chain
    block_public_access: BlockPublicAccess | None = None  # None: no account-level Block Public Access at all
    buckets: list[Bucket] = []
    access_points: list[AccessPoint] = []
    ebs_snapshots: list[EbsSnapshot] = []
    images: list[Image] = []
    db_snapshots: list[DbSnapshot] = []


class AwsEstateSpec(StrictModel):
    regions: list[str]
    trusted_organizations: list[str] = []
    accounts: list[Account]


def _check(spec: AwsEstateSpec) -> list[tuple[KeyPath, str]]:
    problems = duplicates(((("accounts", i, "id"), a.id) for i, a in enumerate(spec.accounts)), "account")
    problems += duplicates(
        ((("accounts", i, "buckets", j, "name"), b.name) for i, a in enumerate(spec.accounts)
         for j, b in enumerate(a.buckets)), "bucket")
    for i, account in enumerate(spec.accounts):
        names = {b.name for b in account.buckets}
        problems += [(("accounts", i, "access_points", j, "bucket"), f"no bucket {p.bucket!r} in this account")
                     for j, p in enumerate(account.access_points) if p.bucket not in names]
    roles = [a.audit_role for a in spec.accounts]
    if roles and (roles[0] is not None or None in roles[1:]):
        problems.append((("accounts",), "the first account is scanned through the default chain (no audit_role), "
                                        "every other one through its audit_role"))
    return problems


@cache
def aws_estate_spec(path: Path = ESTATE_FILE) -> AwsEstateSpec:
    """The AWS estate file, validated."""
    return load_estate(AwsEstateSpec, path, _check)


# --- What was seeded ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    id: str
    name: str
    account_pab: dict[str, bool] | None  # None: no account-level Block Public Access at all


@dataclass(frozen=True)
class DemoBucket:
    account: str
    name: str
    region: str
    expected: str  # public | cross-account | private (a latent exposure keeps its non-public level)
    latent: bool = False
    issue: str | None = None  # what is wrong, in words; None for a healthy bucket
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoAccessPoint:
    account: str
    name: str
    bucket: str
    region: str
    expected: str
    issue: str | None = None


@dataclass(frozen=True)
class DemoShared:
    """An EBS snapshot, AMI or RDS (cluster) snapshot. ``name`` is its ``Name`` tag (ids are generated by the
    emulator; the RDS identifier is the Name tag too), ``type`` the resource type the scan reports."""

    account: str
    type: str  # aws.ec2.snapshot | aws.ec2.image | aws.rds.snapshot
    name: str
    region: str
    expected: str
    latent: bool = False
    issue: str | None = None


@dataclass(frozen=True)
class DemoEstate:
    endpoint_url: str
    accounts: tuple[DemoAccount, ...]
    buckets: tuple[DemoBucket, ...]
    access_points: tuple[DemoAccessPoint, ...]
    shared: tuple[DemoShared, ...] = ()  # snapshots and images
    spec: AwsEstateSpec | None = field(default=None, repr=False, compare=False)

    def bucket(self, name: str) -> DemoBucket:
        return next(b for b in self.buckets if b.name == name)

    def aws_provider(self, **overrides: Any) -> AwsProvider:
        """The scan config for this estate: the emulator credential (the first account is the default chain's),
        every other account by assuming its audit role."""
        spec = self.spec or aws_estate_spec()
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "credential": "emulator",
            "regions": list(spec.regions),
            "accounts": [
                AwsAccount(id=a.id, name=a.name, role_arn=f"arn:aws:iam::{a.id}:role/{a.audit_role}")
                if a.audit_role else AwsAccount(id=a.id, name=a.name)
                for a in spec.accounts
            ],
            "trusted_organizations": list(spec.trusted_organizations),
        }
        values.update(overrides)
        return AwsProvider(**values)

    def session(self) -> Any:
        """The default-chain session for scanning the estate (the emulator's fixed keys): a botocore session, what
        ``collect_aws(..., session=...)`` takes."""
        return account_core(self.endpoint_url, self.accounts[0].id)


# --- Seeding ------------------------------------------------------------------------------------------------


def _policy(statements: list[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def _tag_list(name: str, tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted({"Name": name, **tags}.items())]


class _Seeder:
    """Seeds one account; remembers what it made."""

    def __init__(self, endpoint: str, account: str) -> None:
        self.endpoint = endpoint
        self.account = account
        self.session = account_session(endpoint, account)
        self._clients: dict[tuple[str, str], Any] = {}
        self.buckets: list[DemoBucket] = []
        self.access_points: list[DemoAccessPoint] = []
        self.shared: list[DemoShared] = []

    def client(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = emulator_client(self.session, service, self.endpoint, region=region)
        return self._clients[key]

    def bucket(self, b: Bucket) -> None:
        s3 = self.client("s3", b.region)
        kwargs: dict[str, Any] = {"Bucket": b.name}
        if b.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": b.region}
        s3.create_bucket(**kwargs)
        if b.tags:
            s3.put_bucket_tagging(
                Bucket=b.name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(b.tags.items())]}
            )
        for key, content in sorted(b.objects.items()):
            extra = {"ACL": b.object_acl} if b.object_acl else {}
            s3.put_object(Bucket=b.name, Key=key, Body=render(content), **extra)
        if b.acl_grants:
            # An explicit ACL (moto reads canned public-read-write back as READ only, so grants are spelled out).
            owner = s3.get_bucket_acl(Bucket=b.name)["Owner"]["ID"]
            grants: list[dict[str, Any]] = [
                {"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"}
            ]
            grants += [{"Grantee": {"Type": "Group", "URI": _GROUPS[g.group]}, "Permission": g.permission}
                       for g in b.acl_grants]
            s3.put_bucket_acl(Bucket=b.name, AccessControlPolicy={"Owner": {"ID": owner}, "Grants": grants})
        if b.policy:
            s3.put_bucket_policy(Bucket=b.name, Policy=_policy(b.policy))
        # Guardrails last: on AWS they would refuse the public ACL/policy above, which is exactly the point of
        # a latent exposure (set before the guardrail, neutralised by it).
        if b.ownership:
            s3.put_bucket_ownership_controls(
                Bucket=b.name, OwnershipControls={"Rules": [{"ObjectOwnership": b.ownership}]}
            )
        if b.block_public_access:
            s3.put_public_access_block(Bucket=b.name, PublicAccessBlockConfiguration=b.block_public_access.model_dump())
        self.buckets.append(DemoBucket(self.account, b.name, b.region, b.expected, b.latent, b.issue, dict(b.tags)))

    def access_point(self, p: AccessPoint) -> None:
        control = self.client("s3control", p.region)
        kwargs: dict[str, Any] = {"AccountId": self.account, "Name": p.name, "Bucket": p.bucket}
        if p.vpc_id:
            kwargs["VpcConfiguration"] = {"VpcId": p.vpc_id}
        if p.block_public_access is not None:
            kwargs["PublicAccessBlockConfiguration"] = p.block_public_access.model_dump()
        control.create_access_point(**kwargs)
        if p.policy is not None:
            control.put_access_point_policy(AccountId=self.account, Name=p.name, Policy=_policy(p.policy))
        self.access_points.append(DemoAccessPoint(self.account, p.name, p.bucket, p.region, p.expected, p.issue))

    def ebs_snapshot(self, s: EbsSnapshot) -> None:
        ec2 = self.client("ec2", s.region)
        volume = ec2.create_volume(AvailabilityZone=f"{s.region}a", Size=s.size_gib)
        snapshot = ec2.create_snapshot(
            VolumeId=volume["VolumeId"],
            Description=s.description,
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": _tag_list(s.name, s.tags)}],
        )
        permission = s.create_volume_permission
        if permission.groups or permission.accounts:
            ec2.modify_snapshot_attribute(
                SnapshotId=snapshot["SnapshotId"],
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=list(permission.groups),
                UserIds=list(permission.accounts),
            )
        self.shared.append(DemoShared(self.account, "aws.ec2.snapshot", s.name, s.region, s.expected, issue=s.issue))

    def image(self, i: Image) -> None:
        """An AMI, registered from a root volume snapshot the emulator creates (declared too, private: its own
        permission is empty)."""
        ec2 = self.client("ec2", i.region)
        image_id = ec2.register_image(
            Name=i.name,
            Description=i.description,
            RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": i.root_volume_gib}}],
        )["ImageId"]
        ec2.create_tags(Resources=[image_id], Tags=_tag_list(i.name, i.tags))
        if i.launch_permission:
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": list(i.launch_permission)})
        self.shared.append(DemoShared(self.account, "aws.ec2.image", i.name, i.region, i.expected, issue=i.issue))
        image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
        for mapping in image.get("BlockDeviceMappings", []):
            snapshot_id = mapping.get("Ebs", {}).get("SnapshotId")
            if snapshot_id:
                root = f"{i.name}-root"
                ec2.create_tags(Resources=[snapshot_id], Tags=[{"Key": "Name", "Value": root}])
                self.shared.append(DemoShared(self.account, "aws.ec2.snapshot", root, i.region, "private"))

    def db_snapshot(self, d: DbSnapshot) -> None:
        """A manual RDS snapshot of a new DB instance, or of a new Aurora cluster."""
        rds = self.client("rds", d.region)
        tags = _tag_list(d.identifier, d.tags)
        login = {"MasterUsername": "velora_admin", "MasterUserPassword": "not-a-real-password-1"}
        if d.db_cluster:
            rds.create_db_cluster(DBClusterIdentifier=d.db_cluster, Engine=d.engine, **login)
            rds.create_db_cluster_snapshot(
                DBClusterSnapshotIdentifier=d.identifier, DBClusterIdentifier=d.db_cluster, Tags=tags
            )
            if d.restore:
                rds.modify_db_cluster_snapshot_attribute(
                    DBClusterSnapshotIdentifier=d.identifier, AttributeName="restore", ValuesToAdd=list(d.restore)
                )
        else:
            rds.create_db_instance(
                DBInstanceIdentifier=d.db_instance,
                Engine=d.engine,
                DBInstanceClass=d.instance_class,
                AllocatedStorage=d.allocated_storage_gib,
                **login,
            )
            rds.create_db_snapshot(DBSnapshotIdentifier=d.identifier, DBInstanceIdentifier=d.db_instance, Tags=tags)
            if d.restore:
                rds.modify_db_snapshot_attribute(
                    DBSnapshotIdentifier=d.identifier, AttributeName="restore", ValuesToAdd=list(d.restore)
                )
        self.shared.append(
            DemoShared(self.account, "aws.rds.snapshot", d.identifier, d.region, d.expected, issue=d.issue)
        )

    def seed(self, a: Account) -> DemoAccount:
        for bucket in a.buckets:
            self.bucket(bucket)
        for point in a.access_points:
            self.access_point(point)
        for snapshot in a.ebs_snapshots:
            self.ebs_snapshot(snapshot)
        for image in a.images:
            self.image(image)
        for db in a.db_snapshots:
            self.db_snapshot(db)
        pab = a.block_public_access.model_dump() if a.block_public_access else None
        if pab is not None:
            self.client("s3control").put_public_access_block(AccountId=self.account, PublicAccessBlockConfiguration=pab)
        return DemoAccount(a.id, a.name, pab)


def seed_demo_estate(endpoint_url: str, spec: AwsEstateSpec | None = None) -> DemoEstate:
    """Seed the AWS estate (``estate/aws.yaml`` unless ``spec`` is given) into the (empty) moto server at
    ``endpoint_url`` and describe it."""
    spec = spec or aws_estate_spec()
    accounts: list[DemoAccount] = []
    seeders: list[_Seeder] = []
    for account in spec.accounts:
        seeder = _Seeder(endpoint_url, account.id)
        accounts.append(seeder.seed(account))
        seeders.append(seeder)
    return DemoEstate(
        endpoint_url=endpoint_url,
        accounts=tuple(accounts),
        buckets=tuple(b for s in seeders for b in s.buckets),
        access_points=tuple(p for s in seeders for p in s.access_points),
        shared=tuple(x for s in seeders for x in s.shared),
        spec=spec,
    )


__all__ = [
    "AwsEstateSpec",
    "DemoAccessPoint",
    "DemoAccount",
    "DemoBucket",
    "DemoEstate",
    "DemoShared",
    "aws_estate_spec",
    "seed_demo_estate",
]
