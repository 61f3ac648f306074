"""AWS collector: reads the S3 settings exposure analysis needs, one raw snapshot per account.

The snapshot keeps every API answer as returned (minus ``ResponseMetadata``; snapshot and image listings minus
entries another account owns, see ``collect_sharing``), so a scan can be replayed offline by
``cloudwatchdog.providers.aws.normalize``. Each call's result is one of::

    {"ok": <response payload>}                               the call succeeded
    {"absent": "<code>"}                                     a documented "not configured" answer
    {"error": {"operation": ..., "code": ..., "message": ...}}  anything else: AccessDenied, throttling after
                                                               retries, NoSuchBucket, connection error, ...

An error is its code and a short one-line message (an endpoint's HTML page reduced to its title). Nothing here raises
for a cloud-side problem: a failed call is recorded, a failed account is a snapshot with ``status: error`` and one
line saying why (``credentials.entry_failure``). One bucket's failure never stops the others.

Snapshot (``AccountSnapshot``) shape, schema_version 1::

    {"schema_version": 1, "provider": "aws", "account": "123456789012", "name": "prod" | null,
     "via": "default" | "profile:<p>" | "role:<arn>" | "organization-role:<arn>" | "organization-management",
     "status": "ok" | "error", "error": null | "<why the account could not be entered or listed>",
     "api_calls": <HTTP requests sent for this account, retries included>,
     "started_at": iso, "finished_at": iso, "endpoint_url": null | "<url>",
     "calls": {"GetPublicAccessBlock": r, "ListBuckets": r, "ListAccounts": r (organization manager only)},
     "bucket_region_listings": {"<region>": r (ListBuckets with BucketRegion), ...},
     "tag_listings": {"<region>": r (tagging API GetResources for s3), ...},
     "buckets": [{"name": n, "calls": {"GetBucketAcl": r, "GetBucketPolicy": r,
                                        "GetBucketPolicyStatus": r | {"skipped": why} (our analysis finds the
                                                                 policy public),
                                        "GetBucketOwnershipControls": r, "ListObjectsV2": r (when sampled),
                                        "GetBucketLocation": r (unless a listing named the region),
                                        "GetBucketTagging": r (unless the tag listings tell),
                                        "GetPublicAccessBlock": r | {"skipped": why} (all account-level flags on,
                                                                or nothing to block: ``collect_bucket``)},
                  "object_acls": [{"key": k, "GetObjectAcl": r}, ...]}, ...],
     "access_point_listings": {"<region>": r, ...},
     "access_points": [{"name": n, "listed_in": region, "listing": <ListAccessPoints entry>,
                        "calls": {"GetAccessPoint": r, "GetAccessPointPolicy": r}}, ...],
     "sharing": {...}   (with ``sharing: true``: EBS snapshots, AMIs, RDS snapshots; see ``aws_sharing``)}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import PaginationError

from cloudwatchdog.providers.aws.collect_bucket import bucket_region, read_bucket, read_kept_pab
from cloudwatchdog.providers.aws.collect_sharing import SHARING_ABSENT_CODES, collect_sharing
from cloudwatchdog.providers.aws.credentials import base_session, describe_exception
from cloudwatchdog.providers.aws.listings import TagListings, listed_regions
from cloudwatchdog.providers.aws.normalize import arn_region
from cloudwatchdog.providers.aws.parse import ShapeError, parse_pab
from cloudwatchdog.providers.aws.session import (
    AccountTarget,
    Base,
    CallCounter,
    ClientFactory,
    discover_accounts,
    jsonable,
)
from cloudwatchdog.providers.aws.settings import AwsProvider
from cloudwatchdog.providers.ordered import ordered_map

log = logging.getLogger("cloudwatchdog.providers.aws.collect")

SCHEMA_VERSION = 1
LIST_PAGE = 1000  # buckets per ListBuckets page (AWS allows up to 10,000)

AccountSnapshot = dict[str, Any]
CallResult = dict[str, Any]
Progress = Callable[[str, int], None]
ShouldStop = Callable[[], bool]
STOPPED = "stopped before the account was read in full: the scan stopped waiting for it"

# Documented answers meaning "not configured": recorded as absent, not as errors.
ABSENT_CODES: dict[str, frozenset[str]] = {
    "GetBucketPolicy": frozenset({"NoSuchBucketPolicy"}),
    "GetBucketPolicyStatus": frozenset({"NoSuchBucketPolicy"}),
    "GetPublicAccessBlock": frozenset({"NoSuchPublicAccessBlockConfiguration"}),
    "GetBucketOwnershipControls": frozenset({"OwnershipControlsNotFoundError"}),
    "GetBucketTagging": frozenset({"NoSuchTagSet"}),
    "GetAccessPointPolicy": frozenset({"NoSuchAccessPointPolicy"}),
    **SHARING_ABSENT_CODES,
}

def _now() -> str:
    return datetime.now(UTC).isoformat()


class AccountReader:
    """Reads one account with its clients; every call goes through ``call`` so failures are recorded alike. Once
    ``should_stop`` says yes, no call is sent: each is an error ``Stopped`` (and ``stopped`` is set)."""

    def __init__(self, account: str, clients: ClientFactory, should_stop: ShouldStop | None = None) -> None:
        self.account = account
        self.clients = clients
        self.should_stop = should_stop
        self.stopped = False

    @property
    def default_region(self) -> str:
        return self.clients.default_region

    def call(
        self, service: str, operation: str, *, region: str | None = None, resource: str = "", **params: Any
    ) -> CallResult:
        method = xform_name(operation)

        def run() -> Any:
            return getattr(self.clients.client(service, region), method)(**params)

        return self.guard(operation, run, resource=resource)

    def guard(self, operation: str, fn: Callable[[], Any], *, resource: str = "") -> CallResult:
        """Run one API call (or a pagination loop); turn its outcome into a CallResult, never raising."""
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            return {"error": {"operation": operation, "code": "Stopped", "message": "not asked: the scan stopped"}}
        try:
            response = fn()
        except Exception as exc:  # the collector's edge: any SDK, network or parsing failure is data
            code, message = describe_exception(exc)
            if code in ABSENT_CODES.get(operation, ()):
                return {"absent": code}
            log.warning(
                "aws account %s%s: %s failed: %s: %s",
                self.account,
                f" {resource}" if resource else "",
                operation,
                code,
                message,
            )
            return {"error": {"operation": operation, "code": code, "message": message}}
        if not isinstance(response, dict):
            code, message = "InvalidResponse", f"expected a mapping, got {type(response).__name__}"
            log.warning("aws account %s %s: %s: %s", self.account, resource, operation, message)
            return {"error": {"operation": operation, "code": code, "message": message}}
        return {"ok": jsonable({k: v for k, v in response.items() if k != "ResponseMetadata"})}

    # --- account level ---

    def list_buckets(self, region: str | None = None) -> CallResult:
        """Every bucket, paginated (then AWS names each one's ``BucketRegion``); with ``region``, the buckets of
        that region only (``ListBuckets(BucketRegion=...)``, which emulators without the field also honour)."""
        def run() -> dict[str, Any]:
            buckets, owner, page, client = [], None, {}, self.clients.client("s3")
            params: dict[str, Any] = {"BucketRegion": region} if region else {}
            paging = {"PageSize": LIST_PAGE}
            for page in client.get_paginator("list_buckets").paginate(**params, PaginationConfig=paging):
                buckets.extend(page.get("Buckets", []))
                owner = page.get("Owner", owner)
            last = page.get("Buckets", [])  # full, no token, no BucketRegion: a server that cuts at MaxBuckets
            if len(last) >= LIST_PAGE and not page.get("ContinuationToken") and not any(  # (moto; AWS pages on)
                    isinstance(b, dict) and "BucketRegion" in b for b in last):  # ask once more, lose no bucket
                seen = {b.get("Name") for b in buckets if isinstance(b, dict)}
                buckets.extend(b for b in client.list_buckets(**params).get("Buckets", []) if b.get("Name") not in seen)
            return {"Buckets": buckets, "Owner": owner} if owner is not None else {"Buckets": buckets}

        return self.guard("ListBuckets", run, resource=f"buckets in {region}" if region else "buckets")

    def list_tags(self, region: str) -> CallResult:
        """Every tagged bucket of a region with its tags, 100 a page (Resource Groups Tagging API)."""
        def run() -> dict[str, Any]:
            mappings: list[Any] = []
            paginator = self.clients.client("resourcegroupstaggingapi", region).get_paginator("get_resources")
            for page in paginator.paginate(ResourceTypeFilters=["s3"], PaginationConfig={"PageSize": 100}):
                mappings.extend(page.get("ResourceTagMappingList", []))
            return {"ResourceTagMappingList": mappings}

        return self.guard("GetResources", run, resource=f"bucket tags in {region}")

    def list_access_points(self, region: str) -> CallResult:
        def run() -> dict[str, Any]:
            client = self.clients.client("s3control", region)
            points: list[Any] = []
            params: dict[str, Any] = {"AccountId": self.account}
            seen: set[str] = set()
            while True:
                page = client.list_access_points(**params)
                points.extend(page.get("AccessPointList", []))
                token = page.get("NextToken")
                if not token:
                    return {"AccessPointList": points}
                if token in seen:  # a service that repeats its token would page for ever
                    raise PaginationError(message=f"ListAccessPoints repeated the NextToken {token!r}")
                seen.add(token)
                params["NextToken"] = token

        return self.guard("ListAccessPoints", run, resource=f"access points in {region}")

    # --- per resource ---

    def read_bucket(
        self, name: str, *, object_acl_sample: int, region: str | None = None, tags: TagListings | None = None,
        account_decides: bool = False, trusted_orgs: frozenset[str] = frozenset(), keep_pab: bool = False,
    ) -> dict[str, Any]:
        """All calls for one bucket (``collect_bucket.read_bucket``)."""
        return read_bucket(self, name, object_acl_sample=object_acl_sample, region=region, tags=tags,
                           account_decides=account_decides, trusted_orgs=trusted_orgs, keep_pab=keep_pab)

    def read_access_point(self, entry: dict[str, Any], listed_in: str) -> dict[str, Any]:
        name = str(entry.get("Name", ""))
        region = arn_region(entry.get("AccessPointArn")) or listed_in
        resource = f"access point {name}"
        calls = {
            operation: self.call(
                "s3control", operation, region=region, resource=resource, AccountId=self.account, Name=name
            )
            for operation in ("GetAccessPoint", "GetAccessPointPolicy")
        }
        return {"name": name, "listed_in": listed_in, "listing": jsonable(entry), "calls": calls}


def _fully_on(account_pab: CallResult) -> bool:
    """All four account-level Block Public Access flags read, and on."""
    try:
        return "ok" in account_pab and parse_pab(account_pab["ok"]).fully_on
    except ShapeError:
        return False


def _bucket_names(listing: CallResult) -> list[str]:
    payload = listing.get("ok")
    buckets = payload.get("Buckets") if isinstance(payload, dict) else None
    if not isinstance(buckets, list):
        return []
    return sorted({b["Name"] for b in buckets if isinstance(b, dict) and isinstance(b.get("Name"), str)})


def _access_point_regions(
    cfg: AwsProvider, buckets: Iterable[dict[str, Any]], listed: dict[str, str], default: str
) -> list[str]:
    """Regions to list access points in: the configured ones, plus every region holding a bucket (an access
    point lives in its bucket's region). With ``regions: all`` that is the bucket regions and the default."""
    regions = {default} if cfg.regions == "all" else set(cfg.regions)
    regions.update(listed.values())
    for bucket in buckets:
        region = bucket_region(bucket.get("calls", {}).get("GetBucketLocation", {}))
        if region:
            regions.add(region)
    return sorted(regions)


def _list_regions_and_tags(reader: AccountReader, cfg: AwsProvider, snapshot: AccountSnapshot) -> dict[str, str]:
    """Ask the account-wide listings what would cost a request per bucket: regions (``ListBuckets`` by configured
    region, when the full listing did not name them) and tags (the tagging API, per region holding a bucket). A
    failed listing only costs the per-bucket calls back. Returns bucket -> listed region."""
    names = _bucket_names(snapshot["calls"]["ListBuckets"])
    listed = listed_regions(snapshot)
    if isinstance(cfg.regions, list) and any(n not in listed for n in names):
        snapshot["bucket_region_listings"] = {r: reader.list_buckets(r) for r in sorted(set(cfg.regions))}
        listed = listed_regions(snapshot)
    if names:
        snapshot["tag_listings"] = {r: reader.list_tags(r) for r in sorted(set(listed.values()))}
    return listed


def _empty_snapshot(target: AccountTarget, cfg: AwsProvider, started: str) -> AccountSnapshot:
    return {
        "schema_version": SCHEMA_VERSION,
        "provider": "aws",
        "account": target.account,
        "name": target.name,
        "via": target.via,
        "status": "error" if target.error else "ok",
        "error": target.error,
        "api_calls": target.counter.value,
        "started_at": started,
        "finished_at": started,
        "endpoint_url": cfg.effective_endpoint(),
        "trusted_orgs": sorted(set(cfg.trusted_organizations) | ({target.organization_id} - {None})),
        "calls": dict(target.extra_calls),
        "bucket_region_listings": {},
        "tag_listings": {},
        "buckets": [],
        "access_point_listings": {},
        "access_points": [],
    }


def scan_account(
    session: botocore.session.Session,
    cfg: AwsProvider,
    *,
    account_id: str,
    name: str | None = None,
    via: str = "session",
    progress: Progress | None = None,
    counter: CallCounter | None = None,
) -> AccountSnapshot:
    """Read every bucket and access point of one account through ``session`` (already acting as it)."""
    target = AccountTarget(
        account=account_id, name=name, via=via, session=session, counter=counter or CallCounter()
    )
    return _scan_target(target, cfg, progress)


def _read_s3(reader: AccountReader, cfg: AwsProvider, snapshot: AccountSnapshot, pool: Executor,
             progress: Progress | None) -> None:
    """The account's buckets and access points into ``snapshot``: the account-level calls and listings here, one
    job per bucket and per access point in ``pool``."""
    account = reader.account
    snapshot["calls"]["GetPublicAccessBlock"] = reader.call(
        "s3control", "GetPublicAccessBlock", resource="account", AccountId=account
    )
    listing = reader.list_buckets()
    snapshot["calls"]["ListBuckets"] = listing
    if "error" in listing:
        err = listing["error"]
        snapshot["status"] = "error"
        snapshot["error"] = f"cannot list buckets: {err['code']}: {err['message']}"

    listed = _list_regions_and_tags(reader, cfg, snapshot) if "ok" in listing else {}
    tags = TagListings(snapshot)
    account_decides = _fully_on(snapshot["calls"]["GetPublicAccessBlock"])
    trusted = frozenset(snapshot["trusted_orgs"])

    def bucket_job(bucket: str) -> dict[str, Any]:
        try:
            result = reader.read_bucket(bucket, object_acl_sample=cfg.object_acl_sample, region=listed.get(bucket),
                                        tags=tags, account_decides=account_decides, trusted_orgs=trusted)
        except Exception:  # a bug or an unforeseen SDK shape costs this bucket, not the account
            log.exception("aws account %s bucket %s: read failed", account, bucket)
            # No answers recorded: the normalizer marks every setting NotCollected, so the bucket is unknown.
            result = {"name": bucket, "calls": {}, "object_acls": []}
        if progress:
            progress(f"{account}/{bucket}", 1)
        return result

    buckets = list(pool.map(bucket_job, _bucket_names(listing)))
    snapshot["buckets"] = buckets

    points: dict[str, tuple[dict[str, Any], str]] = {}
    for region in _access_point_regions(cfg, buckets, listed, reader.clients.default_region):
        result = reader.list_access_points(region)
        snapshot["access_point_listings"][region] = result
        entries = result.get("ok", {}).get("AccessPointList", [])
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("Name"), str):
                # Keyed by ARN: an emulator may answer every region with every access point.
                key = str(entry.get("AccessPointArn") or f"{region}/{entry['Name']}")
                points.setdefault(key, (entry, region))

    # A bucket's Block Public Access left out for the bucket alone is read after all when an access point is on it.
    on_points = {str(entry.get("Bucket")) for entry, _ in points.values()}
    kept = [b for b in buckets if b.get("name") in on_points]
    list(pool.map(lambda b: read_kept_pab(reader, b, listed.get(b["name"]) or bucket_region(
        b.get("calls", {}).get("GetBucketLocation", {}))), kept))

    def point_job(item: tuple[dict[str, Any], str]) -> dict[str, Any]:
        result = reader.read_access_point(*item)
        if progress:
            progress(f"{account}/accesspoint/{result['name']}", 1)
        return result

    snapshot["access_points"] = list(pool.map(point_job, [points[k] for k in sorted(points)]))


def _read_sharing(
    reader: AccountReader, cfg: AwsProvider, pool: Executor, progress: Progress | None
) -> dict[str, Any]:
    try:
        return collect_sharing(reader, cfg, pool, progress)
    except Exception as exc:  # a bug must not lose the buckets already read; the normalizer reports it
        code, message = describe_exception(exc)
        log.exception("aws account %s: reading snapshot and image sharing failed", reader.account)
        return {"error": f"reading snapshot and image sharing failed: {code}: {message}"}


def _scan_target(target: AccountTarget, cfg: AwsProvider, progress: Progress | None,
                 should_stop: ShouldStop | None = None) -> AccountSnapshot:
    started = _now()
    snapshot = _empty_snapshot(target, cfg, started)
    if target.session is None:
        return snapshot
    clients = ClientFactory(target.session, cfg, target.counter)
    reader = AccountReader(target.account, clients, should_stop)
    account = target.account
    if progress:
        progress(account, 0)

    # Snapshot and image sharing alongside the buckets (neither waits for the other's listings); their per-resource
    # reads share the pool, so the account has max_workers of them in flight (plus the two listing threads).
    with ThreadPoolExecutor(max_workers=cfg.max_workers, thread_name_prefix=f"aws-{account}") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"aws-{account}-sharing") as side:
        sharing = side.submit(_read_sharing, reader, cfg, pool, progress) if cfg.sharing else None
        _read_s3(reader, cfg, snapshot, pool, progress)
        if sharing is not None:
            snapshot["sharing"] = sharing.result()

    if reader.stopped:  # an unfinished read is never taken for the account's state
        snapshot.update(status="error", error=STOPPED)
    snapshot["api_calls"] = target.counter.value
    snapshot["finished_at"] = _now()
    return snapshot


