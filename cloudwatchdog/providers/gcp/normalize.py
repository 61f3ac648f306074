"""Pure: one raw GCP project snapshot (``cloudwatchdog.providers.gcp.collect``) -> typed Cloud Storage inventory.

Imports no SDK. Each setting becomes its typed value, ``None`` where it does not apply, or a ``ReadError`` when the
call failed or answered in a shape we do not understand. A malformed answer is logged with the resource and becomes
``ReadError(code="InvalidResponse")``: never a crash, never a silently empty setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from cloudwatchdog.model import ReadError
from cloudwatchdog.providers.gcp.model import (
    PAP_ENFORCED,
    PAP_INHERITED,
    AclEntry,
    GcsBucket,
    IamBinding,
    IamCondition,
    IamPolicy,
    ObjectAclSample,
    TrustContext,
)
from cloudwatchdog.providers.shapes import ShapeError
from cloudwatchdog.providers.shapes import as_bool as _bool
from cloudwatchdog.providers.shapes import as_list as _list
from cloudwatchdog.providers.shapes import as_mapping as _mapping
from cloudwatchdog.providers.shapes import as_str as _str

log = logging.getLogger("cloudwatchdog.providers.gcp.normalize")

T = TypeVar("T")

INVALID = "InvalidResponse"
NOT_COLLECTED = "NotCollected"
UNKNOWN_LOCATION = "unknown"
_PAP_VALUES = {"enforced": PAP_ENFORCED, "inherited": PAP_INHERITED, "unspecified": PAP_INHERITED}


@dataclass(frozen=True)
class GcpProjectInventory:
    """Everything read from one project. ``errors`` lists every failure, one readable line each."""

    project: str
    name: str | None
    project_number: str | None
    status: str  # ok | error (the project could not be read, or its buckets not listed at all)
    error: str | None
    api_calls: int
    buckets: tuple[GcsBucket, ...]
    errors: tuple[str, ...]


# --- Parsers of one ``ok`` payload each; they raise ShapeError on anything unexpected -----------------------


def parse_condition(value: Any) -> IamCondition:
    cond = _mapping(value, "binding condition")
    return IamCondition(
        title=_str(cond.get("title", ""), "condition title"),
        expression=_str(cond.get("expression"), "condition expression"),
        description=_str(cond.get("description", ""), "condition description"),
    )


def parse_iam_policy(payload: Any) -> IamPolicy:
    """A policy as the JSON APIs return it (Cloud Storage getIamPolicy, Resource Manager getIamPolicy)."""
    body = _mapping(payload, "IAM policy")
    bindings = []
    for raw in _list(body.get("bindings", []), "IAM policy bindings"):
        b = _mapping(raw, "IAM binding")
        members = tuple(_str(m, "binding member") for m in _list(b.get("members", []), "binding members"))
        condition = parse_condition(b["condition"]) if b.get("condition") is not None else None
        bindings.append(IamBinding(_str(b.get("role"), "binding role"), members, condition))
    version = body.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ShapeError(f"IAM policy version is not an integer: {version!r}")
    return IamPolicy(tuple(bindings), version)


def parse_acl(payload: Any) -> tuple[AclEntry, ...]:
    """An ACL listing: ``{"items": [{"entity": .., "role": ..}, ...]}`` (no items: an empty ACL)."""
    body = _mapping(payload, "ACL response")
    return _acl_entries(body.get("items", []), "ACL")


def _acl_entries(value: Any, what: str) -> tuple[AclEntry, ...]:
    entries = []
    for raw in _list(value, f"{what} items"):
        e = _mapping(raw, f"{what} entry")
        entries.append(AclEntry(_str(e.get("entity"), f"{what} entity"), _str(e.get("role"), f"{what} role")))
    return tuple(entries)


@dataclass(frozen=True)
class _Listing:
    """The settings carried by one bucket resource from the bucket listing."""

    location: str | ReadError
    project_number: str | None
    uniform_access: bool | ReadError
    pap: str | ReadError
    pap_reported: bool
    labels: Mapping[str, str] | ReadError


def parse_uniform_access(config: Mapping[str, Any]) -> bool:
    ubla = config.get("uniformBucketLevelAccess")
    if ubla is None:
        ubla = config.get("bucketPolicyOnly")  # the field's former name
    return _bool(_mapping(ubla, "iamConfiguration.uniformBucketLevelAccess").get("enabled"),
                 "uniformBucketLevelAccess.enabled")


def parse_pap(config: Mapping[str, Any]) -> str:
    value = config.get("publicAccessPrevention", "inherited")
    if value not in _PAP_VALUES:
        raise ShapeError(f"iamConfiguration.publicAccessPrevention has an unknown value: {value!r}")
    return _PAP_VALUES[value]


def parse_labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    return {_str(k, "label key"): _str(v, "label value") for k, v in _mapping(value, "labels").items()}


def parse_object_listing(payload: Any) -> list[tuple[str, Any]]:
    """(object name, its raw ACL or None) for each sampled object."""
    body = _mapping(payload, "object listing")
    out = []
    for raw in _list(body.get("items", []), "object listing items"):
        item = _mapping(raw, "object entry")
        out.append((_str(item.get("name"), "object name"), item.get("acl")))
    return out


# --- Call results -> settings -------------------------------------------------------------------------------


class _Reader:
    """Builds typed settings for one project, gathering every error line."""

    def __init__(self, project: str) -> None:
        self.project = project
        self.errors: list[str] = []

    def note(self, resource: str, error: ReadError) -> None:
        line = f"{resource}: {error.describe()}" if resource else error.describe()
        if line not in self.errors:
            self.errors.append(line)

    def invalid(self, operation: str, resource: str, message: str) -> ReadError:
        log.warning("gcp project %s %s: unexpected %s response: %s", self.project, resource, operation, message)
        error = ReadError(operation, INVALID, message)
        self.note(resource, error)
        return error

    def value(self, result: Any, operation: str, parse: Callable[[Any], T], resource: str) -> T | ReadError:
        """The typed value or a ``ReadError`` (failed call, unexpected shape, or no answer recorded)."""
        error: ReadError
        if result is None:
            error = ReadError(operation, NOT_COLLECTED, "the snapshot holds no answer for this call")
        elif not isinstance(result, Mapping):
            return self.invalid(operation, resource, f"call result is not a mapping: {type(result).__name__}")
        elif "error" in result:
            err = result["error"] if isinstance(result["error"], Mapping) else {}
            error = ReadError(
                str(err.get("operation") or operation),
                str(err.get("code") or "Unknown"),
                str(err.get("message") or ""),
            )
        elif "ok" in result:
            try:
                return parse(result["ok"])
            except ShapeError as exc:
                return self.invalid(operation, resource, str(exc))
        else:
            return self.invalid(operation, resource, f"call result has neither ok nor error: {sorted(result)}")
        self.note(resource, error)
        return error

    def setting(self, parse: Callable[[], T], operation: str, resource: str) -> T | ReadError:
        try:
            return parse()
        except ShapeError as exc:
            return self.invalid(operation, resource, str(exc))


def _calls(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _listing(raw: Any, resource: str, r: _Reader) -> _Listing:
    if not isinstance(raw, Mapping):
        error = r.invalid("ListBuckets", resource, "the listing entry is not a mapping")
        return _Listing(error, None, error, error, True, error)
    location = r.setting(lambda: _str(raw.get("location"), "location").lower(), "ListBuckets", resource)
    number = raw.get("projectNumber")
    project_number = str(number) if isinstance(number, str | int) and not isinstance(number, bool) else None
    config = raw.get("iamConfiguration")
    uniform: bool | ReadError
    pap: str | ReadError
    if not isinstance(config, Mapping):
        uniform = pap = r.invalid("ListBuckets", resource, f"iamConfiguration is missing or not a mapping: {config!r}")
        reported = True
    else:
        uniform = r.setting(lambda: parse_uniform_access(config), "ListBuckets", resource)
        pap = r.setting(lambda: parse_pap(config), "ListBuckets", resource)
        reported = "publicAccessPrevention" in config
    labels = r.setting(lambda: parse_labels(raw.get("labels")), "ListBuckets", resource)
    return _Listing(location, project_number, uniform, pap, reported, labels)


def _objects(
    calls: Mapping[str, Any], resource: str, r: _Reader
) -> tuple[tuple[ObjectAclSample, ...], ReadError | None]:
    if "ListObjects" not in calls:
        return (), None  # sampling off
    listing = r.value(calls.get("ListObjects"), "ListObjects", parse_object_listing, resource)
    if isinstance(listing, ReadError):
        return (), listing
    samples = []
    for name, raw_acl in listing:
        acl: tuple[AclEntry, ...] | ReadError
        if raw_acl is None:
            acl = r.invalid("ListObjects", f"{resource} object {name}",
                            "the object came without its ACL (projection=full)")
        else:
            acl = r.setting(partial(_acl_entries, raw_acl, "object ACL"), "ListObjects", f"{resource} object {name}")
        samples.append(ObjectAclSample(name, acl))
    return tuple(samples), None


def _bucket(
    raw: Mapping[str, Any],
    project: str,
    project_iam: IamPolicy | ReadError | None,
    trust: TrustContext,
    r: _Reader,
) -> GcsBucket | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        r.note("", ReadError("ListBuckets", INVALID, f"bucket entry without a name: {dict(raw)!r}"))
        return None
    resource = f"bucket {name}"
    calls = _calls(raw.get("calls"))
    listing = _listing(raw.get("listing"), resource, r)
    iam = r.value(calls.get("GetIamPolicy"), "GetIamPolicy", parse_iam_policy, resource)

    bucket_acl: tuple[AclEntry, ...] | ReadError | None = None
    default_acl: tuple[AclEntry, ...] | ReadError | None = None
    samples: tuple[ObjectAclSample, ...] = ()
    objects_error: ReadError | None = None
    if listing.uniform_access is not True:  # off or unknown: ACLs may be in force
        bucket_acl = r.value(calls.get("ListBucketAcl"), "ListBucketAcl", parse_acl, resource)
        default_acl = r.value(calls.get("ListDefaultObjectAcl"), "ListDefaultObjectAcl", parse_acl, resource)
        samples, objects_error = _objects(calls, resource, r)

    other: list[ReadError] = []
    # The bucket vanished between listing and reading: say so once.
    for result in calls.values():
        err = result.get("error") if isinstance(result, Mapping) else None
        if isinstance(err, Mapping) and err.get("code") in ("NotFound", "notFound"):
            other.append(ReadError(str(err.get("operation") or "?"), "NotFound", str(err.get("message") or "")))
            break

    return GcsBucket(
        project=project,
        name=name,
        location=listing.location if isinstance(listing.location, str) else UNKNOWN_LOCATION,
        project_number=listing.project_number,
        uniform_access=listing.uniform_access,
        public_access_prevention=listing.pap,
        iam_policy=iam,
        bucket_acl=bucket_acl,
        default_object_acl=default_acl,
        object_acls=samples,
        objects_listing=objects_error,
        labels=listing.labels,
        project_iam=project_iam,
        pap_reported=listing.pap_reported,
        other_errors=tuple(other),
        trust=trust,
    )


def _strings(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))


def _trust(snapshot: Mapping[str, Any], project: str, number: str | None) -> TrustContext:
    raw = snapshot.get("trust")
    trust = raw if isinstance(raw, Mapping) else {}
    return TrustContext(
        domains=frozenset(d.lower() for d in _strings(trust.get("domains"))),
        projects=_strings(trust.get("projects")) | {project},
        project_numbers=_strings(trust.get("project_numbers")) | ({number} if number else set()),
    )


def parse_bucket_names(payload: Any) -> list[str]:
    body = _mapping(payload, "bucket listing")
    return [_str(_mapping(b, "bucket entry").get("name"), "bucket name") for b in _list(body.get("items", []),
                                                                                        "bucket listing items")]


def normalize_project(snapshot: Mapping[str, Any]) -> GcpProjectInventory:
    """Typed inventory of one raw project snapshot."""
    project = str(snapshot.get("account") or "unknown")
    r = _Reader(project)
    status = snapshot.get("status")
    error = snapshot.get("error")
    if status not in ("ok", "error"):
        status, error = "error", error or f"snapshot has an invalid status {status!r}"
    if error:
        r.errors.append(str(error))
    api_calls = snapshot.get("api_calls")
    number_raw = snapshot.get("project_number")
    number = str(number_raw) if isinstance(number_raw, str | int) and not isinstance(number_raw, bool) else None
    calls = _calls(snapshot.get("calls"))

    listed: set[str] = set()
    if status == "ok":
        listing = calls.get("ListBuckets")
        names = r.value(listing, "ListBuckets", parse_bucket_names, "buckets")
        if isinstance(names, list):
            listed = set(names)
        elif isinstance(listing, Mapping) and isinstance(listing.get("partial"), Mapping):
            # The listing failed part-way: what it returned before the failure is still scanned.
            before = r.setting(partial(parse_bucket_names, listing["partial"]), "ListBuckets", "buckets")
            listed = set(before) if isinstance(before, list) else set()
            r.errors.append("the bucket listing stopped part-way: buckets after the failure were not scanned")
        else:
            status, error = "error", f"cannot list buckets: {names.describe()}"

    project_iam: IamPolicy | ReadError | None = None
    if "GetProjectIamPolicy" in calls:
        project_iam = r.value(calls["GetProjectIamPolicy"], "GetProjectIamPolicy", parse_iam_policy, "project")

    trust = _trust(snapshot, project, number)
    buckets: list[GcsBucket] = []
    raw_buckets = snapshot.get("buckets")
    if raw_buckets is not None and not isinstance(raw_buckets, list):
        r.note("", ReadError("buckets", INVALID, "snapshot buckets is not a list"))
        raw_buckets = []
    for raw in raw_buckets or []:
        if not isinstance(raw, Mapping):
            r.note("", ReadError("buckets", INVALID, "snapshot buckets holds an entry that is not a mapping"))
            continue
        bucket = _bucket(raw, project, project_iam, trust, r)
        if bucket is not None:
            buckets.append(bucket)
    for missing in sorted(listed - {b.name for b in buckets}):
        r.note(f"bucket {missing}", ReadError("ListBuckets", NOT_COLLECTED, "listed, but its settings were not read"))

    name = snapshot.get("name")
    return GcpProjectInventory(
        project=project,
        name=name if isinstance(name, str) else None,
        project_number=number,
        status=str(status),
        error=str(error) if error else None,
        api_calls=api_calls if isinstance(api_calls, int) else 0,
        buckets=tuple(buckets),
        errors=tuple(r.errors),
    )


__all__ = ["GcpProjectInventory", "ShapeError", "normalize_project", "parse_acl", "parse_iam_policy"]
