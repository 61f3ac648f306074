"""AWS collector, sharing beyond buckets: how EBS snapshots, AMIs and RDS (cluster) snapshots of one account are
shared, in every scanned region, and the snapshot/image Block Public Access state of each region.

Called by ``cloudwatchdog.providers.aws.collect`` for each account it entered, with that account's reader (clients,
call counter, the ``{"ok"|"absent"|"error"}`` recording) and thread pool; the result is the account snapshot's
``sharing`` section, normalized by ``normalize_sharing``. Never raises for a cloud-side problem.

Shape (``snapshot["sharing"]``)::

    {"regions_from": "config" | "DescribeRegions",
     "calls": {"DescribeRegions": r},                          (only with ``regions: all``)
     "regions": {"<region>": {
         "calls": {"DescribeSnapshots": r, "DescribeImages": r, "DescribeDBSnapshots": r,
                   "DescribeDBClusterSnapshots": r,
                   "GetSnapshotBlockPublicAccessState": r, "GetImageBlockPublicAccessState": r},
         "ebs_snapshots":        [{"id": id, "listing": <DescribeSnapshots entry>,
                                   "calls": {"DescribeSnapshotAttribute": r}}, ...],
         "images":               [{"id": id, "listing": <DescribeImages entry>,
                                   "calls": {"DescribeImageAttribute": r}}, ...],
         "db_snapshots":         [{"id": id, "listing": <DescribeDBSnapshots entry>,
                                   "calls": {"DescribeDBSnapshotAttributes": r}}, ...],
         "db_cluster_snapshots": [{"id": id, "listing": <DescribeDBClusterSnapshots entry>,
                                   "calls": {"DescribeDBClusterSnapshotAttributes": r}}, ...]}}}

A listing that fails half-way is recorded as an error, and the entries of the pages that did arrive are still
read (they exist; their verdicts stand). Listings ask for what the account owns and can share: snapshots with
``OwnerIds=[self]``, images with ``Owners=[self]`` (disabled AMIs, which DescribeImages leaves out by default,
lose every launch permission when disabled), RDS snapshots of type ``manual`` (automated and AWS Backup snapshots
cannot be shared; copies of them are manual). An entry whose ``OwnerId`` names another account is not the account's
whatever the endpoint answered (a plain moto server lists its ~1,300 built-in public AMI snapshots for
``OwnerIds=[self]``): it is left out of the recorded listing, which says how many were (``NotOwnedLeftOut``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

from botocore import xform_name

from cloudwatchdog.providers.aws.session import ClientFactory, jsonable
from cloudwatchdog.providers.aws.settings import AwsProvider

log = logging.getLogger("cloudwatchdog.providers.aws.collect")

CallResult = dict[str, Any]
Progress = Callable[[str, int], None]

# An endpoint without the feature answers an action it does not know with InvalidAction (UnsupportedOperation
# for a feature not offered in the region): no such guardrail exists there. Recorded as absent, not as an error.
SHARING_ABSENT_CODES: dict[str, frozenset[str]] = {
    "GetSnapshotBlockPublicAccessState": frozenset({"InvalidAction", "UnsupportedOperation"}),
    "GetImageBlockPublicAccessState": frozenset({"InvalidAction", "UnsupportedOperation"}),
}
LISTING_PAGE_SIZE = {"ec2": 1000, "rds": 100}  # the largest page each service allows


class Reader(Protocol):
    """What the sharing collector needs of ``collectors.aws.AccountReader``."""

    account: str
    clients: ClientFactory

    def call(
        self, service: str, operation: str, *, region: str | None = None, resource: str = "", **params: Any
    ) -> CallResult: ...

    def guard(self, operation: str, fn: Callable[[], Any], *, resource: str = "") -> CallResult: ...


@dataclass(frozen=True)
class Kind:
    """One kind of shareable resource: how to list it and how to read its sharing attribute."""

    key: str  # the section of a region entry
    label: str  # for logs and progress
    service: str
    listing: str  # the listing operation
    listing_params: tuple[tuple[str, Any], ...]
    result_key: str  # the list in each listing page
    id_key: str  # the id in each listed entry
    attribute: str  # the attribute operation
    attribute_params: Callable[[str], dict[str, Any]]
    owner_key: str | None = None  # the owning account's id in each listed entry, when the service says it


KINDS = (
    Kind(
        "ebs_snapshots", "snapshot", "ec2", "DescribeSnapshots", (("OwnerIds", ["self"]),), "Snapshots",
        "SnapshotId", "DescribeSnapshotAttribute",
        lambda i: {"SnapshotId": i, "Attribute": "createVolumePermission"}, "OwnerId",
    ),
    Kind(
        "images", "image", "ec2", "DescribeImages", (("Owners", ["self"]),), "Images",
        "ImageId", "DescribeImageAttribute", lambda i: {"ImageId": i, "Attribute": "launchPermission"}, "OwnerId",
    ),
    Kind(
        "db_snapshots", "db-snapshot", "rds", "DescribeDBSnapshots", (("SnapshotType", "manual"),),
        "DBSnapshots", "DBSnapshotIdentifier", "DescribeDBSnapshotAttributes",
        lambda i: {"DBSnapshotIdentifier": i},
    ),
    Kind(
        "db_cluster_snapshots", "db-cluster-snapshot", "rds", "DescribeDBClusterSnapshots",
        (("SnapshotType", "manual"),), "DBClusterSnapshots", "DBClusterSnapshotIdentifier",
        "DescribeDBClusterSnapshotAttributes", lambda i: {"DBClusterSnapshotIdentifier": i},
    ),
)
GUARDRAILS = ("GetSnapshotBlockPublicAccessState", "GetImageBlockPublicAccessState")


def _absent(operation: str, result: CallResult) -> CallResult:
    error = result.get("error")
    if isinstance(error, dict) and error.get("code") in SHARING_ABSENT_CODES.get(operation, ()):
        return {"absent": error["code"]}
    return result


def paginate(
    reader: Reader, kind: Kind, region: str, page_size: int | None = None
) -> tuple[CallResult, list[dict[str, Any]]]:
    """One listing, all pages: (its call result, the entries of every page that arrived). A failure on a later
    page is the call's error, and the entries before it are kept. Entries another account owns are left out."""
    entries: list[dict[str, Any]] = []
    foreign = 0

    def run() -> dict[str, Any]:
        nonlocal foreign
        client = reader.clients.client(kind.service, region)
        paginator = client.get_paginator(xform_name(kind.listing))
        config = {"PageSize": page_size or LISTING_PAGE_SIZE[kind.service]}
        for page in paginator.paginate(**dict(kind.listing_params), PaginationConfig=config):
            found = page.get(kind.result_key, [])
            if not isinstance(found, list):
                raise TypeError(f"{kind.listing} {kind.result_key} is not a list: {type(found).__name__}")
            own = [e for e in found if not _owned_by_another(e, kind, reader.account)]
            foreign += len(found) - len(own)
            entries.extend(own)
        return {kind.result_key: list(entries), **({"NotOwnedLeftOut": foreign} if foreign else {})}

    result = reader.guard(kind.listing, run, resource=f"{kind.label}s in {region}")
    if foreign:
        log.warning("aws account %s: %s in %s listed %d %ss owned by other accounts although asked for the "
                    "account's own; left out", reader.account, kind.listing, region, foreign, kind.label)
    # One entry per id (a service that repeats a page must not double a resource); an entry without an id cannot
    # be read, and the normalizer reports the listing itself as malformed.
    good: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get(kind.id_key), str):
            good.setdefault(entry[kind.id_key], jsonable(entry))
    return result, list(good.values())


