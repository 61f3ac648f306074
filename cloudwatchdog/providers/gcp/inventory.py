"""Pure: a normalized GCP project inventory -> Resources (with exposure verdicts) and its coverage entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudwatchdog.model import Coverage, CoverageStatus, Level, ReadError, Resource
from cloudwatchdog.providers.gcp.exposure import bucket_exposure, bucket_public_grants
from cloudwatchdog.providers.gcp.model import GcsBucket
from cloudwatchdog.providers.gcp.normalize import GcpProjectInventory, normalize_project

PROVIDER = "gcp"
BUCKET_TYPE = "gcp.storage.bucket"


def _errors(bucket: GcsBucket) -> list[str]:
    values: list[object] = [
        bucket.uniform_access, bucket.public_access_prevention, bucket.iam_policy, bucket.bucket_acl,
        bucket.default_object_acl, bucket.objects_listing, bucket.labels, bucket.project_iam,
        *(s.acl for s in bucket.object_acls), *bucket.other_errors,
    ]
    return list(dict.fromkeys(v.describe() for v in values if isinstance(v, ReadError)))


def bucket_resource(bucket: GcsBucket) -> Resource:
    labels = bucket.labels if not isinstance(bucket.labels, ReadError) else {}
    properties: dict[str, Any] = {
        "location": bucket.location,
        "project_number": bucket.project_number,
        "uniform_bucket_level_access": (
            bucket.uniform_access if isinstance(bucket.uniform_access, bool) else None
        ),
        "public_access_prevention": (
            bucket.public_access_prevention if isinstance(bucket.public_access_prevention, str) else None
        ),
        "public_settings": bucket_public_grants(bucket),
        "project_iam_read": bucket.project_iam is not None and not isinstance(bucket.project_iam, ReadError),
        "object_acls_sampled": len(bucket.object_acls),
        "read_errors": _errors(bucket),
    }
    return Resource(
        uid=bucket.resource_name,
        provider=PROVIDER,
        account=bucket.project,
        region=bucket.location,
        type=BUCKET_TYPE,
        name=bucket.name,
        exposure=bucket_exposure(bucket),
        tags=dict(labels),
        properties=properties,
    )


def project_resources(inv: GcpProjectInventory) -> list[Resource]:
    if inv.status == "error":
        return []
    return [bucket_resource(b) for b in inv.buckets]


def project_coverage(inv: GcpProjectInventory, resources: list[Resource]) -> Coverage:
    if inv.status == "error":
        return Coverage(PROVIDER, inv.project, CoverageStatus.ERROR, 0,
                        (inv.error or "project could not be scanned",), inv.api_calls, name=inv.name)
    errors = list(inv.errors)
    already = "\n".join(inv.errors)  # the normalizer lists each failed call once; don't repeat those
    for r in resources:
        read_errors = r.properties.get("read_errors", [])
        errors.extend(f"{r.type} {r.name}: {e}" for e in read_errors if e not in already)
        if r.exposure.level is Level.UNKNOWN and not read_errors:
            errors.append(f"{r.type} {r.name}: exposure could not be determined")
    status = CoverageStatus.PARTIAL if errors else CoverageStatus.OK
    return Coverage(PROVIDER, inv.project, status, len(resources), tuple(errors), inv.api_calls, (BUCKET_TYPE,),
                    name=inv.name)


def analyse_snapshot(snapshot: Mapping[str, Any]) -> tuple[list[Resource], Coverage]:
    """Pure: one project's raw snapshot -> its buckets with verdicts, and its coverage entry."""
    inventory = normalize_project(snapshot)
    found = project_resources(inventory)
    return found, project_coverage(inventory, found)
