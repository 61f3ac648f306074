"""Pure: the ``sharing`` section of a raw AWS account snapshot (``cloudwatchdog.providers.aws.collect_sharing``) ->
typed ``SharedResource`` objects (EBS snapshots, AMIs, RDS DB and cluster snapshots) and a list of errors.

Imports no SDK. A failed or malformed answer becomes a ``ReadError`` on the resource it concerns (its verdict is
then unknown unless it does not depend on it) or, for a listing or a region setting, an error line of the
account: never a crash, never a silently empty setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.aws.exposure_sharing import (
    PUBLIC_GROUP,
    BlockPublicAccess,
    Grantee,
    SharedResource,
    ShareKind,
)
from cloudwatchdog.providers.aws.normalize import INVALID, NOT_COLLECTED, CallReader
from cloudwatchdog.providers.shapes import ShapeError
from cloudwatchdog.providers.shapes import as_list as _list
from cloudwatchdog.providers.shapes import as_mapping as _mapping
from cloudwatchdog.providers.shapes import as_non_empty_str as _str

log = logging.getLogger("cloudwatchdog.providers.aws.normalize")

SNAPSHOT_BPA_STATES = frozenset({"block-all-sharing", "block-new-sharing", "unblocked"})
IMAGE_BPA_STATES = frozenset({"block-new-sharing", "unblocked"})


@dataclass(frozen=True)
class SharingInventory:
    """The shareable resources of one account. ``collected`` is False when the snapshot has no sharing section
    (``sharing: false``, or a raw file from before the feature); ``errors`` lists every failure once."""

    account: str
    collected: bool
    regions: tuple[str, ...]
    resources: tuple[SharedResource, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class _Section:
    """How one kind appears in a region entry."""

    kind: ShareKind
    key: str
    listing: str
    result_key: str
    id_key: str
    attribute: str


SECTIONS = (
    _Section(ShareKind.EBS_SNAPSHOT, "ebs_snapshots", "DescribeSnapshots", "Snapshots", "SnapshotId",
             "DescribeSnapshotAttribute"),
    _Section(ShareKind.IMAGE, "images", "DescribeImages", "Images", "ImageId", "DescribeImageAttribute"),
    _Section(ShareKind.DB_SNAPSHOT, "db_snapshots", "DescribeDBSnapshots", "DBSnapshots", "DBSnapshotIdentifier",
             "DescribeDBSnapshotAttributes"),
    _Section(ShareKind.DB_CLUSTER_SNAPSHOT, "db_cluster_snapshots", "DescribeDBClusterSnapshots",
             "DBClusterSnapshots", "DBClusterSnapshotIdentifier", "DescribeDBClusterSnapshotAttributes"),
)


# --- Parsers of one ``ok`` payload each; they raise ShapeError on anything unexpected -----------------------


def _ec2_permissions(payload: Any, key: str, *, organizations: bool) -> tuple[Grantee, ...]:
    # EC2 omits an empty list from its answer: no key means shared with no one.
    entries = _list(_mapping(payload, "attribute response").get(key, []), key)
    out: list[Grantee] = []
    for raw in entries:
        entry = _mapping(raw, f"{key} entry")
        if "Group" in entry:
            group = _str(entry["Group"], "Group")
            if group != PUBLIC_GROUP:
                raise ShapeError(f"unknown group {group!r} (only {PUBLIC_GROUP!r} exists)")
            out.append(Grantee("group", group))
        elif "UserId" in entry:
            out.append(Grantee("account", _str(entry["UserId"], "UserId")))
        elif organizations and "OrganizationArn" in entry:
            out.append(Grantee("organization", _str(entry["OrganizationArn"], "OrganizationArn")))
        elif organizations and "OrganizationalUnitArn" in entry:
            out.append(Grantee("organizational-unit", _str(entry["OrganizationalUnitArn"], "OrganizationalUnitArn")))
        else:
            raise ShapeError(f"{key} entry names no grantee: {dict(entry)!r}")
    return tuple(out)


def parse_create_volume_permissions(payload: Any) -> tuple[Grantee, ...]:
    return _ec2_permissions(payload, "CreateVolumePermissions", organizations=False)


def parse_launch_permissions(payload: Any) -> tuple[Grantee, ...]:
    return _ec2_permissions(payload, "LaunchPermissions", organizations=True)


def _restore_values(payload: Any, result_key: str, list_key: str) -> tuple[Grantee, ...]:
    # RDS always answers with the ``restore`` attribute, shared or not: a result without the attribute list, or a
    # list without a ``restore`` entry, is not an answer about sharing (never read it as "shared with no one").
    result = _mapping(_mapping(payload, "attributes response").get(result_key), result_key)
    if list_key not in result:
        raise ShapeError(f"{result_key} has no {list_key} list")
    out: list[Grantee] = []
    restore_seen = False
    for raw in _list(result[list_key], list_key):
        attribute = _mapping(raw, "attribute")
        if attribute.get("AttributeName") != "restore":
            continue
        restore_seen = True
        # An empty AttributeValues (not shared) may reach us without the key: botocore drops an empty list.
        for value in _list(attribute.get("AttributeValues", []), "restore AttributeValues"):
            text = _str(value, "restore attribute value")
            out.append(Grantee("group", text) if text == PUBLIC_GROUP else Grantee("account", text))
    if not restore_seen:
        raise ShapeError(f"{list_key} has no restore attribute (RDS always returns it)")
    return tuple(out)


def parse_db_snapshot_attributes(payload: Any) -> tuple[Grantee, ...]:
    return _restore_values(payload, "DBSnapshotAttributesResult", "DBSnapshotAttributes")


def parse_db_cluster_snapshot_attributes(payload: Any) -> tuple[Grantee, ...]:
    return _restore_values(payload, "DBClusterSnapshotAttributesResult", "DBClusterSnapshotAttributes")


_ATTRIBUTE_PARSERS: dict[ShareKind, Callable[[Any], tuple[Grantee, ...]]] = {
    ShareKind.EBS_SNAPSHOT: parse_create_volume_permissions,
    ShareKind.IMAGE: parse_launch_permissions,
    ShareKind.DB_SNAPSHOT: parse_db_snapshot_attributes,
    ShareKind.DB_CLUSTER_SNAPSHOT: parse_db_cluster_snapshot_attributes,
}


def _bpa_parser(key: str, known: frozenset[str]) -> Callable[[Any], BlockPublicAccess]:
    def parse(payload: Any) -> BlockPublicAccess:
        body = _mapping(payload, "block public access response")
        state = _str(body.get(key), key)
        if state not in known:
            raise ShapeError(f"unknown {key} {state!r} (known: {', '.join(sorted(known))})")
        managed = body.get("ManagedBy")
        return BlockPublicAccess(state=state, managed_by=managed if isinstance(managed, str) else None)

    return parse


parse_snapshot_bpa = _bpa_parser("State", SNAPSHOT_BPA_STATES)
parse_image_bpa = _bpa_parser("ImageBlockPublicAccessState", IMAGE_BPA_STATES)


def parse_listing(payload: Any, section: _Section) -> frozenset[str]:
    """The ids of a listing answer; every entry must carry one."""
    entries = _list(_mapping(payload, f"{section.listing} response").get(section.result_key, []), section.result_key)
    return frozenset(_str(_mapping(e, "listed entry").get(section.id_key), section.id_key) for e in entries)


def parse_regions(payload: Any) -> frozenset[str]:
    entries = _list(_mapping(payload, "DescribeRegions response").get("Regions", []), "Regions")
    return frozenset(_str(_mapping(e, "region").get("RegionName"), "RegionName") for e in entries)


# --- Listing entries -> descriptive details -------------------------------------------------------------------


def _tags(raw: Any, key: str, resource: str, errors: list[ReadError]) -> dict[str, str]:
    """Tags of a listing entry; malformed ones are a per-resource error (they never change a verdict)."""
    value = raw.get(key, [])
    tags: dict[str, str] = {}
    try:
        for tag in _list(value, key):
            t = _mapping(tag, "tag")
            k, v = t.get("Key"), t.get("Value", "")
            if not isinstance(k, str) or not isinstance(v, str):
                raise ShapeError(f"tag without a string Key and Value: {dict(t)!r}")
            tags[k] = v
    except ShapeError as exc:
        log.warning("aws %s: unexpected tags: %s", resource, exc)
        errors.append(ReadError("tags", INVALID, str(exc)))
    return tags


def _opt(entry: Mapping[str, Any], key: str, kind: type) -> Any:
    value = entry.get(key)
    return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else None


@dataclass(frozen=True)
class _Listed:
    arn: str
    encrypted: bool | None
    kms_key_id: str | None
    aws_public_flag: bool | None
    backing_snapshots: tuple[str, ...]
    details: dict[str, object]


def _listed(kind: ShareKind, entry: Mapping[str, Any], account: str, region: str, ident: str) -> _Listed:
    if kind is ShareKind.EBS_SNAPSHOT:
        return _Listed(
            arn=f"arn:aws:ec2:{region}:{account}:snapshot/{ident}",
            encrypted=_opt(entry, "Encrypted", bool),
            kms_key_id=_opt(entry, "KmsKeyId", str),
            aws_public_flag=None,
            backing_snapshots=(),
            details={
                "description": _opt(entry, "Description", str),
                "volume_id": _opt(entry, "VolumeId", str),
                "volume_size_gib": _opt(entry, "VolumeSize", int),
                "state": _opt(entry, "State", str),
                "started": _opt(entry, "StartTime", str),
            },
        )
    if kind is ShareKind.IMAGE:
        snapshots: list[str] = []
        encrypted: list[bool] = []
        mappings = entry.get("BlockDeviceMappings")
        for mapping in mappings if isinstance(mappings, list) else []:
            ebs = mapping.get("Ebs") if isinstance(mapping, Mapping) else None
            if isinstance(ebs, Mapping):
                if isinstance(ebs.get("SnapshotId"), str):
                    snapshots.append(ebs["SnapshotId"])
                if isinstance(ebs.get("Encrypted"), bool):
                    encrypted.append(ebs["Encrypted"])
        return _Listed(
            arn=f"arn:aws:ec2:{region}::image/{ident}",
            encrypted=any(encrypted) if encrypted else None,
            kms_key_id=None,
            aws_public_flag=_opt(entry, "Public", bool),
            backing_snapshots=tuple(snapshots),
            details={
                "image_name": _opt(entry, "Name", str),
                "description": _opt(entry, "Description", str),
                "state": _opt(entry, "State", str),
                "created": _opt(entry, "CreationDate", str),
            },
        )
    cluster = kind is ShareKind.DB_CLUSTER_SNAPSHOT
    arn_key, kind_word = ("DBClusterSnapshotArn", "cluster-snapshot") if cluster else ("DBSnapshotArn", "snapshot")
    return _Listed(
        arn=_opt(entry, arn_key, str) or f"arn:aws:rds:{region}:{account}:{kind_word}:{ident}",
        encrypted=_opt(entry, "StorageEncrypted" if cluster else "Encrypted", bool),
        kms_key_id=_opt(entry, "KmsKeyId", str),
        aws_public_flag=None,
        backing_snapshots=(),
        details={
            "source": _opt(entry, "DBClusterIdentifier" if cluster else "DBInstanceIdentifier", str),
            "engine": _opt(entry, "Engine", str),
            "snapshot_type": _opt(entry, "SnapshotType", str),
            "state": _opt(entry, "Status", str),
            "created": _opt(entry, "SnapshotCreateTime", str),
        },
    )


# --- The section -> resources ---------------------------------------------------------------------------------


def _guardrail(
    region_calls: Mapping[str, Any], operation: str, parse: Callable[[Any], BlockPublicAccess], region: str,
    c: CallReader,
) -> BlockPublicAccess | ReadError:
    result = region_calls.get(operation)
    if isinstance(result, Mapping) and "absent" in result:
        return BlockPublicAccess(state=None, unavailable=f"{operation}: {result['absent']}")
    value = c.value(result, operation, parse, f"region {region}", absent_ok=False)
    if value is None:  # unreachable: absences are handled above
        return ReadError(operation, INVALID, "no value")
    return value


def _resource(
    raw: Mapping[str, Any], section: _Section, account: str, region: str,
    bpa: BlockPublicAccess | ReadError | None, trusted: frozenset[str], c: CallReader,
) -> SharedResource | None:
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        c.note(f"{section.kind.noun}s in {region}",
               ReadError(section.listing, INVALID, f"entry without an id: {dict(raw)!r}"))
        return None
    label = f"{section.kind.noun} {ident}"
    listing = raw.get("listing")
    entry: Mapping[str, Any] = listing if isinstance(listing, Mapping) else {}
    errors: list[ReadError] = []
    calls = raw.get("calls")
    calls = calls if isinstance(calls, Mapping) else {}
    grantees = c.value(calls.get(section.attribute), section.attribute, _ATTRIBUTE_PARSERS[section.kind], label,
                       absent_ok=False)
    if grantees is None:  # unreachable: absent_ok=False never yields None
        grantees = ReadError(section.attribute, INVALID, "no value")
    tag_key = "TagList" if section.kind in (ShareKind.DB_SNAPSHOT, ShareKind.DB_CLUSTER_SNAPSHOT) else "Tags"
    tags = _tags(entry, tag_key, f"account {account} {label}", errors)
    for error in errors:
        c.note(label, error)
    listed = _listed(section.kind, entry, account, region, ident)
    return SharedResource(
        kind=section.kind,
        account=account,
        region=region,
        id=ident,
        arn=listed.arn,
        grantees=grantees,
        block_public_access=bpa,
        encrypted=listed.encrypted,
        kms_key_id=listed.kms_key_id,
        aws_public_flag=listed.aws_public_flag,
        backing_snapshots=listed.backing_snapshots,
        trusted_orgs=trusted,
        tags=tags,
        details={**listed.details, "tag_errors": [e.describe() for e in errors]},
    )


def _region(
    region: str, raw: Mapping[str, Any], account: str, trusted: frozenset[str], c: CallReader
) -> list[SharedResource]:
    calls_raw = raw.get("calls")
    calls: Mapping[str, Any] = calls_raw if isinstance(calls_raw, Mapping) else {}
    snapshot_bpa = _guardrail(calls, "GetSnapshotBlockPublicAccessState", parse_snapshot_bpa, region, c)
    image_bpa = _guardrail(calls, "GetImageBlockPublicAccessState", parse_image_bpa, region, c)
    guardrails: dict[ShareKind, BlockPublicAccess | ReadError | None] = {
        ShareKind.EBS_SNAPSHOT: snapshot_bpa, ShareKind.IMAGE: image_bpa,
    }
    out: list[SharedResource] = []
    for section in SECTIONS:
        where = f"{section.kind.noun}s in {region}"
        listed = c.value(calls.get(section.listing), section.listing, partial(parse_listing, section=section),
                         where, absent_ok=False)
        entries = raw.get(section.key, [])
        if not isinstance(entries, list):
            c.note(where, ReadError(section.listing, INVALID, f"snapshot {section.key} is not a list"))
            entries = []
        read: set[str] = set()
        for entry in entries:
            if not isinstance(entry, Mapping):
                c.note(where, ReadError(section.listing, INVALID, f"snapshot {section.key} holds a non-mapping"))
                continue
            res = _resource(entry, section, account, region, guardrails.get(section.kind), trusted, c)
            if res is not None:
                out.append(res)
                read.add(res.id)
        # Whatever was listed but has no entry was never read: say so, never drop it quietly.
        for missing in sorted(listed - read) if isinstance(listed, frozenset) else ():
            c.note(f"{section.kind.noun} {missing}",
                   ReadError(section.listing, NOT_COLLECTED, "listed, but its sharing was not read"))
    return out


def normalize_sharing(snapshot: Mapping[str, Any]) -> SharingInventory:
    """Typed shareable resources of one raw account snapshot (none, and not collected, without a section)."""
    account = str(snapshot.get("account") or "unknown")
    c = CallReader(account)
    section = snapshot.get("sharing")
    if section is None:
        return SharingInventory(account, False, (), (), ())
    if not isinstance(section, Mapping) or "error" in section:
        why = section.get("error") if isinstance(section, Mapping) else f"not a mapping: {type(section).__name__}"
        return SharingInventory(account, True, (), (), (f"snapshot and image sharing: {why}",))
    head = section.get("calls")
    if isinstance(head, Mapping) and "DescribeRegions" in head:
        c.value(head["DescribeRegions"], "DescribeRegions", parse_regions, "regions", absent_ok=False)
    trusted_raw = snapshot.get("trusted_orgs")
    trusted = frozenset(v for v in trusted_raw if isinstance(v, str)) if isinstance(trusted_raw, list) else frozenset()
    regions_raw = section.get("regions")
    if not isinstance(regions_raw, Mapping):
        c.note("snapshot and image sharing", ReadError("regions", INVALID, "the section has no regions mapping"))
        regions_raw = {}
    resources: list[SharedResource] = []
    for region, raw in sorted(regions_raw.items()):
        if not isinstance(raw, Mapping):
            c.note(f"region {region}", ReadError("regions", INVALID, "region entry is not a mapping"))
            continue
        resources.extend(_region(str(region), raw, account, trusted, c))
    return SharingInventory(
        account=account,
        collected=True,
        regions=tuple(sorted(str(r) for r in regions_raw)),
        resources=tuple(resources),
        errors=tuple(c.errors),
    )


__all__ = [
    "SECTIONS",
    "SharingInventory",
    "normalize_sharing",
    "parse_create_volume_permissions",
    "parse_db_cluster_snapshot_attributes",
    "parse_db_snapshot_attributes",
    "parse_image_bpa",
    "parse_launch_permissions",
    "parse_snapshot_bpa",
]