def _owned_by_another(entry: Any, kind: Kind, account: str) -> bool:
    owner = entry.get(kind.owner_key) if kind.owner_key and isinstance(entry, dict) else None
    return isinstance(owner, str) and owner != account


def sharing_regions(reader: Reader, cfg: AwsProvider) -> tuple[list[str], dict[str, Any]]:
    """(regions to read, the section's head). ``regions: all`` is every region enabled for the account
    (DescribeRegions); if that fails, the default region alone, and the failure is recorded."""
    if cfg.regions != "all":
        return sorted(set(cfg.regions)), {"regions_from": "config", "calls": {}}
    result = reader.call("ec2", "DescribeRegions", resource="regions")
    head: dict[str, Any] = {"regions_from": "DescribeRegions", "calls": {"DescribeRegions": result}}
    regions: set[str] = set()
    entries = result.get("ok", {}).get("Regions") if isinstance(result.get("ok"), dict) else None
    for entry in entries if isinstance(entries, list) else []:
        # Without AllRegions AWS lists only enabled regions; an emulator may list the others too.
        name = entry.get("RegionName") if isinstance(entry, dict) else None
        if isinstance(name, str) and entry.get("OptInStatus") != "not-opted-in":
            regions.add(name)
    return sorted(regions or {reader.clients.default_region}), head


