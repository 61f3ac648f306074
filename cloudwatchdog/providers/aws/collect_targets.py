"""AWS targeted rescans (I/O): one account, and in it only the resources change events named, read exactly as a
full scan reads them, into a snapshot of the usual shape that ``analyse`` turns into verdicts.

What a verdict needs is read too: the account-level S3 Block Public Access, an access point's bucket, a region's
snapshot and image Block Public Access state. Listings are real calls, recorded trimmed to the named resources (the
payload says how many entries were left out, ``LeftOutOfTargetedRescan``): a named resource absent from its listing
is gone, and nothing else of the account is in the snapshot. ``targets`` None: the whole account, as a scan reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloudwatchdog.events.model import ChangeTarget
from cloudwatchdog.providers.aws.collect import (
    AccountReader,
    AccountSnapshot,
    CallResult,
    _empty_snapshot,
    _now,
    _scan_target,
)
from cloudwatchdog.providers.aws.collect_sharing import GUARDRAILS, KINDS, SHARING_ABSENT_CODES, paginate
from cloudwatchdog.providers.aws.credentials import base_session
from cloudwatchdog.providers.aws.events_parse import IMAGE_TYPE, RDS_SNAPSHOT_TYPE, SNAPSHOT_TYPE
from cloudwatchdog.providers.aws.model import ACCESS_POINT_TYPE, BUCKET_TYPE
from cloudwatchdog.providers.aws.session import AccountTarget, Base, ClientFactory, discover_accounts, enter_explicit
from cloudwatchdog.providers.aws.settings import AwsProvider

log = logging.getLogger("cloudwatchdog.providers.aws.collect")

_KIND_TYPES = {"ebs_snapshots": SNAPSHOT_TYPE, "images": IMAGE_TYPE, "db_snapshots": RDS_SNAPSHOT_TYPE,
               "db_cluster_snapshots": RDS_SNAPSHOT_TYPE}
LEFT_OUT = "LeftOutOfTargetedRescan"


def watched(cfg: AwsProvider, targets: Sequence[ChangeTarget]) -> list[ChangeTarget]:
    """The targets the config watches: buckets anywhere; regional resources in a configured region; snapshots and
    images only with ``sharing`` on."""
    out = []
    for t in targets:
        regional = t.resource_type not in (BUCKET_TYPE, None)
        if regional and cfg.regions != "all" and (t.region or "") not in cfg.regions:
            continue
        if t.resource_type in _KIND_TYPES.values() and not cfg.sharing:
            continue
        out.append(t)
    return out


def enter(cfg: AwsProvider, account: str) -> AccountTarget | None:
    """The account entered as a scan enters it, or None when the config does not scan it."""
    base: Base
    try:
        base = base_session(cfg)
    except Exception as exc:
        base = exc
    for a in cfg.accounts:
        if a.id == account:
            return enter_explicit(a, base, cfg)
    if cfg.accounts and cfg.organization is None:
        return None
    # The default chain's own account, or an organization member (discovery enters the members).
    found = discover_accounts(cfg, base)
    match = next((t for t in found if t.account == account), None)
    if match is not None:
        return match
    # Not found because discovery failed is not "not watched": the account is an error, so the change is read
    # again later instead of being dropped.
    for t in found:
        listing = t.extra_calls.get("ListAccounts")
        why = t.error if t.account == "unknown" else (
            f"ListAccounts failed: {listing['error'].get('code')}" if isinstance(listing, dict)
            and isinstance(listing.get("error"), dict) else None)
        if why:
            return AccountTarget(account=account, name=None, via="organization", error=why)
    return None


def rescan_aws(cfg: AwsProvider, account: str, targets: Sequence[ChangeTarget] | None) -> list[AccountSnapshot]:
    """Snapshots of one account: whole (``targets`` None) or of the named resources; none when not watched."""
    wanted = None if targets is None else watched(cfg, [t for t in targets if t.account == account])
    if wanted is not None and not wanted:
        return []
    target = enter(cfg, account)
    if target is None:
        return []
    if wanted is None:
        return [_scan_target(target, cfg, None)]
    try:
        return [_targeted(target, cfg, wanted)]
    except Exception:  # a bug must not crash the consumer: the account is an error (nothing resolves)
        log.exception("aws account %s: targeted rescan failed", account)
        target.error = "targeted rescan failed"
        return [_empty_snapshot(target, cfg, _now())]


def _trim(result: CallResult, key: str, keep: Any) -> CallResult:
    """A listing answer with only the entries ``keep`` accepts, and how many it left out."""
    payload = result.get("ok")
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        return result
    kept = [e for e in payload[key] if keep(e)]
    return {"ok": {**payload, key: kept, LEFT_OUT: len(payload[key]) - len(kept)}}


def _targeted(target: AccountTarget, cfg: AwsProvider, wanted: Sequence[ChangeTarget]) -> AccountSnapshot:
    snapshot = _empty_snapshot(target, cfg, _now())
    if target.session is None:
        return snapshot
    clients = ClientFactory(target.session, cfg, target.counter)
    reader = AccountReader(target.account, clients)
    account = target.account
    snapshot["calls"]["GetPublicAccessBlock"] = reader.call(
        "s3control", "GetPublicAccessBlock", resource="account", AccountId=account)

    names = {t.name for t in wanted if t.resource_type == BUCKET_TYPE}
    on_points: set[str] = set()  # buckets an access point is on: their Block Public Access is always read
    points = {(t.name, t.region or clients.default_region) for t in wanted if t.resource_type == ACCESS_POINT_TYPE}
    found_points: list[tuple[dict[str, Any], str]] = []
    for region in sorted({r for _, r in points}):
        here = {n for n, r in points if r == region}
        listing = _trim(reader.list_access_points(region), "AccessPointList",
                        lambda e, here=here: isinstance(e, dict) and e.get("Name") in here)
        snapshot["access_point_listings"][region] = listing
        for entry in listing.get("ok", {}).get("AccessPointList", []):
            found_points.append((entry, region))
            if isinstance(entry.get("Bucket"), str):
                names.add(entry["Bucket"])  # an access point's verdict needs its bucket's settings
                on_points.add(entry["Bucket"])
    listing = reader.list_buckets()
    if "error" in listing:
        err = listing["error"]
        snapshot["status"] = "error"
        snapshot["error"] = f"cannot list buckets: {err['code']}: {err['message']}"
    listing = _trim(listing, "Buckets", lambda e: isinstance(e, dict) and e.get("Name") in names)
    snapshot["calls"]["ListBuckets"] = listing
    present = sorted(e["Name"] for e in listing.get("ok", {}).get("Buckets", []) if isinstance(e.get("Name"), str))
    with ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix=f"aws-{account}") as pool:
        snapshot["buckets"] = list(pool.map(
            lambda b: reader.read_bucket(b, object_acl_sample=cfg.object_acl_sample, keep_pab=b in on_points,
                                         trusted_orgs=frozenset(snapshot["trusted_orgs"])), present))
        snapshot["access_points"] = list(pool.map(lambda item: reader.read_access_point(*item), found_points))
    shared = [t for t in wanted if t.resource_type in _KIND_TYPES.values()]
    if shared:
        snapshot["sharing"] = _sharing(reader, clients, shared)
    snapshot["api_calls"] = target.counter.value
    snapshot["finished_at"] = _now()
    return snapshot


def _sharing(reader: AccountReader, clients: ClientFactory, wanted: Sequence[ChangeTarget]) -> dict[str, Any]:
    """The ``sharing`` section for the named snapshots and images: in each of their regions, the guardrails, every
    listing (trimmed to the named ids) and the named ones' sharing attribute."""
    section: dict[str, Any] = {"regions_from": "config", "calls": {}, "regions": {}}
    for region in sorted({t.region or clients.default_region for t in wanted}):
        entry: dict[str, Any] = {"calls": {}}
        for operation in GUARDRAILS:
            result = reader.call("ec2", operation, region=region, resource=f"region {region}")
            error = result.get("error")
            if isinstance(error, dict) and error.get("code") in SHARING_ABSENT_CODES.get(operation, ()):
                result = {"absent": error["code"]}
            entry["calls"][operation] = result
        for kind in KINDS:
            ids = {t.name for t in wanted if (t.region or clients.default_region) == region
                   and t.resource_type == _KIND_TYPES[kind.key]}
            result, entries = paginate(reader, kind, region)
            entry["calls"][kind.listing] = _trim(result, kind.result_key,
                                                 lambda e, ids=ids, k=kind: e.get(k.id_key) in ids)
            entry[kind.key] = [
                {"id": e[kind.id_key], "listing": e,
                 "calls": {kind.attribute: reader.call(kind.service, kind.attribute, region=region,
                                                       resource=f"{kind.label} {e[kind.id_key]}",
                                                       **kind.attribute_params(e[kind.id_key]))}}
                for e in entries if e.get(kind.id_key) in ids]
        section["regions"][region] = entry
    return section


__all__ = ["LEFT_OUT", "enter", "rescan_aws", "watched"]