def collect_aws(
    cfg: AwsProvider,
    *,
    progress: Progress | None = None,
    session: botocore.session.Session | None = None,
    should_stop: ShouldStop | None = None,
) -> list[AccountSnapshot]:
    """Every account's raw snapshot (``stream_aws``), as a list."""
    return list(stream_aws(cfg, progress=progress, session=session, should_stop=should_stop))


def stream_aws(
    cfg: AwsProvider,
    *,
    progress: Progress | None = None,
    session: botocore.session.Session | None = None,
    should_stop: ShouldStop | None = None,
) -> Iterator[AccountSnapshot]:
    """Raw snapshots of every configured or discovered account, each handed out as soon as it and every account
    before it are read (``max_accounts`` read side by side, at most twice as many finished and waiting); never
    raises for a cloud-side failure.

    ``session`` is the session accounts are entered from (when not given: the default credential chain, or the
    emulator's fixed keys with ``credential: emulator``); roles are assumed from it.
    ``progress(label, advance)`` is called with ``(account_id, 0)`` when an account starts, then with
    ``("<account>/<bucket>", 1)`` and ``("<account>/accesspoint/<name>", 1)`` as each resource is read.
    ``should_stop()`` is asked before each request: once true, nothing more is sent, and each account not read in
    full is an ``error`` snapshot.
    """
    base: Base
    try:
        base = session if session is not None else base_session(cfg)
    except Exception as exc:  # a missing or broken profile: an error of every account that needs the session
        base = exc
    # Each account is entered when it is read and its session let go once it is: memory does not grow with the
    # number of accounts.
    targets = discover_accounts(cfg, base, lazy=True)

    def account_job(target: AccountTarget) -> AccountSnapshot:
        if should_stop is not None and should_stop():
            target.error = target.error or STOPPED
            return _empty_snapshot(target, cfg, _now())
        try:
            target.enter()
            return _scan_target(target, cfg, progress, should_stop)
        except Exception as exc:  # a bug or an unforeseen SDK shape must not lose the other accounts
            code, message = describe_exception(exc)
            log.exception("aws account %s: scan failed", target.account)
            target.error = f"scan failed: {code}: {message}"
            return _empty_snapshot(target, cfg, _now())
        finally:
            target.session = None

    # Accounts side by side (each with its own max_workers for its buckets: rate limits are per account), in the
    # order they were configured or discovered.
    side_by_side = max(1, min(cfg.max_accounts, len(targets)))
    with ThreadPoolExecutor(max_workers=side_by_side, thread_name_prefix="aws-account") as pool:
        yield from ordered_map(pool, account_job, targets, ahead=2 * side_by_side)


__all__ = ["ABSENT_CODES", "AccountReader", "AccountSnapshot", "CallResult", "collect_aws", "scan_account",
           "stream_aws"]