def collect_sharing(
    reader: Reader, cfg: AwsProvider, pool: Executor, progress: Progress | None = None
) -> dict[str, Any]:
    """The ``sharing`` section of one account's snapshot (see the module docstring)."""
    regions, section = sharing_regions(reader, cfg)
    section["regions"] = {region: {"calls": {}} for region in regions}

    def listing_job(job: tuple[str, Kind | str]) -> tuple[str, str, CallResult, list[dict[str, Any]]]:
        region, what = job
        if isinstance(what, str):  # a guardrail state
            result = _absent(what, reader.call("ec2", what, region=region, resource=f"region {region}"))
            return region, what, result, []
        result, entries = paginate(reader, what, region)
        return region, what.listing, result, entries

    jobs: list[tuple[str, Kind | str]] = [(r, k) for r in regions for k in (*KINDS, *GUARDRAILS)]
    items: list[tuple[str, Kind, dict[str, Any]]] = []
    for region, operation, result, entries in pool.map(listing_job, jobs):
        section["regions"][region]["calls"][operation] = result
        kind = next((k for k in KINDS if k.listing == operation), None)
        if kind is not None:
            items.extend((region, kind, entry) for entry in entries)

    def item_job(item: tuple[str, Kind, dict[str, Any]]) -> tuple[str, Kind, dict[str, Any]]:
        region, kind, entry = item
        ident = str(entry[kind.id_key])
        try:
            calls = {
                kind.attribute: reader.call(
                    kind.service, kind.attribute, region=region, resource=f"{kind.label} {ident}",
                    **kind.attribute_params(ident),
                )
            }
        except Exception:  # a bug or an unforeseen shape costs this resource (unknown), not the account
            log.exception("aws account %s %s %s: read failed", reader.account, kind.label, ident)
            calls = {}
        if progress:
            progress(f"{reader.account}/{kind.label}/{ident}", 1)
        return region, kind, {"id": ident, "listing": entry, "calls": calls}

    for kind in KINDS:
        for region in regions:
            section["regions"][region][kind.key] = []
    for region, kind, read in pool.map(item_job, items):
        section["regions"][region][kind.key].append(read)
    return section


def operations(kinds: Iterable[Kind] = KINDS) -> list[str]:
    """Every API operation this collector may call (for documentation and IAM policy tests)."""
    ops = ["DescribeRegions", *GUARDRAILS]
    for kind in kinds:
        ops += [kind.listing, kind.attribute]
    return ops


__all__ = ["KINDS", "SHARING_ABSENT_CODES", "Kind", "Reader", "collect_sharing", "operations", "paginate"]
