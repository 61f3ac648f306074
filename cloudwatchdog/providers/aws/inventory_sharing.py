"""Pure: typed shareable resources (``normalize.aws_sharing``) -> Resources with exposure verdicts.

Resource types ``aws.ec2.snapshot``, ``aws.ec2.image`` and ``aws.rds.snapshot`` (DB and DB cluster snapshots,
told apart by ``properties.snapshot_kind``). ``name`` is the id AWS commands take (``snap-...``, ``ami-...``, the
RDS identifier); the ``Name`` tag and descriptions are in ``tags`` and ``properties``.
"""

from __future__ import annotations

from typing import Any

from cloudwatchdog.model import ReadError, Resource
from cloudwatchdog.providers.aws.exposure_sharing import (
    BlockPublicAccess,
    SharedResource,
    ShareKind,
    grants_public,
    shared_exposure,
)
from cloudwatchdog.providers.aws.normalize_sharing import SharingInventory

PROVIDER = "aws"


def _guardrail(res: SharedResource) -> dict[str, Any] | None:
    bpa = res.block_public_access
    if res.kind in (ShareKind.DB_SNAPSHOT, ShareKind.DB_CLUSTER_SNAPSHOT):
        return None  # RDS has no such guardrail
    setting = "snapshot" if res.kind is ShareKind.EBS_SNAPSHOT else "image"
    if isinstance(bpa, BlockPublicAccess):
        return {"setting": setting, **bpa.to_dict(), "error": None}
    if isinstance(bpa, ReadError):
        return {"setting": setting, "state": None, "managed_by": None, "unavailable": None, "error": bpa.describe()}
    return {"setting": setting, "state": None, "managed_by": None, "unavailable": None, "error": None}


def _read_errors(res: SharedResource, public: bool | None) -> list[str]:
    errors = [e.describe() for e in res.other_errors]
    if isinstance(res.grantees, ReadError):
        errors.append(res.grantees.describe())
    # The region's guardrail counts for this resource only when its verdict needs it: a public EBS snapshot.
    if res.kind is ShareKind.EBS_SNAPSHOT and public and isinstance(res.block_public_access, ReadError):
        errors.append(res.block_public_access.describe())
    tag_errors = res.details.get("tag_errors")
    if isinstance(tag_errors, list):
        errors.extend(str(e) for e in tag_errors)
    return errors


def shared_resource(res: SharedResource) -> Resource:
    public = grants_public(res)
    grantees = res.grantees if not isinstance(res.grantees, ReadError) else ()
    details = {k: v for k, v in res.details.items() if k != "tag_errors"}
    properties: dict[str, Any] = {
        "snapshot_kind": res.kind.value,
        "public_settings": public,
        "shared_with_accounts": sorted({g.value for g in grantees if g.kind == "account" and g.value != res.account}),
        "shared_with_organizations": sorted({g.value for g in grantees if g.kind.startswith("organization")}),
        "sharing_readable": not isinstance(res.grantees, ReadError),
        "block_public_access": _guardrail(res),
        "encrypted": res.encrypted,
        "kms_key_id": res.kms_key_id,
        **details,
        "read_errors": _read_errors(res, public),
    }
    if res.kind is ShareKind.IMAGE:
        properties["aws_public_flag"] = res.aws_public_flag
        properties["backing_snapshots"] = list(res.backing_snapshots)
    return Resource(
        uid=res.arn,
        provider=PROVIDER,
        account=res.account,
        region=res.region,
        type=res.kind.resource_type,
        name=res.id,
        exposure=shared_exposure(res),
        tags=dict(res.tags),
        properties=properties,
    )


def sharing_resources(inv: SharingInventory) -> list[Resource]:
    return [shared_resource(r) for r in inv.resources]


__all__ = ["shared_resource", "sharing_resources"]


def sharing_scope(inv: SharingInventory) -> list[str]:
    """The resource types and regions this scan enumerated (``type@region``); none when sharing was not collected."""
    if not inv.collected:
        return []
    types = sorted({kind.resource_type for kind in ShareKind})
    return [f"{t}@{region}" for region in inv.regions for t in types]
